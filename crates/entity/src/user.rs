//! `user` — @better-auth/core: dist/db/get-tables.mjs; `twoFactorEnabled` from
//! better-auth: dist/plugins/two-factor/schema.mjs; `username` and `displayUsername` from
//! better-auth: dist/plugins/username/schema.mjs (the columns always exist; the server reads
//! and returns them only with the username plugin on).

use sea_orm::entity::prelude::*;

use crate::Timestamp;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user")]
pub struct Model {
    /// 32 characters `[A-Za-z0-9]` by Better Auth's default id generator.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// Unique; Better Auth stores it lower-cased.
    #[sea_orm(unique)]
    pub email: String,
    #[sea_orm(column_name = "emailVerified")]
    pub email_verified: bool,
    pub image: Option<String>,
    #[sea_orm(column_name = "createdAt")]
    pub created_at: Timestamp,
    #[sea_orm(column_name = "updatedAt")]
    pub updated_at: Timestamp,
    /// Nullable in the schema; Better Auth writes `false` on sign-up and treats null
    /// as `false`.
    #[sea_orm(column_name = "twoFactorEnabled")]
    pub two_factor_enabled: Option<bool>,
    /// Unique; stored normalized (lower-cased). Null for users without one.
    #[sea_orm(unique)]
    pub username: Option<String>,
    /// The username as typed (or as given separately); not unique, not normalized.
    #[sea_orm(column_name = "displayUsername")]
    pub display_username: Option<String>,
    #[sea_orm(has_many)]
    pub sessions: HasMany<super::session::Entity>,
    #[sea_orm(has_many)]
    pub accounts: HasMany<super::account::Entity>,
    #[sea_orm(has_many)]
    pub two_factors: HasMany<super::two_factor::Entity>,
    #[sea_orm(has_many)]
    pub two_factor_backup_codes: HasMany<super::two_factor_backup_code::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
