//! The username plugin (`PORTCULLIS_PLUGINS=two-factor,username`) over real HTTP, on every
//! configured database. Every expectation was first checked against Better Auth 1.7.25 with
//! `username()` (tests/js/reference-server.mjs with `PLUGINS=two-factor,username`;
//! better-auth: dist/plugins/username/index.mjs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Backend, Res, TestClient, TestServer};
use portcullis_server::auth::totp;
use reqwest::Method;
use serde_json::{Value, json};

const PW: &str = "password123";
const PLUGINS: &[(&str, &str)] = &[("PORTCULLIS_PLUGINS", "two-factor,username")];

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A user's keys with the plugin on, sorted.
const USER_KEYS: [&str; 10] = [
    "createdAt",
    "displayUsername",
    "email",
    "emailVerified",
    "id",
    "image",
    "name",
    "twoFactorEnabled",
    "updatedAt",
    "username",
];

fn user_keys() -> Vec<String> {
    USER_KEYS.iter().map(|s| s.to_string()).collect()
}

async fn sign_up(c: &mut TestClient, email: &str, extra: Value) -> Res {
    let mut body = json!({"name": "Test User", "email": email, "password": PW});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    c.post("/sign-up/email", body).await
}

async fn sign_in_username(c: &mut TestClient, username: &str, password: &str) -> Res {
    c.post(
        "/sign-in/username",
        json!({"username": username, "password": password}),
    )
    .await
}

async fn available(s: &TestServer, username: &str) -> Res {
    s.client()
        .post("/is-username-available", json!({"username": username}))
        .await
}

/// The signed-in user as `/get-session` returns it.
async fn me(c: &mut TestClient) -> Value {
    c.get("/get-session").await.json()["user"].clone()
}

async fn sign_up_normalizes_and_defaults_display_username(s: &TestServer) {
    let mut c = s.client();
    let res = sign_up(&mut c, "alice@example.com", json!({"username": "Alice_1"})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let user = &res.json()["user"];
    assert_eq!(keys(user), user_keys());
    assert_eq!(user["username"], "alice_1");
    assert_eq!(user["displayUsername"], "Alice_1");
    assert_eq!(me(&mut c).await["username"], "alice_1");

    // An explicit display username is kept as given.
    let res = sign_up(
        &mut s.client(),
        "dan@example.com",
        json!({"username": "Dan", "displayUsername": "Danny Boy"}),
    )
    .await;
    let user = &res.json()["user"];
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&json!("dan"), &json!("Danny Boy"))
    );

    // A falsy display username is replaced by the username as typed.
    let res = sign_up(
        &mut s.client(),
        "frank@example.com",
        json!({"username": "Frank", "displayUsername": ""}),
    )
    .await;
    assert_eq!(res.json()["user"]["displayUsername"], "Frank");

    // Without either, both are null; null is accepted.
    for (email, extra) in [
        ("eve@example.com", json!({})),
        (
            "nul@example.com",
            json!({"username": null, "displayUsername": null}),
        ),
    ] {
        let res = sign_up(&mut s.client(), email, extra).await;
        assert_eq!(res.status, 200, "{}", res.text);
        let user = &res.json()["user"];
        assert_eq!(keys(user), user_keys());
        assert_eq!(
            (&user["username"], &user["displayUsername"]),
            (&Value::Null, &Value::Null)
        );
    }
}

async fn sign_up_with_only_display_username(s: &TestServer) {
    // A valid display username doubles as the username (normalized).
    let res = sign_up(
        &mut s.client(),
        "bob@example.com",
        json!({"displayUsername": "Bob.B"}),
    )
    .await;
    let user = &res.json()["user"];
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&json!("bob.b"), &json!("Bob.B"))
    );

    // An invalid one is only a display username.
    let res = sign_up(
        &mut s.client(),
        "carl@example.com",
        json!({"displayUsername": "Bo b"}),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let user = &res.json()["user"];
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&Value::Null, &json!("Bo b"))
    );
    let res = sign_up(
        &mut s.client(),
        "empty@example.com",
        json!({"displayUsername": ""}),
    )
    .await;
    let user = &res.json()["user"];
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&Value::Null, &json!(""))
    );

    // A display username that would be a taken username is refused like one.
    sign_up(
        &mut s.client(),
        "x@example.com",
        json!({"displayUsername": "DAN.x"}),
    )
    .await;
    sign_up(
        &mut s.client(),
        "y@example.com",
        json!({"displayUsername": "dan.X"}),
    )
    .await
    .assert_error(
        400,
        "USERNAME_IS_ALREADY_TAKEN",
        "Username is already taken. Please try another.",
    );
}

async fn duplicate_username_is_refused(s: &TestServer) {
    let first = sign_up(
        &mut s.client(),
        "a@example.com",
        json!({"username": "taken"}),
    )
    .await;
    assert_eq!(first.status, 200);
    let taken = |res: Res| {
        res.assert_error(
            400,
            "USERNAME_IS_ALREADY_TAKEN",
            "Username is already taken. Please try another.",
        )
    };
    taken(
        sign_up(
            &mut s.client(),
            "b@example.com",
            json!({"username": "TAKEN"}),
        )
        .await,
    );
    // The username hooks run before the body schema and the email check.
    taken(
        s.client()
            .post("/sign-up/email", json!({"username": "Taken"}))
            .await,
    );
    taken(
        sign_up(
            &mut s.client(),
            "a@example.com",
            json!({"username": "taken"}),
        )
        .await,
    );
    // A free username with an existing email meets the email check.
    sign_up(
        &mut s.client(),
        "a@example.com",
        json!({"username": "free_one"}),
    )
    .await
    .assert_error(
        422,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        "User already exists. Use another email.",
    );
}

/// Many sign-ups racing for one username: one wins, the others get the plugin's 400 (the
/// unique index, not a 500).
async fn concurrent_sign_ups_race_for_one_username(s: &TestServer) {
    let attempts = (0..6).map(|i| async move {
        sign_up(
            &mut s.client(),
            &format!("race{i}@example.com"),
            json!({"username": "racer"}),
        )
        .await
    });
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(
            400,
            "USERNAME_IS_ALREADY_TAKEN",
            "Username is already taken. Please try another.",
        );
    }
}

/// The unique index backs the check-then-insert: a lost race is recognized as a username
/// conflict on every backend (and an email conflict is not mistaken for one, even when the
/// email contains "username").
async fn unique_violation_is_recognized(s: &TestServer) {
    use portcullis_server::{
        store::{self, users},
        username::is_username_violation,
    };
    let conn = &s.state.db.conn;
    let user =
        |id: &'static str, email: &'static str, username: Option<&'static str>| users::NewUser {
            id,
            name: "n",
            email,
            image: None,
            username,
            display_username: username,
            now: store::now(),
        };
    users::insert(conn, &user("u1", "username@example.com", Some("racer")))
        .await
        .unwrap();
    let e = users::insert(conn, &user("u2", "other@example.com", Some("racer")))
        .await
        .unwrap_err();
    assert!(is_username_violation(&e), "{e}");
    let e = users::insert(conn, &user("u3", "username@example.com", Some("racer2")))
        .await
        .unwrap_err();
    assert!(!is_username_violation(&e), "{e}");
    // Users without a username do not collide.
    users::insert(conn, &user("u4", "a@example.com", None))
        .await
        .unwrap();
    users::insert(conn, &user("u5", "b@example.com", None))
        .await
        .unwrap();
}

async fn malformed_usernames_400_on_write_422_on_read(s: &TestServer) {
    let mut signed_in = s.client();
    sign_up(
        &mut signed_in,
        "me@example.com",
        json!({"username": "me_myself"}),
    )
    .await;
    let cases = [
        (
            "ab".to_string(),
            "USERNAME_TOO_SHORT",
            "Username is too short",
        ),
        ("a".repeat(31), "USERNAME_TOO_LONG", "Username is too long"),
        (
            "ab-c".to_string(),
            "INVALID_USERNAME",
            "Username is invalid",
        ),
        (
            "a b c".to_string(),
            "INVALID_USERNAME",
            "Username is invalid",
        ),
    ];
    for (name, code, message) in &cases {
        let (name, code, message) = (name.as_str(), *code, *message);
        sign_up(
            &mut s.client(),
            "new@example.com",
            json!({"username": name}),
        )
        .await
        .assert_error(400, code, message);
        signed_in
            .post("/update-user", json!({"username": name}))
            .await
            .assert_error(400, code, message);
        sign_in_username(&mut s.client(), name, PW)
            .await
            .assert_error(422, code, message);
        available(s, name).await.assert_error(422, code, message);
    }
    // Exactly 30 characters is fine.
    let thirty = "a".repeat(30);
    assert_eq!(
        available(s, &thirty).await.json(),
        json!({"available": true})
    );

    // The empty string: too short on sign-up, a plain 401 on sign-in, invalid when probing.
    sign_up(&mut s.client(), "new@example.com", json!({"username": ""}))
        .await
        .assert_error(400, "USERNAME_TOO_SHORT", "Username is too short");
    sign_in_username(&mut s.client(), "", PW)
        .await
        .assert_error(
            401,
            "INVALID_USERNAME_OR_PASSWORD",
            "Invalid username or password",
        );
    available(s, "")
        .await
        .assert_error(422, "INVALID_USERNAME", "Username is invalid");

    // Non-strings (divergence: upstream stores or crashes) are validation errors.
    let res = sign_up(&mut s.client(), "new@example.com", json!({"username": 5})).await;
    res.assert_error(
        400,
        "VALIDATION_ERROR",
        "[body.username] Invalid input: expected string, received number",
    );
    let res = available(s, "ok_name").await;
    assert_eq!(res.json(), json!({"available": true}));
    let res = s
        .client()
        .post("/is-username-available", json!({"username": 5}))
        .await;
    res.assert_error(
        400,
        "VALIDATION_ERROR",
        "[body.username] Invalid input: expected string, received number",
    );
}

async fn sign_in_by_username(s: &TestServer) {
    let mut c = s.client();
    let up = sign_up(&mut c, "alice@example.com", json!({"username": "Alice_1"})).await;
    let id = up.json()["user"]["id"].clone();

    let mut c = s.client();
    let res = sign_in_username(&mut c, "ALICE_1", PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["redirect", "token", "user"]);
    assert_eq!(body["redirect"], false);
    assert_eq!(body["user"]["id"], id);
    assert_eq!(keys(&body["user"]), user_keys());
    assert_eq!(body["user"]["displayUsername"], "Alice_1");
    assert!(
        res.cookie_line("better-auth.session_token")
            .unwrap()
            .contains("Max-Age=604800")
    );
    assert_eq!(me(&mut c).await["id"], id);

    // callbackURL → redirect + Location; rememberMe:false → dont_remember.
    let mut c = s.client();
    let res = c
        .post(
            "/sign-in/username",
            json!({"username": "alice_1", "password": PW, "callbackURL": "/dash", "rememberMe": false}),
        )
        .await;
    let body = res.json();
    assert_eq!(
        (&body["redirect"], &body["url"]),
        (&json!(true), &json!("/dash"))
    );
    assert_eq!(res.headers["location"], "/dash");
    assert!(res.cookie_line("better-auth.dont_remember").is_some());
    assert!(
        !res.cookie_line("better-auth.session_token")
            .unwrap()
            .contains("Max-Age")
    );
    // An empty callbackURL is echoed but does not redirect.
    let res = s
        .client()
        .post(
            "/sign-in/username",
            json!({"username": "alice_1", "password": PW, "callbackURL": ""}),
        )
        .await;
    let body = res.json();
    assert_eq!(
        (&body["redirect"], &body["url"]),
        (&json!(false), &json!(""))
    );
    assert!(res.headers.get("location").is_none());

    // No form-CSRF middleware on this route (upstream), unlike /sign-in/email.
    let res = s
        .client()
        .raw(
            Method::POST,
            "/sign-in/username",
            Some((
                "application/json",
                json!({"username": "alice_1", "password": PW}).to_string(),
            )),
            &[
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
            ],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn sign_in_failures_do_not_enumerate(s: &TestServer) {
    sign_up(
        &mut s.client(),
        "alice@example.com",
        json!({"username": "alice"}),
    )
    .await;
    let wrong = sign_in_username(&mut s.client(), "alice", "wrong-password").await;
    let unknown = sign_in_username(&mut s.client(), "nobody", PW).await;
    let empty_password = sign_in_username(&mut s.client(), "alice", "").await;
    for res in [&wrong, &unknown, &empty_password] {
        res.assert_error(
            401,
            "INVALID_USERNAME_OR_PASSWORD",
            "Invalid username or password",
        );
        assert!(res.set_cookies.is_empty());
    }
    assert_eq!(wrong.text, unknown.text);

    s.client()
        .post("/sign-in/username", json!({"username": "alice"}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    sign_in_username(&mut s.client(), "alice", &"x".repeat(129))
        .await
        .assert_error(400, "PASSWORD_TOO_LONG", "Password too long");
    // JSON only.
    let res = s
        .client()
        .raw(
            Method::POST,
            "/sign-in/username",
            Some((
                "application/x-www-form-urlencoded",
                format!("username=alice&password={PW}"),
            )),
            &[],
        )
        .await;
    res.assert_error(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Content-Type \"application/x-www-form-urlencoded\" is not allowed. Allowed types: application/json",
    );
    // Wrong method is a 404, as for every route.
    assert_eq!(s.client().get("/is-username-available").await.status, 404);
}

async fn is_username_available(s: &TestServer) {
    assert_eq!(
        available(s, "alice").await.json(),
        json!({"available": true})
    );
    sign_up(
        &mut s.client(),
        "alice@example.com",
        json!({"username": "alice"}),
    )
    .await;
    let res = available(s, "ALICE").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), json!({"available": false}));
    s.client()
        .post("/is-username-available", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.username] Invalid input: expected string, received undefined",
        );
}

async fn update_user_changes_username(s: &TestServer) {
    sign_up(
        &mut s.client(),
        "alice@example.com",
        json!({"username": "alice"}),
    )
    .await;
    let mut c = s.client();
    sign_up(&mut c, "eve@example.com", json!({})).await;

    let res = c.post("/update-user", json!({"username": "Eve_1"})).await;
    assert_eq!(res.json(), json!({"status": true}), "{}", res.text);
    let user = me(&mut c).await;
    // Normalized; the display username is not derived on update.
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&json!("eve_1"), &Value::Null)
    );
    // Re-setting one's own username (any case) is fine.
    let res = c.post("/update-user", json!({"username": "EVE_1"})).await;
    assert_eq!(res.status, 200, "{}", res.text);

    let taken = |res: Res| {
        res.assert_error(
            400,
            "USERNAME_IS_ALREADY_TAKEN",
            "Username is already taken. Please try another.",
        )
    };
    taken(c.post("/update-user", json!({"username": "Alice"})).await);
    // Before the session check: signed out, a taken name is refused, a free one is a 401.
    taken(
        s.client()
            .post("/update-user", json!({"username": "alice"}))
            .await,
    );
    s.client()
        .post("/update-user", json!({"username": "free_name"}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");

    // The display username alone is a field to update; null clears the username.
    let res = c
        .post("/update-user", json!({"displayUsername": "Eve!!"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = c.post("/update-user", json!({"username": null})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let user = me(&mut c).await;
    assert_eq!(
        (&user["username"], &user["displayUsername"]),
        (&Value::Null, &json!("Eve!!"))
    );
    // The name is free again.
    assert_eq!(
        available(s, "eve_1").await.json(),
        json!({"available": true})
    );
    c.post("/update-user", json!({"displayUsername": 5}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.displayUsername] Invalid input: expected string, received number",
        );
}

/// The two-factor gate covers `/sign-in/username` like `/sign-in/email`.
async fn two_factor_gate_covers_sign_in_username(s: &TestServer) {
    let mut c = s.client();
    sign_up(&mut c, "tf@example.com", json!({"username": "tf_user"})).await;
    let res = c.post("/two-factor/enable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let uri = res.json()["totpURI"].as_str().unwrap().to_string();
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap();
    let key = totp::base32_decode(secret).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = totp::code_at(&key, now / 30, 6);
    let res = c
        .post("/two-factor/verify-totp", json!({"code": code}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(me(&mut c).await["twoFactorEnabled"], true);

    let mut other = s.client();
    let res = sign_in_username(&mut other, "TF_User", PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        res.json(),
        json!({"twoFactorRedirect": true, "twoFactorMethods": ["totp"]})
    );
    assert!(other.cookie("better-auth.two_factor").is_some());
    assert!(other.cookie("better-auth.session_token").is_none());
    assert_eq!(other.get("/get-session").await.text, "null");
}

on_every_backend_with!(
    super::PLUGINS;
    sign_up_normalizes_and_defaults_display_username,
    sign_up_with_only_display_username,
    duplicate_username_is_refused,
    concurrent_sign_ups_race_for_one_username,
    unique_violation_is_recognized,
    malformed_usernames_400_on_write_422_on_read,
    sign_in_by_username,
    sign_in_failures_do_not_enumerate,
    is_username_available,
    update_user_changes_username,
    two_factor_gate_covers_sign_in_username,
);

/// With the plugin off (the default plugin list), neither the routes nor the user keys exist and
/// the fields are ignored like any unknown key.
#[actix_web::test]
async fn plugin_off_has_no_username_routes_or_keys() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
        let Some(s) = TestServer::start(backend).await else {
            continue;
        };
        let mut c = s.client();
        let res = sign_up(&mut c, "off@example.com", json!({"username": "alice"})).await;
        assert_eq!(res.status, 200, "{}", res.text);
        let user = &res.json()["user"];
        assert!(user.get("username").is_none() && user.get("displayUsername").is_none());
        assert!(me(&mut c).await.get("username").is_none());
        for path in ["/sign-in/username", "/is-username-available"] {
            let res = s
                .client()
                .post(path, json!({"username": "alice", "password": PW}))
                .await;
            assert_eq!(
                (res.status.as_u16(), res.text.as_str()),
                (404, ""),
                "{path}"
            );
        }
        let res = c.post("/update-user", json!({"username": "bob"})).await;
        assert_eq!(res.status, 400);
        assert_eq!(res.json(), json!({"message": "No fields to update"}));
        // Nothing was stored either.
        let stored =
            portcullis_server::store::users::find_by_email(&s.state.db.conn, "off@example.com")
                .await
                .unwrap()
                .unwrap();
        assert_eq!((stored.username, stored.display_username), (None, None));
        s.stop().await;
    }
}
