//! Sessions: creating them, reading the current one from the request, refreshing, and the
//! session-requiring middlewares. better-auth: dist/api/routes/session.mjs (getSession,
//! sessionMiddleware, sensitiveSessionMiddleware, freshSessionMiddleware),
//! dist/db/internal-adapter.mjs (createSession).

use portcullis_entity::{session, user};
use portcullis_protocol::error::ErrorCode;
use sea_orm::ConnectionTrait;
use time::{Duration, OffsetDateTime};

use crate::{
    auth::tokens::generate_id,
    cookies::CacheCookie,
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar},
    state::AppState,
    store::{self, sessions},
};

/// The signed-in session and its user.
#[derive(Debug, Clone)]
pub struct Current {
    pub session: session::Model,
    pub user: user::Model,
}

/// Creates a session row for `user_id`. Not remembered → expires in one day instead of
/// `expiresIn`. `ipAddress`/`userAgent` are `""` when unknown, as upstream.
pub async fn create(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    user_id: &str,
    dont_remember: bool,
) -> ApiResult<session::Model> {
    let row = prepare(state, req, user_id, dont_remember);
    sessions::insert(c, &as_new(&row)).await?;
    Ok(row)
}

/// The row [`create`] inserts: fresh id and token, the request's client IP and user agent.
pub fn prepare(
    state: &AppState,
    req: &AuthRequest,
    user_id: &str,
    dont_remember: bool,
) -> session::Model {
    // Upstream stores `getIP(...) || ""` (better-auth: dist/db/internal-adapter.mjs createSession).
    let ip =
        crate::ip::client_ip(&req.headers, &state.config.ip, state.config.dev).unwrap_or_default();
    let ua = req.header("user-agent").unwrap_or("").to_string();
    new_row(state, user_id, dont_remember, ip, ua)
}

/// The columns of a prepared row, for `sessions::insert`.
pub fn as_new(row: &session::Model) -> sessions::NewSession<'_> {
    sessions::NewSession {
        id: &row.id,
        token: &row.token,
        user_id: &row.user_id,
        expires_at: row.expires_at.0,
        ip_address: row.ip_address.as_deref().unwrap_or_default(),
        user_agent: row.user_agent.as_deref().unwrap_or_default(),
        now: row.created_at.0,
    }
}

fn new_row(
    state: &AppState,
    user_id: &str,
    dont_remember: bool,
    ip: String,
    ua: String,
) -> session::Model {
    let now = store::now();
    let lifetime = if dont_remember {
        86_400
    } else {
        state.config.session_expires_in
    };
    session::Model {
        id: generate_id(),
        expires_at: (now + Duration::seconds(lifetime)).into(),
        token: generate_id(),
        created_at: now.into(),
        updated_at: now.into(),
        ip_address: Some(ip),
        user_agent: Some(ua),
        user_id: user_id.to_string(),
    }
}

/// Creates a session with given `ipAddress`/`userAgent` (session rotation copies the old row's).
pub async fn create_with(
    state: &AppState,
    c: &impl ConnectionTrait,
    user_id: &str,
    dont_remember: bool,
    ip: String,
    ua: String,
) -> ApiResult<session::Model> {
    let row = new_row(state, user_id, dont_remember, ip, ua);
    sessions::insert(c, &as_new(&row)).await?;
    Ok(row)
}

/// Session rotation after a 2FA state change: a new session (copying the old one's client
/// fields), its cookie, then the old row deleted (better-auth: dist/plugins/two-factor/index.mjs,
/// createSession(userId, false, oldSession) + setSessionCookie + deleteSession).
pub async fn rotate(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    old: &session::Model,
    user: &user::Model,
    jar: &mut CookieJar,
) -> ApiResult<session::Model> {
    let new_session = create_with(
        state,
        c,
        &old.user_id,
        false,
        old.ip_address.clone().unwrap_or_default(),
        old.user_agent.clone().unwrap_or_default(),
    )
    .await?;
    state
        .cookies
        .set_session(jar, &req.cookies, (&new_session, user), None, None);
    sessions::delete_by_token(c, &old.token).await?;
    Ok(new_session)
}

/// Options of [`get_session`], mirroring the `/get-session` query.
#[derive(Debug, Default, Clone, Copy)]
pub struct Lookup {
    pub disable_refresh: bool,
    /// `disableCookieCache`: read the database even when the cookie cache could answer.
    pub disable_cookie_cache: bool,
}

/// What `/get-session` answers with: the cookie cache's copy or the database's rows.
pub enum Answer {
    /// `{session, user}` exactly as cached.
    Cached {
        session: serde_json::Map<String, serde_json::Value>,
        user: serde_json::Map<String, serde_json::Value>,
    },
    Database(Box<Current>),
}

/// `/get-session`: with the cookie cache on, a valid `session_data` cookie for the signed
/// session token answers without the database; an invalid one is expired and the database
/// decides (better-auth: dist/api/routes/session.mjs getSession). Every other route reads the
/// database ([`require`]): divergence, upstream's sessionMiddleware also trusts the cache, so a
/// revoked session could still use those routes until the cache expires.
pub async fn get_session_cached(
    state: &AppState,
    req: &AuthRequest,
    opts: Lookup,
) -> ApiResult<(Option<Answer>, CookieJar)> {
    let cookies = &state.cookies;
    if !cookies.cache_enabled() {
        let (current, jar) = get_session(state, req, opts).await?;
        return Ok((current.map(|c| Answer::Database(Box::new(c))), jar));
    }
    let mut jar = CookieJar::new();
    let Some(token) = cookies.read_signed(&req.cookies, &cookies.names.session_token) else {
        return Ok((None, jar));
    };
    if !opts.disable_cookie_cache {
        match cookies.read_cache(req.header("cookie")) {
            CacheCookie::Absent => {}
            CacheCookie::Valid(cached) if cookies.cache_answers(&cached, &token) => {
                let answer = Answer::Cached {
                    session: cached.session,
                    user: cached.user,
                };
                return Ok((Some(answer), jar));
            }
            CacheCookie::Valid(_) => jar.expire(cookies.expired(&cookies.names.session_data)),
            CacheCookie::Invalid => jar.expire(cookies.expired(&cookies.names.session_data)),
        }
    }
    let (current, more) = lookup(state, req, opts, token).await?;
    jar.extend(more);
    Ok((current.map(|c| Answer::Database(Box::new(c))), jar))
}

/// getSession from the database: the current session, or `None`, plus the cookies the response
/// must carry (an expired/unknown session clears its cookies; a refresh re-sets
/// `session_token`; with the cookie cache on, `session_data` is re-issued as upstream's DB
/// path does).
pub async fn get_session(
    state: &AppState,
    req: &AuthRequest,
    opts: Lookup,
) -> ApiResult<(Option<Current>, CookieJar)> {
    let cookies = &state.cookies;
    let mut jar = CookieJar::new();
    if !cookies.cache_enabled() {
        // No cookie cache in this deployment: a stale session_data cookie (or its chunks) is
        // cleared.
        if req.cookie(&cookies.names.session_data).is_some() {
            jar.expire(cookies.expired(&cookies.names.session_data));
        }
        cookies.expire_session_data_chunks(&mut jar, &req.cookies);
    }
    let Some(token) = cookies.read_signed(&req.cookies, &cookies.names.session_token) else {
        return Ok((None, jar));
    };
    let (current, more) = lookup(state, req, opts, token).await?;
    jar.extend(more);
    Ok((current, jar))
}

/// The database half of getSession for a verified session token.
async fn lookup(
    state: &AppState,
    req: &AuthRequest,
    opts: Lookup,
    token: String,
) -> ApiResult<(Option<Current>, CookieJar)> {
    let cookies = &state.cookies;
    let mut jar = CookieJar::new();
    let now = store::now();
    let found = sessions::find_with_user(&state.db.conn, &token).await?;
    let Some((session, user)) = found else {
        cookies.delete_session(&mut jar, &req.cookies, false);
        return Ok((None, jar));
    };
    if session.expires_at.0 < now {
        cookies.delete_session(&mut jar, &req.cookies, false);
        sessions::delete_by_token(&state.db.conn, &token).await?;
        return Ok((None, jar));
    }
    let dont_remember = cookies
        .read_signed(&req.cookies, &cookies.names.dont_remember)
        .is_some();
    let mut current = Current { session, user };
    if dont_remember || opts.disable_refresh {
        return Ok((Some(current), jar));
    }
    let expires_in = Duration::seconds(state.config.session_expires_in);
    let update_age = Duration::seconds(state.config.session_update_age);
    if current.session.expires_at.0 - expires_in + update_age <= now {
        let new_expiry = now + expires_in;
        if !sessions::extend(&state.db.conn, &token, new_expiry, now).await? {
            cookies.delete_session(&mut jar, &req.cookies, false);
            return Err(ApiError::unauthorized(ErrorCode::FailedToGetSession)
                .with_cookies(jar.into_lines()));
        }
        current.session.expires_at = new_expiry.into();
        current.session.updated_at = now.into();
        cookies.set_session(
            &mut jar,
            &req.cookies,
            (&current.session, &current.user),
            Some(false),
            Some(state.config.session_expires_in),
        );
    } else {
        cookies.set_cache(
            &mut jar,
            &req.cookies,
            (&current.session, &current.user),
            false,
        );
    }
    Ok((Some(current), jar))
}

/// sessionMiddleware / sensitiveSessionMiddleware (identical without a cookie cache):
/// the session or 401 UNAUTHORIZED. Refresh cookies go into `jar`.
pub async fn require(
    state: &AppState,
    req: &AuthRequest,
    jar: &mut CookieJar,
) -> ApiResult<Current> {
    match get_session(state, req, Lookup::default()).await {
        Ok((Some(c), cookies)) => {
            jar.extend(cookies);
            Ok(c)
        }
        // A dead session's cookies are cleared on the 401 too (getSessionFromCtx copies them).
        Ok((None, cookies)) => {
            Err(ApiError::unauthorized(ErrorCode::Unauthorized).with_cookies(cookies.into_lines()))
        }
        // getSessionFromCtx swallows lookup failures: the caller is simply not signed in.
        Err(ApiError::Api { .. }) => Err(ApiError::unauthorized(ErrorCode::Unauthorized)),
        Err(e) => Err(e),
    }
}

/// freshSessionMiddleware: also 403 SESSION_NOT_FRESH when the session is older than `freshAge`.
pub async fn require_fresh(
    state: &AppState,
    req: &AuthRequest,
    jar: &mut CookieJar,
) -> ApiResult<Current> {
    let current = require(state, req, jar).await?;
    let fresh_age = state.config.session_fresh_age;
    if fresh_age != 0 && is_stale(current.session.created_at.0, store::now(), fresh_age) {
        // A refresh done on the way in still reaches the client.
        return Err(
            ApiError::forbidden(ErrorCode::SessionNotFresh).with_cookies(jar.lines().to_vec())
        );
    }
    Ok(current)
}

fn is_stale(created_at: OffsetDateTime, now: OffsetDateTime, fresh_age: i64) -> bool {
    now - created_at >= Duration::seconds(fresh_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_boundary() {
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(!is_stale(t, t + Duration::seconds(9), 10));
        assert!(is_stale(t, t + Duration::seconds(10), 10));
    }
}
