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
    hooks::{self, SignIn},
    http::{AuthRequest, CookieJar, Reply, request::origin_error},
    session,
    state::AppState,
    store::{accounts, users},
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
    let account = match &user {
        Some(u) => accounts::find_credential(&state.db.conn, &u.id).await?,
        None => None,
    };
    let (Some(user), Some(hash)) = (user, account.and_then(|a| a.password)) else {
        // Same work and same answer as a wrong password: no user enumeration.
        state.hasher.hash(password).await?;
        return Err(ApiError::unauthorized(ErrorCode::InvalidEmailOrPassword));
    };
    if !state.hasher.verify(&hash, password).await? {
        return Err(ApiError::unauthorized(ErrorCode::InvalidEmailOrPassword));
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
    hooks::after_sign_in(&state, &req, sign_in).await
}
