//! `POST /sign-up/email` (better-auth: dist/api/routes/sign-up.mjs).

use actix_web::{http::StatusCode, web};
use portcullis_protocol::{
    error::ErrorCode,
    model::SignUpResponse,
    validate::{is_email, schemas},
};
use sea_orm::{SqlErr, TransactionTrait};

use crate::{
    auth::{
        origin::validate_form_csrf,
        password::{MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, js_length},
        tokens::generate_id,
    },
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply, request::origin_error},
    output, session,
    state::AppState,
    store::{self, accounts, users},
    username::{self, UsernameColumns},
};

pub async fn sign_up_email(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    // The username plugin's before-hooks run ahead of the body schema and the form-CSRF check
    // (better-auth: dist/api/dispatch.mjs runBeforeHooks, dist/plugins/username/index.mjs).
    let username_fields = if state.config.plugins.username {
        Some(username::before_sign_up(&state, &req).await?)
    } else {
        None
    };
    super::validate(&req, &schemas::SIGN_UP_EMAIL)?;
    validate_form_csrf(&req.origin_headers(), &state.config.trusted_origins)
        .map_err(origin_error)?;
    let (Some(name), Some(email), Some(password)) = (
        req.str_field("name"),
        req.str_field("email"),
        req.str_field("password"),
    ) else {
        return Err(ApiError::bad_request(ErrorCode::InvalidPassword));
    };
    if !is_email(email) {
        return Err(ApiError::bad_request(ErrorCode::InvalidEmail));
    }
    check_password_length(password)?;
    // parseUserInput: the plugins' additional user fields.
    let username_columns = match &username_fields {
        Some(fields) => fields.columns()?,
        None => UsernameColumns::default(),
    };
    let email = email.to_lowercase();
    let image = req.str_field("image");
    let remember_me = req.bool_field("rememberMe");

    if users::find_by_email(&state.db.conn, &email)
        .await?
        .is_some()
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UserAlreadyExistsUseAnotherEmail,
        ));
    }
    // Hash before creating anything, as upstream does.
    let hash = state.hasher.hash(password).await?;
    let now = store::now();
    let user_id = generate_id();
    let txn = state.db.conn.begin().await?;
    let new_user = users::NewUser {
        id: &user_id,
        name,
        email: &email,
        image,
        username: username_columns.username(),
        display_username: username_columns.display_username(),
        now,
    };
    if let Err(e) = users::insert(&txn, &new_user).await {
        txn.rollback().await?;
        // Lost a race with a concurrent sign-up of the same username (unique index). Upstream
        // answers 422 FAILED_TO_CREATE_USER then; the plugin's own answer is clearer.
        if username::is_username_violation(&e) {
            return Err(username::taken());
        }
        // Lost a race with a concurrent sign-up of the same email (unique index).
        if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::UserAlreadyExistsUseAnotherEmail,
            ));
        }
        return Err(e.into());
    }
    accounts::insert_credential(&txn, &generate_id(), &user_id, &hash, now).await?;
    let dont_remember = remember_me == Some(false);
    let new_session = session::create(&state, &txn, &req, &user_id, dont_remember).await?;
    txn.commit().await?;

    let user = new_user.into_model();
    let mut jar = CookieJar::new();
    state.cookies.set_session(
        &mut jar,
        &req.cookies,
        (&new_session, &user),
        Some(dont_remember),
        None,
    );
    Ok(Reply::json(&SignUpResponse {
        token: Some(new_session.token),
        user: output::user(&state.config.plugins, &user),
    })
    .cookies(jar))
}

/// assertPasswordNotTooShort / assertPasswordNotTooLong (better-auth: dist/utils/password.mjs).
pub(crate) fn check_password_length(password: &str) -> ApiResult<()> {
    let len = js_length(password);
    if len < MIN_PASSWORD_LENGTH {
        return Err(ApiError::bad_request(ErrorCode::PasswordTooShort));
    }
    check_password_not_too_long(password)
}

pub(crate) fn check_password_not_too_long(password: &str) -> ApiResult<()> {
    if js_length(password) > MAX_PASSWORD_LENGTH {
        return Err(ApiError::bad_request(ErrorCode::PasswordTooLong));
    }
    Ok(())
}
