//! Shared by every scenario file: the server configurations ([`Setup`]), the running
//! server ([`Tf`]) and [`run`], an RFC 6238 authenticator, request and cookie helpers, and
//! reads/writes of Better Auth's schema ([`db`]).

use std::time::{SystemTime, UNIX_EPOCH};

use portcullis_entity::{account, session, two_factor, user, verification};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Value as SqlValue, sea_query::Query,
};
use serde_json::{Value, json};

use super::common::{self, Backend, Res, SECRET, TestClient, TestServer, webhook::OtpWebhook};

pub(crate) const PW: &str = "password123";
pub(crate) const SESSION: &str = "better-auth.session_token";
pub(crate) const SESSION_DATA: &str = "better-auth.session_data";
pub(crate) const DONT_REMEMBER: &str = "better-auth.dont_remember";
pub(crate) const TWO_FACTOR: &str = "better-auth.two_factor";
pub(crate) const TRUST: &str = "better-auth.trust_device";
pub(crate) const DAY: i64 = 86_400;

// ---------------------------------------------------------------- configurations

/// The server configuration a scenario runs under.
#[derive(Clone, Copy)]
pub(crate) struct Setup {
    /// Start an OTP webhook listener and pass it as `PORTCULLIS_OTP_WEBHOOK_URL`
    /// (Better Auth: `otpOptions.sendOTP` configured).
    pub(crate) otp: bool,
    pub(crate) env: &'static [(&'static str, &'static str)],
}

/// `twoFactor({ otpOptions: { sendOTP } })`, the configuration most upstream tests use.
pub(crate) const OTP: Setup = Setup {
    otp: true,
    env: &[],
};
/// `twoFactor()`: no OTP delivery.
pub(crate) const NO_OTP: Setup = Setup {
    otp: false,
    env: &[],
};
/// `skipVerificationOnEnable: true` (with OTP delivery).
pub(crate) const SKIP_VERIFY: Setup = Setup {
    otp: true,
    env: &[("PORTCULLIS_TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE", "1")],
};
/// `skipVerificationOnEnable: true`, no OTP delivery.
pub(crate) const SKIP_VERIFY_NO_OTP: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE", "1")],
};
/// `allowPasswordless: true`, no OTP delivery.
pub(crate) const PASSWORDLESS: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_TWO_FACTOR_ALLOW_PASSWORDLESS", "1")],
};
/// `plugins: [twoFactor(), username()]`.
pub(crate) const USERNAME: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_PLUGINS", "two-factor,username")],
};
/// `appName: "My App"`.
pub(crate) const APP_NAME: Setup = Setup {
    otp: false,
    env: &[("PORTCULLIS_APP_NAME", "My App")],
};
/// `appName: "My App"`, `twoFactor({ issuer: "Top Issuer" })`.
pub(crate) const ISSUER: Setup = Setup {
    otp: false,
    env: &[
        ("PORTCULLIS_APP_NAME", "My App"),
        ("PORTCULLIS_TWO_FACTOR_ISSUER", "Top Issuer"),
    ],
};

/// A running server plus, with [`Setup::otp`], the webhook that receives its OTPs.
pub(crate) struct Tf {
    pub(crate) s: TestServer,
    pub(crate) hook: Option<OtpWebhook>,
}

impl Tf {
    pub(crate) fn client(&self) -> TestClient {
        self.s.client()
    }

    pub(crate) fn hook(&self) -> &OtpWebhook {
        self.hook
            .as_ref()
            .expect("this scenario needs a Setup with otp: true")
    }

    pub(crate) fn conn(&self) -> &sea_orm::DatabaseConnection {
        &self.s.state.db.conn
    }

    /// POST /two-factor/send-otp with `c`'s cookies and returns the code the webhook got.
    pub(crate) async fn send_otp(&self, c: &mut TestClient, email: &str) -> String {
        let seen = self.hook().count_for(email);
        let res = c.post("/two-factor/send-otp", json!({})).await;
        assert_eq!(res.status, 200, "send-otp: {}", res.text);
        assert_eq!(res.json(), json!({"status": true}));
        self.hook().otp_after(email, seen).await
    }
}

pub(crate) async fn run(backend: Backend, setup: Setup, scenario: impl AsyncFnOnce(&Tf)) {
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

// ---------------------------------------------------------------- TOTP (RFC 6238)

/// The authenticator-app side: keyed with the otpauth URI's `secret=` (base32), HMAC-SHA1,
/// dynamic truncation (RFC 4226 §5.3), T0 = 0.
#[derive(Clone, Debug)]
pub(crate) struct Authenticator {
    pub(crate) key: Vec<u8>,
    pub(crate) digits: u32,
    pub(crate) period: u64,
}

pub(crate) fn query_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    uri.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

pub(crate) fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
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
    pub(crate) fn from_uri(uri: &str) -> Self {
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

    pub(crate) fn step(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / self.period
    }

    pub(crate) fn code(&self, step: u64) -> String {
        hotp(&self.key, step, self.digits)
    }

    /// A code no step within ±3 of now produces.
    pub(crate) fn wrong_code(&self) -> String {
        let now = self.step();
        let valid: Vec<String> = (now - 3..=now + 3).map(|s| self.code(s)).collect();
        (0..)
            .map(|i: u32| format!("{:06}", 123_456 + i * 7))
            .find(|c| !valid.contains(c))
            .unwrap()
    }
}

// ---------------------------------------------------------------- helpers

pub(crate) fn email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    )
}

pub(crate) fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

pub(crate) fn is_backup_code(c: &str) -> bool {
    let b = c.as_bytes();
    b.len() == 11
        && b[5] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, ch)| i == 5 || ch.is_ascii_alphanumeric())
}

/// Percent-decodes a cookie value as the client sends it back.
pub(crate) fn percent_decode(v: &str) -> String {
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
pub(crate) fn unsigned(cookie_value: &str) -> String {
    let decoded = percent_decode(cookie_value);
    let (value, sig) = decoded
        .rsplit_once('.')
        .unwrap_or_else(|| panic!("not a signed cookie: {cookie_value}"));
    assert_eq!(sig.len(), 44, "signature of {cookie_value}");
    value.to_string()
}

/// The value of the last Set-Cookie line for `name` ("" for an expiry).
pub(crate) fn set_cookie_value(res: &Res, name: &str) -> Option<String> {
    res.cookie_line(name)
        .map(|l| l.split(';').next().unwrap()[name.len() + 1..].to_string())
}

pub(crate) fn expiry_line(name: &str) -> String {
    format!("{name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
}

pub(crate) fn assert_expires(res: &Res, name: &str) {
    assert!(
        res.set_cookies.contains(&expiry_line(name)),
        "expected {name} to be expired; Set-Cookie: {:?}",
        res.set_cookies
    );
}

/// No `session_token` / `session_data[.N]` Set-Cookie line with a non-empty value.
pub(crate) fn assert_no_live_session_cookie(res: &Res) {
    for l in &res.set_cookies {
        if l.starts_with(&format!("{SESSION}=")) || l.starts_with(SESSION_DATA) {
            let value = l.split(';').next().unwrap().split_once('=').unwrap().1;
            assert_eq!(value, "", "live session cookie leaked: {l}");
        }
    }
}

pub(crate) fn assert_redirect(res: &Res, methods: &[&str]) {
    assert_eq!(res.status, 200, "sign-in: {}", res.text);
    assert_eq!(
        res.json(),
        json!({"twoFactorRedirect": true, "twoFactorMethods": methods}),
        "sign-in body"
    );
}

/// A copy of `c` (same cookies) to race requests on one challenge.
pub(crate) fn twin(t: &Tf, c: &TestClient) -> TestClient {
    let mut n = t.client();
    n.jar = c.jar.clone();
    n
}

/// A client holding only the given cookie.
pub(crate) fn with_cookie(t: &Tf, name: &str, value: &str) -> TestClient {
    let mut c = t.client();
    c.jar.push((name.to_string(), value.to_string()));
    c
}

pub(crate) struct User {
    pub(crate) email: String,
    pub(crate) id: String,
    /// Signed in (the sign-up session, or the one a later step rotated to).
    pub(crate) client: TestClient,
}

pub(crate) async fn new_user(t: &Tf, tag: &str) -> User {
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

pub(crate) struct Enabled {
    pub(crate) uri: String,
    pub(crate) auth: Authenticator,
    pub(crate) backup_codes: Vec<String>,
}

pub(crate) async fn enable_totp(c: &mut TestClient) -> Enabled {
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
pub(crate) struct TotpUser {
    pub(crate) u: User,
    pub(crate) auth: Authenticator,
    pub(crate) t0: u64,
    pub(crate) backup_codes: Vec<String>,
}

pub(crate) async fn totp_user(t: &Tf, tag: &str) -> TotpUser {
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
pub(crate) async fn otp_user(t: &Tf, tag: &str) -> User {
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
pub(crate) async fn challenge(t: &Tf, email: &str, methods: &[&str]) -> TestClient {
    let mut c = t.client();
    let res = c.sign_in(email, PW).await;
    assert_redirect(&res, methods);
    assert!(c.cookie(TWO_FACTOR).is_some(), "two_factor cookie set");
    assert!(c.cookie(SESSION).is_none(), "no session while challenged");
    c
}

/// The challenge still has all five attempts: four wrong codes are refused as wrong (not as
/// too many), then the next step's code signs in.
pub(crate) async fn assert_all_attempts_left(c: &mut TestClient, tu: &TotpUser) {
    let wrong = tu.auth.wrong_code();
    for _ in 0..4 {
        verify_totp(c, &wrong)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let res = verify_totp(c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
}

pub(crate) async fn verify_totp(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-totp", json!({"code": code}))
        .await
}

pub(crate) async fn verify_backup(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-backup-code", json!({"code": code}))
        .await
}

pub(crate) async fn verify_otp(c: &mut TestClient, code: &str) -> Res {
    c.post("/two-factor/verify-otp", json!({"code": code}))
        .await
}

pub(crate) fn other_otp(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

pub(crate) async fn get_session(c: &mut TestClient) -> Value {
    let res = c.get("/get-session").await;
    assert_eq!(res.status, 200, "get-session: {}", res.text);
    res.json()
}

pub(crate) fn assert_totp_uri(uri: &str, issuer_path: &str, issuer_query: &str, email: &str) {
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
pub(crate) mod db {
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
pub(crate) fn better_auth_decrypt(hex: &str) -> String {
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
