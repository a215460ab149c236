//! Better Auth's `rateLimit` table, used when `PORTCULLIS_RATE_LIMIT_STORAGE=database`.
//!
//! Exactly what Better Auth 1.7.25's `getMigrations` creates with `rateLimit.storage:
//! "database"` (fields from `@better-auth/core: dist/db/get-tables.mjs` `rateLimitTable`; types
//! from `better-auth: dist/db/get-migration.mjs` `getType`):
//!
//! ```sql
//! create table "rateLimit" ("id" text not null primary key, "key" text not null unique,
//!   "count" integer not null, "lastRequest" bigint not null);
//! -- MySQL: `id` varchar(36), `key` varchar(255) (unique strings are varchar(255) there)
//! ```
//!
//! `lastRequest`'s `defaultValue` is a function (`Date.now()`), which Better Auth applies in
//! application code, so the column gets no SQL default.
//!
//! Always applied, whatever the storage setting (upstream creates it only with `storage:
//! "database"`): it is small and empty unless used, and switching the storage later needs no
//! migration. Tolerant like the other migrations: a `rateLimit` table Better Auth already created
//! is left as it is.

use sea_orm_migration::prelude::*;

use crate::ddl::{Col, Kind, TableDef, ensure_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

const RATE_LIMIT: TableDef = TableDef {
    name: "rateLimit",
    columns: &[
        Col::id(),
        Col::new("key", Kind::IndexedString).required().unique(),
        Col::new("count", Kind::Int).required(),
        Col::new("lastRequest", Kind::BigInt).required(),
    ],
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ensure_table(manager, &RATE_LIMIT).await
    }

    /// Refused, like the other Better Auth tables: it may predate Portcullis (a Better Auth
    /// deployment with database rate limiting). Drop it by hand if that is really intended.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "refusing to drop Better Auth's rateLimit table; drop it by hand if intended"
                .to_owned(),
        ))
    }
}
