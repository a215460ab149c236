//! `twoFactorBackupCode` — Portcullis's own table (no Better Auth equivalent); see
//! `portcullis-migration`'s `m20261124_000002_two_factor_backup_code`.

use sea_orm::entity::prelude::*;

use crate::Timestamp;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "twoFactorBackupCode")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(column_name = "userId", indexed)]
    pub user_id: String,
    /// Hash of one backup code; unique together with `userId`.
    #[sea_orm(column_name = "codeHash")]
    pub code_hash: String,
    /// When the code was consumed; `None` while it is still usable.
    #[sea_orm(column_name = "usedAt")]
    pub used_at: Option<Timestamp>,
    #[sea_orm(column_name = "createdAt")]
    pub created_at: Timestamp,
    #[sea_orm(belongs_to, from = "user_id", to = "id", on_delete = "Cascade")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
