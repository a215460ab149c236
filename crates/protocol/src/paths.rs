//! Endpoint paths, relative to [`BASE_PATH`], exactly as registered upstream with
//! `createAuthEndpoint(path, …)` in `better-auth: dist/api/routes/*.mjs`,
//! `dist/plugins/two-factor/**` and `dist/plugins/username/index.mjs` (1.7.25).

/// `options.basePath` default. `better-auth: dist/api/index.mjs`.
pub const BASE_PATH: &str = "/api/auth";

// Email & password — `dist/api/routes/sign-up.mjs`, `sign-in.mjs`, `sign-out.mjs`.
pub const SIGN_UP_EMAIL: &str = "/sign-up/email";
pub const SIGN_IN_EMAIL: &str = "/sign-in/email";
pub const SIGN_OUT: &str = "/sign-out";

// Sessions — `dist/api/routes/session.mjs`, `update-session.mjs`.
/// GET (and POST only with `session.deferSessionRefresh`).
pub const GET_SESSION: &str = "/get-session";
pub const LIST_SESSIONS: &str = "/list-sessions";
pub const REVOKE_SESSION: &str = "/revoke-session";
pub const REVOKE_SESSIONS: &str = "/revoke-sessions";
pub const REVOKE_OTHER_SESSIONS: &str = "/revoke-other-sessions";
pub const UPDATE_SESSION: &str = "/update-session";

// User — `dist/api/routes/update-user.mjs`.
pub const UPDATE_USER: &str = "/update-user";
pub const CHANGE_PASSWORD: &str = "/change-password";
pub const CHANGE_EMAIL: &str = "/change-email";
pub const DELETE_USER: &str = "/delete-user";
pub const DELETE_USER_CALLBACK: &str = "/delete-user/callback";

// Passwords — `dist/api/routes/password.mjs`.
pub const REQUEST_PASSWORD_RESET: &str = "/request-password-reset";
/// POST.
pub const RESET_PASSWORD: &str = "/reset-password";
/// GET `/reset-password/:token`: this prefix followed by one non-empty path segment.
pub const RESET_PASSWORD_CALLBACK_PREFIX: &str = "/reset-password/";
pub const VERIFY_PASSWORD: &str = "/verify-password";

// Email verification — `dist/api/routes/email-verification.mjs`.
pub const SEND_VERIFICATION_EMAIL: &str = "/send-verification-email";
pub const VERIFY_EMAIL: &str = "/verify-email";

// Accounts — `dist/api/routes/account.mjs`.
pub const LIST_ACCOUNTS: &str = "/list-accounts";
pub const ACCOUNT_INFO: &str = "/account-info";

// Misc — `dist/api/routes/ok.mjs`, `error.mjs`.
pub const OK: &str = "/ok";
pub const ERROR: &str = "/error";

// Two-factor plugin — `dist/plugins/two-factor/**`.
pub const TWO_FACTOR_ENABLE: &str = "/two-factor/enable";
pub const TWO_FACTOR_DISABLE: &str = "/two-factor/disable";
pub const TWO_FACTOR_GET_TOTP_URI: &str = "/two-factor/get-totp-uri";
pub const TWO_FACTOR_VERIFY_TOTP: &str = "/two-factor/verify-totp";
pub const TWO_FACTOR_SEND_OTP: &str = "/two-factor/send-otp";
pub const TWO_FACTOR_VERIFY_OTP: &str = "/two-factor/verify-otp";
pub const TWO_FACTOR_GENERATE_BACKUP_CODES: &str = "/two-factor/generate-backup-codes";
pub const TWO_FACTOR_VERIFY_BACKUP_CODE: &str = "/two-factor/verify-backup-code";

// Username plugin — `dist/plugins/username/index.mjs`.
pub const SIGN_IN_USERNAME: &str = "/sign-in/username";
pub const IS_USERNAME_AVAILABLE: &str = "/is-username-available";

/// Paths the two-factor after-hook gates (`signInPaths`, `dist/plugins/two-factor/index.mjs`).
/// `/sign-in/phone-number` is listed upstream too but belongs to a plugin we do not serve.
pub const TWO_FACTOR_GATED_SIGN_IN_PATHS: &[&str] = &[SIGN_IN_EMAIL, SIGN_IN_USERNAME];

/// `BASE_PATH` + `path`.
pub fn full(path: &str) -> String {
    format!("{BASE_PATH}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_paths() {
        assert_eq!(full(SIGN_IN_EMAIL), "/api/auth/sign-in/email");
        assert_eq!(
            full(TWO_FACTOR_VERIFY_TOTP),
            "/api/auth/two-factor/verify-totp"
        );
    }
}
