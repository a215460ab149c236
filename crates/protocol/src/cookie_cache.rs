//! Better Auth's cookie cache (`session.cookieCache`, strategy `compact`): the `session_data`
//! cookie that lets `/get-session` answer without the database.
//!
//! Value = `base64url_nopad(JSON{"session": P, "expiresAt": E, "signature": S})` where
//! `P = {"session", "user", "updatedAt", "version"}`, `E` is a millisecond epoch and
//! `S = base64url_nopad(HMAC-SHA256(secret, JSON.stringify({...P, expiresAt: E})))`.
//! better-auth: dist/cookies/index.mjs (setCookieCache, decodeCookieCache),
//! dist/cookies/cache.mjs (the payload schemas), @better-auth/core: dist/utils/json.mjs
//! (safeJSONParse, which revives ISO date strings before the signature is checked).
//!
//! Only `compact` is offered: `jwt` and `jwe` carry the same data in other envelopes and are not
//! Better Auth's default.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use serde_json::{Map, Number, Value};
use sha2::Sha256;
use time::{Date, Month, PrimitiveDateTime, Time};

use crate::model::{from_epoch_ms, iso_ms};

type HmacSha256 = Hmac<Sha256>;

/// `base64Url.decode` of @better-auth/utils: padding optional, stray trailing bits ignored.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `version` when none is configured (`cookieCache.version` default).
pub const DEFAULT_VERSION: &str = "1";

/// A verified cache cookie: the payload `P` and the cookie's own expiry `E` (ms epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub payload: Map<String, Value>,
    pub expires_at: f64,
}

/// The parts of a verified payload that `/get-session` checks and returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub session: Map<String, Value>,
    pub user: Map<String, Value>,
    pub token: String,
    pub version: String,
    /// The embedded session's `expiresAt`, ms epoch.
    pub session_expires_at: i64,
    /// The cookie's own expiry `E`, ms epoch.
    pub expires_at: f64,
}

impl Cached {
    /// Whether this cookie may answer `/get-session` for the signed session `token` at `now_ms`:
    /// same token, the configured `version`, neither the cookie nor the embedded session expired
    /// (better-auth: dist/api/routes/session.mjs getSession).
    pub fn answers(&self, token: &str, version: &str, now_ms: i64) -> bool {
        self.token == token
            && self.version == version
            && self.expires_at >= now_ms as f64
            && self.session_expires_at >= now_ms
    }
}

/// The payload `P` for a session and user as `/get-session` would return them.
pub fn payload(
    session: Value,
    user: Value,
    updated_at_ms: i64,
    version: &str,
) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("session".into(), session);
    p.insert("user".into(), user);
    p.insert("updatedAt".into(), Value::from(updated_at_ms));
    p.insert("version".into(), Value::from(version));
    p
}

/// The cookie value carrying `payload` until `expires_at_ms`, signed with `secret`.
pub fn encode(payload: &Map<String, Value>, expires_at_ms: i64, secret: &[u8]) -> String {
    let expires_at = Number::from(expires_at_ms);
    let signature =
        URL_SAFE_NO_PAD.encode(mac(secret, payload, &expires_at).finalize().into_bytes());
    let mut outer = Map::new();
    outer.insert("session".into(), Value::Object(payload.clone()));
    outer.insert("expiresAt".into(), Value::Number(expires_at));
    outer.insert("signature".into(), Value::String(signature));
    URL_SAFE_NO_PAD.encode(Value::Object(outer).to_string())
}

/// Verifies a cookie value with any of `secrets`; `None` for anything malformed or unsigned.
/// Expiry is the caller's business (upstream checks it after decoding).
pub fn decode(value: &str, secrets: &[&[u8]]) -> Option<Decoded> {
    let bytes = LENIENT_URL_SAFE.decode(value).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let Value::Object(mut outer) = revive_dates(serde_json::from_str(&text).ok()?) else {
        return None;
    };
    // compactCookieCacheSchema: {session: record, expiresAt: number, signature: string}.
    let Some(Value::Object(payload)) = outer.remove("session") else {
        return None;
    };
    let Some(Value::Number(expires_at)) = outer.remove("expiresAt") else {
        return None;
    };
    let Some(Value::String(signature)) = outer.remove("signature") else {
        return None;
    };
    // Divergence, as for signed cookies: the canonical spelling of the signature only.
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let verified = secrets.iter().any(|secret| {
        mac(secret, &payload, &expires_at)
            .verify_slice(&signature)
            .is_ok()
    });
    verified.then(|| Decoded {
        payload,
        expires_at: expires_at.as_f64().unwrap_or(f64::NAN),
    })
}

/// `cookieCachePayloadSchema` (loose) on a verified cookie's payload: `session` and `user`
/// objects with their core fields, `updatedAt` a number, `version` an optional string.
pub fn parse_payload(decoded: &Decoded) -> Option<Cached> {
    let p = &decoded.payload;
    let session = p.get("session")?.as_object()?;
    let user = p.get("user")?.as_object()?;
    p.get("updatedAt")?.as_number()?;
    let version = match p.get("version") {
        None => DEFAULT_VERSION.to_owned(),
        Some(Value::String(v)) => v.clone(),
        Some(_) => return None,
    };
    let string =
        |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
    let date = |m: &Map<String, Value>, k: &str| string(m, k).and_then(|s| iso_millis(&s));
    for k in ["id", "userId", "token"] {
        string(session, k)?;
    }
    date(session, "createdAt")?;
    date(session, "updatedAt")?;
    let session_expires_at = date(session, "expiresAt")?;
    for k in ["id", "email", "name"] {
        string(user, k)?;
    }
    date(user, "createdAt")?;
    date(user, "updatedAt")?;
    let mut user = in_schema_order(user, USER_SHAPE);
    // userSchema: `email: z.string().transform(toLowerCase)`, `emailVerified` defaults to false.
    if let Some(Value::String(e)) = user.get_mut("email") {
        *e = e.to_lowercase();
    }
    if !user.contains_key("emailVerified") {
        user.shift_insert(
            4.min(user.len()),
            "emailVerified".into(),
            Value::Bool(false),
        );
    }
    Some(Cached {
        token: string(session, "token")?,
        session: in_schema_order(session, SESSION_SHAPE),
        user,
        version,
        session_expires_at,
        expires_at: decoded.expires_at,
    })
}

/// Key order of @better-auth/core's sessionSchema and userSchema (coreSchema + extend). A zod
/// object parse returns the shape's keys first, in shape order, then a loose object's other keys
/// in input order, so that is the order upstream answers a cached session in.
const SESSION_SHAPE: &[&str] = &[
    "id",
    "createdAt",
    "updatedAt",
    "userId",
    "expiresAt",
    "token",
    "ipAddress",
    "userAgent",
];
const USER_SHAPE: &[&str] = &[
    "id",
    "createdAt",
    "updatedAt",
    "email",
    "emailVerified",
    "name",
    "image",
];

fn in_schema_order(m: &Map<String, Value>, shape: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for k in shape {
        if let Some(v) = m.get(*k) {
            out.insert((*k).to_owned(), v.clone());
        }
    }
    for (k, v) in m {
        if !shape.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// `JSON.stringify({...payload, expiresAt})` under HMAC-SHA256.
fn mac(secret: &[u8], payload: &Map<String, Value>, expires_at: &Number) -> HmacSha256 {
    let mut signed = payload.clone();
    signed.insert("expiresAt".into(), Value::Number(expires_at.clone()));
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(Value::Object(signed).to_string().as_bytes());
    mac
}

/// `safeJSONParse`'s reviver: every string that looks like an ISO 8601 UTC timestamp and is a
/// valid JS date becomes a `Date`, which `JSON.stringify` writes back as `toISOString()`. The
/// signature is computed over that re-serialization, so it is applied here too.
fn revive_dates(value: Value) -> Value {
    match value {
        Value::String(s) => match iso_millis(&s).and_then(from_epoch_ms).map(iso_ms) {
            Some(canonical) => Value::String(canonical),
            None => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(revive_dates).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, revive_dates(v))).collect())
        }
        other => other,
    }
}

/// `new Date(s).getTime()` for strings matching upstream's
/// `/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/`, with V8's rules: any day 1–31 (overflow
/// rolls into the next month), `24:00:00` is the next midnight, fractions truncated to ms.
pub fn iso_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &s[19..];
    let fraction = match rest.strip_suffix('Z')? {
        "" => "",
        f => {
            let digits = f.strip_prefix('.')?;
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            digits
        }
    };
    let millis: i64 = format!("{:0<3}", &fraction[..fraction.len().min(3)])
        .parse()
        .ok()?;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && minute <= 59
        && second <= 59
        && (hour <= 23
            || (hour == 24 && minute == 0 && second == 0 && fraction.bytes().all(|c| c == b'0')));
    if !valid {
        return None;
    }
    let first =
        Date::from_calendar_date(year as i32, Month::try_from(month as u8).ok()?, 1).ok()?;
    let midnight = PrimitiveDateTime::new(first, Time::MIDNIGHT).assume_utc();
    let seconds = (day - 1) * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(midnight.unix_timestamp() * 1_000 + seconds * 1_000 + millis)
}

/// Splits a cookie value into the chunks upstream writes when it would not fit one cookie:
/// `overhead` is the length of an empty `<name>.99` line with the cookie's attributes; a value
/// that fits in one cookie is returned whole; more than 100 chunks → `None` (upstream skips the
/// cache with a warning). better-auth: dist/cookies/session-store.mjs (chunkCookie).
pub fn chunk(value: &str, overhead: usize) -> Option<Vec<&str>> {
    const MAX_COOKIE_SIZE: usize = 4050;
    const MAX_COOKIE_CHUNKS: usize = 100;
    let size = MAX_COOKIE_SIZE.checked_sub(overhead).filter(|s| *s > 0)?;
    let count = value.len().div_ceil(size);
    if count <= 1 {
        return Some(vec![value]);
    }
    if count > MAX_COOKIE_CHUNKS {
        return None;
    }
    // The value is base64url (ASCII), so byte offsets are character offsets.
    Some(
        (0..count)
            .map(|i| &value[i * size..((i + 1) * size).min(value.len())])
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Map<String, Value> {
        payload(
            json!({"expiresAt":"2026-12-12T10:00:00.000Z","token":"tok","createdAt":"2026-12-05T10:00:00.000Z",
                   "updatedAt":"2026-12-05T10:00:00.000Z","ipAddress":"","userAgent":"ua","userId":"u1","id":"s1"}),
            json!({"name":"A","email":"a@example.com","emailVerified":false,"image":null,
                   "createdAt":"2026-12-05T10:00:00.000Z","updatedAt":"2026-12-05T10:00:00.000Z",
                   "twoFactorEnabled":false,"id":"u1"}),
            1_764_928_800_000,
            "1",
        )
    }

    #[test]
    fn round_trip_and_tampering() {
        let value = encode(&sample(), 1_764_929_100_000, b"secret");
        let d = decode(&value, &[b"other", b"secret"]).unwrap();
        assert_eq!(d.payload, sample());
        assert_eq!(d.expires_at, 1_764_929_100_000.0);
        assert!(decode(&value, &[b"other"]).is_none());
        let c = parse_payload(&d).unwrap();
        assert_eq!((c.token.as_str(), c.version.as_str()), ("tok", "1"));
        // Answered in zod's shape order, extra keys after.
        let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>().join(",");
        assert_eq!(
            keys(&c.session),
            "id,createdAt,updatedAt,userId,expiresAt,token,ipAddress,userAgent"
        );
        assert_eq!(
            keys(&c.user),
            "id,createdAt,updatedAt,email,emailVerified,name,image,twoFactorEnabled"
        );
        // Change one byte of the JSON: the signature no longer matches.
        let json = String::from_utf8(URL_SAFE_NO_PAD.decode(&value).unwrap()).unwrap();
        let forged = URL_SAFE_NO_PAD.encode(json.replace("\"id\":\"u1\"}", "\"id\":\"u2\"}"));
        assert!(decode(&forged, &[b"secret"]).is_none());
        let later = URL_SAFE_NO_PAD.encode(json.replace("1764929100000", "1864929100000"));
        assert!(decode(&later, &[b"secret"]).is_none());
        for junk in ["", "!!", "e30", "bnVsbA", &value[..value.len() - 4]] {
            assert!(decode(junk, &[b"secret"]).is_none(), "{junk}");
        }
    }

    #[test]
    fn signature_covers_the_payload_with_expires_at_appended() {
        // The string upstream signs for P and E (JSON.stringify({...P, expiresAt: E})).
        let p = payload(json!({"a":1}), json!({"b":"x"}), 5, "1");
        let expected =
            r#"{"session":{"a":1},"user":{"b":"x"},"updatedAt":5,"version":"1","expiresAt":9}"#;
        let mut m = HmacSha256::new_from_slice(b"k").unwrap();
        m.update(expected.as_bytes());
        assert_eq!(
            mac(b"k", &p, &Number::from(9)).finalize().into_bytes(),
            m.finalize().into_bytes()
        );
    }

    #[test]
    fn dates_are_revived_as_v8_does() {
        for (input, out) in [
            ("2026-02-31T00:00:00Z", Some("2026-03-03T00:00:00.000Z")),
            ("2026-01-01T24:00:00Z", Some("2026-01-02T00:00:00.000Z")),
            ("2026-01-01T00:00:00.1Z", Some("2026-01-01T00:00:00.100Z")),
            (
                "2026-01-01T00:00:00.123456Z",
                Some("2026-01-01T00:00:00.123Z"),
            ),
            ("0000-01-01T00:00:00Z", Some("0000-01-01T00:00:00.000Z")),
            ("2026-01-01T24:00:01Z", None),
            ("2026-01-01T23:59:60Z", None),
            ("2026-13-01T00:00:00Z", None),
            ("2026-01-01T00:00:00.Z", None),
            ("2026-01-01T00:00:00+00:00", None),
            ("２026-01-01T00:00:00Z", None),
        ] {
            let revived = iso_millis(input).and_then(from_epoch_ms).map(iso_ms);
            assert_eq!(revived.as_deref(), out, "{input}");
        }
        assert_eq!(
            revive_dates(json!({"n":["2026-01-01T00:00:00Z"]})),
            json!({"n":["2026-01-01T00:00:00.000Z"]})
        );
    }

    #[test]
    fn chunks_only_what_does_not_fit() {
        let v = "a".repeat(5000);
        assert_eq!(chunk(&v, 50).unwrap(), vec![&v[..4000], &v[4000..]]);
        assert_eq!(chunk("abc", 50).unwrap(), vec!["abc"]);
        assert!(chunk(&"a".repeat(500_000), 50).is_none());
        assert!(chunk("abc", 5000).is_none());
    }
}
