//! Portcullis's schema: Better Auth 1.7.25's tables exactly as its own migration tool
//! (`npx auth migrate`, `better-auth: dist/db/get-migration.mjs`) creates them for
//! `emailAndPassword` + `twoFactor()` + `username()`, on SQLite, PostgreSQL and
//! MySQL/MariaDB, plus Portcullis's own `twoFactorBackupCode` table and
//! `twoFactor.lastUsedStep` column. The `username()` columns are always created, whether
//! or not the plugin is enabled (see [`m20261124_000004_username`]). Better Auth's
//! `rateLimit` table is always created too (see [`m20261124_000005_rate_limit`]).
//!
//! The migrations are idempotent and tolerate a database that Better Auth already
//! migrated (see [`m20261124_000001_better_auth_core`]), so Portcullis can take over
//! an existing Better Auth database. sea-orm-migration records applied migrations in
//! its own `seaql_migrations` table, which Better Auth ignores.
//!
//! The server runs [`apply`] at start-up; there is no CLI binary.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseConnection;

mod ddl;
pub mod m20261124_000001_better_auth_core;
pub mod m20261124_000002_two_factor_backup_code;
pub mod m20261124_000003_two_factor_last_used_step;
pub mod m20261124_000004_username;
pub mod m20261124_000005_rate_limit;

pub use sea_orm_migration::MigratorTrait;

/// All migrations, oldest first. Never edit a released migration; add a new one.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_better_auth_core::Migration),
            Box::new(m20261124_000002_two_factor_backup_code::Migration),
            Box::new(m20261124_000003_two_factor_last_used_step::Migration),
            Box::new(m20261124_000004_username::Migration),
            Box::new(m20261124_000005_rate_limit::Migration),
        ]
    }
}

/// Apply every pending migration (`Migrator::up(db, None)`).
pub async fn apply(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
