//! After-hooks on sign-in routes, as Better Auth plugins register them (`hooks.after` with a path
//! matcher; better-auth: dist/api/to-auth-endpoints.mjs runs them after the handler). Every route
//! that signs a user in with a credential — `/sign-in/email`, `/sign-in/username` — ends by
//! calling [`after_sign_in`] with what it produced; each enabled plugin's hook may then rewrite
//! the response (the two-factor gate replaces it with a challenge).
//! [`password_sign_in`] is the shared tail of both routes: check the password without revealing
//! whether the account exists, open the session, then run the hooks.

use portcullis_entity::{session, user};
use portcullis_protocol::{error::ErrorCode, model::SignInResponse};
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::{
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply},
    output, session as sessions,
    state::AppState,
    store::{self, accounts},
    two_factor,
};

/// Signs `user` in with `password`: unknown user, no credential password and wrong password all
/// answer `failure` (401) after the same hashing work (better-auth: dist/api/routes/sign-in.mjs,
/// dist/plugins/username/index.mjs). On success a session is created (`rememberMe: false` → not
/// remembered), its cookies set, and the after-hooks run.
pub async fn password_sign_in(
    state: &AppState,
    req: &AuthRequest,
    user: Option<user::Model>,
    password: &str,
    failure: ErrorCode,
) -> ApiResult<Reply> {
    let account = match &user {
        Some(u) => accounts::find_credential(&state.db.conn, &u.id).await?,
        None => None,
    };
    let (Some(user), Some((account_id, hash))) =
        (user, account.and_then(|a| a.password.map(|p| (a.id, p))))
    else {
        state.hasher.hash(password).await?;
        return Err(ApiError::unauthorized(failure));
    };
    if !state.hasher.verify(&hash, password).await? {
        return Err(ApiError::unauthorized(failure));
    }
    if state.hasher.needs_rehash(&hash) {
        rehash(state, &account_id, &hash, password).await;
    }
    let dont_remember = req.bool_field("rememberMe") == Some(false);
    // The provisional session and the gate's writes commit together (or not at all).
    let txn = state.db.conn.begin().await?;
    let session = sessions::create(state, &txn, req, &user.id, dont_remember).await?;
    let mut jar = CookieJar::new();
    state.cookies.set_session(
        &mut jar,
        &req.cookies,
        (&session, &user),
        Some(dont_remember),
        None,
    );
    let sign_in = SignIn {
        user,
        session,
        jar,
        callback_url: req.str_field("callbackURL").map(str::to_owned),
    };
    let reply = after_sign_in(state, &txn, req, sign_in).await?;
    txn.commit().await?;
    Ok(reply)
}

/// Beyond Better Auth: rewrites a hash that verified but is not in the configured format
/// (`PORTCULLIS_PASSWORD_HASH`), e.g. a Better Auth scrypt hash once the fleet runs argon2id. One
/// conditional UPDATE, only when needed; the sign-in succeeds whether or not it does (a failure
/// is logged and the old hash stays valid).
async fn rehash(state: &AppState, account_id: &str, old: &str, password: &str) {
    let result = async {
        let new = state.hasher.hash(password).await?;
        accounts::replace_password_hash(&state.db.conn, account_id, old, &new, store::now())
            .await
            .map_err(ApiError::from)
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(account_id, error = %e, "password rehash failed; the old hash stays");
    }
}

/// A completed credential sign-in, before after-hooks: the new session, its cookies, and the
/// response the route would send.
pub struct SignIn {
    pub user: user::Model,
    pub session: session::Model,
    pub jar: CookieJar,
    pub callback_url: Option<String>,
}

/// What a hook decided.
pub enum Outcome {
    /// Carry on with (possibly changed) sign-in.
    Continue(Box<SignIn>),
    /// Answer this instead.
    Respond(Reply),
}

/// Runs the enabled plugins' sign-in hooks in order, then renders the normal sign-in response.
pub async fn after_sign_in(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    sign_in: SignIn,
) -> ApiResult<Reply> {
    let mut sign_in = sign_in;
    if state.config.plugins.two_factor {
        match two_factor::gate::after_sign_in(state, c, req, sign_in).await? {
            Outcome::Continue(s) => sign_in = *s,
            Outcome::Respond(reply) => return Ok(reply),
        }
    }
    Ok(render(state, sign_in))
}

/// `{redirect, token, url?, user}` plus `Location` when a callback URL was given
/// (better-auth: dist/api/routes/sign-in.mjs: `url` is echoed even when empty, `redirect` and
/// `Location` only for a non-empty one).
fn render(state: &AppState, s: SignIn) -> Reply {
    let callback = s
        .callback_url
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let mut reply = Reply::json(&SignInResponse {
        redirect: callback.is_some(),
        token: s.session.token.clone(),
        url: s.callback_url.clone(),
        user: output::user(&state.config.plugins, &s.user),
    })
    .cookies(s.jar);
    if let Some(cb) = callback {
        reply = reply.header("location", cb);
    }
    reply
}
