//! `POST /sign-out` (better-auth: dist/api/routes/sign-out.mjs).

use actix_web::web;
use portcullis_protocol::{model::SuccessResponse, validate::schemas};

use crate::{
    error::ApiResult,
    http::{AuthRequest, CookieJar, Reply},
    state::AppState,
    store::sessions,
};

pub async fn sign_out(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    super::validate(&req, &schemas::SIGN_OUT)?;
    let cookies = &state.cookies;
    if let Some(token) = cookies.read_signed(&req.cookies, &cookies.names.session_token) {
        sessions::delete_by_token(&state.db.conn, &token).await?;
    }
    let mut jar = CookieJar::new();
    cookies.delete_session(&mut jar, &req.cookies, false);
    Ok(Reply::json(&SuccessResponse { success: true }).cookies(jar))
}
