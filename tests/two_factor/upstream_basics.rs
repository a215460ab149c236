//! Upstream two-factor.test.ts › "two factor", "OTP-only enablement", "two factor auth API".

use serde_json::json;

use super::common;
use super::support::*;

// ================================================================ upstream: two-factor.test.ts › "two factor"

/// upstream two-factor.test.ts › two factor › "should return uri and backup codes and
/// shouldn't enable twoFactor yet"
pub(crate) async fn should_return_uri_and_backup_codes_and_not_enable_two_factor_yet(t: &Tf) {
    let mut u = new_user(t, "uri").await;
    let res = u
        .client
        .post("/two-factor/enable", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["backupCodes", "method", "totpURI"]);
    assert_eq!(body["method"], "totp");
    let codes = strings(&body["backupCodes"]);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert_totp_uri(
        body["totpURI"].as_str().unwrap(),
        "Portcullis",
        "Portcullis",
        &u.email,
    );
    // Pending: no session rotation, the user flag stays off, the row is `verified: false`.
    assert!(res.cookie_line(SESSION).is_none(), "{:?}", res.set_cookies);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        false
    );
    let row = db::two_factor_row(t, &u.id).await.expect("twoFactor row");
    assert_eq!(row.verified, Some(false));
    assert!(!row.secret.is_empty() && !row.backup_codes.is_empty());
    let mut c = t.client();
    let signin = c.sign_in(&u.email, PW).await;
    assert_eq!(signin.status, 200);
    assert!(
        signin.json().get("twoFactorRedirect").is_none(),
        "{}",
        signin.text
    );
}

/// upstream two-factor.test.ts › two factor › "should use custom issuer from request parameter"
pub(crate) async fn should_use_custom_issuer_from_request_parameter(t: &Tf) {
    let mut u = new_user(t, "issuer").await;
    enable_totp(&mut u.client).await;
    // Re-enabling while the enrolment is pending is allowed (better-auth:
    // dist/plugins/two-factor/index.mjs, enableTwoFactor: only `verified !== false` refuses).
    let res = u
        .client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "issuer": "Custom App Name"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let uri = res.json()["totpURI"].as_str().unwrap().to_string();
    assert!(
        uri.starts_with("otpauth://totp/Custom%20App%20Name:"),
        "{uri}"
    );
    assert!(uri.contains("&issuer=Custom+App+Name&"), "{uri}");
    assert_totp_uri(&uri, "Custom%20App%20Name", "Custom+App+Name", &u.email);
}

/// upstream two-factor.test.ts › two factor › "should fallback to appName when no issuer
/// provided". Portcullis's default app name is "Portcullis" (Better Auth's: "Better Auth").
pub(crate) async fn should_fallback_to_app_name_when_no_issuer_provided(t: &Tf) {
    let mut u = new_user(t, "appname").await;
    let e = enable_totp(&mut u.client).await;
    assert!(e.uri.starts_with("otpauth://totp/Portcullis:"), "{}", e.uri);
    assert!(e.uri.contains("&issuer=Portcullis&"), "{}", e.uri);
}

/// upstream two-factor.test.ts › two factor › "should enable twoFactor" (upstream reads the
/// secret of the latest enable from the database; here it comes from the latest URI).
pub(crate) async fn should_enable_two_factor(t: &Tf) {
    let mut u = new_user(t, "enable").await;
    let first = enable_totp(&mut u.client).await;
    let latest = enable_totp(&mut u.client).await;
    assert_ne!(
        first.auth.key, latest.auth.key,
        "re-enable replaces the secret"
    );
    let step = latest.auth.step();
    if first.auth.code(step) != latest.auth.code(step) {
        verify_totp(&mut u.client, &first.auth.code(step))
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_totp(&mut u.client, &latest.auth.code(step)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!res.json()["token"].as_str().unwrap().is_empty());
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › two factor › "should require two factor"
pub(crate) async fn should_require_two_factor(t: &Tf) {
    let tu = totp_user(t, "require").await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": tu.u.email, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_redirect(&res, &["totp", "otp"]);
    // better-auth: dist/plugins/two-factor/index.mjs (after hook): provisional session
    // cookies expired, `dont_remember` kept, signed challenge cookie for 600 s.
    assert_expires(&res, SESSION);
    assert_expires(&res, SESSION_DATA);
    assert_no_live_session_cookie(&res);
    let challenge_line = res.cookie_line(TWO_FACTOR).unwrap();
    assert!(
        challenge_line.ends_with("; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"),
        "{challenge_line}"
    );
    assert!(!set_cookie_value(&res, DONT_REMEMBER).unwrap().is_empty());
    assert!(c.cookie(DONT_REMEMBER).is_some());

    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!res.json()["token"].as_str().unwrap().is_empty());
    let line = res.cookie_line(SESSION).unwrap();
    assert!(
        !line.contains("Max-Age"),
        "rememberMe:false → no Max-Age: {line}"
    );
}

/// upstream two-factor.test.ts › two factor › "should fail if two factor cookie is missing"
pub(crate) async fn should_fail_if_two_factor_cookie_is_missing(t: &Tf) {
    let tu = totp_user(t, "nocookie").await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": tu.u.email, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_redirect(&res, &["totp", "otp"]);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
    // The browser keeps dont_remember but drops the challenge cookie.
    c.jar.retain(|(n, _)| n != TWO_FACTOR);
    let send = c.post("/two-factor/send-otp", json!({})).await;
    send.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    let res = verify_otp(&mut c, "123456").await;
    res.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    assert!(res.cookie_line(SESSION).is_none(), "{:?}", res.set_cookies);
}

/// upstream two-factor.test.ts › two factor › "should fail when passing invalid TOTP code with
/// expected error code"
pub(crate) async fn should_fail_when_passing_invalid_totp_code_with_expected_error_code(t: &Tf) {
    let mut tu = totp_user(t, "badcode").await;
    verify_totp(&mut tu.u.client, "invalid-code")
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
}

/// upstream two-factor.test.ts › two factor › "should generate backup codes"
pub(crate) async fn should_generate_backup_codes(t: &Tf) {
    let mut tu = totp_user(t, "gen").await;
    let res =
        tu.u.client
            .post("/two-factor/generate-backup-codes", json!({"password": PW}))
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["backupCodes", "status"]);
    assert_eq!(body["status"], true);
    let codes = strings(&body["backupCodes"]);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
}

/// upstream two-factor.test.ts › two factor › "should allow sign in with backup code"
/// (upstream checks the stored list with the server-only `viewBackupCodes`; here the used
/// code is refused on a later challenge).
pub(crate) async fn should_allow_sign_in_with_backup_code(t: &Tf) {
    let mut tu = totp_user(t, "backup").await;
    let res =
        tu.u.client
            .post("/two-factor/generate-backup-codes", json!({"password": PW}))
            .await;
    let codes = strings(&res.json()["backupCodes"]);

    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_backup(&mut c, &codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let token = set_cookie_value(&res, SESSION).unwrap();
    assert!(!token.is_empty());

    let mut c2 = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_backup(&mut c2, "invalid-code").await;
    res.assert_error(401, "INVALID_BACKUP_CODE", "Invalid backup code");
    assert!(res.cookie_line(SESSION).is_none());
    verify_backup(&mut c2, &codes[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
}

/// upstream two-factor.test.ts › two factor › "should trust device"
pub(crate) async fn should_trust_device(t: &Tf) {
    let tu = totp_user(t, "trust").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let first = set_cookie_value(&res, TRUST).expect("trust_device cookie");
    assert!(!first.is_empty());

    // Sign in with only the trust cookie: no challenge, and the cookie is rotated.
    let mut n = with_cookie(t, TRUST, &first);
    let res = n.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str());
    let rotated = set_cookie_value(&res, TRUST).expect("rotated trust_device cookie");
    assert!(!rotated.is_empty());
    assert_ne!(rotated, first);

    // The pre-rotation cookie no longer works (its server-side record was replaced).
    let mut old = with_cookie(t, TRUST, &first);
    assert_redirect(&old.sign_in(&tu.u.email, PW).await, &["totp", "otp"]);
    // The rotated one does.
    let mut fresh = with_cookie(t, TRUST, &rotated);
    let res = fresh.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str(), "{}", res.text);
}

/// upstream two-factor.test.ts › two factor › "should limit OTP verification attempts"
pub(crate) async fn should_limit_otp_verification_attempts(t: &Tf) {
    let tu = totp_user(t, "otplimit").await;
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

/// upstream two-factor.test.ts › two factor › "should disable two factor"
pub(crate) async fn should_disable_two_factor(t: &Tf) {
    let mut tu = totp_user(t, "disable").await;
    let res =
        tu.u.client
            .post("/two-factor/disable", json!({"password": PW}))
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
    assert_eq!(
        get_session(&mut tu.u.client).await["user"]["twoFactorEnabled"],
        false
    );
    let mut c = t.client();
    let res = c.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str(), "{}", res.text);
}

// ================================================================ upstream: two-factor.test.ts › "OTP-only enablement"

/// upstream two-factor.test.ts › OTP-only enablement › "should enable 2FA with OTP method"
pub(crate) async fn otp_only_should_enable_2fa_with_otp_method(t: &Tf) {
    let mut u = new_user(t, "otponly").await;
    let before = u.client.cookie(SESSION).unwrap().to_string();
    let res = u
        .client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"method": "otp"}));
    // Enabled at once, on a rotated session (better-auth: dist/plugins/two-factor/index.mjs).
    assert_ne!(u.client.cookie(SESSION).unwrap(), before);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › OTP-only enablement › "should only report OTP in
/// twoFactorMethods at sign-in"
pub(crate) async fn otp_only_should_only_report_otp_in_two_factor_methods_at_sign_in(t: &Tf) {
    let u = otp_user(t, "otponly").await;
    challenge(t, &u.email, &["otp"]).await;
}

/// upstream two-factor.test.ts › OTP-only enablement › "should reject OTP enable when sendOTP
/// is not configured"
pub(crate) async fn otp_only_should_reject_otp_enable_when_send_otp_is_not_configured(t: &Tf) {
    let mut u = new_user(t, "nootp").await;
    u.client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await
        .assert_error(400, "OTP_NOT_CONFIGURED", "OTP is not available");
}

/// upstream two-factor.test.ts › OTP-only enablement › "should preserve existing TOTP row when
/// enabling OTP"
pub(crate) async fn otp_only_should_preserve_existing_totp_row_when_enabling_otp(t: &Tf) {
    let mut tu = totp_user(t, "keep").await;
    let before = db::two_factor_row(t, &tu.u.id).await.unwrap();
    let res =
        tu.u.client
            .post(
                "/two-factor/enable",
                json!({"password": PW, "method": "otp"}),
            )
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let after = db::two_factor_row(t, &tu.u.id).await.unwrap();
    assert_eq!(after.secret, before.secret);
    assert_eq!(after.verified, Some(true));
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "TOTP still works: {}", res.text);
}

// ================================================================ upstream: two-factor.test.ts › "two factor auth API"

/// upstream two-factor.test.ts › two factor auth API › "should enable two factor with OTP method"
pub(crate) async fn auth_api_should_enable_two_factor_with_otp_method(t: &Tf) {
    let mut u = otp_user(t, "api").await;
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › two factor auth API › "should request second factor"
pub(crate) async fn auth_api_should_request_second_factor(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    assert_eq!(res.status, 200);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
    assert_eq!(set_cookie_value(&res, SESSION).as_deref(), Some(""));
}

/// upstream two-factor.test.ts › two factor auth API › "should send otp"
pub(crate) async fn auth_api_should_send_otp(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = c
        .post("/two-factor/send-otp", json!({"trustDevice": false}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
    let body = t
        .hook()
        .wait_for(&u.email, 0, common::webhook::DEFAULT_TIMEOUT)
        .await;
    let otp = body["otp"].as_str().unwrap();
    assert_eq!(otp.len(), 6);
    assert!(otp.bytes().all(|b| b.is_ascii_digit()), "{otp}");
    assert_eq!(body["email"], u.email.as_str());
    assert_eq!(body["userId"], u.id.as_str());
    assert_eq!(t.hook().count_for(&u.email), 1, "sent once");
}

/// upstream two-factor.test.ts › two factor auth API › "should verify otp"
pub(crate) async fn auth_api_should_verify_otp(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!set_cookie_value(&res, SESSION).unwrap().is_empty());
}

/// upstream two-factor.test.ts › two factor auth API › "should disable two factor"
pub(crate) async fn auth_api_should_disable_two_factor(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    assert_eq!(verify_otp(&mut c, &otp).await.status, 200);
    let res = c.post("/two-factor/disable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(get_session(&mut c).await["user"]["twoFactorEnabled"], false);
}
