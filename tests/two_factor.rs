//! The two-factor plugin over real HTTP, on every configured database.
//!
//! Expected values are what Better Auth 1.7.25 answers (better-auth:
//! dist/plugins/two-factor/**), checked against the reference server through
//! `tests/js/two-factor.test.mjs` and the package code.
//!
//! # Ported upstream cases
//! Every HTTP-observable case of Better Auth's own plugin tests
//! (`packages/better-auth/src/plugins/two-factor/{two-factor,two-factor.security,
//! two-factor.attempt-cap,two-factor.account-lockout}.test.ts`, repo main @ 451aa4b)
//! is a scenario below named after it, with a comment citing file › describe › case.
//! `auth.api.*` calls became HTTP requests; reads of upstream's `db` adapter became the
//! equivalent observable behaviour where one exists, and otherwise reads or writes of
//! Better Auth's schema (`twoFactor`, `verification`, `user`, `account` — the columns a
//! server sharing the database must honour, protocol notes §8) through sea-orm; see `db`.
//! The repo snapshot (1.7.1) is older than the 1.7.25 package; where they disagree the
//! scenario follows the package and says so (one case: re-enabling a verified TOTP is
//! 400 TOTP_ALREADY_ENABLED in 1.7.25, a silent re-enrolment in the repo; see
//! `issue_8627_should_preserve_verified_state_during_re_enrollment`).
//!
//! Scenarios run through `two_factor_scenarios!`, the same one-test-per-backend expansion
//! as `on_every_backend!`, plus a per-scenario server configuration ([`Setup`]) and, where
//! OTP is on, an [`OtpWebhook`] started before the server so its URL can be passed as
//! `PORTCULLIS_OTP_WEBHOOK_URL`.
//!
//! Portcullis has fixed values for options upstream tests vary: OTP attempts 5
//! (upstream security test configures 3), account lockout 10 failures / 900 s
//! (upstream configures 3), default app name "Portcullis" (Better Auth: "Better Auth").
//!
//! # Skipped upstream cases (not observable over HTTP, or no Portcullis equivalent)
//! - two-factor.test.ts › OTP-only enablement › "should reject TOTP enable when
//!   totpOptions.disable is set"; twoFactorMethods in sign-in response › totp disabled in
//!   config › "should return twoFactorMethods: ['otp'] when totp is disabled in config":
//!   Portcullis has no setting to disable TOTP.
//! - two-factor.test.ts › trustDeviceMaxAge › "should use custom trustDeviceMaxAge…";
//!   twoFactorCookieMaxAge › "should use custom twoFactorCookieMaxAge…"; twoFactorTable
//!   option › "should use custom table name…": not configurable in Portcullis (the default
//!   cases are ported).
//! - two-factor.test.ts › OTP storage modes › "should verify OTP when stored as encrypted",
//!   custom hash function › "should verify OTP with custom hash function": the storage
//!   mode is not configurable; the hashed-mode cases are ported as the behaviour of
//!   Portcullis's fixed storage.
//! - two-factor.test.ts › backup codes storage configurations › "should preserve plain…" and
//!   "…custom storage format…": not configurable; the "encrypted" (default) case is ported.
//! - two-factor.test.ts › 2FA enforcement scope › "should not challenge 2FA on magic-link
//!   sign-in": no magic-link plugin.
//! - two-factor.security.test.ts › cookieCache enabled › the `/sign-in/phone-number`
//!   parameterisations: no phone-number plugin. The `/sign-in/email` ones are ported without
//!   a cookie cache (Portcullis has none); the response must carry no live `session_data`
//!   either way. The `x-new-session-visible` probe is an in-process hook: not observable.
//! - two-factor.security.test.ts › chunked session_data is fully scrubbed (both cases):
//!   needs a cookie cache and additional user fields.
//! - two-factor.security.test.ts › OTP attempts are atomic under concurrency: the three
//!   cases are ported, but upstream forces the race with a slow secondary storage, which has
//!   no HTTP equivalent; here the burst is real concurrency.
//! - two-factor.account-lockout.test.ts › "does not lock when account lockout is disabled":
//!   no setting; "sets the lock with a guarded counter transition": a unit test of
//!   `recordTwoFactorFailure` with a mocked adapter.
//!
//! # Beyond Better Auth
//! Portcullis additionally refuses a TOTP time step already accepted for the user (Better
//! Auth accepts a code again within its window, protocol notes §9.4), so these scenarios
//! submit step t at enrolment and step t+1 afterwards (±1 step is accepted) and never
//! need a third TOTP per user; see also the `beyond_*` scenarios.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use common::{Backend, Res, SECRET, TestClient, TestServer, webhook::OtpWebhook};
use futures_util::future::join_all;
use portcullis_entity::{account, session, two_factor, user, verification};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value as SqlValue, sea_query::Query,
};
use serde_json::{Value, json};

const PW: &str = "password123";
const SESSION: &str = "better-auth.session_token";
const SESSION_DATA: &str = "better-auth.session_data";
const DONT_REMEMBER: &str = "better-auth.dont_remember";
const TWO_FACTOR: &str = "better-auth.two_factor";
const TRUST: &str = "better-auth.trust_device";
const DAY: i64 = 86_400;

// ---------------------------------------------------------------- configurations

/// The server configuration a scenario runs under.
#[derive(Clone, Copy)]
struct Setup {
    /// Start an OTP webhook listener and pass it as `PORTCULLIS_OTP_WEBHOOK_URL`
    /// (Better Auth: `otpOptions.sendOTP` configured).
    otp: bool,
    env: &'static [(&'static str, &'static str)],
}

/// `twoFactor({ otpOptions: { sendOTP } })`, the configuration most upstream tests use.
const OTP: Setup = Setup {
    otp: true,
    env: &[],
};
/// `twoFactor()`: no OTP delivery.
const NO_OTP: Setup = Setup {
    otp: false,
    env: &[],
};
/// `skipVerificationOnEnable: true` (with OTP delivery).
const SKIP_VERIFY: Setup = Setup {
    otp: true,
    env: &[("PORTCULLIS_TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE", "1")],
};
/// `skipVerificationOnEnable: true`, no OTP delivery.
const SKIP_VERIFY_NO_OTP: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE", "1")],
};
/// `allowPasswordless: true`, no OTP delivery.
const PASSWORDLESS: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_TWO_FACTOR_ALLOW_PASSWORDLESS", "1")],
};
/// `plugins: [twoFactor(), username()]`.
const USERNAME: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_PLUGINS", "two-factor,username")],
};
/// `appName: "My App"`.
const APP_NAME: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_APP_NAME", "My App")],
};
/// `appName: "My App"`, `twoFactor({ issuer: "Top Issuer" })`.
const ISSUER: Setup = Setup {
    otp: false,
    env: &[
        ("PORTCULLIS_APP_NAME", "My App"),
        ("PORTCULLIS_TWO_FACTOR_ISSUER", "Top Issuer"),
    ],
};

/// A running server plus, with [`Setup::otp`], the webhook that receives its OTPs.
struct Tf {
    s: TestServer,
    hook: Option<OtpWebhook>,
}

impl Tf {
    fn client(&self) -> TestClient {
        self.s.client()
    }

    fn hook(&self) -> &OtpWebhook {
        self.hook
            .as_ref()
            .expect("this scenario needs a Setup with otp: true")
    }

    fn conn(&self) -> &sea_orm::DatabaseConnection {
        &self.s.state.db.conn
    }

    /// POST /two-factor/send-otp with `c`'s cookies and returns the code the webhook got.
    async fn send_otp(&self, c: &mut TestClient, email: &str) -> String {
        let seen = self.hook().count_for(email);
        let res = c.post("/two-factor/send-otp", json!({})).await;
        assert_eq!(res.status, 200, "send-otp: {}", res.text);
        assert_eq!(res.json(), json!({"status": true}));
        self.hook().otp_after(email, seen).await
    }
}

async fn run(backend: Backend, setup: Setup, scenario: impl AsyncFnOnce(&Tf)) {
    let hook = if setup.otp {
        Some(OtpWebhook::start().await)
    } else {
        None
    };
    let mut env: Vec<(&str, &str)> = setup.env.to_vec();
    if let Some(h) = &hook {
        env.push(("PORTCULLIS_OTP_WEBHOOK_URL", h.url.as_str()));
    }
    let Some(s) = TestServer::start_with(backend, &env).await else {
        eprintln!("{backend:?} not configured (PORTCULLIS_TEST_*_URL unset); skipped");
        return;
    };
    let t = Tf { s, hook };
    let outcome = common::catch_panic(scenario(&t)).await;
    let Tf { s, hook } = t;
    s.stop().await;
    if let Some(h) = hook {
        h.stop().await;
    }
    common::finish(outcome);
}

/// Like `on_every_backend!`, with a [`Setup`] per scenario `async fn name(t: &Tf)`.
macro_rules! two_factor_scenarios {
    ($($name:ident : $setup:expr),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Sqlite, $setup, super::$name).await })*
        }
        mod postgres {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Postgres, $setup, super::$name).await })*
        }
        mod mysql {
            use super::*;
            $(#[actix_web::test] async fn $name() { run(Backend::Mysql, $setup, super::$name).await })*
        }
    };
}

// ---------------------------------------------------------------- TOTP (RFC 6238)

/// The authenticator-app side: keyed with the otpauth URI's `secret=` (base32), HMAC-SHA1,
/// dynamic truncation (RFC 4226 §5.3), T0 = 0.
#[derive(Clone, Debug)]
struct Authenticator {
    key: Vec<u8>,
    digits: u32,
    period: u64,
}

fn query_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    uri.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = usize::from(h[h.len() - 1] & 0x0f);
    let bin =
        u32::from_be_bytes([h[offset], h[offset + 1], h[offset + 2], h[offset + 3]]) & 0x7fff_ffff;
    format!(
        "{:0width$}",
        bin % 10u32.pow(digits),
        width = digits as usize
    )
}

impl Authenticator {
    fn from_uri(uri: &str) -> Self {
        let secret = query_param(uri, "secret").unwrap_or_else(|| panic!("no secret in {uri}"));
        let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, secret)
            .unwrap_or_else(|| panic!("secret is not base32: {uri}"));
        let digits = query_param(uri, "digits").map_or(6, |d| d.parse().unwrap());
        let period = query_param(uri, "period").map_or(30, |p| p.parse().unwrap());
        Self {
            key,
            digits,
            period,
        }
    }

    fn step(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / self.period
    }

    fn code(&self, step: u64) -> String {
        hotp(&self.key, step, self.digits)
    }

    /// A code no step within ±3 of now produces.
    fn wrong_code(&self) -> String {
        let now = self.step();
        let valid: Vec<String> = (now - 3..=now + 3).map(|s| self.code(s)).collect();
        (0..)
            .map(|i: u32| format!("{:06}", 123_456 + i * 7))
            .find(|c| !valid.contains(c))
            .unwrap()
    }
}

#[test]
fn authenticator_matches_rfc6238_sha1_vectors() {
    // RFC 6238 appendix B (SHA-1), truncated to 6 digits; protocol notes §13 vector 8.
    let key = b"12345678901234567890";
    assert_eq!(hotp(key, 1, 6), "287082");
    assert_eq!(hotp(key, 37_037_036, 6), "081804");
    assert_eq!(hotp(key, 37_037_037, 6), "050471");
    assert_eq!(hotp(key, 41_152_263, 6), "005924");
    assert_eq!(hotp(key, 66_666_666, 6), "279037");
    assert_eq!(hotp(key, 666_666_666, 6), "353130");
    assert_eq!(hotp(key, 1, 8), "94287082");
    let a = Authenticator::from_uri(
        "otpauth://totp/My%20App:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My+App&digits=6&period=30",
    );
    assert_eq!(a.key, key);
    assert_eq!(a.code(1), "287082");
}

// ---------------------------------------------------------------- helpers

fn email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    )
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn is_backup_code(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 11
        && b[5] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, ch)| i == 5 || ch.is_ascii_alphanumeric())
}

/// Percent-decodes a cookie value as the client sends it back.
fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The payload of a signed cookie value (`encodeURIComponent(value + "." + sig)`).
fn unsigned(cookie_value: &str) -> String {
    let decoded = percent_decode(cookie_value);
    let (value, sig) = decoded
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("not a signed cookie: {cookie_value}"));
    assert_eq!(sig.len(), 44, "signature of {cookie_value}");
    value.to_string()
}

/// The value of the last Set-Cookie line for `name` ("" for an expiry).
fn set_cookie_value(res: &Res, name: &str) -> Option<String> {
    res.cookie_line(name)
        .map(|l| l.split(';').next().unwrap()[name.len() + 1..].to_string())
}

fn expiry_line(name: &str) -> String {
    format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
}

fn assert_expires(res: &Res, name: &str) {
    assert!(
        res.set_cookies.contains(&expiry_line(name)),
        "expected {name} to be expired; Set-Cookie: {:?}",
        res.set_cookies
    );
}

/// No `session_token` / `session_data[.N]` Set-Cookie line with a non-empty value.
fn assert_no_live_session_cookie(res: &Res) {
    for l in &res.set_cookies {
        if l.starts_with(&format!("{SESSION}=")) || l.starts_with(SESSION_DATA) {
            let value = l.split(';').next().unwrap().split_once('=').unwrap().1;
            assert_eq!(value, "", "live session cookie leaked: {l}");
        }
    }
}

fn assert_redirect(res: &Res, methods: &[&str]) {
    assert_eq!(res.status, 200, "sign-in: {}", res.text);
    assert_eq!(
        res.json(),
        json!({"twoFactorRedirect": true, "twoFactorMethods": methods}),
        "sign-in body"
    );
}

/// A copy of `c` (same cookies) to race requests on one challenge.
fn twin(t: &Tf, c: &TestClient) -> TestClient {
    let mut n = t.client();
    n.jar = c.jar.clone();
    n
}

/// A client holding only the given cookie.
fn with_cookie(t: &Tf, name: &str, value: &str) -> TestClient {
    let mut c = t.client();
    c.jar.push((name.to_string(), value.to_string()));
    c
}

struct User {
    email: String,
    id: String,
    /// Signed in (the sign-up session, or the one a later step rotated to).
    client: TestClient,
}

async fn new_user(t: &Tf, tag: &str) -> User {
    let mut client = t.client();
    let e = email(tag);
    let id = client.sign_up(&e, PW).await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    User {
        email: e,
        id,
        client,
    }
}

struct Enabled {
    uri: String,
    auth: Authenticator,
    backup_codes: Vec<String>,
}

async fn enable_totp(c: &mut TestClient) -> Enabled {
    let res = c.post("/two-factor/enable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "enable: {}", res.text);
    let body = res.json();
    assert_eq!(body["method"], "totp");
    let uri = body["totpURI"].as_str().unwrap().to_string();
    Enabled {
        auth: Authenticator::from_uri(&uri),
        uri,
        backup_codes: strings(&body["backupCodes"]),
    }
}

/// A user with TOTP enabled and verified with the code for step `t0`.
struct TotpUser {
    u: User,
    auth: Authenticator,
    t0: u64,
    backup_codes: Vec<String>,
}

async fn totp_user(t: &Tf, tag: &str) -> TotpUser {
    let mut u = new_user(t, tag).await;
    let e = enable_totp(&mut u.client).await;
    let t0 = e.auth.step();
    let res = verify_totp(&mut u.client, &e.auth.code(t0)).await;
    assert_eq!(res.status, 200, "enrolment verify-totp: {}", res.text);
    TotpUser {
        u,
        auth: e.auth,
        t0,
        backup_codes: e.backup_codes,
    }
}

/// A user with 2FA enabled by `method: "otp"`.
async fn otp_user(t: &Tf, tag: &str) -> User {
    let mut u = new_user(t, tag).await;
    let res = u
        .client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await;
    assert_eq!(res.status, 200, "enable otp: {}", res.text);
    assert_eq!(res.json(), json!({"method": "otp"}));
    u
}

/// Signs in from a fresh client and expects a challenge offering `methods`.
async fn challenge(t: &Tf, email: &str, methods: &[&str]) -> TestClient {
    let mut c = t.client();
    let res = c.sign_in(email, PW).await;
    assert_redirect(&res, methods);
    assert!(c.cookie(TWO_FACTOR).is_some(), "two_factor cookie set");
    assert!(c.cookie(SESSION).is_none(), "no session while challenged");
    c
}

async fn verify_totp(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-totp", json!({"code": code}))
        .await
}

async fn verify_backup(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-backup-code", json!({"code": code}))
        .await
}

async fn verify_otp(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-otp", json!({"code": code}))
        .await
}

fn other_otp(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

async fn get_session(c: &mut TestClient) -> Value {
    let res = c.get("/get-session").await;
    assert_eq!(res.status, 200, "get-session: {}", res.text);
    res.json()
}

fn assert_totp_uri(uri: &str, issuer_path: &str, issuer_query: &str, email: &str) {
    // better-auth: @better-auth/utils dist/otp.mjs (url): label and issuer encoded with
    // encodeURIComponent, query values form-encoded; 52-char unpadded base32 secret.
    let prefix = format!(
        "otpauth://totp/{issuer_path}:{}?secret=",
        email.replace('@', "%40")
    );
    let suffix = format!("&issuer={issuer_query}&digits=6&period=30");
    let secret = uri
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(&suffix))
        .unwrap_or_else(|| panic!("unexpected totpURI {uri} (want {prefix}…{suffix})"));
    assert_eq!(secret.len(), 52, "{uri}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "{uri}"
    );
}

// ---------------------------------------------------------------- database (Better Auth schema)

/// Reads and writes of Better Auth's tables, for upstream cases that manipulate rows
/// (a server sharing the database with Better Auth must honour these columns).
mod db {
    use super::*;

    pub async fn two_factor_row(t: &Tf, user_id: &str) -> Option<two_factor::Model> {
        two_factor::Entity::find()
            .filter(two_factor::Column::UserId.eq(user_id))
            .one(t.conn())
            .await
            .unwrap()
    }

    pub async fn set_two_factor(t: &Tf, user_id: &str, col: two_factor::Column, v: SqlValue) {
        let stmt = Query::update()
            .table(two_factor::Entity)
            .value(col, v)
            .and_where(two_factor::Column::UserId.eq(user_id))
            .to_owned();
        t.conn().execute(&stmt).await.unwrap();
    }

    pub fn ts(t: &Tf, at: time::OffsetDateTime) -> SqlValue {
        portcullis_server::store::ts(t.conn().get_database_backend(), at)
    }

    pub async fn verification_row(t: &Tf, identifier: &str) -> Option<verification::Model> {
        verification::Entity::find()
            .filter(verification::Column::Identifier.eq(identifier))
            .one(t.conn())
            .await
            .unwrap()
    }

    /// Moves every `verification` row named `identifier` `secs` seconds into the past.
    pub async fn expire_verification(t: &Tf, identifier: &str, secs: i64) {
        let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(secs);
        let stmt = Query::update()
            .table(verification::Entity)
            .value(verification::Column::ExpiresAt, ts(t, past))
            .and_where(verification::Column::Identifier.eq(identifier))
            .to_owned();
        let n = t.conn().execute(&stmt).await.unwrap().rows_affected();
        assert!(n > 0, "no verification row {identifier}");
    }

    pub async fn set_user_two_factor_enabled(t: &Tf, user_id: &str, on: bool) {
        let stmt = Query::update()
            .table(user::Entity)
            .value(user::Column::TwoFactorEnabled, on)
            .and_where(user::Column::Id.eq(user_id))
            .to_owned();
        t.conn().execute(&stmt).await.unwrap();
    }

    /// Deletes the user's `credential` account (a user without a password).
    pub async fn delete_credential_account(t: &Tf, user_id: &str) {
        let n = account::Entity::delete_many()
            .filter(account::Column::UserId.eq(user_id))
            .filter(account::Column::ProviderId.eq("credential"))
            .exec(t.conn())
            .await
            .unwrap()
            .rows_affected;
        assert_eq!(n, 1);
    }

    pub async fn session_count(t: &Tf, user_id: &str) -> usize {
        session::Entity::find()
            .filter(session::Column::UserId.eq(user_id))
            .all(t.conn())
            .await
            .unwrap()
            .len()
    }
}

/// Better Auth's `symmetricDecrypt` (better-auth: dist/crypto/index.mjs): key =
/// SHA-256(UTF-8 secret), XChaCha20-Poly1305, hex of nonce(24) ‖ ciphertext ‖ tag.
fn better_auth_decrypt(hex: &str) -> String {
    use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce, aead::Aead};
    use sha2::Digest;
    assert!(
        hex.len().is_multiple_of(2) && hex.len() > 80,
        "not hex ciphertext: {hex}"
    );
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let key = sha2::Sha256::digest(SECRET.as_bytes());
    let cipher = XChaCha20Poly1305::new_from_slice(&key).unwrap();
    let plain = cipher
        .decrypt(XNonce::from_slice(&bytes[..24]), &bytes[24..])
        .expect("decrypts with Better Auth's key derivation");
    String::from_utf8(plain).unwrap()
}

// ================================================================ upstream: two-factor.test.ts › "two factor"

/// upstream two-factor.test.ts › two factor › "should return uri and backup codes and
/// shouldn't enable twoFactor yet"
async fn should_return_uri_and_backup_codes_and_not_enable_two_factor_yet(t: &Tf) {
    let mut u = new_user(t, "uri").await;
    let res = u
        .client
        .post("/two-factor/enable", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["backupCodes", "method", "totpURI"]);
    assert_eq!(body["method"], "totp");
    let codes = strings(&body["backupCodes"]);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
    let mut distinct = codes.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert_totp_uri(
        body["totpURI"].as_str().unwrap(),
        "Portcullis",
        "Portcullis",
        &u.email,
    );
    // Pending: no session rotation, the user flag stays off, the row is `verified: false`.
    assert!(res.cookie_line(SESSION).is_none(), "{:?}", res.set_cookies);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        false
    );
    let row = db::two_factor_row(t, &u.id).await.expect("twoFactor row");
    assert_eq!(row.verified, Some(false));
    assert!(!row.secret.is_empty() && !row.backup_codes.is_empty());
    let mut c = t.client();
    let signin = c.sign_in(&u.email, PW).await;
    assert_eq!(signin.status, 200);
    assert!(
        signin.json().get("twoFactorRedirect").is_none(),
        "{}",
        signin.text
    );
}

/// upstream two-factor.test.ts › two factor › "should use custom issuer from request parameter"
async fn should_use_custom_issuer_from_request_parameter(t: &Tf) {
    let mut u = new_user(t, "issuer").await;
    enable_totp(&mut u.client).await;
    // Re-enabling while the enrolment is pending is allowed (better-auth:
    // dist/plugins/two-factor/index.mjs, enableTwoFactor: only `verified !== false` refuses).
    let res = u
        .client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "issuer": "Custom App Name"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let uri = res.json()["totpURI"].as_str().unwrap().to_string();
    assert!(
        uri.starts_with("otpauth://totp/Custom%20App%20Name:"),
        "{uri}"
    );
    assert!(uri.contains("&issuer=Custom+App+Name&"), "{uri}");
    assert_totp_uri(&uri, "Custom%20App%20Name", "Custom+App+Name", &u.email);
}

/// upstream two-factor.test.ts › two factor › "should fallback to appName when no issuer
/// provided". Portcullis's default app name is "Portcullis" (Better Auth's: "Better Auth").
async fn should_fallback_to_app_name_when_no_issuer_provided(t: &Tf) {
    let mut u = new_user(t, "appname").await;
    let e = enable_totp(&mut u.client).await;
    assert!(e.uri.starts_with("otpauth://totp/Portcullis:"), "{}", e.uri);
    assert!(e.uri.contains("&issuer=Portcullis&"), "{}", e.uri);
}

/// upstream two-factor.test.ts › two factor › "should enable twoFactor" (upstream reads the
/// secret of the latest enable from the database; here it comes from the latest URI).
async fn should_enable_two_factor(t: &Tf) {
    let mut u = new_user(t, "enable").await;
    let first = enable_totp(&mut u.client).await;
    let latest = enable_totp(&mut u.client).await;
    assert_ne!(
        first.auth.key, latest.auth.key,
        "re-enable replaces the secret"
    );
    let step = latest.auth.step();
    if first.auth.code(step) != latest.auth.code(step) {
        verify_totp(&mut u.client, &first.auth.code(step))
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_totp(&mut u.client, &latest.auth.code(step)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!res.json()["token"].as_str().unwrap().is_empty());
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › two factor › "should require two factor"
async fn should_require_two_factor(t: &Tf) {
    let tu = totp_user(t, "require").await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": tu.u.email, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_redirect(&res, &["totp", "otp"]);
    // better-auth: dist/plugins/two-factor/index.mjs (after hook): provisional session
    // cookies expired, `dont_remember` kept, signed challenge cookie for 600 s.
    assert_expires(&res, SESSION);
    assert_expires(&res, SESSION_DATA);
    assert_no_live_session_cookie(&res);
    let challenge_line = res.cookie_line(TWO_FACTOR).unwrap();
    assert!(
        challenge_line.ends_with("; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"),
        "{challenge_line}"
    );
    assert!(!set_cookie_value(&res, DONT_REMEMBER).unwrap().is_empty());
    assert!(c.cookie(DONT_REMEMBER).is_some());

    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!res.json()["token"].as_str().unwrap().is_empty());
    let line = res.cookie_line(SESSION).unwrap();
    assert!(
        !line.contains("Max-Age"),
        "rememberMe:false → no Max-Age: {line}"
    );
}

/// upstream two-factor.test.ts › two factor › "should fail if two factor cookie is missing"
async fn should_fail_if_two_factor_cookie_is_missing(t: &Tf) {
    let tu = totp_user(t, "nocookie").await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": tu.u.email, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_redirect(&res, &["totp", "otp"]);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
    // The browser keeps dont_remember but drops the challenge cookie.
    c.jar.retain(|(n, _)| n != TWO_FACTOR);
    let send = c.post("/two-factor/send-otp", json!({})).await;
    send.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    let res = verify_otp(&mut c, "123456").await;
    res.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    assert!(res.cookie_line(SESSION).is_none(), "{:?}", res.set_cookies);
}

/// upstream two-factor.test.ts › two factor › "should fail when passing invalid TOTP code with
/// expected error code"
async fn should_fail_when_passing_invalid_totp_code_with_expected_error_code(t: &Tf) {
    let mut tu = totp_user(t, "badcode").await;
    verify_totp(&mut tu.u.client, "invalid-code")
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
}

/// upstream two-factor.test.ts › two factor › "should generate backup codes"
async fn should_generate_backup_codes(t: &Tf) {
    let mut tu = totp_user(t, "gen").await;
    let res =
        tu.u.client
            .post("/two-factor/generate-backup-codes", json!({"password": PW}))
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["backupCodes", "status"]);
    assert_eq!(body["status"], true);
    let codes = strings(&body["backupCodes"]);
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
}

/// upstream two-factor.test.ts › two factor › "should allow sign in with backup code"
/// (upstream checks the stored list with the server-only `viewBackupCodes`; here the used
/// code is refused on a later challenge).
async fn should_allow_sign_in_with_backup_code(t: &Tf) {
    let mut tu = totp_user(t, "backup").await;
    let res =
        tu.u.client
            .post("/two-factor/generate-backup-codes", json!({"password": PW}))
            .await;
    let codes = strings(&res.json()["backupCodes"]);

    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_backup(&mut c, &codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let token = set_cookie_value(&res, SESSION).unwrap();
    assert!(!token.is_empty());

    let mut c2 = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_backup(&mut c2, "invalid-code").await;
    res.assert_error(401, "INVALID_BACKUP_CODE", "Invalid backup code");
    assert!(res.cookie_line(SESSION).is_none());
    verify_backup(&mut c2, &codes[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
}

/// upstream two-factor.test.ts › two factor › "should trust device"
async fn should_trust_device(t: &Tf) {
    let tu = totp_user(t, "trust").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let first = set_cookie_value(&res, TRUST).expect("trust_device cookie");
    assert!(!first.is_empty());

    // Sign in with only the trust cookie: no challenge, and the cookie is rotated.
    let mut n = with_cookie(t, TRUST, &first);
    let res = n.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str());
    let rotated = set_cookie_value(&res, TRUST).expect("rotated trust_device cookie");
    assert!(!rotated.is_empty());
    assert_ne!(rotated, first);

    // The pre-rotation cookie no longer works (its server-side record was replaced).
    let mut old = with_cookie(t, TRUST, &first);
    assert_redirect(&old.sign_in(&tu.u.email, PW).await, &["totp", "otp"]);
    // The rotated one does.
    let mut fresh = with_cookie(t, TRUST, &rotated);
    let res = fresh.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str(), "{}", res.text);
}

/// upstream two-factor.test.ts › two factor › "should limit OTP verification attempts"
async fn should_limit_otp_verification_attempts(t: &Tf) {
    let tu = totp_user(t, "otplimit").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    for _ in 0..5 {
        verify_otp(&mut c, other_otp(&otp))
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    verify_otp(&mut c, &otp).await.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
}

/// upstream two-factor.test.ts › two factor › "should disable two factor"
async fn should_disable_two_factor(t: &Tf) {
    let mut tu = totp_user(t, "disable").await;
    let res =
        tu.u.client
            .post("/two-factor/disable", json!({"password": PW}))
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
    assert_eq!(
        get_session(&mut tu.u.client).await["user"]["twoFactorEnabled"],
        false
    );
    let mut c = t.client();
    let res = c.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str(), "{}", res.text);
}

// ================================================================ upstream: two-factor.test.ts › "OTP-only enablement"

/// upstream two-factor.test.ts › OTP-only enablement › "should enable 2FA with OTP method"
async fn otp_only_should_enable_2fa_with_otp_method(t: &Tf) {
    let mut u = new_user(t, "otponly").await;
    let before = u.client.cookie(SESSION).unwrap().to_string();
    let res = u
        .client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"method": "otp"}));
    // Enabled at once, on a rotated session (better-auth: dist/plugins/two-factor/index.mjs).
    assert_ne!(u.client.cookie(SESSION).unwrap(), before);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › OTP-only enablement › "should only report OTP in
/// twoFactorMethods at sign-in"
async fn otp_only_should_only_report_otp_in_two_factor_methods_at_sign_in(t: &Tf) {
    let u = otp_user(t, "otponly").await;
    challenge(t, &u.email, &["otp"]).await;
}

/// upstream two-factor.test.ts › OTP-only enablement › "should reject OTP enable when sendOTP
/// is not configured"
async fn otp_only_should_reject_otp_enable_when_send_otp_is_not_configured(t: &Tf) {
    let mut u = new_user(t, "nootp").await;
    u.client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await
        .assert_error(400, "OTP_NOT_CONFIGURED", "OTP is not available");
}

/// upstream two-factor.test.ts › OTP-only enablement › "should preserve existing TOTP row when
/// enabling OTP"
async fn otp_only_should_preserve_existing_totp_row_when_enabling_otp(t: &Tf) {
    let mut tu = totp_user(t, "keep").await;
    let before = db::two_factor_row(t, &tu.u.id).await.unwrap();
    let res =
        tu.u.client
            .post(
                "/two-factor/enable",
                json!({"password": PW, "method": "otp"}),
            )
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let after = db::two_factor_row(t, &tu.u.id).await.unwrap();
    assert_eq!(after.secret, before.secret);
    assert_eq!(after.verified, Some(true));
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "TOTP still works: {}", res.text);
}

// ================================================================ upstream: two-factor.test.ts › "two factor auth API"

/// upstream two-factor.test.ts › two factor auth API › "should enable two factor with OTP method"
async fn auth_api_should_enable_two_factor_with_otp_method(t: &Tf) {
    let mut u = otp_user(t, "api").await;
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

/// upstream two-factor.test.ts › two factor auth API › "should request second factor"
async fn auth_api_should_request_second_factor(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    assert_eq!(res.status, 200);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
    assert_eq!(set_cookie_value(&res, SESSION).as_deref(), Some(""));
}

/// upstream two-factor.test.ts › two factor auth API › "should send otp"
async fn auth_api_should_send_otp(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = c
        .post("/two-factor/send-otp", json!({"trustDevice": false}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
    let body = t
        .hook()
        .wait_for(&u.email, 0, common::webhook::DEFAULT_TIMEOUT)
        .await;
    let otp = body["otp"].as_str().unwrap();
    assert_eq!(otp.len(), 6);
    assert!(otp.bytes().all(|b| b.is_ascii_digit()), "{otp}");
    assert_eq!(body["email"], u.email.as_str());
    assert_eq!(body["userId"], u.id.as_str());
    assert_eq!(t.hook().count_for(&u.email), 1, "sent once");
}

/// upstream two-factor.test.ts › two factor auth API › "should verify otp"
async fn auth_api_should_verify_otp(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!set_cookie_value(&res, SESSION).unwrap().is_empty());
}

/// upstream two-factor.test.ts › two factor auth API › "should disable two factor"
async fn auth_api_should_disable_two_factor(t: &Tf) {
    let u = otp_user(t, "api").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    assert_eq!(verify_otp(&mut c, &otp).await.status, 200);
    let res = c.post("/two-factor/disable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(get_session(&mut c).await["user"]["twoFactorEnabled"], false);
}

// ================================================================ upstream: two-factor.test.ts › "view backup codes"

/// Upstream's "view backup codes" setup: 2FA enabled by OTP, then a TOTP enrolment that is
/// left pending (its backup codes are already live). Returns the user and the enable codes.
async fn otp_user_with_pending_totp(t: &Tf, tag: &str) -> (User, Vec<String>) {
    let mut u = otp_user(t, tag).await;
    let e = enable_totp(&mut u.client).await;
    (u, e.backup_codes)
}

async fn generate_codes(c: &mut TestClient) -> Vec<String> {
    let res = c
        .post("/two-factor/generate-backup-codes", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "generate-backup-codes: {}", res.text);
    assert_eq!(res.json()["status"], true);
    let codes = strings(&res.json()["backupCodes"]);
    assert_eq!(codes.len(), 10);
    codes
}

/// upstream two-factor.test.ts › view backup codes › "should return parsed array of backup
/// codes, not JSON string" (`viewBackupCodes` is server-only; the codes enable returned are
/// an array of strings and are the live set).
async fn view_backup_codes_should_return_parsed_array_not_json_string(t: &Tf) {
    let (u, codes) = otp_user_with_pending_totp(t, "view").await;
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|c| is_backup_code(c)), "{codes:?}");
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = verify_backup(&mut c, &codes[3]).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.test.ts › view backup codes › "should return array after generating new
/// backup codes"
async fn view_backup_codes_should_return_array_after_generating_new_backup_codes(t: &Tf) {
    let (mut u, old) = otp_user_with_pending_totp(t, "view").await;
    let generated = generate_codes(&mut u.client).await;
    assert!(generated.iter().all(|c| is_backup_code(c)));
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_backup(&mut c, &old[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    assert_eq!(verify_backup(&mut c, &generated[0]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should successfully regenerate backup
/// codes multiple times"
async fn view_backup_codes_should_successfully_regenerate_backup_codes_multiple_times(t: &Tf) {
    let (mut u, _) = otp_user_with_pending_totp(t, "view").await;
    let first = generate_codes(&mut u.client).await;
    let second = generate_codes(&mut u.client).await;
    assert_ne!(first, second);
    let third = generate_codes(&mut u.client).await;
    assert_ne!(third, second);
    // Only the latest generation is live.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    for stale in [&first[0], &second[0]] {
        verify_backup(&mut c, stale).await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    assert_eq!(verify_backup(&mut c, &third[0]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should correctly update backup codes after
/// verification"
async fn view_backup_codes_should_correctly_update_backup_codes_after_verification(t: &Tf) {
    let (mut u, _) = otp_user_with_pending_totp(t, "view").await;
    let codes = generate_codes(&mut u.client).await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let res = verify_backup(&mut c, &codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(!set_cookie_value(&res, SESSION).unwrap().is_empty());
    // The used code is gone, the other nine remain.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_backup(&mut c, &codes[0]).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    assert_eq!(verify_backup(&mut c, &codes[1]).await.status, 200);
    let mut c = challenge(t, &u.email, &["otp"]).await;
    assert_eq!(verify_backup(&mut c, &codes[9]).await.status, 200);
}

/// upstream two-factor.test.ts › view backup codes › "should not expose viewBackupCodes to client"
async fn view_backup_codes_should_not_expose_view_backup_codes_to_client(t: &Tf) {
    let (u, _) = otp_user_with_pending_totp(t, "view").await;
    let mut c = t.client();
    let res = c
        .post("/two-factor/view-backup-codes", json!({"userId": u.id}))
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(res.text, "");
}

// ================================================================ upstream: two-factor.test.ts › "trust device server-side validation"

/// Completes an OTP challenge with `trustDevice: true`; returns the signed-in client (holding
/// the trust cookie) and the trust cookie's verification identifier.
async fn trusted_sign_in(t: &Tf, email: &str, methods: &[&str]) -> (TestClient, String) {
    let mut c = challenge(t, email, methods).await;
    let otp = t.send_otp(&mut c, email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let value = unsigned(c.cookie(TRUST).expect("trust_device cookie"));
    let (_, identifier) = value.split_once('!').unwrap();
    assert!(identifier.starts_with("trust-device-"), "{value}");
    (c, identifier.to_string())
}

/// upstream two-factor.test.ts › trust device server-side validation › "should force 2FA when
/// server-side trust record is expired"
async fn trust_device_should_force_2fa_when_server_side_trust_record_is_expired(t: &Tf) {
    let u = otp_user(t, "trustexp").await;
    let (c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    assert!(db::verification_row(t, &identifier).await.is_some());
    db::expire_verification(t, &identifier, 1).await;
    let mut n = with_cookie(t, TRUST, c.cookie(TRUST).unwrap());
    let res = n.sign_in(&u.email, PW).await;
    assert_redirect(&res, &["otp"]);
    assert_eq!(set_cookie_value(&res, TRUST).as_deref(), Some(""));
    assert_expires(&res, TRUST);
}

/// upstream two-factor.test.ts › trust device server-side validation › "should preserve trust
/// device after sign-out"
async fn trust_device_should_preserve_trust_device_after_sign_out(t: &Tf) {
    let u = otp_user(t, "trustout").await;
    let (mut c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    let trust = c.cookie(TRUST).unwrap().to_string();
    let res = c.post("/sign-out", json!({})).await;
    assert_eq!(res.status, 200);
    assert!(
        set_cookie_value(&res, TRUST).is_none_or(|v| !v.is_empty()),
        "sign-out must not clear the trust cookie: {:?}",
        res.set_cookies
    );
    assert!(db::verification_row(t, &identifier).await.is_some());
    let mut n = with_cookie(t, TRUST, &trust);
    let res = n.sign_in(&u.email, PW).await;
    assert_eq!(
        res.json()["user"]["email"],
        u.email.as_str(),
        "{}",
        res.text
    );
}

/// upstream two-factor.test.ts › trust device server-side validation › "should revoke trust
/// device when disabling 2FA"
async fn trust_device_should_revoke_trust_device_when_disabling_2fa(t: &Tf) {
    let u = otp_user(t, "trustoff").await;
    let (mut c, identifier) = trusted_sign_in(t, &u.email, &["otp"]).await;
    assert!(db::verification_row(t, &identifier).await.is_some());
    let res = c.post("/two-factor/disable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(set_cookie_value(&res, TRUST).as_deref(), Some(""));
    assert!(db::verification_row(t, &identifier).await.is_none());
}

// ================================================================ upstream: two-factor.test.ts › trustDeviceMaxAge / twoFactorCookieMaxAge

/// upstream two-factor.test.ts › trustDeviceMaxAge › "should use default 30 days when
/// trustDeviceMaxAge is not specified" (plus the record's expiry, which upstream checks in the
/// custom-value case)
async fn trust_device_max_age_should_use_default_30_days(t: &Tf) {
    let u = otp_user(t, "trustage").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let line = res.cookie_line(TRUST).unwrap();
    assert!(
        line.ends_with("; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax"),
        "{line}"
    );
    let value = unsigned(c.cookie(TRUST).unwrap());
    let identifier = value.split_once('!').unwrap().1;
    let row = db::verification_row(t, identifier).await.unwrap();
    assert_eq!(row.value, u.id);
    let expected = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    assert!(
        (row.expires_at.get() - expected).abs() < time::Duration::seconds(60),
        "expiresAt {}",
        row.expires_at
    );
}

/// upstream two-factor.test.ts › twoFactorCookieMaxAge › "should use default 10 minutes when
/// twoFactorCookieMaxAge is not specified"
async fn two_factor_cookie_max_age_should_use_default_10_minutes(t: &Tf) {
    let u = otp_user(t, "cookieage").await;
    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    let line = res.cookie_line(TWO_FACTOR).unwrap();
    assert!(line.contains("; Max-Age=600;"), "{line}");
}

// ================================================================ upstream: two-factor.test.ts › "OTP storage modes"

/// upstream two-factor.test.ts › OTP storage modes › hashed OTP storage › "should verify OTP when
/// stored as hashed" (Portcullis's storage is fixed)
async fn otp_storage_should_verify_otp(t: &Tf) {
    let u = otp_user(t, "otpstore").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    assert_eq!(otp.len(), 6);
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.test.ts › OTP storage modes › hashed OTP storage › "should reject invalid
/// OTP when stored as hashed"
async fn otp_storage_should_reject_invalid_otp(t: &Tf) {
    let u = otp_user(t, "otpstore").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    verify_otp(&mut c, other_otp(&otp))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
}

// ================================================================ upstream: two-factor.test.ts › pre-migration rows, issue #8627

/// upstream two-factor.test.ts › pre-migration twoFactor rows (verified absent) › "should
/// complete enrollment when verified is null"
async fn pre_migration_should_complete_enrollment_when_verified_is_null(t: &Tf) {
    let mut u = new_user(t, "premig").await;
    let e = enable_totp(&mut u.client).await;
    db::set_two_factor(t, &u.id, two_factor::Column::Verified, SqlValue::Bool(None)).await;
    let res = verify_totp(&mut u.client, &e.auth.code(e.auth.step())).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
    assert_eq!(
        db::two_factor_row(t, &u.id).await.unwrap().verified,
        Some(true)
    );
}

/// upstream two-factor.test.ts › OTP-only account adding TOTP (issue #8627) › "should create
/// twoFactor row with verified=false on enableTwoFactor"
async fn issue_8627_should_create_two_factor_row_with_verified_false_on_enable(t: &Tf) {
    let mut u = new_user(t, "i8627").await;
    enable_totp(&mut u.client).await;
    assert_eq!(
        db::two_factor_row(t, &u.id).await.unwrap().verified,
        Some(false)
    );
}

/// upstream two-factor.test.ts › OTP-only account adding TOTP (issue #8627) › "should mark TOTP
/// as verified after verifyTOTP during enrollment"
async fn issue_8627_should_mark_totp_as_verified_after_verify_totp_during_enrollment(t: &Tf) {
    let tu = totp_user(t, "i8627").await;
    assert_eq!(
        db::two_factor_row(t, &tu.u.id).await.unwrap().verified,
        Some(true)
    );
}

/// upstream two-factor.test.ts › OTP-only account adding TOTP (issue #8627) › "should preserve
/// verified state during re-enrollment".
/// 1.7.25 differs from the repo test: enabling TOTP again once the row is verified is refused
/// with 400 TOTP_ALREADY_ENABLED (better-auth: dist/plugins/two-factor/index.mjs, the repo
/// snapshot has no such code and re-enrols with a new secret). The row stays verified and
/// the original secret keeps working at sign-in.
async fn issue_8627_should_preserve_verified_state_during_re_enrollment(t: &Tf) {
    let mut tu = totp_user(t, "i8627").await;
    let before = db::two_factor_row(t, &tu.u.id).await.unwrap();
    tu.u.client
        .post("/two-factor/enable", json!({"password": PW}))
        .await
        .assert_error(400, "TOTP_ALREADY_ENABLED", "TOTP is already enabled");
    let after = db::two_factor_row(t, &tu.u.id).await.unwrap();
    assert_eq!(after.verified, Some(true));
    assert_eq!(after.secret, before.secret);
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.test.ts › OTP-only account adding TOTP (issue #8627) › "should reject
/// unverified TOTP during sign-in and allow OTP fallback"
async fn issue_8627_should_reject_unverified_totp_during_sign_in_and_allow_otp_fallback(t: &Tf) {
    let mut u = new_user(t, "i8627").await;
    // Session-mode send-otp + verify-otp enables 2FA without a password and rotates the
    // session (better-auth: dist/plugins/two-factor/otp/index.mjs, verifyOTP).
    let otp = t.send_otp(&mut u.client, &u.email).await;
    let old_token = unsigned(u.client.cookie(SESSION).unwrap());
    let res = verify_otp(&mut u.client, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(body["user"]["twoFactorEnabled"], true);
    let new_token = unsigned(u.client.cookie(SESSION).unwrap());
    assert_ne!(new_token, old_token);
    assert_eq!(body["token"], new_token.as_str());

    let e = enable_totp(&mut u.client).await;
    assert_eq!(
        db::two_factor_row(t, &u.id).await.unwrap().verified,
        Some(false)
    );
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_totp(&mut c, "000000")
        .await
        .assert_error(400, "TOTP_NOT_ENABLED", "TOTP not enabled");
    let res = verify_backup(&mut c, &e.backup_codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

// ================================================================ upstream: two-factor.test.ts › passwordless, checkPassword

/// Upstream signs in anonymously (no credential account); Portcullis has no anonymous
/// plugin, so the user's credential account is deleted instead.
async fn passwordless_user(t: &Tf) -> User {
    let u = new_user(t, "nopw").await;
    db::delete_credential_account(t, &u.id).await;
    u
}

/// upstream two-factor.test.ts › two factor passwordless › "allows enabling without password for
/// users without credentials"
async fn passwordless_allows_enabling_without_password_for_users_without_credentials(t: &Tf) {
    let mut u = passwordless_user(t).await;
    let res = u.client.post("/two-factor/enable", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(strings(&body["backupCodes"]).len(), 10);
    let auth = Authenticator::from_uri(body["totpURI"].as_str().unwrap());
    let res = verify_totp(&mut u.client, &auth.code(auth.step())).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

async fn passwordless_enrolled(t: &Tf) -> User {
    let mut u = passwordless_user(t).await;
    let res = u.client.post("/two-factor/enable", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let auth = Authenticator::from_uri(res.json()["totpURI"].as_str().unwrap());
    assert_eq!(
        verify_totp(&mut u.client, &auth.code(auth.step()))
            .await
            .status,
        200
    );
    u
}

/// upstream two-factor.test.ts › two factor passwordless › "allows getting totp uri without
/// password"
async fn passwordless_allows_getting_totp_uri_without_password(t: &Tf) {
    let mut u = passwordless_enrolled(t).await;
    let res = u.client.post("/two-factor/get-totp-uri", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.json()["totpURI"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
}

/// upstream two-factor.test.ts › two factor passwordless › "allows generating backup codes
/// without password"
async fn passwordless_allows_generating_backup_codes_without_password(t: &Tf) {
    let mut u = passwordless_enrolled(t).await;
    let res = u
        .client
        .post("/two-factor/generate-backup-codes", json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(strings(&res.json()["backupCodes"]).len(), 10);
}

/// upstream two-factor.test.ts › two factor passwordless › "allows disabling without password"
async fn passwordless_allows_disabling_without_password(t: &Tf) {
    let mut u = passwordless_enrolled(t).await;
    let res = u.client.post("/two-factor/disable", json!({})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        false
    );
}

/// upstream two-factor.test.ts › two factor password still required for credential accounts ›
/// "rejects enabling without password for credential users"
async fn passwordless_rejects_enabling_without_password_for_credential_users(t: &Tf) {
    let mut u = new_user(t, "haspw").await;
    u.client
        .post("/two-factor/enable", json!({}))
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
}

/// upstream two-factor.test.ts › checkPassword must not leak credential presence via error
/// codes › "uses INVALID_PASSWORD for wrong password and when credential row is missing"
async fn check_password_uses_invalid_password_for_wrong_password_and_missing_credential(t: &Tf) {
    let mut u = new_user(t, "leak").await;
    enable_totp(&mut u.client).await;
    u.client
        .post(
            "/two-factor/get-totp-uri",
            json!({"password": "not-the-real-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    db::delete_credential_account(t, &u.id).await;
    u.client
        .post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
}

// ================================================================ upstream: two-factor.test.ts › "twoFactorMethods in sign-in response"

/// upstream two-factor.test.ts › twoFactorMethods in sign-in response › totp enabled in config,
/// otp disabled › "should not redirect when user has not verified totp"
async fn methods_totp_only_should_not_redirect_when_user_has_not_verified_totp(t: &Tf) {
    let mut u = new_user(t, "methods").await;
    enable_totp(&mut u.client).await;
    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    assert_eq!(res.status, 200);
    let body = res.json();
    assert_eq!(body["user"]["id"], u.id.as_str());
    assert!(body.get("twoFactorRedirect").is_none(), "{body}");
}

/// upstream two-factor.test.ts › twoFactorMethods in sign-in response › totp enabled in config,
/// otp disabled › "should return twoFactorMethods: ['totp'] when user has verified totp"
async fn methods_totp_only_should_return_totp_when_user_has_verified_totp(t: &Tf) {
    let tu = totp_user(t, "methods").await;
    challenge(t, &tu.u.email, &["totp"]).await;
}

/// upstream two-factor.test.ts › twoFactorMethods in sign-in response › totp enabled in config,
/// otp enabled › "should return twoFactorMethods: ['otp'] when user has 2fa enabled but no totp row"
async fn methods_with_otp_should_return_otp_when_2fa_enabled_but_no_totp_row(t: &Tf) {
    let u = new_user(t, "methods").await;
    db::set_user_two_factor_enabled(t, &u.id, true).await;
    challenge(t, &u.email, &["otp"]).await;
}

/// upstream two-factor.test.ts › twoFactorMethods in sign-in response › totp enabled in config,
/// otp enabled › "should exclude unverified totp from twoFactorMethods" (upstream flips
/// `twoFactorEnabled` in the database; enabling OTP first is the HTTP equivalent)
async fn methods_with_otp_should_exclude_unverified_totp(t: &Tf) {
    let mut u = otp_user(t, "methods").await;
    enable_totp(&mut u.client).await;
    challenge(t, &u.email, &["otp"]).await;
}

/// upstream two-factor.test.ts › twoFactorMethods in sign-in response › totp enabled in config,
/// otp enabled › "should return twoFactorMethods: ['totp', 'otp'] when user has verified totp"
async fn methods_with_otp_should_return_totp_and_otp_when_user_has_verified_totp(t: &Tf) {
    let tu = totp_user(t, "methods").await;
    challenge(t, &tu.u.email, &["totp", "otp"]).await;
}

// ================================================================ upstream: two-factor.test.ts › scope, backup-code storage

/// upstream two-factor.test.ts › 2FA enforcement scope › "should not challenge 2FA on
/// authenticated non-sign-in endpoints"
async fn scope_should_not_challenge_2fa_on_authenticated_non_sign_in_endpoints(t: &Tf) {
    let mut u = new_user(t, "scope").await;
    enable_totp(&mut u.client).await;
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
    let res = u
        .client
        .post("/update-user", json!({"name": "updated-name"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
}

/// upstream two-factor.test.ts › backup codes storage configurations › "should preserve
/// encrypted storage format after backup code verification": `twoFactor.backupCodes` holds
/// Better Auth's encrypted JSON list before and after a code is used (so a Better Auth server
/// on the same database accepts exactly the remaining codes).
async fn backup_codes_storage_should_preserve_encrypted_format_after_verification(t: &Tf) {
    let mut u = new_user(t, "bcstore").await;
    let e = enable_totp(&mut u.client).await;
    let stored = db::two_factor_row(t, &u.id).await.unwrap().backup_codes;
    assert!(
        serde_json::from_str::<Value>(&stored).is_err(),
        "not plain JSON"
    );
    let list: Vec<String> = serde_json::from_str(&better_auth_decrypt(&stored)).unwrap();
    assert_eq!(list, e.backup_codes);

    let mut c = challenge(t, &u.email, &["totp"]).await;
    assert_eq!(verify_backup(&mut c, &e.backup_codes[0]).await.status, 200);

    let stored = db::two_factor_row(t, &u.id).await.unwrap().backup_codes;
    assert!(
        serde_json::from_str::<Value>(&stored).is_err(),
        "not plain JSON"
    );
    let list: Vec<String> = serde_json::from_str(&better_auth_decrypt(&stored)).unwrap();
    assert_eq!(list, e.backup_codes[1..].to_vec());
}

// ================================================================ upstream: two-factor.security.test.ts

/// A `Cookie` jar built from the non-empty session_token / session_data lines of `res`
/// (what an attacker reading the raw response could replay).
fn replay_session_cookies(t: &Tf, res: &Res) -> TestClient {
    let mut c = t.client();
    for l in &res.set_cookies {
        let pair = l.split(';').next().unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        if (name == SESSION || name.starts_with(SESSION_DATA)) && !value.is_empty() {
            c.jar.push((name.to_string(), value.to_string()));
        }
    }
    c
}

async fn assert_sign_in_leaks_nothing(t: &Tf, path: &str, body: Value, methods: &[&str]) {
    let mut c = t.client();
    let res = c.post(path, body).await;
    assert_redirect(&res, methods);
    assert!(!res.set_cookies.is_empty());
    assert_no_live_session_cookie(&res);
    assert!(res.cookie_line(TWO_FACTOR).is_some());
}

async fn assert_replay_cannot_authenticate_or_disable(t: &Tf, path: &str, body: Value) {
    let mut c = t.client();
    let res = c.post(path, body).await;
    assert_eq!(res.status, 200);
    let mut replay = replay_session_cookies(t, &res);
    assert_eq!(replay.get("/get-session").await.text, "null");
    let res = replay
        .post("/two-factor/disable", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 401, "{}", res.text);
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// disabled) › "response carries no valid signed session_token on 2FA-required sign-in"; also
/// cookieCache enabled › "/sign-in/email: response carries no valid signed session_token or
/// session_data" (Portcullis has no cookie cache; no live `session_data` either way).
async fn security_sign_in_email_response_carries_no_valid_session_cookie(t: &Tf) {
    let tu = totp_user(t, "leak").await;
    assert_sign_in_leaks_nothing(
        t,
        "/sign-in/email",
        json!({"email": tu.u.email, "password": PW}),
        &["totp"],
    )
    .await;
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// disabled) › "replaying any cookies captured from the response cannot authenticate"; also
/// cookieCache enabled › "/sign-in/email: replaying captured cookies cannot authenticate or
/// disable 2FA"
async fn security_sign_in_email_replaying_captured_cookies_cannot_authenticate(t: &Tf) {
    let tu = totp_user(t, "leak").await;
    assert_replay_cannot_authenticate_or_disable(
        t,
        "/sign-in/email",
        json!({"email": tu.u.email, "password": PW}),
    )
    .await;
}

/// Signs up with a username (username plugin) and enrols TOTP; returns (email, username).
async fn username_totp_user(t: &Tf) -> (String, String) {
    let mut c = t.client();
    let e = email("uname");
    let username = format!(
        "user_{}",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    );
    let res = c
        .post(
            "/sign-up/email",
            json!({"name": "U", "email": e, "password": PW, "username": username}),
        )
        .await;
    assert_eq!(res.status, 200, "sign-up with username: {}", res.text);
    let en = enable_totp(&mut c).await;
    let res = verify_totp(&mut c, &en.auth.code(en.auth.step())).await;
    assert_eq!(res.status, 200, "{}", res.text);
    (e, username)
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// enabled) › "/sign-in/username: response carries no valid signed session_token or
/// session_data"
async fn security_sign_in_username_response_carries_no_valid_session_cookie(t: &Tf) {
    let (_, username) = username_totp_user(t).await;
    assert_sign_in_leaks_nothing(
        t,
        "/sign-in/username",
        json!({"username": username, "password": PW}),
        &["totp"],
    )
    .await;
}

/// upstream two-factor.security.test.ts › sign-in does not leak session cookies (cookieCache
/// enabled) › "/sign-in/username: replaying captured cookies cannot authenticate or disable 2FA"
async fn security_sign_in_username_replaying_captured_cookies_cannot_authenticate(t: &Tf) {
    let (_, username) = username_totp_user(t).await;
    assert_replay_cannot_authenticate_or_disable(
        t,
        "/sign-in/username",
        json!({"username": username, "password": PW}),
    )
    .await;
}

/// upstream two-factor.security.test.ts › 2FA challenge is single-use and expiry-bounded ›
/// "rejects an expired two-factor sign-in challenge even with a valid TOTP"
async fn security_rejects_an_expired_challenge_even_with_a_valid_totp(t: &Tf) {
    let tu = totp_user(t, "expired").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let identifier = unsigned(c.cookie(TWO_FACTOR).unwrap());
    assert!(identifier.starts_with("2fa-"), "{identifier}");
    db::expire_verification(t, &identifier, 60).await;
    let before = db::session_count(t, &tu.u.id).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    res.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    assert_no_live_session_cookie(&res);
    assert_eq!(db::session_count(t, &tu.u.id).await, before);
}

/// upstream two-factor.security.test.ts › 2FA challenge is single-use and expiry-bounded › "two
/// concurrent verifications of the same challenge yield exactly one session"
async fn security_two_concurrent_verifications_of_one_challenge_yield_one_session(t: &Tf) {
    let tu = totp_user(t, "race").await;
    let mut a = challenge(t, &tu.u.email, &["totp"]).await;
    let mut b = twin(t, &a);
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.auth.code(tu.t0 + 1);
    let (ra, rb) = futures_util::join!(verify_totp(&mut a, &code), verify_totp(&mut b, &code));
    let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "{} / {}", ra.text, rb.text);
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency › "counts
/// wrong guesses up to the limit then locks out" (Portcullis: 5 attempts, upstream configures 3)
async fn security_otp_counts_wrong_guesses_up_to_the_limit_then_locks_out(t: &Tf) {
    let tu = totp_user(t, "otpcap").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    for _ in 0..5 {
        verify_otp(&mut c, other_otp(&otp))
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    verify_otp(&mut c, &otp).await.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency › "a
/// concurrent burst of wrong guesses cannot exceed the attempt budget"
async fn security_otp_concurrent_burst_of_wrong_guesses_cannot_exceed_the_budget(t: &Tf) {
    let tu = totp_user(t, "otpburst").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let wrong = other_otp(&otp);
    let mut clients: Vec<TestClient> = (0..20).map(|_| twin(t, &c)).collect();
    let results = join_all(clients.iter_mut().map(|c| verify_otp(c, wrong))).await;
    assert!(results.iter().all(|r| r.status != 200));
    let invalid = results
        .iter()
        .filter(|r| r.status == 401 && r.json()["code"] == "INVALID_CODE")
        .count();
    assert!(invalid <= 5, "{invalid} wrong guesses were checked");
}

/// upstream two-factor.security.test.ts › OTP attempts are atomic under concurrency ›
/// "concurrent correct codes mint at most one session"
async fn security_otp_concurrent_correct_codes_mint_at_most_one_session(t: &Tf) {
    let tu = totp_user(t, "otprace").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let before = db::session_count(t, &tu.u.id).await;
    let mut clients: Vec<TestClient> = (0..3).map(|_| twin(t, &c)).collect();
    let results = join_all(clients.iter_mut().map(|c| verify_otp(c, &otp))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert!(ok <= 1, "{ok} sessions minted");
    assert!(db::session_count(t, &tu.u.id).await <= before + 1);
}

// ================================================================ upstream: two-factor.attempt-cap.test.ts

/// upstream two-factor.attempt-cap.test.ts › TOTP enforces a per-challenge attempt cap › "locks
/// out after the limit and cancels the challenge"
async fn attempt_cap_totp_locks_out_after_the_limit_and_cancels_the_challenge(t: &Tf) {
    let tu = totp_user(t, "cap").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let cookie = c.cookie(TWO_FACTOR).unwrap().to_string();
    let wrong = tu.auth.wrong_code();
    for _ in 0..5 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    res.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
    assert_expires(&res, TWO_FACTOR);
    // The challenge itself is gone: replaying its cookie is an invalid cookie, not a code check.
    let mut replay = with_cookie(t, TWO_FACTOR, &cookie);
    verify_totp(&mut replay, &wrong).await.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
}

/// upstream two-factor.attempt-cap.test.ts › TOTP enforces a per-challenge attempt cap › "a
/// concurrent burst cannot exceed the attempt budget"
async fn attempt_cap_totp_concurrent_burst_cannot_exceed_the_budget(t: &Tf) {
    let tu = totp_user(t, "capburst").await;
    let c = challenge(t, &tu.u.email, &["totp"]).await;
    let wrong = tu.auth.wrong_code();
    let mut clients: Vec<TestClient> = (0..20).map(|_| twin(t, &c)).collect();
    let results = join_all(clients.iter_mut().map(|c| verify_totp(c, &wrong))).await;
    assert!(results.iter().all(|r| r.status != 200));
    let processed = results
        .iter()
        .filter(|r| r.status == 401 && r.json()["code"] == "INVALID_CODE")
        .count();
    assert!(processed <= 5, "{processed} guesses were checked");
}

/// upstream two-factor.attempt-cap.test.ts › TOTP enforces a per-challenge attempt cap › "a
/// server error during verification does not spend an attempt slot" (upstream corrupts the
/// stored secret so decryption throws; over HTTP Better Auth 1.7.25 answers 500 with an empty
/// body — checked live — and puts the attempt back)
async fn attempt_cap_totp_server_error_does_not_spend_an_attempt_slot(t: &Tf) {
    let tu = totp_user(t, "caperr").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let valid = db::two_factor_row(t, &tu.u.id).await.unwrap().secret;
    db::set_two_factor(
        t,
        &tu.u.id,
        two_factor::Column::Secret,
        "not-a-valid-encrypted-secret".into(),
    )
    .await;
    // Portcullis keeps a JSON body on 500s (README, deliberate differences).
    verify_totp(&mut c, "000000").await.assert_error(
        500,
        "INTERNAL_SERVER_ERROR",
        "Internal Server Error",
    );
    db::set_two_factor(t, &tu.u.id, two_factor::Column::Secret, valid.into()).await;
    // Four more wrong codes fit in the budget only if the failed request gave its slot back.
    let wrong = tu.auth.wrong_code();
    for _ in 0..4 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.attempt-cap.test.ts › backup codes enforce a per-challenge attempt cap ›
/// "counts wrong backup codes up to the limit then locks out"
async fn attempt_cap_backup_codes_count_wrong_codes_up_to_the_limit_then_lock_out(t: &Tf) {
    let tu = totp_user(t, "capbackup").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    for _ in 0..5 {
        verify_backup(&mut c, "0000-0000").await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    verify_backup(&mut c, &tu.backup_codes[0])
        .await
        .assert_error(
            400,
            "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
            "Too many attempts. Please request a new code.",
        );
}

// ================================================================ upstream: two-factor.account-lockout.test.ts
// Portcullis locks after 10 consecutive failures for 900 s (Better Auth's defaults);
// upstream configures maxFailedAttempts: 3.

const LOCKED: &str = "Too many failed verification attempts. Your account is temporarily locked. Please try again later.";

/// One wrong TOTP on a fresh challenge (the per-challenge cap never trips).
async fn fail_totp_once(t: &Tf, tu: &TotpUser) {
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.wrong_code())
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
}

/// upstream two-factor.account-lockout.test.ts › "locks the account after failures accumulate
/// across separate challenges"
async fn lockout_locks_the_account_after_failures_across_separate_challenges(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    for _ in 0..10 {
        fail_totp_once(t, &tu).await;
    }
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
}

/// upstream two-factor.account-lockout.test.ts › "counts failures from all factors toward one
/// account lock"
async fn lockout_counts_failures_from_all_factors_toward_one_lock(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    for _ in 0..6 {
        fail_totp_once(t, &tu).await;
    }
    for _ in 0..4 {
        let mut c = challenge(t, &tu.u.email, &["totp"]).await;
        verify_backup(&mut c, "0000-0000").await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
}

/// upstream two-factor.account-lockout.test.ts › "counts email-OTP failures toward the same
/// account lock"
async fn lockout_counts_email_otp_failures_toward_the_same_lock(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    for _ in 0..9 {
        let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
        verify_totp(&mut c, &tu.auth.wrong_code())
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    verify_otp(&mut c, other_otp(&otp))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
}

/// upstream two-factor.account-lockout.test.ts › "resets the counter on a successful
/// verification" (the second success is a backup code: a third TOTP step would need a wait)
async fn lockout_resets_the_counter_on_a_successful_verification(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    for _ in 0..9 {
        fail_totp_once(t, &tu).await;
    }
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    assert_eq!(
        verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await.status,
        200
    );
    for _ in 0..9 {
        fail_totp_once(t, &tu).await;
    }
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let res = verify_backup(&mut c, &tu.backup_codes[0]).await;
    assert_eq!(res.status, 200, "still open: {}", res.text);
}

/// upstream two-factor.account-lockout.test.ts › "releases the lock once its window elapses"
async fn lockout_releases_the_lock_once_its_window_elapses(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    for _ in 0..10 {
        fail_totp_once(t, &tu).await;
    }
    let code = tu.auth.code(tu.t0 + 1);
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &code)
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
    let past = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    db::set_two_factor(
        t,
        &tu.u.id,
        two_factor::Column::LockedUntil,
        db::ts(t, past),
    )
    .await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let res = verify_totp(&mut c, &code).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// upstream two-factor.account-lockout.test.ts › "counts a row with no prior failure count
/// without locking on the first failure"
async fn lockout_counts_a_null_failure_count_without_locking_on_the_first_failure(t: &Tf) {
    let tu = totp_user(t, "lock").await;
    db::set_two_factor(
        t,
        &tu.u.id,
        two_factor::Column::FailedVerificationCount,
        SqlValue::Int(None),
    )
    .await;
    fail_totp_once(t, &tu).await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

// ================================================================ beyond Better Auth: TOTP replay, concurrency, shared cap

/// Portcullis: a TOTP step accepted once (here at enrolment) is refused afterwards, also in
/// session mode. (Better Auth 1.7.25 would accept it again.)
async fn beyond_totp_replay_is_refused_in_session_mode(t: &Tf) {
    let mut tu = totp_user(t, "replay").await;
    verify_totp(&mut tu.u.client, &tu.auth.code(tu.t0))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let res = verify_totp(&mut tu.u.client, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "a fresh step is accepted: {}", res.text);
}

/// Portcullis: the step used at enrolment is refused at the next sign-in challenge, and the
/// step accepted on one challenge is refused on a later one.
async fn beyond_totp_replay_is_refused_across_challenges(t: &Tf) {
    let tu = totp_user(t, "replay").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    assert_eq!(
        verify_backup(&mut c, &tu.backup_codes[0]).await.status,
        200,
        "the challenge is still usable"
    );
}

/// `n` clients of `email`, each holding its own sign-in challenge.
async fn challenges(t: &Tf, email: &str, methods: &[&str], n: usize) -> Vec<TestClient> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(challenge(t, email, methods).await);
    }
    out
}

/// Portcullis: one TOTP code submitted on 20 challenges at once signs in exactly once. The
/// losers are replays (401 INVALID_CODE) — or, once their failures reach the account
/// budget, 429 ACCOUNT_TEMPORARILY_LOCKED.
async fn beyond_one_totp_code_on_20_parallel_challenges_succeeds_once(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut clients = challenges(t, &tu.u.email, &["totp"], 20).await;
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.auth.code(tu.t0 + 1);
    let results = join_all(clients.iter_mut().map(|c| verify_totp(c, &code))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        let code = r.json()["code"].as_str().unwrap().to_string();
        assert!(
            (r.status == 401 && code == "INVALID_CODE")
                || (r.status == 429 && code == "ACCOUNT_TEMPORARILY_LOCKED"),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// One backup code submitted on 20 challenges at once signs in exactly once (Better Auth's
/// compare-and-swap loser gets 409; Portcullis may answer 401 INVALID_BACKUP_CODE).
async fn beyond_one_backup_code_on_20_parallel_challenges_succeeds_once(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut clients = challenges(t, &tu.u.email, &["totp"], 20).await;
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.backup_codes[0].clone();
    let results = join_all(clients.iter_mut().map(|c| verify_backup(c, &code))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        let body = r.json();
        assert!(
            (r.status == 401 && body["code"] == "INVALID_BACKUP_CODE")
                || r.status == 409
                || (r.status == 429 && body["code"] == "ACCOUNT_TEMPORARILY_LOCKED"),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The challenge is consumed atomically: two different valid backup codes on the same
/// challenge at once yield one session.
async fn beyond_same_challenge_with_two_backup_codes_at_once_yields_one_session(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut a = challenge(t, &tu.u.email, &["totp"]).await;
    let mut b = twin(t, &a);
    let before = db::session_count(t, &tu.u.id).await;
    let (ra, rb) = futures_util::join!(
        verify_backup(&mut a, &tu.backup_codes[0]),
        verify_backup(&mut b, &tu.backup_codes[1])
    );
    let ok = [&ra, &rb].iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{} / {}", ra.text, rb.text);
    let loser = if ra.status == 200 { &rb } else { &ra };
    assert!(
        loser.status == 401 || loser.status == 409,
        "{} {}",
        loser.status,
        loser.text
    );
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The same challenge verified concurrently by 10 copies of the cookie yields one session.
async fn beyond_same_challenge_verified_by_10_at_once_yields_one_session(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let c = challenge(t, &tu.u.email, &["totp"]).await;
    let before = db::session_count(t, &tu.u.id).await;
    let mut clients: Vec<TestClient> = (0..10).map(|_| twin(t, &c)).collect();
    let codes = &tu.backup_codes;
    let results = join_all(
        clients
            .iter_mut()
            .zip(codes.iter())
            .map(|(c, code)| verify_backup(c, code)),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The per-challenge budget of 5 is shared by TOTP and backup codes; the 6th attempt cancels
/// the challenge (cookie expired) without spending the submitted code.
async fn beyond_attempt_cap_is_shared_by_totp_and_backup_codes(t: &Tf) {
    let tu = totp_user(t, "shared").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let wrong = tu.auth.wrong_code();
    for _ in 0..3 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    for _ in 0..2 {
        verify_backup(&mut c, "0000-0000").await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    let res = verify_backup(&mut c, &tu.backup_codes[0]).await;
    res.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
    assert_expires(&res, TWO_FACTOR);
    assert!(c.cookie(TWO_FACTOR).is_none());
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    assert_eq!(
        verify_backup(&mut c, &tu.backup_codes[0]).await.status,
        200,
        "the refused code was not spent"
    );
}

/// A locked account is refused on every factor (429), while password sign-in still answers
/// with a challenge (better-auth: dist/plugins/two-factor/verify-two-factor.mjs).
async fn beyond_lockout_blocks_every_factor(t: &Tf) {
    let tu = totp_user(t, "lockall").await;
    for _ in 0..10 {
        let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
        verify_totp(&mut c, &tu.auth.wrong_code())
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
    verify_backup(&mut c, &tu.backup_codes[0])
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    verify_otp(&mut c, &otp)
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
}

// ================================================================ flows

/// enable → verify-totp (enrolment) → sign-out → sign-in challenge → verify-totp, with the
/// exact bodies and cookies Better Auth 1.7.25 produces.
async fn flow_totp_enable_verify_sign_out_sign_in(t: &Tf) {
    let mut u = new_user(t, "flow").await;
    let signup_token = unsigned(u.client.cookie(SESSION).unwrap());
    let e = enable_totp(&mut u.client).await;
    assert_totp_uri(&e.uri, "Portcullis", "Portcullis", &u.email);
    let t0 = e.auth.step();

    verify_totp(&mut u.client, &e.auth.wrong_code())
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let res = verify_totp(&mut u.client, &e.auth.code(t0)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["token", "user"]);
    // Session mode answers with the request's own (now deleted) session token and the user as
    // loaded before the update; the rotated session is in Set-Cookie (better-auth:
    // dist/plugins/two-factor/totp/index.mjs + verify-two-factor.mjs, observed live).
    assert_eq!(body["token"], signup_token.as_str());
    assert_eq!(body["user"]["twoFactorEnabled"], false);
    assert_eq!(body["user"]["id"], u.id.as_str());
    let rotated = unsigned(u.client.cookie(SESSION).unwrap());
    assert_ne!(rotated, signup_token);
    assert!(
        res.cookie_line(SESSION)
            .unwrap()
            .ends_with("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax")
    );
    let session = get_session(&mut u.client).await;
    assert_eq!(session["user"]["twoFactorEnabled"], true);
    assert_eq!(session["session"]["token"], rotated.as_str());

    assert_eq!(u.client.post("/sign-out", json!({})).await.status, 200);

    let mut c = t.client();
    let res = c.sign_in(&u.email, PW).await;
    assert_redirect(&res, &["totp", "otp"]);
    assert_expires(&res, SESSION);
    assert_no_live_session_cookie(&res);
    assert!(
        res.cookie_line(DONT_REMEMBER).is_none(),
        "{:?}",
        res.set_cookies
    );
    let challenge_cookie = c.cookie(TWO_FACTOR).unwrap().to_string();
    let identifier = unsigned(&challenge_cookie);
    assert_eq!(identifier.len(), 24, "{identifier}");
    assert!(identifier.starts_with("2fa-"));
    assert!(
        identifier[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(
        res.cookie_line(TWO_FACTOR).unwrap(),
        format!("{TWO_FACTOR}={challenge_cookie}; Max-Age=600; Path=/; HttpOnly; SameSite=Lax")
    );
    assert_eq!(c.get("/get-session").await.text, "null");

    let res = verify_totp(&mut c, &e.auth.code(t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["token", "user"]);
    let token = body["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert_eq!(body["user"]["id"], u.id.as_str());
    assert_eq!(body["user"]["twoFactorEnabled"], true);
    assert_expires(&res, TWO_FACTOR);
    assert!(
        res.cookie_line(SESSION)
            .unwrap()
            .ends_with("; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax")
    );
    assert_eq!(unsigned(c.cookie(SESSION).unwrap()), token);
    assert!(c.cookie(TWO_FACTOR).is_none());
    let session = get_session(&mut c).await;
    assert_eq!(session["session"]["token"], token);

    // Single use: the same challenge cookie cannot mint another session.
    let mut replay = with_cookie(t, TWO_FACTOR, &challenge_cookie);
    verify_totp(&mut replay, &e.auth.code(t0 + 1))
        .await
        .assert_error(
            401,
            "INVALID_TWO_FACTOR_COOKIE",
            "Invalid two factor cookie",
        );
}

/// enable (otp) → sign-in → send-otp (webhook) → verify-otp; re-sending replaces the code.
async fn flow_otp(t: &Tf) {
    let u = otp_user(t, "flowotp").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let first = t.send_otp(&mut c, &u.email).await;
    let delivery = t.hook().deliveries_for(&u.email).pop().unwrap();
    assert_eq!(delivery["email"], u.email.as_str());
    assert_eq!(delivery["userId"], u.id.as_str());
    assert_eq!(delivery["otp"], first.as_str());
    let second = t.send_otp(&mut c, &u.email).await;
    if first != second {
        // Lookups take the newest code (better-auth: verification rows, newest by createdAt).
        verify_otp(&mut c, &first)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_otp(&mut c, &second).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["token", "user"]);
    assert_eq!(body["user"]["id"], u.id.as_str());
    assert_expires(&res, TWO_FACTOR);
    assert_eq!(get_session(&mut c).await["session"]["token"], body["token"]);
    // The code is single-use.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_otp(&mut c, &second)
        .await
        .assert_error(400, "OTP_HAS_EXPIRED", "OTP has expired");
}

/// Backup codes: single use; regenerating invalidates the old set.
async fn flow_backup_codes(t: &Tf) {
    let tu = totp_user(t, "flowbc").await;
    let mut a = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let res = verify_backup(&mut a, &tu.backup_codes[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["token", "user"]);
    assert_eq!(
        unsigned(a.cookie(SESSION).unwrap()),
        body["token"].as_str().unwrap()
    );
    assert_expires(&res, TWO_FACTOR);

    let mut b = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_backup(&mut b, &tu.backup_codes[0])
        .await
        .assert_error(401, "INVALID_BACKUP_CODE", "Invalid backup code");

    let fresh = generate_codes(&mut a).await;
    assert!(fresh.iter().all(|c| !tu.backup_codes.contains(c)));
    verify_backup(&mut b, &tu.backup_codes[1])
        .await
        .assert_error(401, "INVALID_BACKUP_CODE", "Invalid backup code");
    let res = verify_backup(&mut b, &fresh[0]).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// Trusted device: the second sign-in with the trust cookie skips the challenge and rotates
/// the cookie; a client without it is challenged; disable revokes it.
async fn flow_trust_device(t: &Tf) {
    let u = otp_user(t, "flowtrust").await;
    let mut c = challenge(t, &u.email, &["otp"]).await;
    let otp = t.send_otp(&mut c, &u.email).await;
    let res = c
        .post(
            "/two-factor/verify-otp",
            json!({"code": otp, "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let first = c.cookie(TRUST).unwrap().to_string();
    let payload = unsigned(&first);
    let (mac, identifier) = payload.split_once('!').unwrap();
    assert_eq!(mac.len(), 43, "base64url HMAC-SHA256: {payload}");
    assert_eq!(identifier.len(), "trust-device-".len() + 32, "{payload}");
    // better-auth: dist/plugins/two-factor/verify-two-factor.mjs expires dont_remember
    // together with issuing the trust cookie.
    assert_expires(&res, DONT_REMEMBER);

    assert_eq!(c.post("/sign-out", json!({})).await.status, 200);
    assert_eq!(
        c.cookie(TRUST),
        Some(first.as_str()),
        "sign-out keeps the trust cookie"
    );

    let res = c.sign_in(&u.email, PW).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["redirect", "token", "user"]);
    assert_eq!(
        unsigned(c.cookie(SESSION).unwrap()),
        body["token"].as_str().unwrap()
    );
    let line = res.cookie_line(TRUST).unwrap();
    assert!(
        line.ends_with("; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax"),
        "{line}"
    );
    let rotated = c.cookie(TRUST).unwrap().to_string();
    assert_ne!(rotated, first);

    challenge(t, &u.email, &["otp"]).await;
    let mut stale = with_cookie(t, TRUST, &first);
    let res = stale.sign_in(&u.email, PW).await;
    assert_redirect(&res, &["otp"]);
    assert_expires(&res, TRUST);

    let res = c.post("/two-factor/disable", json!({"password": PW})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_expires(&res, TRUST);
    // Re-enable OTP 2FA: the revoked device is challenged again.
    let res = c
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut revoked = with_cookie(t, TRUST, &rotated);
    assert_redirect(&revoked.sign_in(&u.email, PW).await, &["otp"]);
}

/// `rememberMe: false` survives the challenge: dont_remember is kept, the new session cookie
/// has no Max-Age and the session lasts one day.
async fn flow_dont_remember_is_preserved(t: &Tf) {
    let tu = totp_user(t, "flownomem").await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/email",
            json!({"email": tu.u.email, "password": PW, "rememberMe": false}),
        )
        .await;
    assert_redirect(&res, &["totp", "otp"]);
    // Deterministic per secret (protocol notes §13 vector 2).
    let signed = portcullis_protocol::signed::sign_value("true", SECRET.as_bytes())
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_eq!(
        res.cookie_line(DONT_REMEMBER).unwrap(),
        format!("{DONT_REMEMBER}={signed}; Path=/; HttpOnly; SameSite=Lax")
    );
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let line = res.cookie_line(SESSION).unwrap();
    assert!(
        line.ends_with("; Path=/; HttpOnly; SameSite=Lax") && !line.contains("Max-Age"),
        "{line}"
    );
    assert!(c.cookie(DONT_REMEMBER).is_some());
    let session = get_session(&mut c).await;
    let expires = time::OffsetDateTime::parse(
        session["session"]["expiresAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expected = time::OffsetDateTime::now_utc() + time::Duration::seconds(DAY);
    assert!(
        (expires - expected).abs() < time::Duration::seconds(60),
        "{expires}"
    );
}

/// disable: needs the password, turns the gate off, rotates the session, removes TOTP.
async fn flow_disable(t: &Tf) {
    let mut tu = totp_user(t, "flowoff").await;
    let before = unsigned(tu.u.client.cookie(SESSION).unwrap());
    tu.u.client
        .post("/two-factor/disable", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    tu.u.client
        .post(
            "/two-factor/disable",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    let res =
        tu.u.client
            .post("/two-factor/disable", json!({"password": PW}))
            .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"status": true}));
    assert_ne!(unsigned(tu.u.client.cookie(SESSION).unwrap()), before);
    assert_eq!(
        get_session(&mut tu.u.client).await["user"]["twoFactorEnabled"],
        false
    );
    assert!(db::two_factor_row(t, &tu.u.id).await.is_none());
    tu.u.client
        .post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await
        .assert_error(400, "TOTP_NOT_ENABLED", "TOTP not enabled");
    let mut c = t.client();
    let res = c.sign_in(&tu.u.email, PW).await;
    assert_eq!(res.json()["user"]["id"], tu.u.id.as_str(), "{}", res.text);
}

/// `skipVerificationOnEnable`: enable turns 2FA on at once (rotated session), the row is active.
async fn flow_skip_verification_on_enable(t: &Tf) {
    let mut u = new_user(t, "skip").await;
    let before = unsigned(u.client.cookie(SESSION).unwrap());
    let e = enable_totp(&mut u.client).await;
    assert_eq!(e.backup_codes.len(), 10);
    assert_ne!(unsigned(u.client.cookie(SESSION).unwrap()), before);
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
    assert_eq!(
        db::two_factor_row(t, &u.id).await.unwrap().verified,
        Some(true)
    );
    let mut c = challenge(t, &u.email, &["totp", "otp"]).await;
    let res = verify_totp(&mut c, &e.auth.code(e.auth.step())).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

/// The URI issuer is the app name by default (PORTCULLIS_APP_NAME), for enable and get-totp-uri.
async fn issuer_defaults_to_the_app_name(t: &Tf) {
    let mut u = new_user(t, "app").await;
    let e = enable_totp(&mut u.client).await;
    assert_totp_uri(&e.uri, "My%20App", "My+App", &u.email);
    let res = u
        .client
        .post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["totpURI"], e.uri.as_str());
}

/// The plugin `issuer` option (PORTCULLIS_TWO_FACTOR_ISSUER) names the account in both URIs.
/// Deliberate divergence (crates/server/src/two_factor/routes.rs, get_totp_uri): Better Auth
/// 1.7.25 builds get-totp-uri's URI with the app name and ignores the plugin `issuer` (checked
/// live: enable → `Top%20Issuer`, get-totp-uri → `My%20App`; protocol notes §9.3), so an
/// authenticator could list one account under two names.
async fn issuer_option_applies_to_enable_and_get_totp_uri(t: &Tf) {
    let mut u = new_user(t, "issuer").await;
    let e = enable_totp(&mut u.client).await;
    assert_totp_uri(&e.uri, "Top%20Issuer", "Top+Issuer", &u.email);
    let res = u
        .client
        .post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let uri = res.json()["totpURI"].as_str().unwrap().to_string();
    assert_eq!(uri, e.uri);
}

/// The sign-in gate also covers /sign-in/username (username plugin).
async fn username_sign_in_is_gated(t: &Tf) {
    let (_, username) = username_totp_user(t).await;
    let mut c = t.client();
    let res = c
        .post(
            "/sign-in/username",
            json!({"username": username, "password": PW}),
        )
        .await;
    assert_redirect(&res, &["totp"]);
    assert!(c.cookie(TWO_FACTOR).is_some());
}

/// The TOTP secret at rest is Better Auth's: XChaCha20-Poly1305 of the 32-char secret whose
/// UTF-8 bytes are the HMAC key (better-auth: dist/plugins/two-factor/index.mjs,
/// dist/crypto/index.mjs; protocol notes §9.2–9.3).
async fn storage_totp_secret_is_better_auth_compatible(t: &Tf) {
    let mut u = new_user(t, "store").await;
    let e = enable_totp(&mut u.client).await;
    let row = db::two_factor_row(t, &u.id).await.unwrap();
    let secret = better_auth_decrypt(&row.secret);
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(
        secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(secret.as_bytes(), e.auth.key.as_slice());
}

// ================================================================ errors, route by route

async fn errors_enable(t: &Tf) {
    let mut anon = t.client();
    anon.post("/two-factor/enable", json!({"password": PW}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
    let mut u = new_user(t, "err").await;
    u.client
        .post("/two-factor/enable", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    u.client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "sms"}),
        )
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            r#"[body.method] Invalid option: expected one of "otp"|"totp""#,
        );
    u.client
        .post(
            "/two-factor/enable",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    u.client
        .post("/two-factor/enable", json!({"password": "x".repeat(129)}))
        .await
        .assert_error(400, "PASSWORD_TOO_LONG", "Password too long");
    let e = enable_totp(&mut u.client).await;
    assert_eq!(
        verify_totp(&mut u.client, &e.auth.code(e.auth.step()))
            .await
            .status,
        200
    );
    u.client
        .post("/two-factor/enable", json!({"password": PW}))
        .await
        .assert_error(400, "TOTP_ALREADY_ENABLED", "TOTP is already enabled");
}

async fn errors_disable(t: &Tf) {
    let mut anon = t.client();
    anon.post("/two-factor/disable", json!({"password": PW}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
    let mut u = new_user(t, "err").await;
    u.client
        .post("/two-factor/disable", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    u.client
        .post(
            "/two-factor/disable",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
}

async fn errors_get_totp_uri(t: &Tf) {
    let mut anon = t.client();
    anon.post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
    let mut u = new_user(t, "err").await;
    // No row: checked before the password.
    u.client
        .post(
            "/two-factor/get-totp-uri",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "TOTP_NOT_ENABLED", "TOTP not enabled");
    let e = enable_totp(&mut u.client).await;
    u.client
        .post("/two-factor/get-totp-uri", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    u.client
        .post(
            "/two-factor/get-totp-uri",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    // Works while the enrolment is pending.
    let res = u
        .client
        .post("/two-factor/get-totp-uri", json!({"password": PW}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json(), json!({"totpURI": e.uri}));
}

async fn errors_verify_totp(t: &Tf) {
    let mut anon = t.client();
    verify_totp(&mut anon, "123456").await.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    // A challenge cookie with a bad signature counts as absent.
    let mut forged = with_cookie(
        t,
        TWO_FACTOR,
        "2fa-aaaaaaaaaaaaaaaaaaaa.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
    );
    verify_totp(&mut forged, "123456").await.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    let mut u = new_user(t, "err").await;
    verify_totp(&mut u.client, "123456").await.assert_error(
        400,
        "TOTP_NOT_ENABLED",
        "TOTP not enabled",
    );
    u.client
        .post("/two-factor/verify-totp", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.code] Invalid input: expected string, received undefined",
        );
    let e = enable_totp(&mut u.client).await;
    verify_totp(&mut u.client, &e.auth.wrong_code())
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
}

/// Without OTP delivery: send-otp is refused before any session/challenge check, enable
/// refuses `method: "otp"`, and sign-in does not offer "otp".
async fn errors_send_otp_without_delivery(t: &Tf) {
    let body = json!({"message": "otp isn't configured", "code": "OTP_NOT_CONFIGURED"});
    let mut anon = t.client();
    let res = anon.post("/two-factor/send-otp", json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json(), body);
    let tu = totp_user(t, "err").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let res = c.post("/two-factor/send-otp", json!({})).await;
    assert_eq!(res.status, 400);
    assert_eq!(res.json(), body);
    let mut u = new_user(t, "err").await;
    u.client
        .post(
            "/two-factor/enable",
            json!({"password": PW, "method": "otp"}),
        )
        .await
        .assert_error(400, "OTP_NOT_CONFIGURED", "OTP is not available");
}

async fn errors_send_and_verify_otp(t: &Tf) {
    let mut anon = t.client();
    anon.post("/two-factor/send-otp", json!({}))
        .await
        .assert_error(
            401,
            "INVALID_TWO_FACTOR_COOKIE",
            "Invalid two factor cookie",
        );
    verify_otp(&mut anon, "123456").await.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    let mut u = otp_user(t, "err").await;
    // Session mode, nothing sent.
    verify_otp(&mut u.client, "123456").await.assert_error(
        400,
        "OTP_HAS_EXPIRED",
        "OTP has expired",
    );
    // Challenge mode, nothing sent.
    let mut c = challenge(t, &u.email, &["otp"]).await;
    verify_otp(&mut c, "123456")
        .await
        .assert_error(400, "OTP_HAS_EXPIRED", "OTP has expired");
    c.post("/two-factor/verify-otp", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.code] Invalid input: expected string, received undefined",
        );
    let otp = t.send_otp(&mut c, &u.email).await;
    verify_otp(&mut c, other_otp(&otp))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    assert_eq!(verify_otp(&mut c, &otp).await.status, 200);
}

async fn errors_generate_backup_codes(t: &Tf) {
    let mut anon = t.client();
    anon.post("/two-factor/generate-backup-codes", json!({"password": PW}))
        .await
        .assert_error(401, "UNAUTHORIZED", "Unauthorized");
    let mut u = new_user(t, "err").await;
    // 2FA off: refused before the password is checked.
    u.client
        .post(
            "/two-factor/generate-backup-codes",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled");
    // A pending enrolment does not turn 2FA on.
    let e = enable_totp(&mut u.client).await;
    u.client
        .post("/two-factor/generate-backup-codes", json!({"password": PW}))
        .await
        .assert_error(400, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled");
    assert_eq!(
        verify_totp(&mut u.client, &e.auth.code(e.auth.step()))
            .await
            .status,
        200
    );
    u.client
        .post("/two-factor/generate-backup-codes", json!({}))
        .await
        .assert_error(
            400,
            "VALIDATION_ERROR",
            "[body.password] Invalid input: expected string, received undefined",
        );
    u.client
        .post(
            "/two-factor/generate-backup-codes",
            json!({"password": "not-the-password"}),
        )
        .await
        .assert_error(400, "INVALID_PASSWORD", "Invalid password");
    // OTP-only 2FA has no twoFactor row to hold codes.
    let mut o = otp_user(t, "err").await;
    o.client
        .post("/two-factor/generate-backup-codes", json!({"password": PW}))
        .await
        .assert_error(400, "TWO_FACTOR_NOT_ENABLED", "Two factor isn't enabled");
}

async fn errors_verify_backup_code(t: &Tf) {
    let mut anon = t.client();
    verify_backup(&mut anon, "abcde-fghij").await.assert_error(
        401,
        "INVALID_TWO_FACTOR_COOKIE",
        "Invalid two factor cookie",
    );
    let mut u = new_user(t, "err").await;
    verify_backup(&mut u.client, "abcde-fghij")
        .await
        .assert_error(
            400,
            "BACKUP_CODES_NOT_ENABLED",
            "Backup codes aren't enabled",
        );
    let tu = totp_user(t, "err").await;
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_backup(&mut c, "abcde-fghij").await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    // Exact match: case matters.
    let code = &tu.backup_codes[0];
    let flipped: String = code
        .chars()
        .map(|ch| {
            if ch.is_ascii_lowercase() {
                ch.to_ascii_uppercase()
            } else {
                ch.to_ascii_lowercase()
            }
        })
        .collect();
    if flipped != *code {
        verify_backup(&mut c, &flipped).await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    // disableSession: the code is spent and no session is created; the challenge row stays but
    // its attempt counter was taken by this request and is not put back on success, so TOTP and
    // backup codes can no longer use the challenge (401), while the OTP path, which has no
    // per-challenge counter, still completes it (better-auth:
    // dist/plugins/two-factor/backup-codes/index.mjs, verify-two-factor.mjs; checked live).
    let res = c
        .post(
            "/two-factor/verify-backup-code",
            json!({"code": code, "disableSession": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let body = res.json();
    assert_eq!(keys(&body), ["user"], "no token in challenge mode: {body}");
    assert_eq!(body["user"]["id"], tu.u.id.as_str());
    assert!(res.set_cookies.is_empty(), "{:?}", res.set_cookies);
    assert!(c.cookie(TWO_FACTOR).is_some());
    verify_backup(&mut c, &tu.backup_codes[1])
        .await
        .assert_error(
            401,
            "INVALID_TWO_FACTOR_COOKIE",
            "Invalid two factor cookie",
        );
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let res = verify_otp(&mut c, &otp).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_expires(&res, TWO_FACTOR);
    // The code given with disableSession is spent.
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_backup(&mut c, code).await.assert_error(
        401,
        "INVALID_BACKUP_CODE",
        "Invalid backup code",
    );
    assert_eq!(verify_backup(&mut c, &tu.backup_codes[1]).await.status, 200);

    // Session mode: disableSession answers with the request's own session token, sets no cookie.
    let mut owner = tu.u.client;
    let token = unsigned(owner.cookie(SESSION).unwrap());
    let res = owner
        .post(
            "/two-factor/verify-backup-code",
            json!({"code": tu.backup_codes[2], "disableSession": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["token"], token.as_str());
    assert!(res.set_cookies.is_empty(), "{:?}", res.set_cookies);
}

two_factor_scenarios!(
    // two-factor.test.ts › two factor
    should_return_uri_and_backup_codes_and_not_enable_two_factor_yet: OTP,
    should_use_custom_issuer_from_request_parameter: OTP,
    should_fallback_to_app_name_when_no_issuer_provided: OTP,
    should_enable_two_factor: OTP,
    should_require_two_factor: OTP,
    should_fail_if_two_factor_cookie_is_missing: OTP,
    should_fail_when_passing_invalid_totp_code_with_expected_error_code: OTP,
    should_generate_backup_codes: OTP,
    should_allow_sign_in_with_backup_code: OTP,
    should_trust_device: OTP,
    should_limit_otp_verification_attempts: OTP,
    should_disable_two_factor: OTP,
    // two-factor.test.ts › OTP-only enablement
    otp_only_should_enable_2fa_with_otp_method: OTP,
    otp_only_should_only_report_otp_in_two_factor_methods_at_sign_in: OTP,
    otp_only_should_reject_otp_enable_when_send_otp_is_not_configured: NO_OTP,
    otp_only_should_preserve_existing_totp_row_when_enabling_otp: OTP,
    // two-factor.test.ts › two factor auth API
    auth_api_should_enable_two_factor_with_otp_method: OTP,
    auth_api_should_request_second_factor: OTP,
    auth_api_should_send_otp: OTP,
    auth_api_should_verify_otp: OTP,
    auth_api_should_disable_two_factor: OTP,
    // two-factor.test.ts › view backup codes
    view_backup_codes_should_return_parsed_array_not_json_string: OTP,
    view_backup_codes_should_return_array_after_generating_new_backup_codes: OTP,
    view_backup_codes_should_successfully_regenerate_backup_codes_multiple_times: OTP,
    view_backup_codes_should_correctly_update_backup_codes_after_verification: OTP,
    view_backup_codes_should_not_expose_view_backup_codes_to_client: OTP,
    // two-factor.test.ts › trust device server-side validation, max ages
    trust_device_should_force_2fa_when_server_side_trust_record_is_expired: OTP,
    trust_device_should_preserve_trust_device_after_sign_out: OTP,
    trust_device_should_revoke_trust_device_when_disabling_2fa: OTP,
    trust_device_max_age_should_use_default_30_days: OTP,
    two_factor_cookie_max_age_should_use_default_10_minutes: OTP,
    // two-factor.test.ts › OTP storage modes, pre-migration rows, issue #8627
    otp_storage_should_verify_otp: OTP,
    otp_storage_should_reject_invalid_otp: OTP,
    pre_migration_should_complete_enrollment_when_verified_is_null: OTP,
    issue_8627_should_create_two_factor_row_with_verified_false_on_enable: OTP,
    issue_8627_should_mark_totp_as_verified_after_verify_totp_during_enrollment: OTP,
    issue_8627_should_preserve_verified_state_during_re_enrollment: OTP,
    issue_8627_should_reject_unverified_totp_during_sign_in_and_allow_otp_fallback: OTP,
    // two-factor.test.ts › passwordless, checkPassword
    passwordless_allows_enabling_without_password_for_users_without_credentials: PASSWORDLESS,
    passwordless_allows_getting_totp_uri_without_password: PASSWORDLESS,
    passwordless_allows_generating_backup_codes_without_password: PASSWORDLESS,
    passwordless_allows_disabling_without_password: PASSWORDLESS,
    passwordless_rejects_enabling_without_password_for_credential_users: PASSWORDLESS,
    check_password_uses_invalid_password_for_wrong_password_and_missing_credential: OTP,
    // two-factor.test.ts › twoFactorMethods in sign-in response
    methods_totp_only_should_not_redirect_when_user_has_not_verified_totp: NO_OTP,
    methods_totp_only_should_return_totp_when_user_has_verified_totp: NO_OTP,
    methods_with_otp_should_return_otp_when_2fa_enabled_but_no_totp_row: OTP,
    methods_with_otp_should_exclude_unverified_totp: OTP,
    methods_with_otp_should_return_totp_and_otp_when_user_has_verified_totp: OTP,
    // two-factor.test.ts › 2FA enforcement scope, backup codes storage configurations
    scope_should_not_challenge_2fa_on_authenticated_non_sign_in_endpoints: SKIP_VERIFY,
    backup_codes_storage_should_preserve_encrypted_format_after_verification: SKIP_VERIFY_NO_OTP,
    // two-factor.security.test.ts
    security_sign_in_email_response_carries_no_valid_session_cookie: NO_OTP,
    security_sign_in_email_replaying_captured_cookies_cannot_authenticate: NO_OTP,
    security_sign_in_username_response_carries_no_valid_session_cookie: USERNAME,
    security_sign_in_username_replaying_captured_cookies_cannot_authenticate: USERNAME,
    security_rejects_an_expired_challenge_even_with_a_valid_totp: NO_OTP,
    security_two_concurrent_verifications_of_one_challenge_yield_one_session: NO_OTP,
    security_otp_counts_wrong_guesses_up_to_the_limit_then_locks_out: OTP,
    security_otp_concurrent_burst_of_wrong_guesses_cannot_exceed_the_budget: OTP,
    security_otp_concurrent_correct_codes_mint_at_most_one_session: OTP,
    // two-factor.attempt-cap.test.ts
    attempt_cap_totp_locks_out_after_the_limit_and_cancels_the_challenge: NO_OTP,
    attempt_cap_totp_concurrent_burst_cannot_exceed_the_budget: NO_OTP,
    attempt_cap_totp_server_error_does_not_spend_an_attempt_slot: NO_OTP,
    attempt_cap_backup_codes_count_wrong_codes_up_to_the_limit_then_lock_out: NO_OTP,
    // two-factor.account-lockout.test.ts
    lockout_locks_the_account_after_failures_across_separate_challenges: NO_OTP,
    lockout_counts_failures_from_all_factors_toward_one_lock: NO_OTP,
    lockout_counts_email_otp_failures_toward_the_same_lock: OTP,
    lockout_resets_the_counter_on_a_successful_verification: NO_OTP,
    lockout_releases_the_lock_once_its_window_elapses: NO_OTP,
    lockout_counts_a_null_failure_count_without_locking_on_the_first_failure: NO_OTP,
    // beyond Better Auth
    beyond_totp_replay_is_refused_in_session_mode: NO_OTP,
    beyond_totp_replay_is_refused_across_challenges: NO_OTP,
    beyond_one_totp_code_on_20_parallel_challenges_succeeds_once: NO_OTP,
    beyond_one_backup_code_on_20_parallel_challenges_succeeds_once: NO_OTP,
    beyond_same_challenge_with_two_backup_codes_at_once_yields_one_session: NO_OTP,
    beyond_same_challenge_verified_by_10_at_once_yields_one_session: NO_OTP,
    beyond_attempt_cap_is_shared_by_totp_and_backup_codes: NO_OTP,
    beyond_lockout_blocks_every_factor: OTP,
    // flows
    flow_totp_enable_verify_sign_out_sign_in: OTP,
    flow_otp: OTP,
    flow_backup_codes: OTP,
    flow_trust_device: OTP,
    flow_dont_remember_is_preserved: OTP,
    flow_disable: OTP,
    flow_skip_verification_on_enable: SKIP_VERIFY,
    issuer_defaults_to_the_app_name: APP_NAME,
    issuer_option_applies_to_enable_and_get_totp_uri: ISSUER,
    username_sign_in_is_gated: USERNAME,
    storage_totp_secret_is_better_auth_compatible: NO_OTP,
    // errors
    errors_enable: OTP,
    errors_disable: OTP,
    errors_get_totp_uri: OTP,
    errors_verify_totp: OTP,
    errors_send_otp_without_delivery: NO_OTP,
    errors_send_and_verify_otp: OTP,
    errors_generate_backup_codes: OTP,
    errors_verify_backup_code: OTP,
);
