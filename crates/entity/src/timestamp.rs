//! [`Timestamp`]: every date column of Better Auth's schema, read and written the way
//! Better Auth does on each backend.
//!
//! Better Auth's Kysely adapter declares `supportsDates: false` for SQLite, so dates
//! are written there as JavaScript `Date#toISOString()` text
//! (`2026-11-24T12:32:04.685Z`, always three fractional digits and `Z`) and parsed
//! back with `new Date(text)` (`@better-auth/kysely-adapter: dist/index.mjs`,
//! `@better-auth/core: dist/db/adapter/factory.mjs`). Because the text always has the
//! same shape, `ORDER BY` and `<`/`>` on it compare chronologically. On Postgres the
//! columns are `timestamptz`, on MySQL/MariaDB `timestamp(3)`; the JavaScript drivers
//! bind real dates there.

use std::fmt;
use std::str::FromStr;

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{
    ActiveValue, ColIdx, DbBackend, DbErr, IntoActiveValue, QueryResult, TryGetError, TryGetable,
    Value,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// An instant stored in a Better Auth date column: UTC, millisecond precision (a
/// JavaScript `Date` has no more).
///
/// **Reads** work on every backend: the [`TryGetable`] impl accepts a native
/// `timestamptz` (Postgres), a `timestamp`/`datetime` (MySQL, taken as UTC; sqlx sets
/// the session `time_zone` to `+00:00`) or text (SQLite: RFC 3339, or
/// `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC).
///
/// **Writes and filters must go through [`ts_value`]** (or [`Timestamp::value`]),
/// which picks the representation for the connection's backend. The
/// backend-agnostic `From<Timestamp> for Value`, which sea-orm uses for
/// `ActiveModel` saves and for `Column::eq(timestamp)`-style filters, yields a
/// `timestamptz` value: right for Postgres and MySQL, but on SQLite sqlx would store
/// it as RFC 3339 *with trailing fractional zeros trimmed* (`...:04.68Z`,
/// `...:04Z`), which Better Auth can still parse but which breaks the lexicographic
/// ordering of the column. So build inserts, updates and date comparisons with
/// sea-query and `ts_value(db.get_database_backend(), t)`.
///
/// The value is normalised on construction via [`Timestamp::new`]; the public field
/// exists for pattern matching, and values built directly with it are normalised
/// again by [`ts_value`] and by serialisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

/// The text could not be read as a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {0:?}: expected RFC 3339 or `YYYY-MM-DD HH:MM:SS[.fff]`")]
pub struct TimestampParseError(pub String);

impl Timestamp {
    /// Converts to UTC and truncates to whole milliseconds, as a JavaScript `Date`
    /// would hold it.
    pub fn new(t: OffsetDateTime) -> Self {
        Self(normalize(t))
    }

    /// The wrapped instant, normalised (UTC, millisecond precision).
    pub fn get(self) -> OffsetDateTime {
        normalize(self.0)
    }

    /// Exactly JavaScript's `Date#toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`, with the
    /// extended `±YYYYYY` year outside 0000..=9999.
    pub fn to_iso_string(self) -> String {
        let t = self.get();
        let year = t.year();
        let year = if (0..=9999).contains(&year) {
            format!("{year:04}")
        } else if year < 0 {
            format!("-{:06}", year.unsigned_abs())
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

    /// Parses RFC 3339 (any fractional length, any offset), or
    /// `YYYY-MM-DD[ T]HH:MM:SS[.fff][Z]` and `YYYY-MM-DD`, both taken as UTC.
    pub fn parse(text: &str) -> Result<Self, TimestampParseError> {
        let text = text.trim();
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Self::new(t));
        }
        let naive = text
            .strip_suffix(['Z', 'z'])
            .unwrap_or(text)
            .replacen(['T', 't'], " ", 1);
        let with_time = format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]]"
        );
        if let Ok(t) = PrimitiveDateTime::parse(&naive, with_time) {
            return Ok(Self::new(t.assume_utc()));
        }
        if let Ok(d) = Date::parse(&naive, format_description!("[year]-[month]-[day]")) {
            return Ok(Self::new(d.midnight().assume_utc()));
        }
        Err(TimestampParseError(text.to_owned()))
    }

    /// This instant as a bindable value for `backend`; see [`ts_value`].
    pub fn value(self, backend: DbBackend) -> Value {
        ts_value(backend, self.0)
    }
}

fn normalize(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.checked_to_offset(UtcOffset::UTC).unwrap_or(t);
    t - Duration::nanoseconds(i64::from(t.nanosecond() % 1_000_000))
}

/// The value to bind for the instant `t` in a date column on `backend`, for inserts,
/// updates and filters:
///
/// - SQLite: text exactly as `Date#toISOString()` (`2026-11-24T12:32:04.685Z`);
/// - Postgres: `timestamptz` (`Value::TimeDateTimeWithTimeZone`), UTC;
/// - MySQL/MariaDB: `Value::TimeDateTime` holding the UTC wall-clock time (the
///   session `time_zone` is `+00:00` under sqlx).
///
/// `t` is truncated to whole milliseconds everywhere, so a value read back compares
/// equal to the one written.
pub fn ts_value(backend: DbBackend, t: OffsetDateTime) -> Value {
    let t = Timestamp::new(t);
    match backend {
        DbBackend::Sqlite => Value::String(Some(t.to_iso_string())),
        DbBackend::MySql => {
            let utc = t.get();
            Value::TimeDateTime(Some(PrimitiveDateTime::new(utc.date(), utc.time())))
        }
        // Postgres, and any backend added later: a native timestamp with time zone.
        _ => Value::TimeDateTimeWithTimeZone(Some(t.get())),
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(t: OffsetDateTime) -> Self {
        Self::new(t)
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(t: Timestamp) -> Self {
        t.get()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_iso_string())
    }
}

impl FromStr for Timestamp {
    type Err = TimestampParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Serialises as Better Auth's JSON does (`JSON.stringify(date)` = `toISOString()`).
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_iso_string())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Backend-agnostic conversion used by sea-orm for `ActiveModel` saves and column
/// filters: a `timestamptz` value. Correct on Postgres and MySQL only; see the
/// warning on [`Timestamp`] and use [`ts_value`] instead.
impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Self {
        Value::TimeDateTimeWithTimeZone(Some(t.get()))
    }
}

impl TryGetable for Timestamp {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        if res.try_as_sqlite_row().is_none() {
            // Postgres `timestamptz`; MySQL `timestamp`/`datetime` (sqlx reads them as UTC).
            match OffsetDateTime::try_get_by(res, idx) {
                Ok(t) => return Ok(Self::new(t)),
                Err(TryGetError::Null(col)) => return Err(TryGetError::Null(col)),
                Err(TryGetError::DbErr(_)) => {}
            }
            // Postgres `timestamp` without time zone: taken as UTC.
            match PrimitiveDateTime::try_get_by(res, idx) {
                Ok(t) => return Ok(Self::new(t.assume_utc())),
                Err(TryGetError::Null(col)) => return Err(TryGetError::Null(col)),
                Err(TryGetError::DbErr(_)) => {}
            }
        }
        // SQLite (`date` column holding text), or a text column anywhere.
        let text = String::try_get_by(res, idx)?;
        Self::parse(&text).map_err(|e| TryGetError::DbErr(DbErr::Type(e.to_string())))
    }
}

impl ValueType for Timestamp {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::TimeDateTimeWithTimeZone(Some(t)) => Ok(Self::new(t)),
            Value::TimeDateTime(Some(t)) => Ok(Self::new(t.assume_utc())),
            Value::String(Some(s)) => Self::parse(&s).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Timestamp".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::TimeDateTimeWithTimeZone
    }

    fn column_type() -> ColumnType {
        ColumnType::TimestampWithTimeZone
    }
}

impl Nullable for Timestamp {
    fn null() -> Value {
        Value::TimeDateTimeWithTimeZone(None)
    }
}

impl IntoActiveValue<Timestamp> for Timestamp {
    fn into_active_value(self) -> ActiveValue<Timestamp> {
        ActiveValue::Set(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn iso_string_matches_javascript() {
        let cases = [
            (
                datetime!(2026-11-24 12:32:04.685 UTC),
                "2026-11-24T12:32:04.685Z",
            ),
            (
                datetime!(2026-11-24 12:32:04 UTC),
                "2026-11-24T12:32:04.000Z",
            ),
            (
                datetime!(2026-11-24 12:32:04.5 UTC),
                "2026-11-24T12:32:04.500Z",
            ),
            // Sub-millisecond digits are truncated, as `new Date()` never has them.
            (
                datetime!(2026-11-24 12:32:04.999_999_999 UTC),
                "2026-11-24T12:32:04.999Z",
            ),
            (
                datetime!(2026-11-24 14:32:04.010 +02:00),
                "2026-11-24T12:32:04.010Z",
            ),
            (
                datetime!(0001-01-01 00:00:00 UTC),
                "0001-01-01T00:00:00.000Z",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(Timestamp::new(t).to_iso_string(), want);
            assert_eq!(Timestamp::new(t).to_string(), want);
        }
    }

    #[test]
    fn iso_strings_sort_chronologically() {
        let a = Timestamp::new(datetime!(2026-11-24 12:32:04 UTC));
        let b = Timestamp::new(datetime!(2026-11-24 12:32:04.1 UTC));
        let c = Timestamp::new(datetime!(2026-11-24 12:32:04.01 UTC));
        let mut texts = [b.to_iso_string(), a.to_iso_string(), c.to_iso_string()];
        texts.sort();
        assert_eq!(
            texts,
            [a.to_iso_string(), c.to_iso_string(), b.to_iso_string()]
        );
    }

    #[test]
    fn parses_every_form_better_auth_or_sqlite_may_hold() {
        let want = Timestamp::new(datetime!(2026-11-24 12:32:04.685 UTC));
        for text in [
            "2026-11-24T12:32:04.685Z",
            "2026-11-24T12:32:04.685+00:00",
            "2026-11-24T14:32:04.685+02:00",
            "2026-11-24T12:32:04.685123Z",
            "2026-11-24 12:32:04.685",
            "2026-11-24T12:32:04.685",
            " 2026-11-24T12:32:04.685Z ",
        ] {
            assert_eq!(Timestamp::parse(text), Ok(want), "{text}");
        }
        assert_eq!(
            Timestamp::parse("2026-11-24 12:32:04"),
            Ok(Timestamp::new(datetime!(2026-11-24 12:32:04 UTC)))
        );
        assert_eq!(
            Timestamp::parse("2026-11-24"),
            Ok(Timestamp::new(datetime!(2026-11-24 00:00:00 UTC)))
        );
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("").is_err());
    }

    #[test]
    fn ts_value_per_backend() {
        let t = datetime!(2026-11-24 14:32:04.685_9 +02:00);
        assert_eq!(
            ts_value(DbBackend::Sqlite, t),
            Value::String(Some("2026-11-24T12:32:04.685Z".to_owned()))
        );
        assert_eq!(
            ts_value(DbBackend::Postgres, t),
            Value::TimeDateTimeWithTimeZone(Some(datetime!(2026-11-24 12:32:04.685 UTC)))
        );
        assert_eq!(
            ts_value(DbBackend::MySql, t),
            Value::TimeDateTime(Some(datetime!(2026-11-24 12:32:04.685)))
        );
    }

    #[test]
    fn value_type_round_trip() {
        let t = Timestamp::new(datetime!(2026-11-24 12:32:04.685 UTC));
        for backend in [DbBackend::Sqlite, DbBackend::Postgres, DbBackend::MySql] {
            assert_eq!(
                <Timestamp as ValueType>::try_from(t.value(backend)).ok(),
                Some(t)
            );
        }
        assert!(<Timestamp as ValueType>::try_from(Value::Int(Some(1))).is_err());
    }

    #[test]
    fn serde_uses_iso_strings() {
        let t = Timestamp::new(datetime!(2026-11-24 12:32:04 UTC));
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#""2026-11-24T12:32:04.000Z""#);
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }
}
