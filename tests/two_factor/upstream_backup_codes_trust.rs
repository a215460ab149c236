//! Upstream two-factor.test.ts › "view backup codes", trust device, trustDeviceMaxAge /
//! twoFactorCookieMaxAge.

use serde_json::json;

use super::common::TestClient;
use super::support::*;

// ================================================================ upstream: two-factor.test.ts › "view backup codes"

/// Upstream's "view backup codes" setup: 2FA enabled by OTP, then a TOTP enrolment that is
/// left pending (its backup codes are already live). Returns the user and the enable codes.
async fn otp_user_with_pending_totp(t: &Tf, tag: &str) -> (User, Vec<String>) {
    let mut u = otp_user(t, tag).await;
    let e = enable_totp(&mut u.client).await;
    (u, e.backup_codes)
}

pub(crate) async fn generate_codes(c: &mut TestClient) -> Vec<String> {
    let res = c
        .post("/two-factor/generate-backup-codes", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "generate-backup-codes: {}", res.text);
    assert_eq!(res.json()["status"], true);
    let codes = strings(&res.json()["backupCodes"]);
    assert_eq!(codes.len(), 10);
    codes
}

/// upstream two-factor.test.ts › view backup codes › "should return parsed array of backup
/// codes, not JSON string" (`viewBackupCodes` is server-only; the codes enable returned are
/// an array of strings and are the live set).
pub(crate) async fn view_backup_codes_should_return_parsed_array_not_json_string(t: &Tf) {
    let (u, codes) = otp_user_with_pending_totp(t, "view").await;
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = verify_backup(&mut c, &codes[3]).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.test.ts › view backup codes › "should return array after generating new
/// backup codes"
pub(crate) async fn view_backup_codes_should_return_array_after_generating_new_backup_codes(
    t: &Tf,
) {
    let (mut u, old) = otp_user_with_pending_totp(t, "view").await;
    let generated = generate_codes(&mut u.client).await;
    assert!(generated.iter().all(|c| is_backup_code(c)));
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_backup(&mut c, &old[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    assert_eq!(verify_backup(&mut c, &generated[0]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should successfully regenerate backup
/// codes multiple times"
pub(crate) async fn view_backup_codes_should_successfully_regenerate_backup_codes_multiple_times(
    t: &Tf,
) {
    let (mut u, _) = otp_user_with_pending_totp(t, "view").await;
    let first = generate_codes(&mut u.client).await;
    let second = generate_codes(&mut u.client).await;
    assert_ne!(first, second);
    let third = generate_codes(&mut u.client).await;
    assert_ne!(third, second);
    // Only the latest generation is live.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    for stale in [&first[0], &second[0]] {
        verify_backup(&mut c, stale).await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    assert_eq!(verify_backup(&mut c, &third[0]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should correctly update backup codes after
/// verification"
pub(crate) async fn view_backup_codes_should_correctly_update_backup_codes_after_verification(
    t: &Tf,
) {
    let (mut u, _) = otp_user_with_pending_totp(t, "view").await;
    let codes = generate_codes(&mut u.client).await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = verify_backup(&mut c, &codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!set_cookie_value(&res, SESSION).unwrap().is_empty());
    // The used code is gone, the other nine remain.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_backup(&mut c, &codes[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    assert_eq!(verify_backup(&mut c, &codes[1]).await.status, 200);
    let mut c = challenge(t, &u.email, &["otp"]).await;
    assert_eq!(verify_backup(&mut c, &codes[9]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should not expose viewBackupCodes to client"
pub(crate) async fn view_backup_codes_should_not_expose_view_backup_codes_to_client(t: &Tf) {
    let (u, _) = otp_user_with_pending_totp(t, "view").await;
    let mut c = t.client();
    let res = c
        .post("/two-factor/view-backup-codes", json!({"userId": u.id}))
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.text, "");
}

// ================================================================ upstream: two-factor.test.ts › "trust device server-side validation"

/// Completes an OTP challenge with `trustDevice: true`; returns the signed-in client (holding
/// the trust cookie) and the trust cookie's verification identifier.
async fn trusted_sign_in(t: &Tf, email: &str, methods: &[&str]) -> (TestClient, String) {
    let mut c = challenge(t, email, methods).await;
    let otp = t.send_otp(&mut c, email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let value = unsigned(c.cookie(TRUST).expect("trust_device cookie"));
    let (_, identifier) = value.split_once('!').unwrap();
    assert!(identifier.starts_with("trust-device-"), "{value}");
    (c, identifier.to_string())
}

/// upstream two-factor.test.ts › trust device server-side validation › "should force 2FA when
/// server-side trust record is expired"
pub(crate) async fn trust_device_should_force_2fa_when_server_side_trust_record_is_expired(t: &Tf) {
    let u = otp_user(t, "trustexp").await;
    let (c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    assert!(db::verification_row(t, &identifier).await.is_some());
    db::expire_verification(t, &identifier, 1).await;
    let mut n = with_cookie(t, TRUST, c.cookie(TRUST).unwrap());
    let res = n.sign_in(&u.email, PW).await;
    assert_redirect(&res, &["otp"]);
    assert_eq!(set_cookie_value(&res, TRUST).as_deref(), Some(""));
    assert_expires(&res, TRUST);
}

/// upstream two-factor.test.ts › trust device server-side validation › "should preserve trust
/// device after sign-out"
pub(crate) async fn trust_device_should_preserve_trust_device_after_sign_out(t: &Tf) {
    let u = otp_user(t, "trustout").await;
    let (mut c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    let trust = c.cookie(TRUST).unwrap().to_string();
    let res = c.post("/sign-out", json!({})).await;
    assert_eq!(res.status, 200);
    assert!(
        set_cookie_value(&res, TRUST).is_none_or(|v| !v.is_empty()),
        "sign-out must not clear the trust cookie: {:?}",
        res.set_cookies
    );
    assert!(db::verification_row(t, &identifier).await.is_some());
    let mut n = with_cookie(t, TRUST, &trust);
    let res = n.sign_in(&u.email, PW).await;
    assert_eq!(
        res.json()["user"]["email"],
        u.email.as_str(),
        "{}",
        res.text
    );
}

/// upstream two-factor.test.ts › trust device server-side validation › "should revoke trust
/// device when disabling 2FA"
pub(crate) async fn trust_device_should_revoke_trust_device_when_disabling_2fa(t: &Tf) {
    let u = otp_user(t, "trustoff").await;
    let (mut c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    assert!(db::verification_row(t, &identifier).await.is_some());
    let res = c.post("/two-factor/disable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(set_cookie_value(&res, TRUST).as_deref(), Some(""));
    assert!(db::verification_row(t, &identifier).await.is_none());
}

// ================================================================ upstream: two-factor.test.ts › trustDeviceMaxAge / twoFactorCookieMaxAge

/// upstream two-factor.test.ts › trustDeviceMaxAge › "should use default 30 days when
/// trustDeviceMaxAge is not specified" (plus the record's expiry, which upstream checks in the
/// custom-value case)
pub(crate) async fn trust_device_max_age_should_use_default_30_days(t: &Tf) {
    let u = otp_user(t, "trustage").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let line = res.cookie_line(TRUST).unwrap();
    assert!(
        line.ends_with("; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax"),
        "{line}"
    );
    let value = unsigned(c.cookie(TRUST).unwrap());
    let identifier = value.split_once('!').unwrap().1;
    let row = db::verification_row(t, identifier).await.unwrap();
    assert_eq!(row.value, u.id);
    let expected = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(
        (row.expires_at.get() - expected).abs() < time::Duration::seconds(60),
        "expiresAt {}",
        row.expires_at
    );
}

/// upstream two-factor.test.ts › twoFactorCookieMaxAge › "should use default 10 minutes when
/// twoFactorCookieMaxAge is not specified"
pub(crate) async fn two_factor_cookie_max_age_should_use_default_10_minutes(t: &Tf) {
    let u = otp_user(t, "cookieage").await;
    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    let line = res.cookie_line(TWO_FACTOR).unwrap();
    assert!(line.contains("; Max-Age=600;"), "{line}");
}
