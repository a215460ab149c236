//! The closed set of wire error codes and the error body Better Auth sends.
//!
//! Every error Better Auth 1.7.25 raises through `APIError.from(status, CODE)` serializes as
//! `{"message": <text>, "code": <CODE>}` (key order message, code); a few call sites throw
//! `APIError.fromStatus(status, { message })` and send `{"message": <text>}` only.
//! Sources (package-relative, 1.7.25):
//! * `@better-auth/core: dist/error/codes.mjs` (`BASE_ERROR_CODES`)
//! * `@better-auth/core: dist/error/index.mjs` (`APIError.from` builds `{ message, code }`)
//! * `better-auth: dist/plugins/two-factor/error-code.mjs` (`TWO_FACTOR_ERROR_CODES`)
//! * `better-auth: dist/plugins/username/error-codes.mjs` (`USERNAME_ERROR_CODES`)
//! * ad-hoc codes written inline in routes, middlewares and `better-call: dist/utils.mjs`.
//!
//! The HTTP status is chosen by each call site upstream, so it is not part of [`ErrorCode`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] from one table so code, message and the per-source lists cannot drift.
macro_rules! error_codes {
    ($(
        $(#[$group_meta:meta])*
        $group:ident {
            $( $(#[$meta:meta])* $variant:ident => $code:literal, $message:literal; )*
        }
    )*) => {
        /// A wire error code. `code()` is the `code` string, `message()` the upstream default text.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $( $(#[$meta])* $variant, )* )*
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[ $( $( ErrorCode::$variant, )* )* ];

            /// The `code` string on the wire, e.g. `"INVALID_EMAIL_OR_PASSWORD"`.
            pub const fn code(&self) -> &'static str {
                match self { $( $( ErrorCode::$variant => $code, )* )* }
            }

            /// The upstream default message, byte for byte.
            pub const fn message(&self) -> &'static str {
                match self { $( $( ErrorCode::$variant => $message, )* )* }
            }

            /// Looks a code up by its wire string.
            pub fn from_code(code: &str) -> Option<ErrorCode> {
                match code {
                    $( $( $code => Some(ErrorCode::$variant), )* )*
                    _ => None,
                }
            }
        }

        /// The codes grouped by the upstream object (or call site) that defines them.
        pub mod groups {
            use super::ErrorCode;
            $(
                $(#[$group_meta])*
                pub const $group: &[ErrorCode] = &[ $( ErrorCode::$variant, )* ];
            )*
        }
    };
}

error_codes! {
    /// `@better-auth/core: dist/error/codes.mjs` — `BASE_ERROR_CODES`, in file order.
    BASE {
        UserNotFound => "USER_NOT_FOUND", "User not found";
        FailedToCreateUser => "FAILED_TO_CREATE_USER", "Failed to create user";
        FailedToCreateSession => "FAILED_TO_CREATE_SESSION", "Failed to create session";
        FailedToUpdateUser => "FAILED_TO_UPDATE_USER", "Failed to update user";
        FailedToGetSession => "FAILED_TO_GET_SESSION", "Failed to get session";
        InvalidPassword => "INVALID_PASSWORD", "Invalid password";
        InvalidEmail => "INVALID_EMAIL", "Invalid email";
        InvalidEmailOrPassword => "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password";
        InvalidUser => "INVALID_USER", "Invalid user";
        SocialAccountAlreadyLinked => "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked";
        ProviderNotFound => "PROVIDER_NOT_FOUND", "Provider not found";
        InvalidToken => "INVALID_TOKEN", "Invalid token";
        TokenExpired => "TOKEN_EXPIRED", "Token expired";
        IdTokenNotSupported => "ID_TOKEN_NOT_SUPPORTED", "id_token not supported";
        FailedToGetUserInfo => "FAILED_TO_GET_USER_INFO", "Failed to get user info";
        UserEmailNotFound => "USER_EMAIL_NOT_FOUND", "User email not found";
        /// Also in `USERNAME_ERROR_CODES` with the same text.
        EmailNotVerified => "EMAIL_NOT_VERIFIED", "Email not verified";
        PasswordTooShort => "PASSWORD_TOO_SHORT", "Password too short";
        PasswordTooLong => "PASSWORD_TOO_LONG", "Password too long";
        UserAlreadyExists => "USER_ALREADY_EXISTS", "User already exists.";
        UserAlreadyExistsUseAnotherEmail => "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email.";
        EmailCanNotBeUpdated => "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated";
        ChangeEmailDisabled => "CHANGE_EMAIL_DISABLED", "Change email is disabled";
        CredentialAccountNotFound => "CREDENTIAL_ACCOUNT_NOT_FOUND", "Credential account not found";
        SessionExpired => "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.";
        FailedToUnlinkLastAccount => "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account";
        AccountNotFound => "ACCOUNT_NOT_FOUND", "Account not found";
        UserAlreadyHasPassword => "USER_ALREADY_HAS_PASSWORD", "User already has a password. Provide that to delete the account.";
        CrossSiteNavigationLoginBlocked => "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", "Cross-site navigation login blocked. This request appears to be a CSRF attack.";
        VerificationEmailNotEnabled => "VERIFICATION_EMAIL_NOT_ENABLED", "Verification email isn't enabled";
        EmailAlreadyVerified => "EMAIL_ALREADY_VERIFIED", "Email is already verified";
        EmailMismatch => "EMAIL_MISMATCH", "Email mismatch";
        SessionNotFresh => "SESSION_NOT_FRESH", "Session is not fresh";
        LinkedAccountAlreadyExists => "LINKED_ACCOUNT_ALREADY_EXISTS", "Linked account already exists";
        InvalidOrigin => "INVALID_ORIGIN", "Invalid origin";
        InvalidCallbackUrl => "INVALID_CALLBACK_URL", "Invalid callbackURL";
        InvalidRedirectUrl => "INVALID_REDIRECT_URL", "Invalid redirectURL";
        InvalidErrorCallbackUrl => "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL";
        InvalidNewUserCallbackUrl => "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL";
        MissingOrNullOrigin => "MISSING_OR_NULL_ORIGIN", "Missing or null Origin";
        CallbackUrlRequired => "CALLBACK_URL_REQUIRED", "callbackURL is required";
        FailedToCreateVerification => "FAILED_TO_CREATE_VERIFICATION", "Unable to create verification";
        /// Upstream rewrites the message to `<field> is not allowed to be set`
        /// (`better-auth: dist/db/schema.mjs` `parseInputData`); see [`ErrorBody::field_not_allowed`].
        FieldNotAllowed => "FIELD_NOT_ALLOWED", "Field not allowed to be set";
        AsyncValidationNotSupported => "ASYNC_VALIDATION_NOT_SUPPORTED", "Async validation is not supported";
        /// Also better-call's schema-validation code; the message is then the rendered zod issues
        /// (`better-call: dist/endpoint.mjs`); see [`ErrorBody::validation`].
        ValidationError => "VALIDATION_ERROR", "Validation Error";
        /// Upstream rewrites the message to `<field> is required`; see [`ErrorBody::missing_field`].
        MissingField => "MISSING_FIELD", "Field is required";
        MethodNotAllowedDeferSessionRequired => "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", "POST method requires deferSessionRefresh to be enabled in session config";
        BodyMustBeAnObject => "BODY_MUST_BE_AN_OBJECT", "Body must be an object";
        PasswordAlreadySet => "PASSWORD_ALREADY_SET", "User already has a password set";
    }

    /// `better-auth: dist/plugins/two-factor/error-code.mjs` — `TWO_FACTOR_ERROR_CODES`, in file order.
    TWO_FACTOR {
        OtpNotEnabled => "OTP_NOT_ENABLED", "OTP not enabled";
        /// `/two-factor/send-otp` and `/verify-otp` send this code with
        /// [`messages::OTP_ISNT_CONFIGURED`] instead.
        OtpNotConfigured => "OTP_NOT_CONFIGURED", "OTP is not available";
        OtpHasExpired => "OTP_HAS_EXPIRED", "OTP has expired";
        TotpNotEnabled => "TOTP_NOT_ENABLED", "TOTP not enabled";
        TotpAlreadyEnabled => "TOTP_ALREADY_ENABLED", "TOTP is already enabled";
        /// `/two-factor/get-totp-uri` and `/verify-totp` send this code with
        /// [`messages::TOTP_ISNT_CONFIGURED`] instead.
        TotpNotConfigured => "TOTP_NOT_CONFIGURED", "TOTP is not available";
        TwoFactorNotEnabled => "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled";
        BackupCodesNotEnabled => "BACKUP_CODES_NOT_ENABLED", "Backup codes aren't enabled";
        InvalidBackupCode => "INVALID_BACKUP_CODE", "Invalid backup code";
        InvalidCode => "INVALID_CODE", "Invalid code";
        TooManyAttemptsRequestNewCode => "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE", "Too many attempts. Please request a new code.";
        AccountTemporarilyLocked => "ACCOUNT_TEMPORARILY_LOCKED", "Too many failed verification attempts. Your account is temporarily locked. Please try again later.";
        InvalidTwoFactorCookie => "INVALID_TWO_FACTOR_COOKIE", "Invalid two factor cookie";
    }

    /// `better-auth: dist/plugins/username/error-codes.mjs` — `USERNAME_ERROR_CODES`, in file order,
    /// minus `EMAIL_NOT_VERIFIED` which is identical to the base entry ([`ErrorCode::EmailNotVerified`]).
    USERNAME {
        InvalidUsernameOrPassword => "INVALID_USERNAME_OR_PASSWORD", "Invalid username or password";
        UnexpectedError => "UNEXPECTED_ERROR", "Unexpected error";
        UsernameIsAlreadyTaken => "USERNAME_IS_ALREADY_TAKEN", "Username is already taken. Please try another.";
        UsernameTooShort => "USERNAME_TOO_SHORT", "Username is too short";
        UsernameTooLong => "USERNAME_TOO_LONG", "Username is too long";
        InvalidUsername => "INVALID_USERNAME", "Username is invalid";
        InvalidDisplayUsername => "INVALID_DISPLAY_USERNAME", "Display username is invalid";
        UsernameIsImmutable => "USERNAME_IS_IMMUTABLE", "Username cannot be updated";
    }

    /// Codes written inline at their call sites (not in any `defineErrorCodes` object).
    AD_HOC {
        /// `better-auth: dist/api/routes/session.mjs` (session middlewares),
        /// `dist/plugins/two-factor/index.mjs` (enable).
        Unauthorized => "UNAUTHORIZED", "Unauthorized";
        /// `better-call: dist/utils.mjs` `getBody` on a JSON `SyntaxError` (400).
        BadRequest => "BAD_REQUEST", "Invalid JSON in request body";
        /// `better-call: dist/utils.mjs` `getBody` (415). The message depends on the request, use
        /// [`ErrorBody::unsupported_media_type`]; this default is the "no Content-Type" text.
        UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE", "Content-Type is required. Allowed types: application/json";
        /// `better-auth: dist/api/routes/sign-in.mjs`.
        EmailPasswordDisabled => "EMAIL_PASSWORD_DISABLED", "Email and password is not enabled";
        /// `better-auth: dist/api/routes/sign-up.mjs`.
        EmailPasswordSignUpDisabled => "EMAIL_PASSWORD_SIGN_UP_DISABLED", "Email and password sign up is not enabled";
        /// `better-auth: dist/api/routes/password.mjs` (`/request-password-reset`).
        ResetPasswordDisabled => "RESET_PASSWORD_DISABLED", "Reset password isn't enabled";
        /// `better-auth: dist/api/routes/session.mjs` (revoke-session(s) failures).
        InternalServerError => "INTERNAL_SERVER_ERROR", "Internal Server Error";
        /// `better-auth: dist/plugins/two-factor/verify-two-factor.mjs`.
        FailedToInvalidateTwoFactorChallenge => "FAILED_TO_INVALIDATE_TWO_FACTOR_CHALLENGE", "Failed to invalidate two-factor challenge";
        /// `better-auth: dist/api/routes/update-user.mjs` (`/delete-user/callback` when disabled).
        NotFound => "NOT_FOUND", "Not found";
        /// `better-auth: dist/api/routes/account.mjs` (`/account-info`, `/get-access-token`).
        UserIdOrSessionRequired => "USER_ID_OR_SESSION_REQUIRED", "Either userId or session is required";
        /// `better-auth: dist/api/routes/account.mjs`.
        ProviderNotConfigured => "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider.";
        /// `better-auth: dist/api/routes/account.mjs`.
        AccessTokenNotFound => "ACCESS_TOKEN_NOT_FOUND", "Access token not found";
        /// `better-auth: dist/api/routes/account.mjs`.
        FailedToGetAccessToken => "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token";
    }

    /// Codes only Portcullis sends, for conditions Better Auth has no answer for (it would queue
    /// without bound, or fail with an empty 500).
    PORTCULLIS {
        /// 503: every password-hashing thread busy and the queue full (auth/password.rs).
        ServiceUnavailable => "SERVICE_UNAVAILABLE", "The server is busy. Please try again shortly.";
    }
}

impl fmt::Display for ErrorCode {
    /// Upstream codes stringify to their key (`toString: () => key` in
    /// `@better-auth/core: dist/utils/error-codes.mjs`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Fixed message texts used with a code other than their default, or with no code at all.
pub mod messages {
    /// 400 `/update-user` and `/update-session` with nothing to update (message only).
    /// `better-auth: dist/api/routes/update-user.mjs`, `dist/api/routes/update-session.mjs`.
    pub const NO_FIELDS_TO_UPDATE: &str = "No fields to update";
    /// 400 `/change-email` to the current address (message only).
    /// `better-auth: dist/api/routes/update-user.mjs`.
    pub const EMAIL_IS_THE_SAME: &str = "Email is the same";
    /// 400 `/change-email` with no way to verify (message only, same text as
    /// [`super::ErrorCode::VerificationEmailNotEnabled`]). `better-auth: dist/api/routes/update-user.mjs`.
    pub const VERIFICATION_EMAIL_NOT_ENABLED: &str = "Verification email isn't enabled";
    /// 429 from the rate limiter (message only, plus `X-Retry-After`).
    /// `better-auth: dist/api/rate-limiter/index.mjs`.
    pub const TOO_MANY_REQUESTS: &str = "Too many requests. Please try again later.";
    /// 409 when the backup-code compare-and-swap loses a race (message only).
    /// `better-auth: dist/plugins/two-factor/backup-codes/index.mjs`.
    pub const BACKUP_CODE_CONFLICT: &str = "Failed to verify backup code. Please try again.";
    /// With `TOTP_NOT_CONFIGURED` on get-totp-uri / verify-totp. `better-auth: dist/plugins/two-factor/totp/index.mjs`.
    pub const TOTP_ISNT_CONFIGURED: &str = "totp isn't configured";
    /// With `OTP_NOT_CONFIGURED` on send-otp / verify-otp. `better-auth: dist/plugins/two-factor/otp/index.mjs`.
    pub const OTP_ISNT_CONFIGURED: &str = "otp isn't configured";
    /// With `FAILED_TO_CREATE_SESSION` (500) when a 2FA challenge completes.
    /// `better-auth: dist/plugins/two-factor/verify-two-factor.mjs`.
    pub const TWO_FACTOR_FAILED_TO_CREATE_SESSION: &str = "failed to create session";
    /// Success text of `/request-password-reset` (both known and unknown e-mail).
    /// `better-auth: dist/api/routes/password.mjs`.
    pub const PASSWORD_RESET_REQUESTED: &str =
        "If this email exists in our system, check your email for the reset link";
    /// Success text of `/delete-user` and `/delete-user/callback`. `better-auth: dist/api/routes/update-user.mjs`.
    pub const USER_DELETED: &str = "User deleted";
    /// Success text of `/delete-user` when a confirmation mail is sent. `better-auth: dist/api/routes/update-user.mjs`.
    pub const VERIFICATION_EMAIL_SENT: &str = "Verification email sent";
}

/// An error response body: `{"message": …, "code": …}`, `code` omitted when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl From<ErrorCode> for ErrorBody {
    /// `APIError.from(status, CODE)` — `@better-auth/core: dist/error/index.mjs`.
    fn from(code: ErrorCode) -> Self {
        ErrorBody {
            message: code.message().to_owned(),
            code: Some(code.code().to_owned()),
        }
    }
}

impl ErrorBody {
    /// A code with a message other than its default (`{ ...CODE, message }` upstream).
    pub fn with_message(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            message: message.into(),
            code: Some(code.code().to_owned()),
        }
    }

    /// A body without `code` (`APIError.fromStatus(status, { message })` upstream).
    pub fn message_only(message: impl Into<String>) -> Self {
        ErrorBody {
            message: message.into(),
            code: None,
        }
    }

    /// 400 schema-validation failure; `message` is the output of [`validate`](crate::validate::validate).
    /// `better-call: dist/endpoint.mjs`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::with_message(ErrorCode::ValidationError, message)
    }

    /// `FIELD_NOT_ALLOWED` with upstream's rewritten text `<field> is not allowed to be set`.
    /// `better-auth: dist/db/schema.mjs` `parseInputData`.
    pub fn field_not_allowed(field: &str) -> Self {
        Self::with_message(
            ErrorCode::FieldNotAllowed,
            format!("{field} is not allowed to be set"),
        )
    }

    /// `MISSING_FIELD` with upstream's rewritten text `<field> is required`.
    /// `better-auth: dist/db/schema.mjs` `parseInputData`.
    pub fn missing_field(field: &str) -> Self {
        Self::with_message(ErrorCode::MissingField, format!("{field} is required"))
    }

    /// 415 body. `content_type` is the raw request header (`None` or empty when absent);
    /// `allowed` the endpoint's media types in upstream order. `better-call: dist/utils.mjs` `getBody`.
    pub fn unsupported_media_type(content_type: Option<&str>, allowed: &[&str]) -> Self {
        let allowed = allowed.join(", ");
        let message = match content_type {
            Some(ct) if !ct.is_empty() => {
                format!("Content-Type \"{ct}\" is not allowed. Allowed types: {allowed}")
            }
            _ => format!("Content-Type is required. Allowed types: {allowed}"),
        };
        Self::with_message(ErrorCode::UnsupportedMediaType, message)
    }

    /// 400 from the global origin check when a URL field is not a string (message only),
    /// e.g. `Invalid callbackURL: expected a string`. `better-auth: dist/api/middlewares/origin-check.mjs`.
    pub fn url_not_a_string(label: &str) -> Self {
        Self::message_only(format!("Invalid {label}: expected a string"))
    }

    /// 429 rate-limit body (message only). `better-auth: dist/api/rate-limiter/index.mjs`.
    pub fn too_many_requests() -> Self {
        Self::message_only(messages::TOO_MANY_REQUESTS)
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn body_serializes_message_then_code() {
        let body = ErrorBody::from(ErrorCode::InvalidEmailOrPassword);
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}"#
        );
    }

    #[test]
    fn message_only_omits_code() {
        let body = ErrorBody::message_only(messages::NO_FIELDS_TO_UPDATE);
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"message":"No fields to update"}"#
        );
        assert_eq!(
            serde_json::to_string(&ErrorBody::too_many_requests()).unwrap(),
            r#"{"message":"Too many requests. Please try again later."}"#
        );
    }

    #[test]
    fn rewritten_messages() {
        assert_eq!(
            serde_json::to_string(&ErrorBody::field_not_allowed("twoFactorEnabled")).unwrap(),
            r#"{"message":"twoFactorEnabled is not allowed to be set","code":"FIELD_NOT_ALLOWED"}"#
        );
        assert_eq!(ErrorBody::missing_field("name").message, "name is required");
        assert_eq!(
            serde_json::to_string(&ErrorBody::validation(
                "[body.password] Invalid input: expected string, received undefined"
            ))
            .unwrap(),
            r#"{"message":"[body.password] Invalid input: expected string, received undefined","code":"VALIDATION_ERROR"}"#
        );
    }

    #[test]
    fn unsupported_media_type_texts() {
        // Observed bodies, protocol notes §1.2.
        assert_eq!(
            ErrorBody::unsupported_media_type(Some("text/plain"), &["application/json"]).message,
            "Content-Type \"text/plain\" is not allowed. Allowed types: application/json"
        );
        assert_eq!(
            ErrorBody::unsupported_media_type(None, &["application/json"]).message,
            ErrorCode::UnsupportedMediaType.message()
        );
        assert_eq!(
            ErrorBody::unsupported_media_type(
                Some(""),
                &["application/x-www-form-urlencoded", "application/json"]
            )
            .message,
            "Content-Type is required. Allowed types: application/x-www-form-urlencoded, application/json"
        );
    }

    #[test]
    fn a_few_codes_by_hand() {
        let table = [
            (
                ErrorCode::UserAlreadyExistsUseAnotherEmail,
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                "User already exists. Use another email.",
            ),
            (
                ErrorCode::InvalidTwoFactorCookie,
                "INVALID_TWO_FACTOR_COOKIE",
                "Invalid two factor cookie",
            ),
            (ErrorCode::Unauthorized, "UNAUTHORIZED", "Unauthorized"),
            (
                ErrorCode::BadRequest,
                "BAD_REQUEST",
                "Invalid JSON in request body",
            ),
            (
                ErrorCode::InvalidUsername,
                "INVALID_USERNAME",
                "Username is invalid",
            ),
        ];
        for (code, wire, text) in table {
            assert_eq!(code.code(), wire);
            assert_eq!(code.message(), text);
            assert_eq!(ErrorCode::from_code(wire), Some(code));
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate {}", code.code());
            assert_eq!(ErrorCode::from_code(code.code()), Some(*code));
        }
        assert_eq!(
            ErrorCode::ALL.len(),
            groups::BASE.len()
                + groups::TWO_FACTOR.len()
                + groups::USERNAME.len()
                + groups::AD_HOC.len()
                + groups::PORTCULLIS.len()
        );
    }

    #[test]
    fn body_round_trips() {
        let body: ErrorBody = serde_json::from_str(r#"{"message":"x"}"#).unwrap();
        assert_eq!(body, ErrorBody::message_only("x"));
    }
}
