//! Upstream two-factor.security.test.ts.

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::common::{Res, TestClient};
use super::support::*;

// ================================================================ upstream: two-factor.security.test.ts

/// A `Cookie` jar built from the non-empty session_token / session_data lines of `res`
/// (what an attacker reading the raw response could replay).
fn replay_session_cookies(t: &Tf, res: &Res) -> TestClient {
    let mut c = t.client();
    for l in &res.set_cookies {
        let pair = l.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        if (name == SESSION || name.starts_with(SESSION_DATA)) && !value.is_empty() {
            c.jar.push((name.to_string(), value.to_string()));
        }
    }
    c
}

async fn assert_sign_in_leaks_nothing(t: &Tf, path: &str, body: Value, methods: &[&str]) {
    let mut c = t.client();
    let res = c.post(path, body).await;
    assert_redirect(&res, methods);
    assert!(!res.set_cookies.is_empty());
    assert_no_live_session_cookie(&res);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
}

async fn assert_replay_cannot_authenticate_or_disable(t: &Tf, path: &str, body: Value) {
    let mut c = t.client();
    let res = c.post(path, body).await;
    assert_eq!(res.status, 200);
    let mut replay = replay_session_cookies(t, &res);
    assert_eq!(replay.get("/get-session").await.text, "null");
    let res = replay
        .post("/two-factor/disable", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 401, "{}", res.text);
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// disabled) › "response carries no valid signed session_token on 2FA-required sign-in"; also
/// cookieCache enabled › "/sign-in/email: response carries no valid signed session_token or
/// session_data" (Portcullis has no cookie cache; no live `session_data` either way).
pub(crate) async fn security_sign_in_email_response_carries_no_valid_session_cookie(t: &Tf) {
    let tu = totp_user(t, "leak").await;
    assert_sign_in_leaks_nothing(
        t,
        "/sign-in/email",
        json!({"email": tu.u.email, "password": PW}),
        &["totp"],
    )
    .await;
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// disabled) › "replaying any cookies captured from the response cannot authenticate"; also
/// cookieCache enabled › "/sign-in/email: replaying captured cookies cannot authenticate or
/// disable 2FA"
pub(crate) async fn security_sign_in_email_replaying_captured_cookies_cannot_authenticate(t: &Tf) {
    let tu = totp_user(t, "leak").await;
    assert_replay_cannot_authenticate_or_disable(
        t,
        "/sign-in/email",
        json!({"email": tu.u.email, "password": PW}),
    )
    .await;
}

/// Signs up with a username (username plugin) and enrols TOTP; returns (email, username).
pub(crate) async fn username_totp_user(t: &Tf) -> (String, String) {
    let mut c = t.client();
    let e = email("uname");
    let username = format!(
        "user_{}",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    );
    let res = c
        .post(
            "/sign-up/email",
            json!({"name": "U", "email": e, "password": PW, "username": username}),
        )
        .await;
    assert_eq!(res.status, 200, "sign-up with username: {}", res.text);
    let en = enable_totp(&mut c).await;
    let res = verify_totp(&mut c, &en.auth.code(en.auth.step())).await;
    assert_eq!(res.status, 200, "{}", res.text);
    (e, username)
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// enabled) › "/sign-in/username: response carries no valid signed session_token or
/// session_data"
pub(crate) async fn security_sign_in_username_response_carries_no_valid_session_cookie(t: &Tf) {
    let (_, username) = username_totp_user(t).await;
    assert_sign_in_leaks_nothing(
        t,
        "/sign-in/username",
        json!({"username": username, "password": PW}),
        &["totp"],
    )
    .await;
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// enabled) › "/sign-in/username: replaying captured cookies cannot authenticate or disable 2FA"
pub(crate) async fn security_sign_in_username_replaying_captured_cookies_cannot_authenticate(
    t: &Tf,
) {
    let (_, username) = username_totp_user(t).await;
    assert_replay_cannot_authenticate_or_disable(
        t,
        "/sign-in/username",
        json!({"username": username, "password": PW}),
    )
    .await;
}

/// upstream two-factor.security.test.ts › 2FA challenge is single-use and expiry-bounded ›
/// "rejects an expired two-factor sign-in challenge even with a valid TOTP"
pub(crate) async fn security_rejects_an_expired_challenge_even_with_a_valid_totp(t: &Tf) {
    let tu = totp_user(t, "expired").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let identifier = unsigned(c.cookie(TWO_FACTOR).unwrap());
    assert!(identifier.starts_with("2fa-"), "{identifier}");
    db::expire_verification(t, &identifier, 60).await;
    let before = db::session_count(t, &tu.u.id).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    res.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    assert_no_live_session_cookie(&res);
    assert_eq!(db::session_count(t, &tu.u.id).await, before);
}

/// upstream two-factor.security.test.ts › 2FA challenge is single-use and expiry-bounded › "two
/// concurrent verifications of the same challenge yield exactly one session"
pub(crate) async fn security_two_concurrent_verifications_of_one_challenge_yield_one_session(
    t: &Tf,
) {
    let tu = totp_user(t, "race").await;
    let mut a = challenge(t, &tu.u.email, &["totp"]).await;
    let mut b = twin(t, &a);
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.auth.code(tu.t0 + 1);
    let (ra, rb) = futures_util::join!(verify_totp(&mut a, &code), verify_totp(&mut b, &code));
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "{} / {}", ra.text, rb.text);
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency › "counts
/// wrong guesses up to the limit then locks out" (Portcullis: 5 attempts, upstream configures 3)
pub(crate) async fn security_otp_counts_wrong_guesses_up_to_the_limit_then_locks_out(t: &Tf) {
    let tu = totp_user(t, "otpcap").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    for _ in 0..5 {
        verify_otp(&mut c, other_otp(&otp))
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    verify_otp(&mut c, &otp).await.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency › "a
/// concurrent burst of wrong guesses cannot exceed the attempt budget"
pub(crate) async fn security_otp_concurrent_burst_of_wrong_guesses_cannot_exceed_the_budget(
    t: &Tf,
) {
    let tu = totp_user(t, "otpburst").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let wrong = other_otp(&otp);
    let mut clients: Vec<TestClient> = (0..20).map(|_| twin(t, &c)).collect();
    let results = join_all(clients.iter_mut().map(|c| verify_otp(c, wrong))).await;
    assert!(results.iter().all(|r| r.status != 200));
    let invalid = results
        .iter()
        .filter(|r| r.status == 401 && r.json()["code"] == "INVALID_CODE")
        .count();
    assert!(invalid <= 5, "{invalid} wrong guesses were checked");
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency ›
/// "concurrent correct codes mint at most one session"
pub(crate) async fn security_otp_concurrent_correct_codes_mint_at_most_one_session(t: &Tf) {
    let tu = totp_user(t, "otprace").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let before = db::session_count(t, &tu.u.id).await;
    let mut clients: Vec<TestClient> = (0..3).map(|_| twin(t, &c)).collect();
    let results = join_all(clients.iter_mut().map(|c| verify_otp(c, &otp))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(ok <= 1, "{ok} sessions minted");
    assert!(db::session_count(t, &tu.u.id).await <= before + 1);
}
