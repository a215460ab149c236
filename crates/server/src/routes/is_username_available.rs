//! `POST /is-username-available` (better-auth: dist/plugins/username/index.mjs
//! isUsernameAvailable). Username plugin only.

use actix_web::{http::StatusCode, web};
use portcullis_protocol::{error::ErrorCode, model::UsernameAvailableResponse, validate::schemas};

use crate::{
    error::{ApiError, ApiResult},
    http::{AuthRequest, Reply},
    state::AppState,
    store::users,
    username,
};

pub async fn is_username_available(
    state: web::Data<AppState>,
    req: AuthRequest,
) -> ApiResult<Reply> {
    super::validate(&req, &schemas::IS_USERNAME_AVAILABLE)?;
    let name = req.str_field("username").unwrap_or_default();
    // An empty username is INVALID_USERNAME here, not USERNAME_TOO_SHORT; malformed ones are 422.
    let invalid = if name.is_empty() {
        Some(ErrorCode::InvalidUsername)
    } else {
        username::validate_username_value(name)
    };
    if let Some(code) = invalid {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code));
    }
    let taken = users::find_by_username(&state.db.conn, &username::normalize(name))
        .await?
        .is_some();
    Ok(Reply::json(&UsernameAvailableResponse {
        available: !taken,
    }))
}
