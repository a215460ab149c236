//! The cookie cache (`PORTCULLIS_COOKIE_CACHE=on`, Better Auth's `session.cookieCache`, strategy
//! `compact`), on every database: `/get-session` answers from `session_data` without a single
//! SQL statement exactly when the cookie is valid for the signed session token; anything else
//! (tampered, another user's, expired, another version, `disableCookieCache`) goes to the
//! database. The trade-off is Better Auth's and is pinned here: a session revoked elsewhere still
//! reads as signed in on `/get-session` until the cache expires, while every other route reads the
//! database and refuses it at once. The two-factor gate never lets a cache cookie out.
//! Byte compatibility with the real Better Auth is checked by tests/js/cookie-cache.test.mjs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestClient, TestServer};
use portcullis_server::auth::totp;
use serde_json::{Value, json};

const PW: &str = "password123";
const DATA: &str = "better-auth.session_data";
const ON: &[(&str, &str)] = &[("PORTCULLIS_COOKIE_CACHE", "on")];

/// SQL statements the server ran while `f` ran (the scenario is its only client).
async fn statements<T>(s: &TestServer, f: impl AsyncFnOnce() -> T) -> (u64, T) {
    let before = s.state.db.statement_count();
    let out = f().await;
    (s.state.db.statement_count() - before, out)
}

async fn signed_up(s: &TestServer, tag: &str) -> (TestClient, String) {
    let u = common::sign_up_new(s, tag, PW).await;
    (u.client, u.email)
}

/// The JSON inside a `session_data` cookie value.
fn cache_json(value: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(value).unwrap()).unwrap()
}

async fn get_session(s: &TestServer, c: &mut TestClient) -> (u64, Value) {
    let (n, res) = statements(s, async || c.get("/get-session").await).await;
    assert_eq!(res.status, 200, "{}", res.text);
    (n, res.json())
}

async fn cache_answers_get_session_and_revocation_waits_for_it(s: &TestServer) {
    let (mut a, e) = signed_up(s, "cc").await;
    let value = a
        .cookie(DATA)
        .expect("sign-up sets session_data")
        .to_string();
    let inner = cache_json(&value);
    assert_eq!(inner["session"]["version"], "1");
    assert!(inner["signature"].is_string() && inner["expiresAt"].is_number());

    // From the database (disableCookieCache) and from the cookie: the same answer, the second
    // without a statement.
    let (n, from_db) = statements(s, async || {
        a.get("/get-session?disableCookieCache=true").await
    })
    .await;
    assert_eq!(n, 1, "disableCookieCache reads the database");
    let from_db = from_db.json();
    let (n, cached) = get_session(s, &mut a).await;
    assert_eq!(n, 0, "a valid session_data cookie answers alone");
    assert_eq!(cached, from_db);
    // As upstream, a cached answer comes in the key order of Better Auth's zod schemas (the
    // database one ends with `id`); tests/js/cookie-cache.test.mjs compares the bytes with it.
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(
        keys(&cached["session"]),
        "id,createdAt,updatedAt,userId,expiresAt,token,ipAddress,userAgent"
    );
    assert_eq!(
        keys(&cached["user"]),
        "id,createdAt,updatedAt,email,emailVerified,name,image,twoFactorEnabled"
    );

    // Another device revokes this session.
    let mut b = s.client();
    assert_eq!(b.sign_in(&e, PW).await.status, 200);
    let token = from_db["session"]["token"].as_str().unwrap();
    let res = b.post("/revoke-session", json!({"token": token})).await;
    assert_eq!(res.status, 200, "{}", res.text);

    // Better Auth's trade-off: /get-session trusts the cookie until it expires …
    let (n, still) = get_session(s, &mut a).await;
    assert_eq!((n, &still["session"]["token"]), (0, &json!(token)));
    // … every other route reads the database and refuses the revoked session at once …
    let mut same_browser = a.clone();
    let res = same_browser.get("/list-sessions").await;
    assert_eq!(res.status, 401, "{}", res.text);
    assert!(same_browser.cookie(DATA).is_none());
    // … and so does /get-session when asked to, clearing the cookies.
    let res = a.get("/get-session?disableCookieCache=1").await;
    assert_eq!(res.json(), Value::Null);
    assert_eq!(
        res.cookie_line(DATA),
        Some("better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
    );
    assert!(a.cookie(DATA).is_none() && a.cookie("better-auth.session_token").is_none());

    // Sign-out expires the cache with the session.
    let res = b.post("/sign-out", json!({})).await;
    assert_eq!(res.status, 200);
    assert!(res.cookie_line(DATA).unwrap().contains("Max-Age=0"));
    assert!(b.cookie(DATA).is_none());
}

async fn only_a_valid_cookie_for_this_session_answers(s: &TestServer) {
    let (a, _) = signed_up(s, "cc-a").await;
    let (mut b, _) = signed_up(s, "cc-b").await;
    let a_data = a.cookie(DATA).unwrap().to_string();
    let b_user = get_session(s, &mut b).await.1["user"]["id"].clone();

    // A's cache cookie in B's browser: the token does not match, the database answers for B,
    // and B gets a cache cookie of its own.
    b.jar.retain(|(n, _)| n != DATA);
    b.jar.push((DATA.into(), a_data.clone()));
    let (n, body) = get_session(s, &mut b).await;
    assert_eq!((n, &body["user"]["id"]), (1, &b_user));
    let b_data = b.cookie(DATA).unwrap().to_string();
    assert_ne!(b_data, a_data);
    assert_eq!(get_session(s, &mut b).await.0, 0);

    // A forged payload (B's cache claiming to be A) fails the signature.
    let mut forged = cache_json(&b_data);
    forged["session"]["user"]["name"] = json!("Mallory");
    b.jar.retain(|(n, _)| n != DATA);
    b.jar
        .push((DATA.into(), URL_SAFE_NO_PAD.encode(forged.to_string())));
    let (n, body) = get_session(s, &mut b).await;
    assert_eq!(n, 1);
    assert_ne!(body["user"]["name"], "Mallory");

    // Junk and truncation: expired and replaced, never an error.
    for junk in ["x", "%%%", &b_data[..b_data.len() / 2]] {
        b.jar.retain(|(n, _)| n != DATA);
        b.jar.push((DATA.into(), junk.into()));
        let (n, body) = get_session(s, &mut b).await;
        assert_eq!((n, &body["user"]["id"]), (1, &b_user), "{junk}");
        assert_eq!(get_session(s, &mut b).await.0, 0, "replaced after {junk}");
    }

    // No session token at all: null, without the database, even with a valid cache cookie.
    let mut anon = s.client();
    anon.jar.push((DATA.into(), a_data));
    let (n, body) = get_session(s, &mut anon).await;
    assert_eq!((n, body), (0, Value::Null));
}

async fn cache_follows_user_updates_and_remember_me(s: &TestServer) {
    let (mut a, e) = signed_up(s, "cc-u").await;
    let res = a.post("/update-user", json!({"name": "Renamed"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let (n, body) = get_session(s, &mut a).await;
    assert_eq!((n, &body["user"]["name"]), (0, &json!("Renamed")));

    // Not remembered: a browser-session cookie valid for 60 s (upstream's `maxAge || 60`).
    let mut c = s.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": e, "password": PW, "rememberMe": false}),
        )
        .await;
    let line = res.cookie_line(DATA).unwrap();
    assert!(!line.contains("Max-Age"), "{line}");
    let exp = cache_json(c.cookie(DATA).unwrap())["expiresAt"]
        .as_i64()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    assert!((55_000..=61_000).contains(&(exp - now)), "{}", exp - now);
    // Remembered: Max-Age = maxAge.
    let res = s.client().sign_in(&e, PW).await;
    assert!(res.cookie_line(DATA).unwrap().contains("; Max-Age=300;"));
}

async fn the_two_factor_gate_lets_no_cache_out(s: &TestServer) {
    let (mut a, e) = signed_up(s, "cc-2fa").await;
    let common::TotpEnrolment { key, step, .. } = common::enrol_totp(&mut a, PW).await;
    // Enrolment rotated the session: the cache follows, with twoFactorEnabled.
    let (n, body) = get_session(s, &mut a).await;
    assert_eq!((n, &body["user"]["twoFactorEnabled"]), (0, &json!(true)));

    let mut c = s.client();
    let res = c.sign_in(&e, PW).await;
    assert_eq!(res.json()["twoFactorRedirect"], true, "{}", res.text);
    for line in &res.set_cookies {
        assert!(
            !line.starts_with("better-auth.session_data=") || line.contains("Max-Age=0"),
            "the gate leaked a cache cookie: {line}"
        );
    }
    assert!(c.cookie(DATA).is_none());
    assert_eq!(get_session(s, &mut c).await.1, Value::Null);

    let res = c
        .post(
            "/two-factor/verify-totp",
            json!({"code": totp::code_at(&key, step + 1, 6)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let (n, body) = get_session(s, &mut c).await;
    assert_eq!((n, &body["user"]["twoFactorEnabled"]), (0, &json!(true)));
}

/// Expiry, version and switching the cache off, each as a restart on the same database.
async fn expiry_version_and_off(s: &TestServer) {
    let short = s
        .start_sibling(&[
            ("PORTCULLIS_COOKIE_CACHE", "on"),
            ("PORTCULLIS_COOKIE_CACHE_MAX_AGE", "1"),
        ])
        .await;
    let mut a = short.client();
    let e = common::unique_email("cc-exp");
    assert_eq!(a.sign_up(&e, PW).await.status, 200);
    assert_eq!(get_session(&short, &mut a).await.0, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (n, body) = get_session(&short, &mut a).await;
    assert_eq!(n, 1, "an expired cache cookie goes to the database");
    assert_eq!(body["user"]["email"], json!(e));
    short.stop().await;

    let v2 = s
        .start_sibling(&[
            ("PORTCULLIS_COOKIE_CACHE", "on"),
            ("PORTCULLIS_COOKIE_CACHE_VERSION", "2"),
        ])
        .await;
    let (mut b1, _) = signed_up(s, "cc-ver").await;
    let mut b = v2.client();
    b.jar = b1.jar.clone();
    assert_eq!(
        get_session(&v2, &mut b).await.0,
        1,
        "version 1 cookie under version 2"
    );
    assert_eq!(
        cache_json(b.cookie(DATA).unwrap())["session"]["version"],
        "2"
    );
    assert_eq!(get_session(&v2, &mut b).await.0, 0);
    v2.stop().await;

    let off = s.start_sibling(&[]).await;
    let mut c = off.client();
    c.jar = b1.jar.clone();
    let res = c.get("/get-session").await;
    assert!(res.json()["session"].is_object());
    assert!(
        res.cookie_line(DATA).unwrap().contains("Max-Age=0"),
        "cache off clears it"
    );
    off.stop().await;
    assert_eq!(get_session(s, &mut b1).await.0, 0);
}

on_every_backend_with!(super::ON;
    cache_answers_get_session_and_revocation_waits_for_it,
    only_a_valid_cookie_for_this_session_answers,
    cache_follows_user_updates_and_remember_me,
    the_two_factor_gate_lets_no_cache_out,
    expiry_version_and_off,
);
