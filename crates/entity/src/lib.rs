//! sea-orm 2 entities for Better Auth 1.7.25's tables, `rateLimit` included (plus
//! Portcullis's `twoFactorBackupCode`), with table and column names exactly as Better Auth writes
//! them (`"user"`, `"twoFactor"`, `"emailVerified"`, ...). The schema itself comes
//! from `portcullis-migration`.
//!
//! Column conventions, per backend (better-auth: dist/db/get-migration.mjs):
//!
//! - ids are text (`varchar(36)` on MySQL), 32 characters `[A-Za-z0-9]` by default;
//! - booleans are `integer` 0/1 on SQLite, `boolean` on Postgres, `tinyint(1)` on
//!   MySQL; a Rust `bool` reads and writes all three;
//! - every date column is a [`Timestamp`]. **Write dates with [`ts_value`]**, never
//!   through `From<Timestamp> for Value` (see [`Timestamp`] for why SQLite needs it).

pub mod account;
pub mod rate_limit;
pub mod session;
pub mod timestamp;
pub mod two_factor;
pub mod two_factor_backup_code;
pub mod user;
pub mod verification;

pub use timestamp::{Timestamp, TimestampParseError, ts_value};

/// The entities under short names: `use portcullis_entity::prelude::*;`.
pub mod prelude {
    pub use crate::account::Entity as Account;
    pub use crate::rate_limit::Entity as RateLimit;
    pub use crate::session::Entity as Session;
    pub use crate::two_factor::Entity as TwoFactor;
    pub use crate::two_factor_backup_code::Entity as TwoFactorBackupCode;
    pub use crate::user::Entity as User;
    pub use crate::verification::Entity as Verification;
    pub use crate::{Timestamp, ts_value};
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveValue::Set, DbBackend, EntityTrait, QueryTrait};
    use time::macros::datetime;

    use super::*;

    /// `Model` holds the columns only; the relation fields of the 2.0 dense format
    /// live on `ModelEx` (`Entity::load()`).
    #[test]
    fn models_hold_exactly_the_columns() {
        let at = Timestamp::new(datetime!(2026-11-24 12:32:04.685 UTC));
        let s = session::Model {
            id: "s".into(),
            expires_at: at,
            token: "t".into(),
            created_at: at,
            updated_at: at,
            ip_address: None,
            user_agent: None,
            user_id: "u".into(),
        };
        assert_eq!(s.expires_at.to_string(), "2026-11-24T12:32:04.685Z");
    }

    /// `ActiveModel`s accept `Timestamp`s; on Postgres the generic conversion is a
    /// `timestamptz` literal (on SQLite use `ts_value` instead, see `Timestamp`).
    #[test]
    fn active_models_take_timestamps() {
        let at = Timestamp::new(datetime!(2026-11-24 12:32:04.685 UTC));
        let am = verification::ActiveModel {
            id: Set("v".into()),
            identifier: Set("2fa-x".into()),
            value: Set("u".into()),
            expires_at: Set(at),
            created_at: Set(at),
            updated_at: Set(at),
        };
        let sql = verification::Entity::insert(am)
            .build(DbBackend::Postgres)
            .to_string();
        assert!(
            sql.contains(r#""expiresAt""#) && sql.contains("2026-11-24 12:32:04.685"),
            "{sql}"
        );
    }
}
