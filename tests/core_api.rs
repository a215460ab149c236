//! Core email/password and session API over real HTTP, on every configured database.
//! Expected values are what Better Auth 1.7.25 answers (see compat notes in each test).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, SECRET, TestServer};
use portcullis_protocol::signed::sign_value;
use reqwest::Method;
use sea_orm::{ColumnTrait, ConnectionTrait, sea_query::Query};
use serde_json::{Value, json};

const PW: &str = "password123";

fn email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    )
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn is_iso_ms(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    s.len() == 24 && s.ends_with('Z') && s.as_bytes()[19] == b'.'
}

async fn sign_up_returns_user_token_and_signed_cookie(s: &TestServer) {
    let mut c = s.client();
    let e = email("signup");
    let res = c.sign_up(&e, PW).await;
    let body = res.json();
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 32);
    assert_eq!(keys(&body), ["token", "user"]);
    let user = &body["user"];
    assert_eq!(
        keys(user),
        [
            "createdAt",
            "email",
            "emailVerified",
            "id",
            "image",
            "name",
            "twoFactorEnabled",
            "updatedAt"
        ]
    );
    assert_eq!(user["email"], e);
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["image"], Value::Null);
    assert_eq!(user["twoFactorEnabled"], false);
    assert!(is_iso_ms(&user["createdAt"]), "{}", user["createdAt"]);
    let signed = sign_value(&token, SECRET.as_bytes())
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_eq!(
        res.set_cookies,
        [format!(
            "better-auth.session_token={signed}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        )]
    );
    assert_eq!(res.headers["content-type"], "application/json");

    // Email is lower-cased on the way in.
    let mut c2 = s.client();
    let upper = email("UPPER").to_uppercase();
    let res = c2.sign_up(&upper, PW).await;
    assert_eq!(res.json()["user"]["email"], upper.to_lowercase());
}

async fn get_session_shape_and_signed_out_null(s: &TestServer) {
    let mut c = s.client();
    let res = c.get("/get-session").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text, "null");
    assert_eq!(res.headers["cache-control"], "no-store");
    assert_eq!(res.headers["pragma"], "no-cache");

    let e = email("gs");
    let up = c.sign_up(&e, PW).await.json();
    let res = c
        .raw(
            Method::GET,
            "/get-session",
            None,
            &[
                ("user-agent", "agent/1.0"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(
        res.set_cookies.is_empty(),
        "no refresh expected: {:?}",
        res.set_cookies
    );
    let body = res.json();
    assert_eq!(keys(&body), ["session", "user"]);
    let session = &body["session"];
    assert_eq!(
        keys(session),
        [
            "createdAt",
            "expiresAt",
            "id",
            "ipAddress",
            "token",
            "updatedAt",
            "userAgent",
            "userId"
        ]
    );
    assert_eq!(session["token"], up["token"]);
    assert_eq!(session["userId"], up["user"]["id"]);
    // Dev mode without X-Forwarded-For at sign-up: 127.0.0.1, as Better Auth in development.
    assert_eq!(session["ipAddress"], "127.0.0.1");
    assert!(is_iso_ms(&session["expiresAt"]));
    assert_eq!(body["user"], up["user"]);
}

async fn sign_in_success_failure_and_no_enumeration(s: &TestServer) {
    let mut c = s.client();
    let e = email("signin");
    c.sign_up(&e, PW).await;
    c.jar.clear();
    let res = c.sign_in(&e.to_uppercase(), PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["redirect", "token", "user"]);
    assert_eq!(body["redirect"], false);
    assert!(
        res.cookie_line("better-auth.session_token")
            .unwrap()
            .contains("Max-Age=604800")
    );

    let wrong = s.client().sign_in(&e, "wrong-password").await;
    let unknown = s.client().sign_in(&email("nobody"), PW).await;
    wrong.assert_error(
        401,
        "INVALID_EMAIL_OR_PASSWORD",
        "Invalid email or password",
    );
    unknown.assert_error(
        401,
        "INVALID_EMAIL_OR_PASSWORD",
        "Invalid email or password",
    );
    assert_eq!(wrong.text, unknown.text);
    assert!(wrong.set_cookies.is_empty());

    s.client().sign_in("not-an-email", PW).await.assert_error(
        400,
        "INVALID_EMAIL",
        "Invalid email",
    );
    s.client().sign_in(&e, &"x".repeat(129)).await.assert_error(
        400,
        "PASSWORD_TOO_LONG",
        "Password too long",
    );
}

async fn remember_me_false_sets_dont_remember(s: &TestServer) {
    let mut c = s.client();
    let e = email("rm");
    c.sign_up(&e, PW).await;
    c.jar.clear();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": e, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_eq!(res.status, 200);
    let token_line = res.cookie_line("better-auth.session_token").unwrap();
    assert!(!token_line.contains("Max-Age"), "{token_line}");
    // protocol notes §13 vector 2: deterministic for the secret.
    assert_eq!(
        res.cookie_line("better-auth.dont_remember").unwrap(),
        "better-auth.dont_remember=true.0R39059RJMlqy6vRfLQM%2B9OejOdzDaSFqtRZ3UvvW0o%3D; Path=/; HttpOnly; SameSite=Lax"
    );
    let session = c.get("/get-session").await.json();
    let expires = time::OffsetDateTime::parse(
        session["session"]["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = expires - time::OffsetDateTime::now_utc();
    assert!(
        left <= time::Duration::days(1) && left > time::Duration::hours(23),
        "{left}"
    );
}

async fn sign_up_errors(s: &TestServer) {
    let e = email("dup");
    s.client().sign_up(&e, PW).await;
    s.client()
        .post(
            "/sign-up/email",
            json!({"name": "x", "email": e, "password": PW}),
        )
        .await
        .assert_error(
            422,
            "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
            "User already exists. Use another email.",
        );
    s.client()
        .post(
            "/sign-up/email",
            json!({"name": "x", "email": email("short"), "password": "short"}),
        )
        .await
        .assert_error(400, "PASSWORD_TOO_SHORT", "Password too short");
    s.client()
        .post(
            "/sign-up/email",
            json!({"name": "x", "email": "nope", "password": PW}),
        )
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.email] Invalid email address",
        );
    s.client()
        .post(
            "/sign-up/email",
            json!({"email": email("noname"), "password": PW}),
        )
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.name] Invalid input: expected string, received undefined",
        );
    // input:false plugin field on create: silently defaulted (better-auth: dist/db/schema.mjs).
    let mut c = s.client();
    let res = c
        .post(
            "/sign-up/email",
            json!({"name": "x", "email": email("tfe"), "password": PW, "twoFactorEnabled": true}),
        )
        .await;
    assert_eq!(res.json()["user"]["twoFactorEnabled"], false);
}

async fn list_and_revoke_sessions(s: &TestServer) {
    let e = email("sessions");
    let mut a = s.client();
    a.sign_up(&e, PW).await;
    let mut b = s.client();
    let b_token = b.sign_in(&e, PW).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut c = s.client();
    c.sign_in(&e, PW).await;

    let list = a.get("/list-sessions").await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json().as_array().unwrap().len(), 3);

    // Revoking a token that is not ours (or unknown) still answers {status:true}.
    let res = a
        .post("/revoke-session", json!({"token": "unknown-token"}))
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    let res = a.post("/revoke-session", json!({"token": b_token})).await;
    assert_eq!(res.json(), json!({"status": true}));
    assert_eq!(b.get("/get-session").await.text, "null");
    assert_eq!(
        a.get("/list-sessions")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let res = a.post("/revoke-other-sessions", json!({})).await;
    assert_eq!(res.json(), json!({"status": true}));
    assert_eq!(c.get("/get-session").await.text, "null");
    assert_ne!(a.get("/get-session").await.text, "null");

    let res = a.raw(Method::POST, "/revoke-sessions", None, &[]).await;
    assert_eq!(res.json(), json!({"status": true}));
    assert_eq!(
        res.set_cookies,
        [
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    assert_eq!(a.get("/get-session").await.text, "null");

    s.client()
        .get("/list-sessions")
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
    s.client()
        .post("/revoke-session", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.token] Invalid input: expected string, received undefined",
        );
}

async fn update_user_rules(s: &TestServer) {
    let mut c = s.client();
    c.sign_up(&email("upd"), PW).await;
    let res = c
        .post(
            "/update-user",
            json!({"name": "New Name", "image": "https://img.example/a.png"}),
        )
        .await;
    assert_eq!(res.json(), json!({"status": true}));
    assert!(res.cookie_line("better-auth.session_token").is_some());
    let user = c.get("/get-session").await.json()["user"].clone();
    assert_eq!(user["name"], "New Name");
    assert_eq!(user["image"], "https://img.example/a.png");

    c.post("/update-user", json!({"email": "x@example.com"}))
        .await
        .assert_error(400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated");
    c.post("/update-user", json!({"twoFactorEnabled": true}))
        .await
        .assert_error(
            400,
            "FIELD_NOT_ALLOWED",
            "twoFactorEnabled is not allowed to be set",
        );
    let res = c.post("/update-user", json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json(), json!({"message": "No fields to update"}));
    let res = c.post("/update-user", json!([1])).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json()["code"], "VALIDATION_ERROR");
    s.client()
        .post("/update-user", json!({"name": "x"}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
}

async fn change_password_flow(s: &TestServer) {
    let e = email("cp");
    let mut a = s.client();
    a.sign_up(&e, PW).await;
    let mut other = s.client();
    other.sign_in(&e, PW).await;

    a.post(
        "/change-password",
        json!({"currentPassword": "wrong-one!", "newPassword": "another-pass"}),
    )
    .await
    .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    a.post(
        "/change-password",
        json!({"currentPassword": PW, "newPassword": "x".repeat(129)}),
    )
    .await
    .assert_error(400, "PASSWORD_TOO_LONG", "Password too long");

    let res = a
        .post(
            "/change-password",
            json!({"currentPassword": PW, "newPassword": "another-pass"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["token"], Value::Null);
    assert_ne!(other.get("/get-session").await.text, "null");

    let res = a
        .post(
            "/change-password",
            json!({"currentPassword": "another-pass", "newPassword": "third-password", "revokeOtherSessions": true}),
        )
        .await;
    let token = res.json()["token"].as_str().unwrap().to_string();
    assert_eq!(c_session_token(&mut a).await, token);
    assert_eq!(other.get("/get-session").await.text, "null");

    assert_eq!(s.client().sign_in(&e, "another-pass").await.status, 401);
    assert_eq!(s.client().sign_in(&e, "third-password").await.status, 200);
}

async fn c_session_token(c: &mut common::TestClient) -> String {
    c.get("/get-session").await.json()["session"]["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn sign_out_clears_everything(s: &TestServer) {
    let mut c = s.client();
    c.sign_up(&email("so"), PW).await;
    let res = c.raw(Method::POST, "/sign-out", None, &[]).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({"success": true}));
    assert_eq!(res.set_cookies.len(), 3);
    assert_eq!(c.get("/get-session").await.text, "null");
    // Without any session it still succeeds.
    let res = s.client().post("/sign-out", json!({})).await;
    assert_eq!(res.json(), json!({"success": true}));
}

async fn origin_and_csrf_checks(s: &TestServer) {
    let mut c = s.client();
    c.sign_up(&email("origin"), PW).await;
    c.origin = Some("http://evil.example".into());
    c.post("/update-user", json!({"name": "x"}))
        .await
        .assert_error(403, "INVALID_ORIGIN", "Invalid origin");
    c.origin = None;
    c.post("/update-user", json!({"name": "x"}))
        .await
        .assert_error(403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin");
    // GET requests are not origin-checked.
    assert_eq!(c.get("/get-session").await.status, 200);

    // Form CSRF on sign-in: a browser fetch (sec-fetch-*) without Origin is refused.
    let mut anon = s.client();
    anon.origin = None;
    let body = json!({"email": email("x"), "password": PW}).to_string();
    anon.raw(
        Method::POST,
        "/sign-in/email",
        Some(("application/json", body.clone())),
        &[("sec-fetch-mode", "cors")],
    )
    .await
    .assert_error(403, "MISSING_OR_NULL_ORIGIN", "Missing or null Origin");
    anon.raw(
        Method::POST,
        "/sign-in/email",
        Some(("application/json", body)),
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ],
    )
    .await
    .assert_error(
        403,
        "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
        "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
    );

    // callbackURL must be trusted or a safe relative path.
    let mut d = s.client();
    let e = email("cb");
    d.sign_up(&e, PW).await;
    d.jar.clear();
    d.post(
        "/sign-in/email",
        json!({"email": e, "password": PW, "callbackURL": "https://evil.example/x"}),
    )
    .await
    .assert_error(403, "INVALID_CALLBACK_URL", "Invalid callbackURL");
    let res = d
        .post(
            "/sign-in/email",
            json!({"email": e, "password": PW, "callbackURL": "/dashboard"}),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["location"], "/dashboard");
    let body = res.json();
    assert_eq!(body["redirect"], true);
    assert_eq!(body["url"], "/dashboard");
}

async fn framing_errors(s: &TestServer) {
    let mut c = s.client();
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/sign-in/email"),
        (Method::GET, "/get-session/"),
        (Method::OPTIONS, "/sign-in/email"),
    ] {
        let res = c.raw(method.clone(), path, None, &[]).await;
        assert_eq!(res.status, 404, "{method} {path}");
        assert_eq!(res.text, "", "{method} {path}");
        assert!(res.headers.get("content-type").is_none(), "{method} {path}");
    }
    let res = c
        .raw(
            Method::POST,
            "/sign-in/email",
            Some(("application/json", "{nope".into())),
            &[],
        )
        .await;
    res.assert_error(400, "BAD_REQUEST", "Invalid JSON in request body");
    let res = c
        .raw(
            Method::POST,
            "/sign-up/email",
            Some(("text/plain", "hi".into())),
            &[],
        )
        .await;
    let res2 = c
        .raw(
            Method::POST,
            "/update-user",
            Some(("text/plain", "hi".into())),
            &[],
        )
        .await;
    res2.assert_error(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Content-Type \"text/plain\" is not allowed. Allowed types: application/json",
    );
    res.assert_error(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Content-Type \"text/plain\" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json",
    );
    assert_eq!(c.get("/ok").await.json(), json!({"ok": true}));
    let res = c
        .raw(
            Method::POST,
            "/get-session",
            Some(("application/json", "{}".into())),
            &[],
        )
        .await;
    res.assert_error(
        405,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    );
}

async fn form_encoded_sign_in(s: &TestServer) {
    let e = email("form");
    s.client().sign_up(&e, PW).await;
    let mut c = s.client();
    let body = format!("email={}&password={PW}", e.replace('@', "%40"));
    let res = c
        .raw(
            Method::POST,
            "/sign-in/email",
            Some(("application/x-www-form-urlencoded", body.clone())),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // Form values are strings: a form `rememberMe=false` fails zod's boolean check.
    let res = c
        .raw(
            Method::POST,
            "/sign-in/email",
            Some((
                "application/x-www-form-urlencoded",
                format!("{body}&rememberMe=false"),
            )),
            &[],
        )
        .await;
    res.assert_error(
        400,
        "VALIDATION_ERROR",
        "[body.rememberMe] Invalid input: expected boolean, received string",
    );
    let form = format!(
        "name=Form+User&email={}&password={PW}",
        email("formup").replace('@', "%40")
    );
    let res = c
        .raw(
            Method::POST,
            "/sign-up/email",
            Some(("application/x-www-form-urlencoded", form)),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["user"]["name"], "Form User");
}

async fn expired_session_is_cleared(s: &TestServer) {
    let mut c = s.client();
    let token = c.sign_up(&email("exp"), PW).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    set_session_time(
        s,
        &token,
        "expiresAt",
        time::OffsetDateTime::now_utc() - time::Duration::minutes(1),
    )
    .await;
    let res = c.get("/get-session").await;
    assert_eq!(res.text, "null");
    assert!(res.set_cookies.contains(
        &"better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax".to_string()
    ));
    let remaining = portcullis_server::store::sessions::find_by_token(&s.state.db.conn, &token)
        .await
        .unwrap();
    assert!(remaining.is_none(), "expired session row must be deleted");
}

async fn stale_session_is_not_fresh(s: &TestServer) {
    let mut c = s.client();
    let token = c.sign_up(&email("fresh"), PW).await.json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    set_session_time(
        s,
        &token,
        "createdAt",
        time::OffsetDateTime::now_utc() - time::Duration::days(2),
    )
    .await;
    c.get("/list-sessions")
        .await
        .assert_error(403, "SESSION_NOT_FRESH", "Session is not fresh");
}

async fn better_auth_scrypt_users_sign_in(s: &TestServer) {
    // A user row as Better Auth writes it, with its scrypt hash (protocol notes §13 vector 7).
    let e = email("legacy");
    let mut c = s.client();
    let id = c.sign_up(&e, "placeholder-pw").await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = "00112233445566778899aabbccddeeff:73122e887cfc14f91396cdef78dfe4b9dec28d459037601c4904cedba5a637ab97b39b40c236df5d42881d0109ca8cf0f85e39dbaba2911c190915bd8f30fe85";
    let acct = portcullis_server::store::accounts::find_credential(&s.state.db.conn, &id)
        .await
        .unwrap()
        .unwrap();
    portcullis_server::store::accounts::set_password(
        &s.state.db.conn,
        &acct.id,
        hash,
        portcullis_server::store::now(),
    )
    .await
    .unwrap();
    assert_eq!(s.client().sign_in(&e, "password123").await.status, 200);
    assert_eq!(s.client().sign_in(&e, "password124").await.status, 401);
}

async fn set_session_time(s: &TestServer, token: &str, column: &str, t: time::OffsetDateTime) {
    use portcullis_entity::session;
    let conn = &s.state.db.conn;
    let col = match column {
        "expiresAt" => session::Column::ExpiresAt,
        _ => session::Column::CreatedAt,
    };
    let stmt = Query::update()
        .table(session::Entity)
        .value(
            col,
            portcullis_server::store::ts(conn.get_database_backend(), t),
        )
        .and_where(session::Column::Token.eq(token))
        .to_owned();
    conn.execute(&stmt).await.unwrap();
}

async fn dead_session_cookies_are_cleared_on_401(s: &TestServer) {
    let mut c = s.client();
    c.sign_up(&email("dead"), PW).await;
    let jar = c.jar.clone();
    c.raw(Method::POST, "/sign-out", None, &[]).await;
    c.jar = jar; // still holding the well-signed cookie of a deleted session
    let res = c.get("/list-sessions").await;
    res.assert_error(401, "UNAUTHORIZED", "Unauthorized");
    assert_eq!(
        res.set_cookies,
        [
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
}

async fn request_framing_edge_cases(s: &TestServer) {
    let e = email("edge");
    let mut c = s.client();
    c.sign_up(&e, PW).await;
    // session_data chunks are cleared like the unchunked cookie.
    c.jar
        .push(("better-auth.session_data.0".into(), "abc".into()));
    c.jar
        .push(("better-auth.session_data.1".into(), "def".into()));
    let res = c.get("/get-session").await;
    assert_eq!(
        res.set_cookies,
        [
            "better-auth.session_data.0=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "better-auth.session_data.1=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
        ]
    );
    // A UTF-8 byte-order mark before JSON is tolerated.
    let mut anon = s.client();
    let body = format!("\u{feff}{}", json!({"email": e, "password": PW}));
    let res = anon
        .raw(
            Method::POST,
            "/sign-in/email",
            Some(("application/json", body)),
            &[],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    // An empty callbackURL is echoed as url but is no redirect.
    let res = s
        .client()
        .post(
            "/sign-in/email",
            json!({"email": e, "password": PW, "callbackURL": ""}),
        )
        .await;
    let body = res.json();
    assert_eq!(body["url"], "");
    assert_eq!(body["redirect"], false);
    assert!(res.headers.get("location").is_none());
    // 415 quotes the whole Content-Type header.
    s.client()
        .raw(Method::POST, "/update-user", Some(("multipart/form-data; boundary=XX", "x".into())), &[])
        .await
        .assert_error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "Content-Type \"multipart/form-data; boundary=XX\" is not allowed. Allowed types: application/json",
        );
    // Percent-encoded paths do not match routes.
    let res = s.client().get("/%6Fk").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.text, "");
    // IPv6 client addresses are stored as Better Auth normalizes them.
    let mut v6 = s.client();
    let body = json!({"email": e, "password": PW}).to_string();
    v6.raw(
        Method::POST,
        "/sign-in/email",
        Some(("application/json", body)),
        &[("x-forwarded-for", "2001:DB8::1")],
    )
    .await;
    assert_eq!(
        v6.get("/get-session").await.json()["session"]["ipAddress"],
        "2001:0db8:0000:0000:0000:0000:0000:0000"
    );
    // sign-out validates its optional body.
    c.post("/sign-out", json!([])).await.assert_error(
        400,
        "VALIDATION_ERROR",
        "[body] Invalid input: expected object, received array",
    );
    assert_ne!(c.get("/get-session").await.text, "null");
}

on_every_backend!(
    dead_session_cookies_are_cleared_on_401,
    request_framing_edge_cases,
    sign_up_returns_user_token_and_signed_cookie,
    get_session_shape_and_signed_out_null,
    sign_in_success_failure_and_no_enumeration,
    remember_me_false_sets_dont_remember,
    sign_up_errors,
    list_and_revoke_sessions,
    update_user_rules,
    change_password_flow,
    sign_out_clears_everything,
    origin_and_csrf_checks,
    framing_errors,
    form_encoded_sign_in,
    expired_session_is_cleared,
    stale_session_is_not_fresh,
    better_auth_scrypt_users_sign_in,
);

/// updateAge passed → get-session extends the row and re-sets the cookie with a fresh Max-Age.
#[actix_web::test]
async fn session_refresh_after_update_age() {
    let s = TestServer::start_with(Backend::Sqlite, &[("PORTCULLIS_SESSION_UPDATE_AGE", "0")])
        .await
        .unwrap();
    let mut c = s.client();
    c.sign_up(&email("refresh"), PW).await;
    let before = c.get("/get-session?disableRefresh=true").await;
    assert!(before.set_cookies.is_empty());
    let after = c.get("/get-session").await;
    let line = after.cookie_line("better-auth.session_token").unwrap();
    assert!(line.contains("Max-Age=604800"), "{line}");
    let (b, a) = (before.json(), after.json());
    assert!(a["session"]["expiresAt"].as_str() >= b["session"]["expiresAt"].as_str());
    assert_ne!(a["session"]["updatedAt"], Value::Null);
    s.stop().await;
}
