//! `POST /sign-in/email` (better-auth: dist/api/routes/sign-in.mjs signInEmail).

use actix_web::web;
use portcullis_protocol::{
    error::ErrorCode,
    validate::{is_email, schemas},
};

use super::sign_up::check_password_not_too_long;
use crate::{
    auth::origin::validate_form_csrf,
    error::{ApiError, ApiResult},
    hooks,
    http::{AuthRequest, Reply, request::origin_error},
    state::AppState,
    store::users,
};

pub async fn sign_in_email(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    super::validate(&req, &schemas::SIGN_IN_EMAIL)?;
    validate_form_csrf(&req.origin_headers(), &state.config.trusted_origins)
        .map_err(origin_error)?;
    let email = req.str_field("email").unwrap_or_default();
    let password = req.str_field("password").unwrap_or_default();
    if !is_email(email) {
        return Err(ApiError::bad_request(ErrorCode::InvalidEmail));
    }
    check_password_not_too_long(password)?;

    let user = users::find_by_email(&state.db.conn, &email.to_lowercase()).await?;
    hooks::password_sign_in(
        &state,
        &req,
        user,
        password,
        ErrorCode::InvalidEmailOrPassword,
    )
    .await
}
