//! Session endpoints (better-auth: dist/api/routes/session.mjs).

use actix_web::{
    HttpResponse, ResponseError,
    http::{
        StatusCode,
        header::{CACHE_CONTROL, HeaderValue, PRAGMA},
    },
    web,
};
use portcullis_protocol::{
    error::ErrorCode,
    model::{SessionWithUser, StatusResponse},
    validate::schemas,
};

use crate::{
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply},
    output,
    session::{self, Answer, Lookup},
    state::AppState,
    store::{self, sessions},
};

/// `GET /get-session`: `{session, user}` or the literal `null`; never cached by intermediaries.
pub async fn get_session(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    // z.coerce.boolean(): any non-empty string, even "false" or "0", is true.
    let flag = |name| req.query(name).is_some_and(|v: &str| !v.is_empty());
    let lookup = Lookup {
        disable_refresh: flag("disableRefresh"),
        disable_cookie_cache: flag("disableCookieCache"),
    };
    let (answer, jar) = session::get_session_cached(&state, &req, lookup).await?;
    let reply = match answer {
        Some(Answer::Database(c)) => Reply::json(&SessionWithUser {
            session: output::session(&c.session),
            user: output::user(&state.config.plugins, &c.user),
        }),
        Some(Answer::Cached { session, user }) => {
            Reply::json(&serde_json::json!({"session": session, "user": user}))
        }
        None => Reply::json(&serde_json::Value::Null),
    };
    Ok(no_store(reply.cookies(jar)))
}

/// `POST /get-session` exists only with `session.deferSessionRefresh`, which we do not offer.
/// Upstream sends its no-store headers on this error too.
pub async fn post_get_session() -> HttpResponse {
    let mut res = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowedDeferSessionRequired,
    )
    .error_response();
    let headers = res.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn no_store(reply: Reply) -> Reply {
    reply
        .header("cache-control", "no-store")
        .header("pragma", "no-cache")
}

/// `GET /list-sessions` (fresh session required): the user's unexpired sessions.
pub async fn list_sessions(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    let mut jar = CookieJar::new();
    let current = session::require_fresh(&state, &req, &mut jar).await?;
    let rows = sessions::list_active(&state.db.conn, &current.user.id, store::now()).await?;
    let list: Vec<_> = rows.iter().map(output::session).collect();
    Ok(Reply::json(&list).cookies(jar))
}

/// `POST /revoke-session`: deletes the token if it is the caller's; always `{status:true}`.
pub async fn revoke_session(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    super::validate(&req, &schemas::REVOKE_SESSION)?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    let token = req.str_field("token").unwrap_or_default();
    sessions::delete_owned(&state.db.conn, &current.user.id, token).await?;
    if token == current.session.token {
        state.cookies.delete_session(&mut jar, &req.cookies, false);
    }
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}

/// `POST /revoke-sessions`: every session of the user, and this one's cookies.
pub async fn revoke_sessions(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    sessions::delete_all_of_user(&state.db.conn, &current.user.id).await?;
    state.cookies.delete_session(&mut jar, &req.cookies, false);
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}

/// `POST /revoke-other-sessions`: every session but the caller's.
pub async fn revoke_other_sessions(
    state: web::Data<AppState>,
    req: AuthRequest,
) -> ApiResult<Reply> {
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    sessions::delete_others(&state.db.conn, &current.user.id, &current.session.token).await?;
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}
