//! JSON output objects and response bodies.
//!
//! Shapes and key names come from the handlers' `ctx.json(...)` calls in
//! `better-auth: dist/api/routes/*.mjs` and `dist/plugins/two-factor/**` (1.7.25). Dates are
//! rendered like JS `Date.prototype.toISOString()` (what `JSON.stringify` does to a `Date`).
//! Nullable columns are emitted as `null`, as the SQL adapters do (the memory adapter omits
//! them; the client treats both alike).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// JS `toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, milliseconds truncated; years outside
/// 0..=9999 use the expanded `±YYYYYY` form.
pub fn iso_ms(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let year = t.year();
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -i64::from(year))
    } else {
        format!("+{year:06}")
    };
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Milliseconds since the Unix epoch → date (JS `new Date(ms)`).
pub fn from_epoch_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Date → milliseconds since the Unix epoch (JS `date.getTime()`), truncated toward −∞.
pub fn to_epoch_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let end = self.i.checked_add(n)?;
        let slice = self.s.get(self.i..end)?;
        let mut v: u32 = 0;
        for &b in slice {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(b - b'0');
        }
        self.i = end;
        Some(v)
    }
    fn done(&self) -> bool {
        self.i == self.s.len()
    }
}

/// Parses the date strings found in JSON bodies and in rows written by Better Auth's SQL
/// adapters: `YYYY-MM-DD`, then optionally `T`/`t`/space + `HH:MM[:SS[.fraction]]`, then an
/// optional `Z`, `±HH`, `±HHMM` or `±HH:MM`. No zone means UTC (SQL `timestamp` columns hold
/// UTC). Also accepts JS's expanded `±YYYYYY` years. The fraction may have 1–9 digits.
pub fn parse_iso(s: &str) -> Option<OffsetDateTime> {
    let mut c = Cursor {
        s: s.as_bytes(),
        i: 0,
    };
    let year: i32 = match c.peek()? {
        b'+' | b'-' => {
            let negative = c.peek() == Some(b'-');
            c.i += 1;
            let y = i32::try_from(c.digits(6)?).ok()?;
            if negative { -y } else { y }
        }
        _ => i32::try_from(c.digits(4)?).ok()?,
    };
    if !c.eat(b'-') {
        return None;
    }
    let month = Month::try_from(u8::try_from(c.digits(2)?).ok()?).ok()?;
    if !c.eat(b'-') {
        return None;
    }
    let day = u8::try_from(c.digits(2)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    if c.done() {
        return Some(date.midnight().assume_utc());
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return None;
    }
    let hour = u8::try_from(c.digits(2)?).ok()?;
    if !c.eat(b':') {
        return None;
    }
    let minute = u8::try_from(c.digits(2)?).ok()?;
    let mut second = 0;
    let mut nanos: u32 = 0;
    if c.eat(b':') {
        second = u8::try_from(c.digits(2)?).ok()?;
        if c.eat(b'.') || c.eat(b',') {
            let start = c.i;
            let mut scale = 100_000_000;
            while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
                nanos += u32::from(b - b'0') * scale;
                scale /= 10;
                c.i += 1;
            }
            let n = c.i - start;
            if n == 0 || n > 9 {
                return None;
            }
        }
    }
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    let offset = if c.done() || c.eat(b'Z') || c.eat(b'z') {
        UtcOffset::UTC
    } else {
        let negative = match c.peek()? {
            b'+' => false,
            b'-' => true,
            _ => return None,
        };
        c.i += 1;
        let oh = i8::try_from(c.digits(2)?).ok()?;
        let om = if c.done() {
            0
        } else {
            c.eat(b':');
            i8::try_from(c.digits(2)?).ok()?
        };
        let (oh, om) = if negative { (-oh, -om) } else { (oh, om) };
        UtcOffset::from_hms(oh, om, 0).ok()?
    };
    if !c.done() {
        return None;
    }
    Some(
        date.with_time(time)
            .assume_offset(offset)
            .to_offset(UtcOffset::UTC),
    )
}

/// `#[serde(with = "iso_date")]` for `OffsetDateTime`: writes [`iso_ms`]; reads an ISO string
/// ([`parse_iso`]) or a number of epoch milliseconds.
pub mod iso_date {
    use std::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::iso_ms(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        d.deserialize_any(DateVisitor)
    }

    pub(super) struct DateVisitor;

    impl Visitor<'_> for DateVisitor {
        type Value = OffsetDateTime;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an ISO-8601 date string or epoch milliseconds")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            super::parse_iso(v).ok_or_else(|| E::custom(format!("invalid date {v:?}")))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            super::from_epoch_ms(v).ok_or_else(|| E::custom(format!("date out of range: {v}")))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            let v = i64::try_from(v).map_err(|_| E::custom("date out of range"))?;
            self.visit_i64(v)
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if !v.is_finite() || v.abs() > 8.64e15 {
                return Err(E::custom("date out of range"));
            }
            // JS `new Date(x)` truncates fractional milliseconds (TimeClip → ToIntegerOrInfinity).
            #[allow(clippy::cast_possible_truncation)]
            self.visit_i64(v.trunc() as i64)
        }
    }

    /// The same for `Option<OffsetDateTime>` (`null`/missing ↔ `None`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] OffsetDateTime);
            Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(t)| t))
        }
    }
}

/// The user object (`parseUserOutput`, `better-auth: dist/db/schema.mjs`): every user column not
/// flagged `returned: false`. Plugin columns (e.g. `twoFactorEnabled`, `username`) go in `extra`
/// and are emitted only when present, after the core fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub name: String,
    pub email: String,
    pub email_verified: bool,
    pub image: Option<String>,
    #[serde(with = "iso_date")]
    pub created_at: OffsetDateTime,
    #[serde(with = "iso_date")]
    pub updated_at: OffsetDateTime,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Last, as Better Auth's SQL adapters return it (key order is cosmetic for clients).
    pub id: String,
}

/// The session object (`parseSessionOutput`, `better-auth: dist/db/schema.mjs`). The token *is*
/// part of it (`/get-session`, `/list-sessions`). `ipAddress`/`userAgent` hold what the row holds
/// (upstream writes `""` when unknown; `None` serializes as `null`). Session additional fields
/// (from plugins we do not serve) are not modelled; unknown keys are ignored when reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[serde(with = "iso_date")]
    pub expires_at: OffsetDateTime,
    pub token: String,
    #[serde(with = "iso_date")]
    pub created_at: OffsetDateTime,
    #[serde(with = "iso_date")]
    pub updated_at: OffsetDateTime,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub user_id: String,
    pub id: String,
}

/// An element of `/list-accounts`: the account row minus tokens, token expiries and password,
/// with the comma-separated `scope` column turned into `scopes`.
/// `better-auth: dist/api/routes/account.mjs`, `dist/db/schema.mjs` `parseAccountOutput`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub account_id: String,
    pub provider_id: String,
    pub user_id: String,
    #[serde(with = "iso_date")]
    pub created_at: OffsetDateTime,
    #[serde(with = "iso_date")]
    pub updated_at: OffsetDateTime,
    pub scopes: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `/sign-in/email`, `/sign-in/username`: `{"redirect","token","url"?,"user"}` — `url` omitted
/// without `callbackURL`. `better-auth: dist/api/routes/sign-in.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInResponse {
    pub redirect: bool,
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub user: User,
}

/// `/sign-up/email`: `{"token": string|null, "user"}`. `better-auth: dist/api/routes/sign-up.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignUpResponse {
    pub token: Option<String>,
    pub user: User,
}

/// `/change-password`: same shape as sign-up (`token` is `null` unless `revokeOtherSessions`).
/// `better-auth: dist/api/routes/update-user.mjs`.
pub type ChangePasswordResponse = SignUpResponse;

/// Two-factor verify endpoints: `{"token","user"}`. `token` is **omitted** (not `null`) for
/// `/two-factor/verify-backup-code` with `disableSession: true` in challenge mode
/// (`token: session.session?.token`). `better-auth: dist/plugins/two-factor/verify-two-factor.mjs`,
/// `dist/plugins/two-factor/backup-codes/index.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenUserResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub user: User,
}

/// `/get-session` (or the literal `null`, i.e. `Option<SessionWithUser>::None`).
/// `better-auth: dist/api/routes/session.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionWithUser {
    pub session: Session,
    pub user: User,
}

/// `/update-session`: `{"session"}`. `better-auth: dist/api/routes/update-session.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionResponse {
    pub session: Session,
}

/// `{"status": true}` (revoke-*, update-user, change-email, reset-password, verify-password,
/// send-verification-email, two-factor disable/send-otp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    pub status: bool,
}

/// `{"status": true, "message": …}` (`/request-password-reset`,
/// [`crate::error::messages::PASSWORD_RESET_REQUESTED`]). `better-auth: dist/api/routes/password.mjs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusMessageResponse {
    pub status: bool,
    pub message: String,
}

/// `/verify-email`: `{"status": true, "user": null | User}`.
/// `better-auth: dist/api/routes/email-verification.mjs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyEmailResponse {
    pub status: bool,
    pub user: Option<User>,
}

/// `/sign-out`: `{"success": true}`. `better-auth: dist/api/routes/sign-out.mjs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessResponse {
    pub success: bool,
}

/// `/delete-user`, `/delete-user/callback`: `{"success": true, "message": …}`.
/// `better-auth: dist/api/routes/update-user.mjs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessMessageResponse {
    pub success: bool,
    pub message: String,
}

/// `/ok`: `{"ok": true}`. `better-auth: dist/api/routes/ok.mjs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OkResponse {
    pub ok: bool,
}

/// The sign-in body when a second factor is required (HTTP 200).
/// `better-auth: dist/plugins/two-factor/index.mjs` (after-hook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwoFactorRedirect {
    pub two_factor_redirect: bool,
    /// `"totp"` first when a verified TOTP row exists, then `"otp"` when OTP is configured.
    pub two_factor_methods: Vec<String>,
}

/// `/two-factor/enable`: `{"method":"totp","totpURI",…,"backupCodes":[…]}` or `{"method":"otp"}`.
/// `better-auth: dist/plugins/two-factor/index.mjs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum EnableTwoFactorResponse {
    Totp {
        #[serde(rename = "totpURI")]
        totp_uri: String,
        #[serde(rename = "backupCodes")]
        backup_codes: Vec<String>,
    },
    Otp,
}

/// `/two-factor/get-totp-uri`: `{"totpURI"}`. `better-auth: dist/plugins/two-factor/totp/index.mjs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotpUriResponse {
    #[serde(rename = "totpURI")]
    pub totp_uri: String,
}

/// `/two-factor/generate-backup-codes`: `{"status": true, "backupCodes": […]}`.
/// `better-auth: dist/plugins/two-factor/backup-codes/index.mjs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupCodesResponse {
    pub status: bool,
    pub backup_codes: Vec<String>,
}

/// `/is-username-available` (username plugin): `{"available": bool}`.
/// `better-auth: dist/plugins/username/index.mjs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsernameAvailableResponse {
    pub available: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn iso_like_to_iso_string() {
        assert_eq!(
            iso_ms(datetime!(2026-11-24 12:32:04.685_999 UTC)),
            "2026-11-24T12:32:04.685Z"
        );
        assert_eq!(
            iso_ms(datetime!(2026-01-02 03:04:05 UTC)),
            "2026-01-02T03:04:05.000Z"
        );
        assert_eq!(
            iso_ms(datetime!(2026-01-02 01:00:00 +02:00)),
            "2026-01-01T23:00:00.000Z"
        );
        assert_eq!(
            iso_ms(datetime!(0001-01-01 00:00:00 UTC)),
            "0001-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn parse_accepts_js_and_sql_forms() {
        let want = datetime!(2026-11-24 12:32:04.685 UTC);
        for s in [
            "2026-11-24T12:32:04.685Z",
            "2026-11-24 12:32:04.685",
            "2026-11-24 12:32:04.685+00",
            "2026-11-24 12:32:04.685+00:00",
            "2026-11-24T14:32:04.685+02:00",
            "2026-11-24T14:32:04.685+0200",
            "2026-11-24T07:32:04.685-05",
            "2026-11-24t12:32:04.685z",
            "2026-11-24T12:32:04.685000Z",
        ] {
            assert_eq!(parse_iso(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_iso("2026-11-24 12:32:04"),
            Some(datetime!(2026-11-24 12:32:04 UTC))
        );
        assert_eq!(
            parse_iso("2026-11-24T12:32Z"),
            Some(datetime!(2026-11-24 12:32 UTC))
        );
        assert_eq!(
            parse_iso("2026-11-24"),
            Some(datetime!(2026-11-24 0:00 UTC))
        );
        assert_eq!(
            parse_iso("2026-11-24T12:32:04.123456789Z"),
            Some(datetime!(2026-11-24 12:32:04.123_456_789 UTC))
        );
        for bad in [
            "",
            "2026-11-24T",
            "2026-13-01",
            "2026-02-30",
            "2026-11-24T25:00:00Z",
            "2026-11-24T12:32:04.Z",
            "2026-11-24T12:32:04.1234567890Z",
            "2026-11-24T12:32:04Zx",
            "26-11-24",
            "1795523584902",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trip_iso() {
        let t = datetime!(2026-11-24 12:32:04.685 UTC);
        assert_eq!(parse_iso(&iso_ms(t)), Some(t));
        // JS: new Date("-000001-01-01T00:00:00.000Z").toISOString() round-trips.
        let far = datetime!(-0001-01-01 00:00:00 UTC);
        assert_eq!(iso_ms(far), "-000001-01-01T00:00:00.000Z");
        assert_eq!(parse_iso("-000001-01-01T00:00:00.000Z"), Some(far));
    }

    #[test]
    fn epoch_ms() {
        let t = from_epoch_ms(1_795_523_584_902).unwrap();
        assert_eq!(iso_ms(t), "2026-11-24T12:33:04.902Z");
        assert_eq!(to_epoch_ms(t), 1_795_523_584_902);
        assert_eq!(to_epoch_ms(datetime!(1969-12-31 23:59:59.999_5 UTC)), -1);
    }

    fn user() -> User {
        User {
            id: "u1".into(),
            name: "Alice".into(),
            email: "alice@example.com".into(),
            email_verified: false,
            image: None,
            created_at: datetime!(2026-11-24 12:32:04.685 UTC),
            updated_at: datetime!(2026-11-24 12:32:04.685 UTC),
            extra: Map::new(),
        }
    }

    #[test]
    fn user_json() {
        let mut u = user();
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"name":"Alice","email":"alice@example.com","emailVerified":false,"image":null,"createdAt":"2026-11-24T12:32:04.685Z","updatedAt":"2026-11-24T12:32:04.685Z","id":"u1"}"#
        );
        u.extra.insert("twoFactorEnabled".into(), json!(false));
        // Plugin fields sit between the core fields and the trailing id, as upstream.
        assert!(
            serde_json::to_string(&u)
                .unwrap()
                .ends_with(r#""twoFactorEnabled":false,"id":"u1"}"#)
        );
        let v = serde_json::to_value(&u).unwrap();
        assert_eq!(v["twoFactorEnabled"], json!(false));
        let back: User = serde_json::from_value(v).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn user_reads_memory_adapter_shape() {
        // Memory adapter omits null columns; key order is schema order with id last.
        let u: User = serde_json::from_str(
            r#"{"name":"Alice","email":"alice@example.com","emailVerified":false,"createdAt":"2026-11-24T12:32:04.685Z","updatedAt":"2026-11-24T12:32:04.685Z","twoFactorEnabled":true,"id":"u1"}"#,
        )
        .unwrap();
        assert_eq!(u.image, None);
        assert_eq!(u.extra.get("twoFactorEnabled"), Some(&json!(true)));
    }

    #[test]
    fn session_json() {
        let s = Session {
            id: "s1".into(),
            expires_at: datetime!(2026-12-01 12:32:04.685 UTC),
            token: "tok".into(),
            created_at: datetime!(2026-11-24 12:32:04.685 UTC),
            updated_at: datetime!(2026-11-24 12:32:04.685 UTC),
            ip_address: Some(String::new()),
            user_agent: None,
            user_id: "u1".into(),
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"expiresAt":"2026-12-01T12:32:04.685Z","token":"tok","createdAt":"2026-11-24T12:32:04.685Z","updatedAt":"2026-11-24T12:32:04.685Z","ipAddress":"","userAgent":null,"userId":"u1","id":"s1"}"#
        );
        let back: Session = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn response_shapes() {
        let sign_in = SignInResponse {
            redirect: false,
            token: "t".into(),
            url: None,
            user: user(),
        };
        let v = serde_json::to_value(&sign_in).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["redirect", "token", "user"]);
        let with_url = SignInResponse {
            url: Some("/dash".into()),
            redirect: true,
            ..sign_in
        };
        let keys: Vec<_> = serde_json::to_value(&with_url)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["redirect", "token", "url", "user"]);

        let up = SignUpResponse {
            token: None,
            user: user(),
        };
        assert!(
            serde_json::to_string(&up)
                .unwrap()
                .starts_with(r#"{"token":null,"user":{"#)
        );
        let verify = TokenUserResponse {
            token: None,
            user: user(),
        };
        assert!(
            serde_json::to_string(&verify)
                .unwrap()
                .starts_with(r#"{"user":{"#)
        );

        assert_eq!(
            serde_json::to_string(&TwoFactorRedirect {
                two_factor_redirect: true,
                two_factor_methods: vec!["totp".into(), "otp".into()],
            })
            .unwrap(),
            r#"{"twoFactorRedirect":true,"twoFactorMethods":["totp","otp"]}"#
        );
        assert_eq!(
            serde_json::to_string(&EnableTwoFactorResponse::Totp {
                totp_uri: "otpauth://x".into(),
                backup_codes: vec!["a".into()],
            })
            .unwrap(),
            r#"{"method":"totp","totpURI":"otpauth://x","backupCodes":["a"]}"#
        );
        assert_eq!(
            serde_json::to_string(&EnableTwoFactorResponse::Otp).unwrap(),
            r#"{"method":"otp"}"#
        );
        assert_eq!(
            serde_json::to_string(&BackupCodesResponse {
                status: true,
                backup_codes: vec!["a".into()],
            })
            .unwrap(),
            r#"{"status":true,"backupCodes":["a"]}"#
        );
        assert_eq!(
            serde_json::to_string(&TotpUriResponse {
                totp_uri: "u".into()
            })
            .unwrap(),
            r#"{"totpURI":"u"}"#
        );
        assert_eq!(
            serde_json::to_string(&StatusResponse { status: true }).unwrap(),
            r#"{"status":true}"#
        );
        assert_eq!(
            serde_json::to_string(&SuccessResponse { success: true }).unwrap(),
            r#"{"success":true}"#
        );
        assert_eq!(
            serde_json::to_string(&OkResponse { ok: true }).unwrap(),
            r#"{"ok":true}"#
        );
        assert_eq!(
            serde_json::to_string(&VerifyEmailResponse {
                status: true,
                user: None
            })
            .unwrap(),
            r#"{"status":true,"user":null}"#
        );
        assert_eq!(
            serde_json::to_string(&Option::<SessionWithUser>::None).unwrap(),
            "null"
        );
    }

    #[test]
    fn dates_from_numbers() {
        #[derive(Deserialize)]
        struct D {
            #[serde(with = "iso_date")]
            a: OffsetDateTime,
            #[serde(with = "iso_date::option", default)]
            b: Option<OffsetDateTime>,
        }
        let d: D = serde_json::from_str(r#"{"a":1795523584902,"b":null}"#).unwrap();
        assert_eq!(iso_ms(d.a), "2026-11-24T12:33:04.902Z");
        assert_eq!(d.b, None);
        let d: D = serde_json::from_str(
            r#"{"a":"2026-11-24 12:33:04.902","b":"2026-11-24T12:33:04.902Z"}"#,
        )
        .unwrap();
        assert_eq!(d.b, Some(d.a));
        let d: D = serde_json::from_str(r#"{"a":1.9e12}"#).unwrap();
        assert_eq!(d.b, None);
        assert!(serde_json::from_str::<D>(r#"{"a":"nope"}"#).is_err());
    }
}
