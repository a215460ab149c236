//! The `username()` plugin with its default options (better-auth: dist/plugins/username/index.mjs):
//! usernames are 3–30 characters of `[a-zA-Z0-9_.]`, validated as given and stored lower-cased
//! (`username`, unique), with the username as typed kept in `displayUsername`.
//!
//! Upstream the plugin works through before-hooks on `/sign-up/email` and `/update-user` that run
//! before the endpoint's own body validation, session check and form-CSRF check; the routes call
//! [`before_sign_up`] / [`before_update_user`] first thing for the same order. Its two endpoints
//! live in `routes/sign_in_username.rs` and `routes/username.rs`. Everything here is used only
//! when `PORTCULLIS_PLUGINS` includes `username`.

use crate::http::request::truthy;
use actix_web::http::StatusCode;
use portcullis_protocol::{
    error::{ErrorBody, ErrorCode},
    validate::js_type_name,
};
use sea_orm::{DbErr, SqlErr};
use serde_json::{Map, Value};

use crate::{
    auth::password::js_length,
    error::{ApiError, ApiResult},
    http::AuthRequest,
    session::{self, Lookup},
    state::AppState,
    store::users,
};

/// `minUsernameLength` default.
pub const MIN_USERNAME_LENGTH: usize = 3;
/// `maxUsernameLength` default.
pub const MAX_USERNAME_LENGTH: usize = 30;

/// `validateUsernameValue`: length in JS characters (UTF-16 units) first, then the default
/// validator `/^[a-zA-Z0-9_.]+$/`, both on the value as given (`validationOrder.username`
/// defaults to pre-normalization).
pub fn validate_username_value(username: &str) -> Option<ErrorCode> {
    let len = js_length(username);
    if len < MIN_USERNAME_LENGTH {
        return Some(ErrorCode::UsernameTooShort);
    }
    if len > MAX_USERNAME_LENGTH {
        return Some(ErrorCode::UsernameTooLong);
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    if !username.bytes().all(allowed) {
        return Some(ErrorCode::InvalidUsername);
    }
    None
}

/// The default normalizer, `username.toLowerCase()`.
pub fn normalize(username: &str) -> String {
    username.to_lowercase()
}

/// The plugin's user fields of a sign-up body after its before-hooks, as JSON values (the
/// hooks never change their type).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SignUpUsername {
    username: Option<Value>,
    display_username: Option<Value>,
}

/// The `username`/`displayUsername` columns to write. For an update, `None` leaves a column
/// alone and `Some(None)` writes NULL; for an insert, `None` and `Some(None)` both mean NULL.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UsernameColumns {
    pub username: Option<Option<String>>,
    pub display_username: Option<Option<String>>,
}

impl UsernameColumns {
    pub fn is_empty(&self) -> bool {
        self.username.is_none() && self.display_username.is_none()
    }

    /// Insert values: NULL for absent or null.
    pub fn username(&self) -> Option<&str> {
        self.username.as_ref().and_then(|u| u.as_deref())
    }

    pub fn display_username(&self) -> Option<&str> {
        self.display_username.as_ref().and_then(|u| u.as_deref())
    }
}

/// The three before-hooks on `/sign-up/email`, in upstream order:
/// 1. no `username` but a `displayUsername` string that is a valid username → it becomes the
///    username;
/// 2. a `username` string must be valid (400 with the reason) and not taken (400
///    USERNAME_IS_ALREADY_TAKEN);
/// 3. a truthy `username` without a truthy `displayUsername` → the username as typed becomes
///    the display username.
///
/// Divergence: upstream's hooks throw a TypeError (an empty 500) on a body that is absent or
/// JSON `null`; here such a body is left to the sign-up schema (400 VALIDATION_ERROR).
pub async fn before_sign_up(state: &AppState, req: &AuthRequest) -> ApiResult<SignUpUsername> {
    let Some(Value::Object(body)) = &req.body else {
        return Ok(SignUpUsername::default());
    };
    let mut fields = sign_up_fields(body);
    if let Some(Value::String(username)) = &fields.username {
        check_available(state, username, None).await?;
    }
    if fields.username.as_ref().is_some_and(truthy)
        && !fields.display_username.as_ref().is_some_and(truthy)
    {
        fields.display_username = fields.username.clone();
    }
    Ok(fields)
}

/// Hook 1 (display username as username), on the raw body.
fn sign_up_fields(body: &Map<String, Value>) -> SignUpUsername {
    let display_username = body.get("displayUsername").cloned();
    let username = match (body.get("username"), &display_username) {
        (None, Some(Value::String(d))) if validate_username_value(d).is_none() => {
            Some(Value::String(d.clone()))
        }
        (u, _) => u.cloned(),
    };
    SignUpUsername {
        username,
        display_username,
    }
}

impl SignUpUsername {
    /// The columns sign-up writes: the username normalized (the schema's input transform),
    /// the display username as given.
    ///
    /// Divergence: upstream stores other JSON types as they come (`true` becomes `"1.0"` on
    /// SQLite) or fails with 422 FAILED_TO_CREATE_USER; here anything but a string or null is a
    /// 400 VALIDATION_ERROR, as `/update-user` does for `name`.
    pub fn columns(&self) -> ApiResult<UsernameColumns> {
        columns(self.username.as_ref(), self.display_username.as_ref())
    }
}

/// The before-hook on `/update-user`: a `username` string must be valid (400) and not taken by
/// another user (400 USERNAME_IS_ALREADY_TAKEN). It runs before the session check, so without
/// a session any taken username is refused (and a free one then meets the 401).
pub async fn before_update_user(state: &AppState, req: &AuthRequest) -> ApiResult<()> {
    let Some(Value::Object(body)) = &req.body else {
        return Ok(());
    };
    let Some(Value::String(username)) = body.get("username") else {
        return Ok(());
    };
    check_available(state, username, Some(req)).await
}

/// The fields `/update-user` writes (parseUserInput: the username normalized by the schema's
/// input transform; null clears a column). Same type check as [`SignUpUsername::columns`].
pub fn update_columns(body: &Map<String, Value>) -> ApiResult<UsernameColumns> {
    columns(body.get("username"), body.get("displayUsername"))
}

fn columns(
    username: Option<&Value>,
    display_username: Option<&Value>,
) -> ApiResult<UsernameColumns> {
    Ok(UsernameColumns {
        username: string_or_null("username", username)?.map(|u| u.map(|s| normalize(&s))),
        display_username: string_or_null("displayUsername", display_username)?,
    })
}

fn string_or_null(field: &str, value: Option<&Value>) -> ApiResult<Option<Option<String>>> {
    match value {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(other) => Err(ApiError::body(
            StatusCode::BAD_REQUEST,
            ErrorBody::with_message(
                ErrorCode::ValidationError,
                format!(
                    "[body.{field}] Invalid input: expected string, received {}",
                    js_type_name(Some(other))
                ),
            ),
        )),
    }
}

/// `validateUsernameValue` (400) then the taken check. On `/update-user` (`req` given) the
/// username may belong to the signed-in user (upstream reads the session first; we read it only
/// when the username is taken, without refreshing it — the endpoint does that).
async fn check_available(
    state: &AppState,
    username: &str,
    update_req: Option<&AuthRequest>,
) -> ApiResult<()> {
    if let Some(code) = validate_username_value(username) {
        return Err(ApiError::bad_request(code));
    }
    let Some(existing) = users::find_by_username(&state.db.conn, &normalize(username)).await?
    else {
        return Ok(());
    };
    if let Some(req) = update_req {
        let lookup = Lookup {
            disable_refresh: true,
            ..Lookup::default()
        };
        let (current, _) = session::get_session(state, req, lookup).await?;
        if current.is_some_and(|c| c.user.id == existing.id) {
            return Ok(());
        }
    }
    Err(taken())
}

pub fn taken() -> ApiError {
    ApiError::bad_request(ErrorCode::UsernameIsAlreadyTaken)
}

/// Whether `e` is a unique violation on `user.username` (a concurrent request took the name
/// between the check and the write). The index is `user_username_uidx`, or the inline
/// constraint of a table Better Auth created (`user_username_key`, MySQL key `username`). On
/// MySQL the duplicate value is part of the message, so only the key name after it is looked
/// at.
pub fn is_username_violation(e: &DbErr) -> bool {
    let Some(SqlErr::UniqueConstraintViolation(message)) = e.sql_err() else {
        return false;
    };
    username_violation_message(&message)
}

fn username_violation_message(message: &str) -> bool {
    let key = message
        .rsplit_once(" for key ")
        .map_or(message, |(_, key)| key);
    key.contains("username")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validation_order_and_rules() {
        use ErrorCode::*;
        let (thirty, thirty_one) = ("a".repeat(30), "a".repeat(31));
        let cases = [
            ("", Some(UsernameTooShort)),
            ("ab", Some(UsernameTooShort)),
            ("a-", Some(UsernameTooShort)),
            ("abc", None),
            ("Alice_1.x", None),
            (thirty.as_str(), None),
            (thirty_one.as_str(), Some(UsernameTooLong)),
            ("a-b-c", Some(InvalidUsername)),
            ("a b c", Some(InvalidUsername)),
            ("ali\u{e9}", Some(InvalidUsername)),
            // Lengths are JS lengths: one astral character counts twice.
            ("a\u{1F600}", Some(InvalidUsername)),
            ("\u{1F600}", Some(UsernameTooShort)),
        ];
        for (name, expected) in cases {
            assert_eq!(validate_username_value(name), expected, "{name:?}");
        }
    }

    #[test]
    fn normalization_lower_cases() {
        assert_eq!(normalize("Alice_1.X"), "alice_1.x");
    }

    fn fields(body: Value) -> SignUpUsername {
        sign_up_fields(body.as_object().unwrap())
    }

    #[test]
    fn display_username_becomes_username_only_when_valid_and_no_username() {
        let f = fields(json!({"displayUsername": "Bob.B"}));
        assert_eq!(f.username, Some(json!("Bob.B")));
        assert_eq!(fields(json!({"displayUsername": "Bo b"})).username, None);
        assert_eq!(fields(json!({"displayUsername": 5})).username, None);
        // A username key, even null, wins.
        let f = fields(json!({"username": null, "displayUsername": "Bob"}));
        assert_eq!(f.username, Some(Value::Null));
        let f = fields(json!({"username": "dan", "displayUsername": "Danny Boy"}));
        assert_eq!(f.username, Some(json!("dan")));
    }

    #[test]
    fn columns_normalize_username_and_keep_display_username() {
        let c = SignUpUsername {
            username: Some(json!("Alice_1")),
            display_username: Some(json!("Alice_1")),
        }
        .columns()
        .unwrap();
        assert_eq!(c.username(), Some("alice_1"));
        assert_eq!(c.display_username(), Some("Alice_1"));
        assert!(SignUpUsername::default().columns().unwrap().is_empty());

        let c = update_columns(json!({"username": null}).as_object().unwrap()).unwrap();
        assert_eq!(c.username, Some(None));
        assert_eq!(c.display_username, None);
        assert!(!c.is_empty());
    }

    #[test]
    fn non_string_fields_are_validation_errors() {
        let err = update_columns(json!({"username": 5}).as_object().unwrap()).unwrap_err();
        let ApiError::Api { status, body, .. } = err else {
            panic!("not an API error")
        };
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body.message,
            "[body.username] Invalid input: expected string, received number"
        );
        assert!(update_columns(json!({"displayUsername": true}).as_object().unwrap()).is_err());
    }

    #[test]
    fn username_violations_are_told_apart_from_email_ones() {
        for m in [
            "UNIQUE constraint failed: user.username",
            "duplicate key value violates unique constraint \"user_username_uidx\"",
            "duplicate key value violates unique constraint \"user_username_key\"",
            "Duplicate entry 'alice' for key 'user_username_uidx'",
            "Duplicate entry 'alice' for key 'user.username'",
        ] {
            assert!(username_violation_message(m), "{m}");
        }
        for m in [
            "UNIQUE constraint failed: user.email",
            "duplicate key value violates unique constraint \"user_email_key\"",
            "Duplicate entry 'username@example.com' for key 'email'",
        ] {
            assert!(!username_violation_message(m), "{m}");
        }
    }
}
