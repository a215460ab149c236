//! The sign-in gate: the two-factor plugin's after-hook on credential sign-in routes.
//! better-auth: dist/plugins/two-factor/index.mjs (hooks.after, readSignInTwoFactorState).
//!
//! For a user with `twoFactorEnabled`, unless a valid trusted-device cookie is presented, the
//! provisional session is deleted and its cookies expired (`dont_remember` is kept so the choice
//! survives to the verify step), a challenge is recorded (`2fa-<20>` → userId and its attempt
//! counter, both 600 s), the signed `two_factor` cookie is set, and the body becomes
//! `{"twoFactorRedirect":true,"twoFactorMethods":[…]}`. A trusted device skips all that and gets
//! its trust record rotated.
//!
//! Every write goes through `c`, the sign-in's transaction (crates/server/src/hooks.rs), so the
//! provisional session never outlives a failed gate.

use portcullis_protocol::{model::TwoFactorRedirect, trust_device as trust_value};
use sea_orm::ConnectionTrait;
use time::Duration;

use super::verify::{ID_ALPHABET, trust_device};
use crate::{
    auth::tokens::random_from,
    error::ApiResult,
    hooks::{Outcome, SignIn},
    http::{AuthRequest, Reply},
    state::AppState,
    store::{self, sessions, two_factor as factors, verifications},
};

pub async fn after_sign_in(
    state: &AppState,
    c: &impl ConnectionTrait,
    req: &AuthRequest,
    mut s: SignIn,
) -> ApiResult<Outcome> {
    if s.user.two_factor_enabled != Some(true) {
        return Ok(Outcome::Continue(Box::new(s)));
    }
    let cookies = &state.cookies;
    let trust_cookie = cookies.read_signed(&req.cookies, &cookies.names.trust_device);
    if let Some(value) = &trust_cookie
        && let Some(identifier) = trusted_identifier(state, c, &s.user.id, value).await?
    {
        // Rotate: the old record goes, a fresh one (and a fresh 30-day cookie) replaces it.
        verifications::delete_by_identifier(c, &identifier).await?;
        trust_device(state, c, &s.user.id, &mut s.jar).await?;
        return Ok(Outcome::Continue(Box::new(s)));
    }

    let mut jar = s.jar;
    if trust_cookie.is_some() {
        jar.expire(cookies.expired(&cookies.names.trust_device));
    }
    cookies.delete_session(&mut jar, &req.cookies, true);
    sessions::delete_by_token(c, &s.session.token).await?;

    let tf = &state.config.two_factor;
    let identifier = format!("2fa-{}", random_from(ID_ALPHABET, 20));
    let expires_at = store::now() + Duration::seconds(tf.challenge_max_age);
    verifications::create(c, &identifier, &s.user.id, expires_at).await?;
    verifications::create(c, &format!("2fa-attempts-{identifier}"), "0", expires_at).await?;
    jar.set(cookies.signed(
        &cookies.names.two_factor,
        &identifier,
        Some(tf.challenge_max_age),
    ));

    let mut methods = Vec::new();
    if let Some(f) = factors::find_by_user(c, &s.user.id).await?
        && f.verified != Some(false)
    {
        methods.push("totp".to_string());
    }
    if tf.otp_enabled() {
        methods.push("otp".to_string());
    }
    let mut reply = Reply::json(&TwoFactorRedirect {
        two_factor_redirect: true,
        two_factor_methods: methods,
    })
    .cookies(jar);
    if let Some(cb) = s.callback_url.filter(|c| !c.is_empty()) {
        reply = reply.header("location", cb);
    }
    Ok(Outcome::Respond(reply))
}

/// The trust record named by a `trust_device` cookie value `<token>!<identifier>`, if the token
/// is this user's HMAC for it and the record is live and belongs to the user. Read through `c`,
/// the sign-in's transaction: a second pooled connection, requested while that transaction holds
/// SQLite's write lock, could wait for a pool full of requests waiting for that lock (found by
/// tests/soak: 5 s stalls, then 500 "database is locked").
async fn trusted_identifier(
    state: &AppState,
    c: &impl ConnectionTrait,
    user_id: &str,
    value: &str,
) -> ApiResult<Option<String>> {
    // Divergence (as for the cookie, `CookieSet::read_signed`): Better Auth checks the token
    // against `ctx.context.secret` only (better-auth: dist/plugins/two-factor/index.mjs); any
    // configured secret is accepted here, so a secret rotation keeps devices trusted.
    let Some(identifier) = state
        .config
        .secret_config
        .verifying()
        .into_iter()
        .find_map(|secret| trust_value::verified_identifier(secret.as_bytes(), user_id, value))
    else {
        return Ok(None);
    };
    let live = verifications::find(c, identifier)
        .await?
        .is_some_and(|r| r.value == user_id && r.expires_at.0 > store::now());
    Ok(live.then(|| identifier.to_string()))
}
