//! The two-factor plugin over real HTTP, on every configured database.
//!
//! Expected values are what Better Auth 1.7.25 answers (better-auth:
//! dist/plugins/two-factor/**), checked against the reference server through
//! `tests/js/two-factor.test.mjs` and the package code.
//!
//! # Ported upstream cases
//! Every HTTP-observable case of Better Auth's own plugin tests
//! (`packages/better-auth/src/plugins/two-factor/{two-factor,two-factor.security,
//! two-factor.attempt-cap,two-factor.account-lockout}.test.ts`, repo main @ 451aa4b)
//! is a scenario below named after it, with a comment citing file › describe › case.
//! `auth.api.*` calls became HTTP requests; reads of upstream's `db` adapter became the
//! equivalent observable behaviour where one exists, and otherwise reads or writes of
//! Better Auth's schema (`twoFactor`, `verification`, `user`, `account` — the columns a
//! server sharing the database must honour, protocol notes §8) through sea-orm; see `db`.
//! The repo snapshot (1.7.1) is older than the 1.7.25 package; where they disagree the
//! scenario follows the package and says so (one case: re-enabling a verified TOTP is
//! 400 TOTP_ALREADY_ENABLED in 1.7.25, a silent re-enrolment in the repo; see
//! `issue_8627_should_preserve_verified_state_during_re_enrollment`).
//!
//! Scenarios run through `two_factor_scenarios!`, the same one-test-per-backend expansion
//! as `on_every_backend!`, plus a per-scenario server configuration ([`Setup`]) and, where
//! OTP is on, an [`OtpWebhook`] started before the server so its URL can be passed as
//! `PORTCULLIS_OTP_WEBHOOK_URL`.
//!
//! Portcullis has fixed values for options upstream tests vary: OTP attempts 5
//! (upstream security test configures 3), account lockout 10 failures / 900 s
//! (upstream configures 3), default app name "Portcullis" (Better Auth: "Better Auth").
//!
//! # Skipped upstream cases (not observable over HTTP, or no Portcullis equivalent)
//! - two-factor.test.ts › OTP-only enablement › "should reject TOTP enable when
//!   totpOptions.disable is set"; twoFactorMethods in sign-in response › totp disabled in
//!   config › "should return twoFactorMethods: ['otp'] when totp is disabled in config":
//!   Portcullis has no setting to disable TOTP.
//! - two-factor.test.ts › trustDeviceMaxAge › "should use custom trustDeviceMaxAge…";
//!   twoFactorCookieMaxAge › "should use custom twoFactorCookieMaxAge…"; twoFactorTable
//!   option › "should use custom table name…": not configurable in Portcullis (the default
//!   cases are ported).
//! - two-factor.test.ts › OTP storage modes › "should verify OTP when stored as encrypted",
//!   custom hash function › "should verify OTP with custom hash function": the storage
//!   mode is not configurable; the hashed-mode cases are ported as the behaviour of
//!   Portcullis's fixed storage.
//! - two-factor.test.ts › backup codes storage configurations › "should preserve plain…" and
//!   "…custom storage format…": not configurable; the "encrypted" (default) case is ported.
//! - two-factor.test.ts › 2FA enforcement scope › "should not challenge 2FA on magic-link
//!   sign-in": no magic-link plugin.
//! - two-factor.security.test.ts › cookieCache enabled › the `/sign-in/phone-number`
//!   parameterisations: no phone-number plugin. The `/sign-in/email` ones are ported without
//!   a cookie cache (Portcullis has none); the response must carry no live `session_data`
//!   either way. The `x-new-session-visible` probe is an in-process hook: not observable.
//! - two-factor.security.test.ts › chunked session_data is fully scrubbed (both cases):
//!   needs a cookie cache and additional user fields.
//! - two-factor.security.test.ts › OTP attempts are atomic under concurrency: the three
//!   cases are ported, but upstream forces the race with a slow secondary storage, which has
//!   no HTTP equivalent; here the burst is real concurrency.
//! - two-factor.account-lockout.test.ts › "does not lock when account lockout is disabled":
//!   no setting; "sets the lock with a guarded counter transition": a unit test of
//!   `recordTwoFactorFailure` with a mocked adapter.
//!
//! # Beyond Better Auth
//! Portcullis additionally refuses a TOTP time step already accepted for the user (Better
//! Auth accepts a code again within its window, protocol notes §9.4), so these scenarios
//! submit step t at enrolment and step t+1 afterwards (±1 step is accepted) and never
//! need a third TOTP per user; see also the `beyond_*` scenarios.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
mod support;

mod beyond;
mod errors;
mod flows;
mod query_count;
mod transactions;
mod upstream_attempts_lockout;
mod upstream_backup_codes_trust;
mod upstream_basics;
mod upstream_enrolment_options;
mod upstream_security;

use beyond::*;
use common::Backend;
use errors::*;
use flows::*;
use query_count::*;
use support::*;
use transactions::*;
use upstream_attempts_lockout::*;
use upstream_backup_codes_trust::*;
use upstream_basics::*;
use upstream_enrolment_options::*;
use upstream_security::*;

/// Like `on_every_backend!`, with a [`Setup`] per scenario `async fn name(t: &Tf)`.
macro_rules! two_factor_scenarios {
    ($($name:ident : $setup:expr),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Sqlite, $setup, super::$name).await })*
        }
        mod postgres {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Postgres, $setup, super::$name).await })*
        }
        mod mysql {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Mysql, $setup, super::$name).await })*
        }
    };
}

// Kept at the crate root (not in `support`) so its test name stays unchanged.
#[test]
fn authenticator_matches_rfc6238_sha1_vectors() {
    // RFC 6238 appendix B (SHA-1), truncated to 6 digits; protocol notes §13 vector 8.
    let key = b"12345678901234567890";
    assert_eq!(hotp(key, 1, 6), "287082");
    assert_eq!(hotp(key, 37_037_036, 6), "081804");
    assert_eq!(hotp(key, 37_037_037, 6), "050471");
    assert_eq!(hotp(key, 41_152_263, 6), "005924");
    assert_eq!(hotp(key, 66_666_666, 6), "279037");
    assert_eq!(hotp(key, 666_666_666, 6), "353130");
    assert_eq!(hotp(key, 1, 8), "94287082");
    let a = Authenticator::from_uri(
        "otpauth://totp/My%20App:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My+App&digits=6&period=30",
    );
    assert_eq!(a.key, key);
    assert_eq!(a.code(1), "287082");
}

two_factor_scenarios!(
    // two-factor.test.ts › two factor
    should_return_uri_and_backup_codes_and_not_enable_two_factor_yet: OTP,
    should_use_custom_issuer_from_request_parameter: OTP,
    should_fallback_to_app_name_when_no_issuer_provided: OTP,
    should_enable_two_factor: OTP,
    should_require_two_factor: OTP,
    should_fail_if_two_factor_cookie_is_missing: OTP,
    should_fail_when_passing_invalid_totp_code_with_expected_error_code: OTP,
    should_generate_backup_codes: OTP,
    should_allow_sign_in_with_backup_code: OTP,
    should_trust_device: OTP,
    should_limit_otp_verification_attempts: OTP,
    should_disable_two_factor: OTP,
    // two-factor.test.ts › OTP-only enablement
    otp_only_should_enable_2fa_with_otp_method: OTP,
    otp_only_should_only_report_otp_in_two_factor_methods_at_sign_in: OTP,
    otp_only_should_reject_otp_enable_when_send_otp_is_not_configured: NO_OTP,
    otp_only_should_preserve_existing_totp_row_when_enabling_otp: OTP,
    // two-factor.test.ts › two factor auth API
    auth_api_should_enable_two_factor_with_otp_method: OTP,
    auth_api_should_request_second_factor: OTP,
    auth_api_should_send_otp: OTP,
    auth_api_should_verify_otp: OTP,
    auth_api_should_disable_two_factor: OTP,
    // two-factor.test.ts › view backup codes
    view_backup_codes_should_return_parsed_array_not_json_string: OTP,
    view_backup_codes_should_return_array_after_generating_new_backup_codes: OTP,
    view_backup_codes_should_successfully_regenerate_backup_codes_multiple_times: OTP,
    view_backup_codes_should_correctly_update_backup_codes_after_verification: OTP,
    view_backup_codes_should_not_expose_view_backup_codes_to_client: OTP,
    // two-factor.test.ts › trust device server-side validation, max ages
    trust_device_should_force_2fa_when_server_side_trust_record_is_expired: OTP,
    trust_device_should_preserve_trust_device_after_sign_out: OTP,
    trust_device_should_revoke_trust_device_when_disabling_2fa: OTP,
    trust_device_max_age_should_use_default_30_days: OTP,
    two_factor_cookie_max_age_should_use_default_10_minutes: OTP,
    // two-factor.test.ts › OTP storage modes, pre-migration rows, issue #8627
    otp_storage_should_verify_otp: OTP,
    otp_storage_should_reject_invalid_otp: OTP,
    pre_migration_should_complete_enrollment_when_verified_is_null: OTP,
    issue_8627_should_create_two_factor_row_with_verified_false_on_enable: OTP,
    issue_8627_should_mark_totp_as_verified_after_verify_totp_during_enrollment: OTP,
    issue_8627_should_preserve_verified_state_during_re_enrollment: OTP,
    issue_8627_should_reject_unverified_totp_during_sign_in_and_allow_otp_fallback: OTP,
    // two-factor.test.ts › passwordless, checkPassword
    passwordless_allows_enabling_without_password_for_users_without_credentials: PASSWORDLESS,
    passwordless_allows_getting_totp_uri_without_password: PASSWORDLESS,
    passwordless_allows_generating_backup_codes_without_password: PASSWORDLESS,
    passwordless_allows_disabling_without_password: PASSWORDLESS,
    passwordless_rejects_enabling_without_password_for_credential_users: PASSWORDLESS,
    check_password_uses_invalid_password_for_wrong_password_and_missing_credential: OTP,
    // two-factor.test.ts › twoFactorMethods in sign-in response
    methods_totp_only_should_not_redirect_when_user_has_not_verified_totp: NO_OTP,
    methods_totp_only_should_return_totp_when_user_has_verified_totp: NO_OTP,
    methods_with_otp_should_return_otp_when_2fa_enabled_but_no_totp_row: OTP,
    methods_with_otp_should_exclude_unverified_totp: OTP,
    methods_with_otp_should_return_totp_and_otp_when_user_has_verified_totp: OTP,
    // two-factor.test.ts › 2FA enforcement scope, backup codes storage configurations
    scope_should_not_challenge_2fa_on_authenticated_non_sign_in_endpoints: SKIP_VERIFY,
    backup_codes_storage_should_preserve_encrypted_format_after_verification: SKIP_VERIFY_NO_OTP,
    // two-factor.security.test.ts
    security_sign_in_email_response_carries_no_valid_session_cookie: NO_OTP,
    security_sign_in_email_replaying_captured_cookies_cannot_authenticate: NO_OTP,
    security_sign_in_username_response_carries_no_valid_session_cookie: USERNAME,
    security_sign_in_username_replaying_captured_cookies_cannot_authenticate: USERNAME,
    security_rejects_an_expired_challenge_even_with_a_valid_totp: NO_OTP,
    security_two_concurrent_verifications_of_one_challenge_yield_one_session: NO_OTP,
    security_otp_counts_wrong_guesses_up_to_the_limit_then_locks_out: OTP,
    security_otp_concurrent_burst_of_wrong_guesses_cannot_exceed_the_budget: OTP,
    security_otp_concurrent_correct_codes_mint_at_most_one_session: OTP,
    // two-factor.attempt-cap.test.ts
    attempt_cap_totp_locks_out_after_the_limit_and_cancels_the_challenge: NO_OTP,
    attempt_cap_totp_concurrent_burst_cannot_exceed_the_budget: NO_OTP,
    attempt_cap_totp_server_error_does_not_spend_an_attempt_slot: NO_OTP,
    attempt_cap_backup_codes_count_wrong_codes_up_to_the_limit_then_lock_out: NO_OTP,
    // two-factor.account-lockout.test.ts
    lockout_locks_the_account_after_failures_across_separate_challenges: NO_OTP,
    lockout_counts_failures_from_all_factors_toward_one_lock: NO_OTP,
    lockout_counts_email_otp_failures_toward_the_same_lock: OTP,
    lockout_resets_the_counter_on_a_successful_verification: NO_OTP,
    lockout_releases_the_lock_once_its_window_elapses: NO_OTP,
    lockout_counts_a_null_failure_count_without_locking_on_the_first_failure: NO_OTP,
    // beyond Better Auth
    beyond_totp_replay_is_refused_in_session_mode: NO_OTP,
    beyond_totp_replay_is_refused_across_challenges: NO_OTP,
    beyond_one_totp_code_on_20_parallel_challenges_succeeds_once: NO_OTP,
    beyond_one_backup_code_on_20_parallel_challenges_succeeds_once: NO_OTP,
    beyond_same_challenge_with_two_backup_codes_at_once_yields_one_session: NO_OTP,
    beyond_same_challenge_verified_by_10_at_once_yields_one_session: NO_OTP,
    beyond_attempt_cap_is_shared_by_totp_and_backup_codes: NO_OTP,
    beyond_lockout_blocks_every_factor: OTP,
    beyond_refusals_before_the_gate_keep_the_attempts: NO_OTP,
    // flows
    flow_totp_enable_verify_sign_out_sign_in: OTP,
    flow_otp: OTP,
    flow_backup_codes: OTP,
    flow_trust_device: OTP,
    flow_dont_remember_is_preserved: OTP,
    flow_disable: OTP,
    flow_skip_verification_on_enable: SKIP_VERIFY,
    issuer_defaults_to_the_app_name: APP_NAME,
    issuer_option_applies_to_enable_and_get_totp_uri: ISSUER,
    username_sign_in_is_gated: USERNAME,
    storage_totp_secret_is_better_auth_compatible: NO_OTP,
    // errors
    errors_enable: OTP,
    errors_disable: OTP,
    errors_get_totp_uri: OTP,
    errors_verify_totp: OTP,
    errors_send_otp_without_delivery: NO_OTP,
    errors_send_and_verify_otp: OTP,
    errors_generate_backup_codes: OTP,
    errors_verify_backup_code: OTP,
    // query_count
    query_count_hot_routes: NO_OTP,
    // transactions: faults injected mid-change leave nothing half-written
    faults_leave_challenge_completion_undone: OTP,
    faults_leave_enrolment_undone: OTP,
    faults_leave_skip_verification_enable_undone: SKIP_VERIFY,
    faults_leave_codes_and_disable_undone: NO_OTP,
    faults_leave_no_provisional_session: NO_OTP,
    faults_leave_sign_up_and_password_change_undone: NO_OTP,
);
