//! The `/two-factor/*` endpoints. better-auth: dist/plugins/two-factor/index.mjs (enable,
//! disable), totp/index.mjs (get-totp-uri, verify-totp), otp/index.mjs (send-otp, verify-otp),
//! backup-codes/index.mjs (generate-backup-codes, verify-backup-code).

use actix_web::{http::StatusCode, web};
use portcullis_entity::two_factor;
use portcullis_protocol::{
    error::{ErrorBody, ErrorCode},
    model::{
        BackupCodesResponse, EnableTwoFactorResponse, StatusResponse, TokenUserResponse,
        TotpUriResponse,
    },
    validate::{Schema, schemas},
};
use sea_orm::{DatabaseTransaction, DbBackend, TransactionTrait};

use super::{
    delivery,
    verify::{self, Mode},
};
use crate::{
    auth::{backup_codes, otp, symmetric, tokens::generate_id, totp},
    error::{ApiError, ApiResult},
    http::{AuthRequest, CookieJar, Reply},
    output,
    routes::{sign_up::check_password_not_too_long, validate},
    session::{self, Current},
    state::AppState,
    store::{self, accounts, backup_codes as code_rows, two_factor as factors, verifications},
};

fn password_schema<'a>(state: &AppState) -> &'a Schema<'static> {
    if state.config.two_factor.allow_passwordless {
        &schemas::TWO_FACTOR_PASSWORD_OPTIONAL
    } else {
        &schemas::TWO_FACTOR_PASSWORD
    }
}

/// shouldRequirePassword + validatePassword/checkPassword (better-auth: dist/utils/password.mjs):
/// with `allowPasswordless`, users without a credential password skip the check.
async fn check_password(state: &AppState, req: &AuthRequest, user_id: &str) -> ApiResult<()> {
    let stored = accounts::find_credential(&state.db.conn, user_id)
        .await?
        .and_then(|a| a.password);
    if state.config.two_factor.allow_passwordless && stored.is_none() {
        return Ok(());
    }
    let Some(password) = req.str_field("password").filter(|p| !p.is_empty()) else {
        return Err(ApiError::bad_request(ErrorCode::InvalidPassword));
    };
    check_password_not_too_long(password)?;
    let Some(stored) = stored else {
        state.hasher.hash(password).await?;
        return Err(ApiError::bad_request(ErrorCode::InvalidPassword));
    };
    if !state.hasher.verify(&stored, password).await? {
        return Err(ApiError::bad_request(ErrorCode::InvalidPassword));
    }
    Ok(())
}

/// Writes a fresh set of backup codes: Better Auth's encrypted list on the `twoFactor` row and one
/// keyed hash per code in `twoFactorBackupCode`.
fn backup_code_hashes(state: &AppState, codes: &[String]) -> Vec<String> {
    codes
        .iter()
        .map(|c| backup_codes::keyed_hash(&state.config.secret, c))
        .collect()
}

/// `POST /two-factor/enable`
pub async fn enable(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    let schema = if state.config.two_factor.allow_passwordless {
        &schemas::TWO_FACTOR_ENABLE_PASSWORDLESS
    } else {
        &schemas::TWO_FACTOR_ENABLE
    };
    validate(&req, schema)?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    check_password(&state, &req, &current.user.id).await?;
    let tf = &state.config.two_factor;
    if req.str_field("method") == Some("otp") {
        if !tf.otp_enabled() {
            return Err(ApiError::bad_request(ErrorCode::OtpNotConfigured));
        }
        let txn = state.db.conn.begin().await?;
        verify::enable_and_rotate(
            &state,
            &txn,
            &req,
            &current.session,
            &current.user,
            &mut jar,
        )
        .await?;
        txn.commit().await?;
        return Ok(Reply::json(&EnableTwoFactorResponse::Otp).cookies(jar));
    }

    // The user's row is locked before the factor is read: two concurrent enables must not both
    // see "no factor" and insert two rows (upstream has that race: findOne, then create).
    let txn = state.db.conn.begin().await?;
    crate::store::users::lock_row(&txn, &current.user.id).await?;
    let existing = factors::find_by_user(&txn, &current.user.id).await?;
    if existing.as_ref().is_some_and(|f| f.verified != Some(false)) {
        return Err(ApiError::bad_request(ErrorCode::TotpAlreadyEnabled));
    }
    let codes = backup_codes::generate(10);
    let secret = totp::generate_secret();
    let secret_enc = symmetric::encrypt_with(&state.config.secret_config, &secret);
    let codes_enc = backup_codes::encode_for_better_auth(&state.config.secret_config, &codes);
    let skip = tf.skip_verification_on_enable;
    factors::upsert_secret(
        &txn,
        existing.as_ref().map(|f| f.id.as_str()),
        &generate_id(),
        &current.user.id,
        &secret_enc,
        &codes_enc,
        skip,
    )
    .await?;
    code_rows::replace_all(
        &txn,
        &current.user.id,
        &backup_code_hashes(&state, &codes),
        store::now(),
    )
    .await?;
    if skip {
        verify::enable_and_rotate(
            &state,
            &txn,
            &req,
            &current.session,
            &current.user,
            &mut jar,
        )
        .await?;
    }
    txn.commit().await?;
    // Issuer: body `issuer`, else the configured issuer (default: the app name).
    let issuer = req
        .str_field("issuer")
        .filter(|s| !s.is_empty())
        .unwrap_or(&tf.issuer);
    Ok(Reply::json(&EnableTwoFactorResponse::Totp {
        totp_uri: totp::totp_uri(
            &secret,
            issuer,
            &current.user.email,
            tf.totp_digits,
            tf.totp_period,
        ),
        backup_codes: codes,
    })
    .cookies(jar))
}

/// `POST /two-factor/disable`: 2FA off, factor and codes deleted, session rotated, and the
/// presented trusted-device record revoked.
pub async fn disable(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, password_schema(&state))?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    check_password(&state, &req, &current.user.id).await?;
    let txn = state.db.conn.begin().await?;
    let now = store::now();
    let updated =
        crate::store::users::set_two_factor_enabled(&txn, &current.user, false, now).await?;
    factors::delete_by_user(&txn, &current.user.id).await?;
    code_rows::replace_all(&txn, &current.user.id, &[], now).await?;
    session::rotate(&state, &txn, &req, &current.session, &updated, &mut jar).await?;
    let names = &state.cookies.names;
    if let Some(value) = state.cookies.read_signed(&req.cookies, &names.trust_device) {
        if let Some(id) = portcullis_protocol::trust_device::identifier(&value) {
            verifications::delete_by_identifier(&txn, id).await?;
        }
        jar.expire(state.cookies.expired(&names.trust_device));
    }
    txn.commit().await?;
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}

/// `POST /two-factor/get-totp-uri`. Divergence: upstream builds this URI with the app name and
/// ignores the plugin's `issuer` (so an authenticator could list the account under two names);
/// we use the configured issuer here as in `enable`.
pub async fn get_totp_uri(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, password_schema(&state))?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    let factor = factors::find_by_user(&state.db.conn, &current.user.id)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::TotpNotEnabled))?;
    check_password(&state, &req, &current.user.id).await?;
    // Imported `base32:` secrets are shown as their decoded key, as upstream's decryptTOTPSecret.
    let key = symmetric::decrypt_with(&state.config.secret_config, &factor.secret)
        .and_then(|s| totp::key_bytes(&s))
        .ok_or_else(|| ApiError::bad_request(ErrorCode::TotpNotEnabled))?;
    let tf = &state.config.two_factor;
    Ok(Reply::json(&TotpUriResponse {
        totp_uri: totp::totp_uri_for_key(
            &key,
            &tf.issuer,
            &current.user.email,
            tf.totp_digits,
            tf.totp_period,
        ),
    })
    .cookies(jar))
}

/// `POST /two-factor/verify-totp`
pub async fn verify_totp(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, &schemas::TWO_FACTOR_VERIFY_TOTP)?;
    let mut jar = CookieJar::new();
    let mode = verify::resolve(&state, &req, &mut jar, verify::Gate::TOTP).await?;
    let user_id = mode.user().id.clone();
    let factor = mode
        .factor(&state)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::TotpNotEnabled))?;
    if mode.is_sign_in() && factor.verified == Some(false) {
        return Err(ApiError::bad_request(ErrorCode::TotpNotEnabled));
    }
    let attempt = verify::start_attempt(&state, &mode, &factor).await?;
    let tf = &state.config.two_factor;
    let Some(key) = symmetric::decrypt_with(&state.config.secret_config, &factor.secret)
        .and_then(|s| totp::key_bytes(&s))
    else {
        // A secret that does not decrypt is a server fault (upstream: an unhandled 500), not the
        // user's attempt.
        if let Some(a) = &attempt {
            a.restore(&state).await?;
        }
        tracing::error!(user_id = %user_id, "stored TOTP secret does not decrypt with the configured secrets");
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalServerError,
        ));
    };
    let code = req.str_field("code").unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let Some(step) = totp::verify(&key, code, now, tf.totp_digits, tf.totp_period) else {
        return Err(verify::fail(&state, &mode, attempt.as_ref(), ErrorCode::InvalidCode).await);
    };
    let finished = match &mode {
        // PostgreSQL, a verified factor completing a sign-in without trustDevice: one statement.
        Mode::Challenge(ch)
            if factor.verified == Some(true)
                && req.bool_field("trustDevice") != Some(true)
                && state.db.backend() == DbBackend::Postgres =>
        {
            verify::complete_with_totp(&state, &req, ch, &factor.id, step as i64, jar).await
        }
        _ => finish_totp(&state, &req, &mode, &factor, step as i64, jar).await,
    };
    match verify::restore_on_error(&state, attempt.as_ref(), finished).await? {
        Some(reply) => Ok(reply),
        None => Err(verify::fail(&state, &mode, attempt.as_ref(), ErrorCode::InvalidCode).await),
    }
}

/// One transaction: the step claimed, enrolment finished, the challenge completed. A fault
/// anywhere leaves the step unclaimed and the challenge pending. None when the step was used.
async fn finish_totp(
    state: &AppState,
    req: &AuthRequest,
    mode: &Mode,
    factor: &two_factor::Model,
    step: i64,
    mut jar: CookieJar,
) -> ApiResult<Option<Reply>> {
    let txn = state.db.conn.begin().await?;
    // Beyond Better Auth: a step is accepted once (RFC 6238 §5.2); a replay is an invalid code.
    // A success on sign-in also clears the lockout counter, in the same statement.
    if !factors::claim_totp_step(&txn, &factor.id, step, mode.is_sign_in()).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    if factor.verified != Some(true) {
        if let Mode::Session(current) = mode
            && current.user.two_factor_enabled != Some(true)
        {
            verify::enable_and_rotate(state, &txn, req, &current.session, &current.user, &mut jar)
                .await?;
        }
        factors::set_verified(&txn, &factor.id).await?;
    }
    let reply = verify::complete(state, &txn, req, mode, jar).await?;
    txn.commit().await?;
    Ok(Some(reply))
}

/// `POST /two-factor/send-otp`: a numeric code, stored hashed (Better Auth's `storeOTP:
/// "hashed"` format) under `2fa-otp-<key>` for 3 minutes, delivered by webhook.
pub async fn send_otp(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, &schemas::TWO_FACTOR_SEND_OTP)?;
    let tf = &state.config.two_factor;
    if !tf.otp_enabled() {
        return Err(ApiError::body(
            StatusCode::BAD_REQUEST,
            ErrorBody::with_message(ErrorCode::OtpNotConfigured, "otp isn't configured"),
        ));
    }
    let mut jar = CookieJar::new();
    let mode = verify::resolve(&state, &req, &mut jar, verify::Gate::None).await?;
    let code = otp::generate(tf.otp_digits);
    verifications::create(
        &state.db.conn,
        &format!("2fa-otp-{}", mode.otp_key()),
        &otp::join_value(&otp::hash_for_storage(&code), 0),
        store::now() + time::Duration::seconds(tf.otp_period),
    )
    .await?;
    delivery::send_otp(&state, mode.user(), &code);
    Ok(Reply::json(&StatusResponse { status: true }).cookies(jar))
}

/// `POST /two-factor/verify-otp`: 5 tries per code; each wrong one re-stores the code with its
/// counter raised; the right one, for a signed-in user without 2FA, turns OTP 2FA on.
pub async fn verify_otp(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, &schemas::TWO_FACTOR_VERIFY_OTP)?;
    let mut jar = CookieJar::new();
    let mode = verify::resolve(&state, &req, &mut jar, verify::Gate::None).await?;
    let user = mode.user().clone();
    let factor = if mode.is_sign_in() {
        let f = mode.factor(&state).await?;
        if let Some(f) = &f {
            verify::assert_not_locked(&state, f).await?;
        }
        f
    } else {
        None
    };
    let identifier = format!("2fa-otp-{}", mode.otp_key());
    // The code is taken inside the transaction that finishes the verification, so a fault before
    // its commit leaves the code (and the challenge) usable.
    let txn = state.db.conn.begin().await?;
    let Some(consumed) = verifications::consume(&txn, &identifier).await? else {
        txn.rollback().await?;
        return Err(ApiError::bad_request(ErrorCode::OtpHasExpired));
    };
    let (stored, attempts) = otp::split_value(&consumed.value).unwrap_or(("", u32::MAX));
    if attempts >= state.config.two_factor.otp_allowed_attempts {
        txn.commit().await?;
        return Err(ApiError::bad_request(
            ErrorCode::TooManyAttemptsRequestNewCode,
        ));
    }
    let code = req.str_field("code").unwrap_or_default();
    if !otp::stored_matches(stored, code) {
        txn.commit().await?;
        verifications::create(
            &state.db.conn,
            &identifier,
            &otp::join_value(stored, attempts + 1),
            consumed.expires_at.0,
        )
        .await?;
        if factor.is_some() {
            verify::record_lockout_failure(&state, &user.id).await?;
        }
        return Err(ApiError::unauthorized(ErrorCode::InvalidCode));
    }
    if factor.is_some() {
        factors::reset_failures(&txn, &user.id).await?;
    }
    if user.two_factor_enabled != Some(true) {
        let Mode::Session(current) = &mode else {
            return Err(ApiError::bad_request(ErrorCode::FailedToCreateSession));
        };
        let Current { session: old, .. } = current.as_ref();
        let (updated, new_session) =
            verify::enable_and_rotate(&state, &txn, &req, old, &user, &mut jar).await?;
        txn.commit().await?;
        return Ok(Reply::json(&TokenUserResponse {
            token: Some(new_session.token),
            user: output::user(&state.config.plugins, &updated),
        })
        .cookies(jar));
    }
    let reply = verify::complete(&state, &txn, &req, &mode, jar).await?;
    txn.commit().await?;
    Ok(reply)
}

/// `POST /two-factor/generate-backup-codes`: a new set replaces the old one.
pub async fn generate_backup_codes(
    state: web::Data<AppState>,
    req: AuthRequest,
) -> ApiResult<Reply> {
    validate(&req, password_schema(&state))?;
    let mut jar = CookieJar::new();
    let current = session::require(&state, &req, &mut jar).await?;
    if current.user.two_factor_enabled != Some(true) {
        return Err(ApiError::bad_request(ErrorCode::TwoFactorNotEnabled));
    }
    check_password(&state, &req, &current.user.id).await?;
    let factor = factors::find_by_user(&state.db.conn, &current.user.id)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::TwoFactorNotEnabled))?;
    let codes = backup_codes::generate(10);
    let txn = state.db.conn.begin().await?;
    factors::set_backup_codes(
        &txn,
        &factor.id,
        &backup_codes::encode_for_better_auth(&state.config.secret_config, &codes),
    )
    .await?;
    code_rows::replace_all(
        &txn,
        &current.user.id,
        &backup_code_hashes(&state, &codes),
        store::now(),
    )
    .await?;
    txn.commit().await?;
    Ok(Reply::json(&BackupCodesResponse {
        status: true,
        backup_codes: codes,
    })
    .cookies(jar))
}

/// `POST /two-factor/verify-backup-code`
pub async fn verify_backup_code(state: web::Data<AppState>, req: AuthRequest) -> ApiResult<Reply> {
    validate(&req, &schemas::TWO_FACTOR_VERIFY_BACKUP_CODE)?;
    let mut jar = CookieJar::new();
    let mode = verify::resolve(&state, &req, &mut jar, verify::Gate::BACKUP_CODE).await?;
    let user_id = mode.user().id.clone();
    let factor = mode
        .factor(&state)
        .await?
        .ok_or_else(|| ApiError::bad_request(ErrorCode::BackupCodesNotEnabled))?;
    let attempt = verify::start_attempt(&state, &mode, &factor).await?;
    let code = req.str_field("code").unwrap_or_default();
    // One transaction: the code spent, the lockout cleared, the challenge completed. A fault
    // anywhere leaves the code unspent and the challenge pending.
    let finished = async {
        let txn = state.db.conn.begin().await?;
        if !spend_backup_code(&state, &txn, &user_id, code).await? {
            txn.rollback().await?;
            return Ok(None);
        }
        if mode.is_sign_in() {
            factors::reset_failures(&txn, &user_id).await?;
        }
        let reply = if req.bool_field("disableSession") != Some(true) {
            verify::complete(&state, &txn, &req, &mode, jar).await?
        } else {
            // disableSession: no new session; the challenge stays (the code is spent all the same).
            let token = match &mode {
                Mode::Session(c) => Some(c.session.token.clone()),
                Mode::Challenge(_) => None,
            };
            Reply::json(&TokenUserResponse {
                token,
                user: output::user(&state.config.plugins, mode.user()),
            })
            .cookies(jar)
        };
        txn.commit().await?;
        Ok(Some(reply))
    }
    .await;
    match verify::restore_on_error(&state, attempt.as_ref(), finished).await? {
        Some(reply) => Ok(reply),
        None => Err(verify::fail(
            &state,
            &mode,
            attempt.as_ref(),
            ErrorCode::InvalidBackupCode,
        )
        .await),
    }
}

/// Spends a backup code exactly once, keeping both stores consistent, in the caller's
/// transaction (which it leaves open: the caller commits, or rolls back when this answers false).
/// Better Auth's list on the `twoFactor` row is the truth about which codes are valid (a Better
/// Auth server on the same database generates and spends codes only there); `twoFactorBackupCode`
/// records each spend. The transaction starts by write-locking the user's `twoFactor` row, so all
/// spends for one user run one after another on every backend (no deadlocks between concurrent
/// claims, and SQLite takes its write lock before reading). Then: the code must be in the list;
/// its row must be unspent (or absent — a code Better Auth generated — in which case a spent row is
/// inserted under the unique `(userId, codeHash)` index); the list is rewritten without it.
async fn spend_backup_code(
    state: &AppState,
    txn: &DatabaseTransaction,
    user_id: &str,
    code: &str,
) -> ApiResult<bool> {
    let secret = &state.config.secret_config;
    // One hash per configured secret (rows made before a rotation); a new row gets the first.
    let hashes = backup_codes::keyed_hashes(secret, code);
    let now = store::now();
    let locked = factors::lock_row(txn, user_id).await?;
    let factor = match locked {
        true => factors::find_by_user(txn, user_id).await?,
        false => None,
    };
    let Some(factor) = factor else {
        return Ok(false);
    };
    let codes = backup_codes::decode_from_better_auth(secret, &factor.backup_codes);
    let Some(pos) = codes
        .as_deref()
        .and_then(|c| backup_codes::position(c, code))
    else {
        return Ok(false);
    };
    let claimed = code_rows::spend(txn, user_id, &hashes, now).await?
        || (!code_rows::exists(txn, user_id, &hashes).await?
            && code_rows::insert_spent(txn, user_id, &hashes, now)
                .await
                .is_ok());
    if !claimed {
        return Ok(false);
    }
    let mut remaining = codes.unwrap_or_default();
    remaining.remove(pos);
    let updated = backup_codes::encode_for_better_auth(secret, &remaining);
    if !factors::swap_backup_codes(txn, &factor.id, &factor.backup_codes, &updated).await? {
        // A Better Auth server changed the list between our read and write.
        return Err(ApiError::body(
            StatusCode::CONFLICT,
            ErrorBody::message_only("Failed to verify backup code. Please try again."),
        ));
    }
    Ok(true)
}
