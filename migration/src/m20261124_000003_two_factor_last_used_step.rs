//! `twoFactor.lastUsedStep`: the last TOTP time step accepted for the user.
//!
//! Deliberate addition to Better Auth's table: 1.7.25 accepts a TOTP code again within its
//! validity window (no replay protection, better-auth issue #10387; RFC 6238 §5.2 forbids
//! reuse). Portcullis claims a step with one compare-and-set on this column. The column is
//! nullable and Better Auth never reads or writes it, so a Better Auth server on the same
//! database keeps working.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "twoFactor";
const COLUMN: &str = "lastUsedStep";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column(TABLE, COLUMN).await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(TABLE)
                    .add_column(ColumnDef::new(COLUMN).big_integer().null())
                    .take(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column(TABLE, COLUMN).await? {
            return Ok(());
        }
        manager
            .alter_table(Table::alter().table(TABLE).drop_column(COLUMN).take())
            .await
    }
}
