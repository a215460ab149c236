//! The `username()` plugin's user columns: `username` (unique) and `displayUsername`.
//!
//! Exactly Better Auth 1.7.25's own ALTER plan when `username()` is added to an existing
//! database (`getMigrations`, `better-auth: dist/db/get-migration.mjs`; fields from
//! `better-auth: dist/plugins/username/schema.mjs`):
//!
//! ```sql
//! alter table "user" add column "username" text;          -- varchar(255) on MySQL
//! alter table "user" add column "displayUsername" text;
//! create unique index "user_username_uidx" on "user" ("username");
//! ```
//!
//! `username` is `unique` and `sortable`, hence `Kind::IndexedString` (`varchar(255)` on
//! MySQL, which cannot index `text`); `displayUsername` is plain text.
//!
//! Always applied, whether or not the plugin is on (`PORTCULLIS_PLUGINS`): the columns are
//! nullable and nothing reads or writes them with the plugin off, so they are harmless, and
//! turning the plugin on later needs no migration. A Better Auth deployment without
//! `username()` ignores them too.
//!
//! Tolerant like the other migrations: columns are added only when missing, and the unique
//! index only when no unique index covers `username` already — a database Better Auth created
//! with the plugin on has the column's inline `unique` (`user_username_key` on PostgreSQL,
//! `username` on MySQL, an autoindex on SQLite), and a second index would only duplicate it.
//! On MySQL an existing unbounded `text` `username` column cannot be indexed; it is skipped
//! with a warning, as `ensure_index` does for every index.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    Col, IndexDef, Kind, TableDef, ensure_columns, ensure_index, has_unique_index_on,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "user";

/// The plugin's fields, in Better Auth's order (`username`, then `displayUsername`).
const USER_USERNAME: TableDef = TableDef {
    name: TABLE,
    columns: &[
        Col::new("username", Kind::IndexedString),
        Col::new("displayUsername", Kind::Text),
    ],
};

/// Better Auth's name for a unique index it adds to an existing table
/// (`<table>_<field>_uidx`, `better-auth: dist/db/get-migration.mjs`).
const USERNAME_INDEX: IndexDef = IndexDef {
    name: "user_username_uidx",
    table: TABLE,
    columns: &["username"],
    unique: true,
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        ensure_columns(manager, &USER_USERNAME).await?;
        if has_unique_index_on(manager, TABLE, "username").await? {
            return Ok(());
        }
        ensure_index(manager, &USERNAME_INDEX).await
    }

    /// Refused, like the core tables' migration: these are Better Auth's columns and may
    /// predate Portcullis (a database Better Auth created with `username()`), and dropping
    /// them drops every username. Drop them by hand if that is really intended.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "refusing to drop Better Auth's user.username/displayUsername columns; drop them by \
             hand if intended"
                .to_owned(),
        ))
    }
}
