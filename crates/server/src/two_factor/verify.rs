//! The shared machinery of the dual-mode verify endpoints (verify-totp, send-otp, verify-otp,
//! verify-backup-code): who is verifying (a signed-in user, or a pending sign-in challenge), the
//! per-challenge attempt gate, the account lockout, and completing a challenge.
//! better-auth: dist/plugins/two-factor/verify-two-factor.mjs.

use actix_web::http::StatusCode;
use portcullis_entity::{session as session_row, two_factor, user};
use portcullis_protocol::{
    error::{ErrorBody, ErrorCode},
    model::TokenUserResponse,
    trust_device as trust_value,
};
use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use time::Duration;

use crate::{
    auth::tokens::random_from,
    error::{ApiError, ApiResult, db_unavailable},
    http::{AuthRequest, CookieJar, Reply},
    output,
    session::{self, Current, Lookup},
    state::AppState,
    store::{
        self,
        challenges::{self, AttemptGate, Completion, Counter, TotpCompletion},
        two_factor as factors, users, verifications,
    },
};

/// Better Auth's generateRandomString alphabet (better-auth: dist/crypto/random.mjs).
pub const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// Who is verifying.
pub enum Mode {
    /// A signed-in user (enrolment, re-verification). Challenge cookies are ignored.
    Session(Box<Current>),
    /// A sign-in waiting for its second factor.
    Challenge(Box<Challenge>),
}

pub struct Challenge {
    /// The `2fa-…` identifier carried by the signed `two_factor` cookie.
    pub id: String,
    pub user: user::Model,
    pub expires_at: time::OffsetDateTime,
    /// The user's `twoFactor` row, read together with the challenge.
    pub factor: Option<two_factor::Model>,
    /// The attempt counter, if the read already took it ([`Gate::Attempt`] on PostgreSQL).
    pub counter: Counter,
}

/// What the route will do with the challenge's attempt counter, so that on PostgreSQL the read
/// can take it in the same statement (store::challenges::find_taking_attempt).
#[derive(Clone, Copy)]
pub enum Gate {
    /// No attempt counted (send-otp, verify-otp: the OTP row counts its own attempts).
    None,
    /// The route takes the counter after the lockout check (verify-totp, verify-backup-code);
    /// verify-totp first refuses an unverified factor.
    Attempt { require_verified: bool },
}

impl Gate {
    pub const TOTP: Gate = Gate::Attempt {
        require_verified: true,
    };
    pub const BACKUP_CODE: Gate = Gate::Attempt {
        require_verified: false,
    };
}

impl Mode {
    pub fn user(&self) -> &user::Model {
        match self {
            Mode::Session(c) => &c.user,
            Mode::Challenge(c) => &c.user,
        }
    }

    /// The user's `twoFactor` row: already loaded for a challenge, read for a signed-in user.
    pub async fn factor(&self, state: &AppState) -> ApiResult<Option<two_factor::Model>> {
        match self {
            Mode::Challenge(c) => Ok(c.factor.clone()),
            Mode::Session(c) => Ok(factors::find_by_user(&state.db.conn, &c.user.id).await?),
        }
    }

    pub fn is_sign_in(&self) -> bool {
        matches!(self, Mode::Challenge(_))
    }

    /// Key of OTP rows: the challenge id, or `<userId>!<sessionId>` when signed in.
    pub fn otp_key(&self) -> String {
        match self {
            Mode::Session(c) => format!("{}!{}", c.user.id, c.session.id),
            Mode::Challenge(c) => c.id.clone(),
        }
    }
}

fn invalid_cookie() -> ApiError {
    ApiError::unauthorized(ErrorCode::InvalidTwoFactorCookie)
}

/// verifyTwoFactor: an authoritative session wins; otherwise the challenge named by the signed
/// `two_factor` cookie, which must exist, be unexpired, and name an existing user.
pub async fn resolve(
    state: &AppState,
    req: &AuthRequest,
    jar: &mut CookieJar,
    gate: Gate,
) -> ApiResult<Mode> {
    match session::get_session(state, req, Lookup::default()).await {
        Ok((Some(current), cookies)) => {
            jar.extend(cookies);
            return Ok(Mode::Session(Box::new(current)));
        }
        // As upstream's getSessionFromCtx: a dead session's cookies are cleared, a failed
        // lookup counts as no session.
        Ok((None, cookies)) => jar.extend(cookies),
        Err(ApiError::Api { .. }) => {}
        Err(e) => return Err(e),
    }
    let names = &state.cookies.names;
    let id = state
        .cookies
        .read_signed(&req.cookies, &names.two_factor)
        .ok_or_else(invalid_cookie)?;
    let now = store::now();
    let conn = &state.db.conn;
    let found = match gate {
        Gate::Attempt { require_verified } if state.db.backend() == DbBackend::Postgres => {
            let counter = attempts_identifier(&id);
            let gate = AttemptGate {
                counter: &counter,
                require_verified,
                now,
            };
            challenges::find_taking_attempt(conn, &id, &gate).await?
        }
        _ => challenges::find(conn, &id)
            .await?
            .map(|row| (row, Counter::Untouched)),
    };
    let (row, counter) = found
        .filter(|(r, _)| r.verification.expires_at.0 > now)
        .ok_or_else(invalid_cookie)?;
    Ok(Mode::Challenge(Box::new(Challenge {
        id,
        user: row.user,
        expires_at: row.verification.expires_at.0,
        factor: row.factor,
        counter,
    })))
}

/// The challenge's attempt counter: `2fa-attempts-<challenge id>`.
fn attempts_identifier(challenge_id: &str) -> String {
    format!("2fa-attempts-{challenge_id}")
}

/// A started attempt on a challenge; the caller records its result.
pub struct Attempt {
    identifier: String,
    count: u32,
    expires_at: time::OffsetDateTime,
}

impl Attempt {
    pub async fn record_failure(&self, state: &AppState) -> ApiResult<()> {
        self.rearm(state, self.count + 1).await
    }

    /// Puts the counter back unchanged (an internal error is not the user's attempt).
    pub async fn restore(&self, state: &AppState) -> ApiResult<()> {
        self.rearm(state, self.count).await
    }

    async fn rearm(&self, state: &AppState, count: u32) -> ApiResult<()> {
        verifications::create(
            &state.db.conn,
            &self.identifier,
            &count.to_string(),
            self.expires_at,
        )
        .await?;
        Ok(())
    }
}

/// beginAttempt: takes the challenge's `2fa-attempts-…` counter (unless the read took it); at the
/// limit the challenge is revoked and the cookie expired (400 TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE).
pub async fn begin_attempt(state: &AppState, challenge: &Challenge) -> ApiResult<Attempt> {
    let identifier = attempts_identifier(&challenge.id);
    let value = match &challenge.counter {
        Counter::Taken(value) => value.clone(),
        Counter::Untouched => verifications::consume(&state.db.conn, &identifier)
            .await?
            .map(|row| row.value),
    }
    .ok_or_else(invalid_cookie)?;
    let allowed = state.config.two_factor.challenge_attempts;
    let count = value.parse::<u32>().unwrap_or(allowed);
    if count >= allowed {
        verifications::consume(&state.db.conn, &challenge.id).await?;
        return Err(
            ApiError::bad_request(ErrorCode::TooManyAttemptsRequestNewCode)
                .with_cookies(vec![state.cookies.expired(&state.cookies.names.two_factor)]),
        );
    }
    Ok(Attempt {
        identifier,
        count,
        expires_at: challenge.expires_at,
    })
}

/// On a sign-in challenge, the lockout check then the attempt gate (TOTP and backup codes);
/// signed-in verification has neither.
pub async fn start_attempt(
    state: &AppState,
    mode: &Mode,
    factor: &two_factor::Model,
) -> ApiResult<Option<Attempt>> {
    match mode {
        Mode::Challenge(ch) => {
            assert_not_locked(state, factor).await?;
            Ok(Some(begin_attempt(state, ch).await?))
        }
        Mode::Session(_) => Ok(None),
    }
}

/// assertTwoFactorNotLocked: 429 while locked; an expired lock is cleared.
pub async fn assert_not_locked(state: &AppState, factor: &two_factor::Model) -> ApiResult<()> {
    let Some(locked_until) = &factor.locked_until else {
        return Ok(());
    };
    if locked_until.0 > store::now() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::AccountTemporarilyLocked,
        ));
    }
    factors::reset_failures(&state.db.conn, &factor.user_id).await?;
    Ok(())
}

pub async fn record_lockout_failure(state: &AppState, user_id: &str) -> ApiResult<()> {
    let tf = &state.config.two_factor;
    let until = store::now() + Duration::seconds(tf.lockout_seconds);
    factors::record_failure(&state.db.conn, user_id, tf.lockout_max_failed, until).await?;
    Ok(())
}

/// After the attempt was taken, a verification that fails for another reason than a wrong code
/// (a database fault, a lost race) is not the user's attempt: the counter is put back.
pub async fn restore_on_error<T>(
    state: &AppState,
    attempt: Option<&Attempt>,
    result: ApiResult<T>,
) -> ApiResult<T> {
    if result.is_err()
        && let Some(a) = attempt
        && let Err(e) = a.restore(state).await
    {
        tracing::warn!(error = %e, "could not put a 2FA attempt counter back");
    }
    result
}

/// A failed code: the challenge's attempt counter and, on sign-in, the account's lockout counter.
pub async fn fail(
    state: &AppState,
    mode: &Mode,
    attempt: Option<&Attempt>,
    code: ErrorCode,
) -> ApiError {
    if let Some(a) = attempt
        && let Err(e) = a.record_failure(state).await
    {
        return e;
    }
    if mode.is_sign_in()
        && let Err(e) = record_lockout_failure(state, &mode.user().id).await
    {
        return e;
    }
    ApiError::unauthorized(code)
}

/// valid(): finishes a successful verification.
/// - Challenge: consumes it (only one concurrent caller can), creates the session (not remembered
///   if the sign-in said so), sets its cookie, expires `two_factor`, and trusts the device if asked.
/// - Signed in: answers with the request's own session token and the user as loaded (upstream
///   quirk kept: during enrolment that token was just rotated away; the new one is in Set-Cookie).
///
/// Every write goes through `c`, the caller's transaction: a fault before its commit leaves the
/// challenge unconsumed and no session behind.
pub async fn complete(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    mode: &Mode,
    jar: CookieJar,
) -> ApiResult<Reply> {
    match mode {
        Mode::Session(current) => Ok(Reply::json(&TokenUserResponse {
            token: Some(current.session.token.clone()),
            user: output::user(&state.config.plugins, &current.user),
        })
        .cookies(jar)),
        Mode::Challenge(ch) => {
            let new_session = session::prepare(state, req, &ch.user.id, dont_remember(state, req));
            let done = completion(ch, &new_session);
            if !challenges::insert_session_consuming(c, &done)
                .await
                .map_err(failed_to_create_session)?
            {
                return Err(challenge_gone(state, jar));
            }
            finish_challenge(state, c, req, ch, new_session, jar).await
        }
    }
}

/// PostgreSQL, a sign-in challenge completed by a verified TOTP step (no trustDevice): the step
/// claimed, the challenge consumed and the session inserted in one statement
/// (store::challenges::complete_with_totp), where [`complete`] needs a transaction. None when the
/// step was used before (an invalid code).
pub async fn complete_with_totp(
    state: &AppState,
    req: &AuthRequest,
    ch: &Challenge,
    factor_id: &str,
    step: i64,
    jar: CookieJar,
) -> ApiResult<Option<Reply>> {
    let new_session = session::prepare(state, req, &ch.user.id, dont_remember(state, req));
    let done = completion(ch, &new_session);
    let conn = &state.db.conn;
    match challenges::complete_with_totp(conn, factor_id, step, &done)
        .await
        .map_err(failed_to_create_session)?
    {
        TotpCompletion::Completed => Ok(Some(
            finish_challenge(state, conn, req, ch, new_session, jar).await?,
        )),
        TotpCompletion::StepUsed => Ok(None),
        TotpCompletion::ChallengeGone => Err(challenge_gone(state, jar)),
    }
}

fn completion<'a>(ch: &'a Challenge, new_session: &'a session_row::Model) -> Completion<'a> {
    Completion {
        challenge: &ch.id,
        user_id: &ch.user.id,
        session: session::as_new(new_session),
    }
}

/// The sign-in was not remembered (a valid `dont_remember` cookie came with the challenge).
fn dont_remember(state: &AppState, req: &AuthRequest) -> bool {
    let cookies = &state.cookies;
    cookies
        .read_signed(&req.cookies, &cookies.names.dont_remember)
        .is_some()
}

/// A challenge that vanished under us (consumed concurrently, expired, another user's): 401
/// INVALID_TWO_FACTOR_COOKIE and the cookie expired.
fn challenge_gone(state: &AppState, mut jar: CookieJar) -> ApiError {
    let cookies = &state.cookies;
    jar.expire(cookies.expired(&cookies.names.two_factor));
    invalid_cookie().with_cookies(jar.into_lines())
}

/// The answer to a completed challenge: the new session's cookies, `two_factor` expired, the
/// device trusted if asked, `{token, user}`.
async fn finish_challenge(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    ch: &Challenge,
    new_session: session_row::Model,
    mut jar: CookieJar,
) -> ApiResult<Reply> {
    let cookies = &state.cookies;
    cookies.set_session(&mut jar, &req.cookies, (&new_session, &ch.user), None, None);
    jar.expire(cookies.expired(&cookies.names.two_factor));
    if req.bool_field("trustDevice") == Some(true) {
        trust_device(state, c, &ch.user.id, &mut jar).await?;
        jar.expire(cookies.expired(&cookies.names.dont_remember));
    }
    Ok(Reply::json(&TokenUserResponse {
        token: Some(new_session.token),
        user: output::user(&state.config.plugins, &ch.user),
    })
    .cookies(jar))
}

/// A session that could not be written: 503 while the database is unreachable, otherwise 500
/// FAILED_TO_CREATE_SESSION (upstream's answer when createSession fails), the cause logged.
fn failed_to_create_session(e: DbErr) -> ApiError {
    if db_unavailable(&e) {
        return ApiError::Db(e);
    }
    tracing::error!(error = %e, "could not create the session");
    ApiError::body(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorBody::with_message(ErrorCode::FailedToCreateSession, "failed to create session"),
    )
}

/// Issues a trusted-device record and cookie: row `trust-device-<32>` → userId, cookie
/// `<HMAC(secret, "<userId>!<id>")>!<id>` (better-auth: verify-two-factor.mjs).
pub async fn trust_device(
    state: &AppState,
    c: &impl ConnectionTrait,
    user_id: &str,
    jar: &mut CookieJar,
) -> ApiResult<()> {
    let max_age = state.config.two_factor.trust_device_max_age;
    let identifier = format!("trust-device-{}", random_from(ID_ALPHABET, 32));
    verifications::create(
        c,
        &identifier,
        user_id,
        store::now() + Duration::seconds(max_age),
    )
    .await?;
    jar.set(state.cookies.signed(
        &state.cookies.names.trust_device,
        &trust_value::cookie_value(state.config.secret.as_bytes(), user_id, &identifier),
        Some(max_age),
    ));
    Ok(())
}

/// Enrolment: the first successful verification turns 2FA on and rotates the session (both on
/// `c`: the caller's transaction).
pub async fn enable_and_rotate(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    old: &session_row::Model,
    user: &user::Model,
    jar: &mut CookieJar,
) -> ApiResult<(user::Model, session_row::Model)> {
    let updated = users::set_two_factor_enabled(c, user, true, store::now()).await?;
    let new_session = session::rotate(state, c, req, old, &updated, jar).await?;
    Ok((updated, new_session))
}
