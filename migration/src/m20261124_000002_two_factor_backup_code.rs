//! `twoFactorBackupCode`: Portcullis's own table; Better Auth has no equivalent.
//!
//! Deliberate divergence: Better Auth 1.7.25 keeps all of a user's backup codes in
//! one (by default encrypted) JSON string, `twoFactor.backupCodes`
//! (`better-auth: dist/plugins/two-factor/backup-codes/index.mjs`), and rewrites the
//! whole string when a code is used. Portcullis stores one row per code, hashed, so
//! a code can be consumed atomically with one conditional statement instead of a
//! read-modify-write. Better Auth never reads this table, so the database stays
//! usable by Better Auth itself (`twoFactor.backupCodes` is still `NOT NULL` there).
//!
//! Types follow Better Auth's conventions (`ddl::Kind`): `id` holds a
//! 32-character id (`text`, `varchar(36)` on MySQL); `codeHash` is `varchar(255)` on
//! MySQL because it is part of a unique index; dates are `date`/`timestamptz`/
//! `timestamp(3)`, and `createdAt` defaults to `CURRENT_TIMESTAMP` on Postgres/MySQL
//! like Better Auth's own `createdAt` columns. The separate `userId` index duplicates the unique index's prefix;
//! it is kept so that every foreign key has a plainly named index, like Better
//! Auth's `<table>_userId_idx`.

use sea_orm_migration::prelude::*;

use crate::ddl::{Col, IndexDef, Kind, TableDef, ensure_index, ensure_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "twoFactorBackupCode";

const TWO_FACTOR_BACKUP_CODE: TableDef = TableDef {
    name: TABLE,
    columns: &[
        Col::id(),
        Col::new("userId", Kind::ForeignId)
            .required()
            .references("user", "id"),
        Col::new("codeHash", Kind::IndexedString).required(),
        Col::new("usedAt", Kind::Date),
        Col::new("createdAt", Kind::Date).required().default_now(),
    ],
};

const INDEXES: &[IndexDef] = &[
    IndexDef {
        name: "twoFactorBackupCode_userId_idx",
        table: TABLE,
        columns: &["userId"],
        unique: false,
    },
    IndexDef {
        name: "twoFactorBackupCode_userId_codeHash_uidx",
        table: TABLE,
        columns: &["userId", "codeHash"],
        unique: true,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ensure_table(manager, &TWO_FACTOR_BACKUP_CODE).await?;
        for index in INDEXES {
            ensure_index(manager, index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).if_exists().take())
            .await
    }
}
