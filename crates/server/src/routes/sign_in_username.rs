//! `POST /sign-in/username` (better-auth: dist/plugins/username/index.mjs signInUsername).
//! Username plugin only. Unlike `/sign-in/email` it has no form-CSRF middleware and accepts JSON
//! only; the global origin check still applies.

use actix_web::{http::StatusCode, web};
use portcullis_protocol::{error::ErrorCode, validate::schemas};

use super::sign_up::check_password_not_too_long;
use crate::{
    error::{ApiError, ApiResult},
    hooks::{self, SignIn},
    http::{AuthRequest, CookieJar, Reply},
    session,
    state::AppState,
    store::{accounts, users},
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
    let account = match &user {
        Some(u) => accounts::find_credential(&state.db.conn, &u.id).await?,
        None => None,
    };
    let (Some(user), Some(hash)) = (user, account.and_then(|a| a.password)) else {
        // Same work and same answer as a wrong password: no user enumeration. (Upstream skips
        // the hash when the user exists without a password; we hash in every such case.)
        state.hasher.hash(password).await?;
        return Err(ApiError::unauthorized(ErrorCode::InvalidUsernameOrPassword));
    };
    if !state.hasher.verify(&hash, password).await? {
        return Err(ApiError::unauthorized(ErrorCode::InvalidUsernameOrPassword));
    }

    let dont_remember = req.bool_field("rememberMe") == Some(false);
    let new_session =
        session::create(&state, &state.db.conn, &req, &user.id, dont_remember).await?;
    let mut jar = CookieJar::new();
    state.cookies.set_session(
        &mut jar,
        &req.cookies,
        &new_session.token,
        Some(dont_remember),
        None,
    );
    let sign_in = SignIn {
        user,
        session: new_session,
        jar,
        callback_url: req.str_field("callbackURL").map(str::to_owned),
    };
    // The two-factor gate (and any other sign-in after-hook) covers this route too.
    hooks::after_sign_in(&state, &req, sign_in).await
}
