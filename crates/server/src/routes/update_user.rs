//! `POST /update-user` (better-auth: dist/api/routes/update-user.mjs updateUser).

use crate::http::request::truthy;
use actix_web::{http::StatusCode, web};
use portcullis_protocol::{
    error::{ErrorBody, ErrorCode},
    model::StatusResponse,
    validate::schemas,
};
use serde_json::Value;

use crate::{
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply},
    session,
    state::AppState,
    store::{self, users},
    username::{self, UsernameColumns},
};

/// Plugin columns clients may not set (`input: false`): a truthy value is refused, a falsy one is
/// ignored (better-auth: dist/db/schema.mjs parseInputData).
const INPUT_FALSE_FIELDS: &[&str] = &["twoFactorEnabled"];

pub async fn update_user(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    // The username plugin's before-hook runs ahead of the body schema and the session check
    // (better-auth: dist/api/dispatch.mjs runBeforeHooks, dist/plugins/username/index.mjs).
    if state.config.plugins.username {
        username::before_update_user(&state, &req).await?;
    }
    super::validate(&req, &schemas::UPDATE_USER)?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    let body = req.body_object();
    if body.get("email").is_some_and(truthy) {
        return Err(ApiError::bad_request(ErrorCode::EmailCanNotBeUpdated));
    }
    for field in INPUT_FALSE_FIELDS {
        if body.get(*field).is_some_and(truthy) {
            return Err(ApiError::body(
                StatusCode::BAD_REQUEST,
                ErrorBody::with_message(
                    ErrorCode::FieldNotAllowed,
                    format!("{field} is not allowed to be set"),
                ),
            ));
        }
    }
    // parseUserInput: the username plugin's fields, after the `input: false` ones.
    let username_columns = if state.config.plugins.username {
        username::update_columns(&body)?
    } else {
        UsernameColumns::default()
    };
    // Divergence: upstream writes `name`/`image` without a type check (a number, or a null name
    // that breaks NOT NULL). We require a string name and a string-or-null image.
    let changes = users::UserChanges {
        name: match body.get("name") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(type_error("name", "string", other)),
        },
        image: match body.get("image") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(other) => return Err(type_error("image", "string", other)),
        },
        username: username_columns.username,
        display_username: username_columns.display_username,
    };
    if changes.is_empty() {
        return Err(ApiError::body(
            StatusCode::BAD_REQUEST,
            ErrorBody::message_only("No fields to update"),
        ));
    }
    if let Err(e) = users::update(&state.db.conn, &current.user.id, &changes, store::now()).await {
        // Lost a race for the username with a concurrent request (unique index).
        if username::is_username_violation(&e) {
            return Err(username::taken());
        }
        return Err(e.into());
    }
    // setSessionCookie re-issues the same session token cookie, and the cookie cache (when on)
    // with the updated user, read back only then.
    let user = match state.cookies.cache_enabled() {
        true => users::find_by_id(&state.db.conn, &current.user.id)
            .await?
            .unwrap_or(current.user),
        false => current.user,
    };
    state.cookies.set_session(
        &mut jar,
        &req.cookies,
        (&current.session, &user),
        None,
        None,
    );
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}

fn type_error(field: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::body(
        StatusCode::BAD_REQUEST,
        ErrorBody::with_message(
            ErrorCode::ValidationError,
            format!(
                "[body.{field}] Invalid input: expected {expected}, received {}",
                portcullis_protocol::validate::js_type_name(Some(got))
            ),
        ),
    )
}
