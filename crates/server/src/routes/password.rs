//! `POST /change-password` (better-auth: dist/api/routes/password.mjs changePassword).

use actix_web::web;
use portcullis_protocol::{error::ErrorCode, model::ChangePasswordResponse, validate::schemas};
use sea_orm::TransactionTrait;

use super::sign_up::{check_password_length, check_password_not_too_long};
use crate::{
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply},
    output, session,
    state::AppState,
    store::{self, accounts, sessions},
};

pub async fn change_password(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    super::validate(&req, &schemas::CHANGE_PASSWORD)?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    let new_password = req.str_field("newPassword").unwrap_or_default();
    let current_password = req.str_field("currentPassword").unwrap_or_default();
    let revoke_others = req.bool_field("revokeOtherSessions") == Some(true);
    check_password_length(new_password)?;
    check_password_not_too_long(current_password)?;

    let account = accounts::find_credential(&state.db.conn, &current.user.id).await?;
    let Some((account_id, stored)) = account.and_then(|a| a.password.map(|p| (a.id, p))) else {
        return Err(ApiError::bad_request(ErrorCode::CredentialAccountNotFound));
    };
    // Upstream hashes the new password before checking the current one; same cost either way.
    let new_hash = state.hasher.hash(new_password).await?;
    if !state.hasher.verify(&stored, current_password).await? {
        return Err(ApiError::bad_request(ErrorCode::InvalidPassword));
    }
    let now = store::now();
    let txn = state.db.conn.begin().await?;
    if revoke_others {
        sessions::delete_all_of_user(&txn, &current.user.id).await?;
    }
    accounts::set_password(&txn, &account_id, &new_hash, now).await?;
    let new_session = if revoke_others {
        Some(session::create(&state, &txn, &req, &current.user.id, false).await?)
    } else {
        None
    };
    txn.commit().await?;

    let token = new_session.map(|s| {
        // setSessionCookie with dontRememberMe from the request's cookie.
        state
            .cookies
            .set_session(&mut jar, &req.cookies, (&s, &current.user), None, None);
        s.token
    });
    Ok(Reply::json(&ChangePasswordResponse {
        token,
        user: output::user(&state.config.plugins, &current.user),
    })
    .cookies(jar))
}
