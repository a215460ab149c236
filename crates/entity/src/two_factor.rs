//! `twoFactor` — better-auth: dist/plugins/two-factor/schema.mjs.

use sea_orm::entity::prelude::*;

use crate::Timestamp;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "twoFactor")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The TOTP secret, symmetrically encrypted (better-auth: dist/crypto/index.mjs).
    #[sea_orm(indexed)]
    pub secret: String,
    /// Better Auth's backup codes: one encrypted JSON array of strings.
    #[sea_orm(column_name = "backupCodes")]
    pub backup_codes: String,
    #[sea_orm(column_name = "userId", indexed)]
    pub user_id: String,
    /// `Some(false)` = enrolment pending; `Some(true)` or `None` = active (Better Auth
    /// defaults the field to `true` in application code).
    pub verified: Option<bool>,
    /// Better Auth's application default is `0`.
    #[sea_orm(column_name = "failedVerificationCount")]
    pub failed_verification_count: Option<i32>,
    #[sea_orm(column_name = "lockedUntil")]
    pub locked_until: Option<Timestamp>,
    /// Portcullis addition: last accepted TOTP step (replay protection; see migration 3).
    #[sea_orm(column_name = "lastUsedStep")]
    pub last_used_step: Option<i64>,
    #[sea_orm(belongs_to, from = "user_id", to = "id", on_delete = "Cascade")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
