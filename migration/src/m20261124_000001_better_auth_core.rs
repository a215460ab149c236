//! Better Auth 1.7.25's core tables plus the `twoFactor()` plugin's schema.
//!
//! This is exactly what `npx auth migrate` (`getMigrations` in
//! `better-auth: dist/db/get-migration.mjs`) creates for `emailAndPassword` +
//! `twoFactor()`: table and column names, types per backend, nullability, unique
//! constraints, `ON DELETE CASCADE` foreign keys and the `<table>_<column>_idx`
//! indexes. Field definitions: `@better-auth/core: dist/db/get-tables.mjs` and
//! `better-auth: dist/plugins/two-factor/schema.mjs`.
//!
//! The migration tolerates a database Better Auth already migrated: every table is
//! created `IF NOT EXISTS`, an existing table gains only the nullable columns it lacks
//! (e.g. `user.twoFactorEnabled` when the plugin was added later, with the same
//! `DEFAULT false` Better Auth's migrator would give it), and indexes are created only
//! when an index of that name is missing.
//!
//! Not created here: the `username()` plugin's columns (added by
//! [`crate::m20261124_000004_username`], exactly as Better Auth adds them to an existing
//! table). Not created at all (deliberately): the optional `rateLimit`
//! table (`rateLimit.storage: "database"`), `generateId: "uuid" | "serial"` variants.

use sea_orm_migration::prelude::*;

use crate::ddl::{AlterDefault, Col, IndexDef, Kind, TableDef, ensure_index, ensure_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

// @better-auth/core: dist/db/get-tables.mjs (`user`; `twoFactorEnabled` from
// better-auth: dist/plugins/two-factor/schema.mjs). `name` is `sortable`, hence
// varchar(255) on MySQL; `createdAt`/`updatedAt` have function defaults, hence
// `DEFAULT CURRENT_TIMESTAMP` on Postgres/MySQL.
const USER: TableDef = TableDef {
    name: "user",
    columns: &[
        Col::id(),
        Col::new("name", Kind::IndexedString).required(),
        Col::new("email", Kind::IndexedString).required().unique(),
        Col::new("emailVerified", Kind::Bool).required(),
        Col::new("image", Kind::Text),
        Col::new("createdAt", Kind::Date).required().default_now(),
        Col::new("updatedAt", Kind::Date).required().default_now(),
        Col::new("twoFactorEnabled", Kind::Bool).alter_default(AlterDefault::Bool(false)),
    ],
};

// @better-auth/core: dist/db/get-tables.mjs (`session`; only `createdAt` has a default).
const SESSION: TableDef = TableDef {
    name: "session",
    columns: &[
        Col::id(),
        Col::new("expiresAt", Kind::Date).required(),
        Col::new("token", Kind::IndexedString).required().unique(),
        Col::new("createdAt", Kind::Date).required().default_now(),
        Col::new("updatedAt", Kind::Date).required(),
        Col::new("ipAddress", Kind::Text),
        Col::new("userAgent", Kind::Text),
        Col::new("userId", Kind::ForeignId)
            .required()
            .references("user", "id"),
    ],
};

// @better-auth/core: dist/db/get-tables.mjs (`account`).
const ACCOUNT: TableDef = TableDef {
    name: "account",
    columns: &[
        Col::id(),
        Col::new("accountId", Kind::Text).required(),
        Col::new("providerId", Kind::Text).required(),
        Col::new("userId", Kind::ForeignId)
            .required()
            .references("user", "id"),
        Col::new("accessToken", Kind::Text),
        Col::new("refreshToken", Kind::Text),
        Col::new("idToken", Kind::Text),
        Col::new("accessTokenExpiresAt", Kind::Date),
        Col::new("refreshTokenExpiresAt", Kind::Date),
        Col::new("scope", Kind::Text),
        Col::new("password", Kind::Text),
        Col::new("createdAt", Kind::Date).required().default_now(),
        Col::new("updatedAt", Kind::Date).required(),
    ],
};

// @better-auth/core: dist/db/get-tables.mjs (`verification`; `identifier` is indexed).
const VERIFICATION: TableDef = TableDef {
    name: "verification",
    columns: &[
        Col::id(),
        Col::new("identifier", Kind::IndexedString).required(),
        Col::new("value", Kind::Text).required(),
        Col::new("expiresAt", Kind::Date).required(),
        Col::new("createdAt", Kind::Date).required().default_now(),
        Col::new("updatedAt", Kind::Date).required().default_now(),
    ],
};

// better-auth: dist/plugins/two-factor/schema.mjs (`secret` and `userId` are indexed).
const TWO_FACTOR: TableDef = TableDef {
    name: "twoFactor",
    columns: &[
        Col::id(),
        Col::new("secret", Kind::IndexedString).required(),
        Col::new("backupCodes", Kind::Text).required(),
        Col::new("userId", Kind::ForeignId)
            .required()
            .references("user", "id"),
        Col::new("verified", Kind::Bool).alter_default(AlterDefault::Bool(true)),
        Col::new("failedVerificationCount", Kind::Int).alter_default(AlterDefault::Int(0)),
        Col::new("lockedUntil", Kind::Date),
    ],
};

/// Better Auth's own index names (`getDatabaseFieldIndexName`: `<table>_<field>_idx`).
const INDEXES: &[IndexDef] = &[
    IndexDef {
        name: "session_userId_idx",
        table: "session",
        columns: &["userId"],
        unique: false,
    },
    IndexDef {
        name: "account_userId_idx",
        table: "account",
        columns: &["userId"],
        unique: false,
    },
    IndexDef {
        name: "verification_identifier_idx",
        table: "verification",
        columns: &["identifier"],
        unique: false,
    },
    IndexDef {
        name: "twoFactor_secret_idx",
        table: "twoFactor",
        columns: &["secret"],
        unique: false,
    },
    IndexDef {
        name: "twoFactor_userId_idx",
        table: "twoFactor",
        columns: &["userId"],
        unique: false,
    },
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Order matters: `user` first, the tables referencing it after.
        for table in [&USER, &SESSION, &ACCOUNT, &VERIFICATION, &TWO_FACTOR] {
            ensure_table(manager, table).await?;
        }
        for index in INDEXES {
            ensure_index(manager, index).await?;
        }
        Ok(())
    }

    /// Refused: these tables are Better Auth's and hold every user's data; they may
    /// well predate Portcullis. Drop them by hand if that is really intended.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "refusing to drop Better Auth's core tables; drop them by hand if intended".to_owned(),
        ))
    }
}
