//! `POST /sign-in/username` (better-auth: dist/plugins/username/index.mjs signInUsername).
//! Username plugin only. Unlike `/sign-in/email` it has no form-CSRF middleware and accepts JSON
//! only; the global origin check still applies.

use actix_web::{http::StatusCode, web};
use portcullis_protocol::{error::ErrorCode, validate::schemas};

use super::sign_up::check_password_not_too_long;
use crate::{
    error::{ApiError, ApiResult},
    hooks,
    http::{AuthRequest, Reply},
    state::AppState,
    store::users,
    username,
};

pub async fn sign_in_username(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    super::validate(&req, &schemas::SIGN_IN_USERNAME)?;
    let name = req.str_field("username").unwrap_or_default();
    let password = req.str_field("password").unwrap_or_default();
    if name.is_empty() || password.is_empty() {
        return Err(ApiError::unauthorized(ErrorCode::InvalidUsernameOrPassword));
    }
    // A malformed username is a 422 here (a 400 on sign-up and update-user).
    if let Some(code) = username::validate_username_value(name) {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code));
    }
    check_password_not_too_long(password)?;

    let user = users::find_by_username(&state.db.conn, &username::normalize(name)).await?;
    // Upstream skips the dummy hash when the user exists without a password; we hash in every
    // failing case. The two-factor gate covers this route too (hooks::after_sign_in).
    hooks::password_sign_in(
        &state,
        &req,
        user,
        password,
        ErrorCode::InvalidUsernameOrPassword,
    )
    .await
}
