//! Hostile requests against the real server, on every database: every one gets a clear 4xx in
//! Better Auth's shape (never a 500, a hang or a half-written row). Other parts of the matrix live
//! where their feature is tested: tampered, truncated and foreign-secret signatures
//! (crates/protocol/tests/hostile_input.rs, tests/core_api.rs), a challenge of user A with B's
//! codes, expired challenges and trust cookies (tests/two_factor/upstream_security.rs and
//! upstream_backup_codes_trust.rs), rate limits (tests/rate_limit.rs).

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use reqwest::Method;
use serde_json::{Value, json};

const SECRET_OTHER: &[u8] = b"another-secret-0123456789-abcdefghijklmnopqrstuv";

/// NFKC-equivalent spellings of a password are one password (Better Auth normalises with NFKC).
async fn unicode_passwords_are_nfkc_normalised(s: &TestServer) {
    let mut c = s.client();
    let res = c
        .sign_up("nfkc@example.com", "ﬁne-ｐａｓｓｗｏｒｄ-é")
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = s
        .client()
        .sign_in("nfkc@example.com", "fine-password-e\u{301}")
        .await;
    assert_eq!(res.status, 200, "NFKC-equal password: {}", res.text);
    let res = s
        .client()
        .sign_in("nfkc@example.com", "fine-password-e")
        .await;
    assert_eq!(res.status, 401, "a different password");
}

/// SQL metacharacters are data everywhere: stored and returned verbatim, never an error.
async fn sql_metacharacters_are_data(s: &TestServer) {
    let name = r#"Robert'); DROP TABLE "user"; -- \ % _ ` "#;
    let email = "o'brien+x_y@example.com";
    let password = r#"p'a"s`s; --%_\"#;
    let mut c = s.client();
    let res = c
        .post(
            "/sign-up/email",
            json!({"email": email, "password": password, "name": name}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["user"]["name"], name);
    assert_eq!(res.json()["user"]["email"], email);
    let mut again = s.client();
    assert_eq!(again.sign_in(email, password).await.status, 200);
    assert_eq!(again.get("/get-session").await.json()["user"]["name"], name);
    for hostile in [
        "' OR '1'='1",
        "x@example.com' OR 1=1 --",
        "%@example.com",
        "_@example.com",
    ] {
        let res = s.client().sign_in(hostile, password).await;
        assert!(
            res.status == 400 || res.status == 401,
            "{hostile}: {} {}",
            res.status,
            res.text
        );
        assert!(res.json()["code"].is_string(), "{hostile}: {}", res.text);
    }
}

/// Oversized bodies get 413 before anything is parsed; oversized headers are refused by HTTP.
async fn oversized_input_is_refused(s: &TestServer) {
    let mut c = s.client();
    let big = json!({"email": "big@example.com", "password": "password123", "name": "x".repeat(300 * 1024)});
    let res = c
        .raw(
            Method::POST,
            "/sign-up/email",
            Some(("application/json", big.to_string())),
            &[],
        )
        .await;
    assert_eq!(res.status, 413, "{}", res.text);
    assert_eq!(res.json(), json!({"message": "Request body is too large"}));
    let res = s.client().sign_in("big@example.com", "password123").await;
    assert_eq!(res.status, 401, "no half-written user");

    let huge_cookie = format!("better-auth.session_token={}", "a".repeat(64 * 1024));
    let res = reqwest::Client::new()
        .get(format!("{}/get-session", s.base))
        .header("cookie", huge_cookie)
        .send()
        .await;
    let res = res.unwrap();
    assert_eq!(
        res.status().as_u16(),
        431,
        "oversized header (Node's 16 KiB limit)"
    );
    // Just under the limit is fine.
    let res = reqwest::Client::new()
        .get(format!("{}/get-session", s.base))
        .header("cookie", format!("x={}", "a".repeat(15 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

/// A body that is not JSON or a form is 415; malformed JSON is 400 with Better Auth's text.
async fn wrong_content_types_are_refused(s: &TestServer) {
    let mut c = s.client();
    let res = c
        .raw(
            Method::POST,
            "/sign-in/email",
            Some(("text/plain", r#"{"email":"a@b.co","password":"x"}"#.into())),
            &[],
        )
        .await;
    assert_eq!(res.status, 415, "{}", res.text);
    assert_eq!(res.json()["code"], "UNSUPPORTED_MEDIA_TYPE");
    let res = c
        .raw(
            Method::POST,
            "/sign-in/email",
            Some(("application/json", "{\"email\": ".into())),
            &[],
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.text);
    assert!(res.json()["code"].is_string());
}

/// A well-formed session cookie signed with another secret is no session.
async fn cookies_signed_with_another_secret_are_ignored(s: &TestServer) {
    let mut c = s.client();
    c.sign_up("foreign@example.com", "password123").await;
    let signed = portcullis_protocol::cookies::decode_uri_component(
        c.cookie("better-auth.session_token").unwrap(),
    )
    .unwrap();
    let token = signed.rsplit_once('.').unwrap().0;
    let forged = portcullis_protocol::cookies::encode_uri_component(
        &portcullis_protocol::signed::sign_value(token, SECRET_OTHER),
    );
    let mut other = s.client();
    other.jar.push(("better-auth.session_token".into(), forged));
    let res = other.get("/get-session").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), Value::Null);
}

/// Unknown email and wrong password for a known one: same status and body, and the unknown one
/// is not measurably faster (a password hash is computed either way).
async fn sign_in_does_not_reveal_which_emails_exist(s: &TestServer) {
    let mut c = s.client();
    c.sign_up("known@example.com", "password123").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..7 {
        for (email, times) in [
            ("known@example.com", &mut known),
            ("nobody@example.com", &mut unknown),
        ] {
            let started = Instant::now();
            let res = s.client().sign_in(email, "wrong-password").await;
            times.push(started.elapsed());
            bodies.push((res.status, res.json()));
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    assert!(
        u * 2 >= k && k * 2 >= u,
        "timing differs: known {k:?}, unknown {u:?}"
    );
}

on_every_backend!(
    unicode_passwords_are_nfkc_normalised,
    sql_metacharacters_are_data,
    oversized_input_is_refused,
    wrong_content_types_are_refused,
    cookies_signed_with_another_secret_are_ignored,
    sign_in_does_not_reveal_which_emails_exist,
);
