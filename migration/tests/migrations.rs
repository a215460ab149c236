//! Migration tests on SQLite (in memory, always) and on PostgreSQL / MySQL (MariaDB)
//! when `PORTCULLIS_TEST_POSTGRES_URL` / `PORTCULLIS_TEST_MYSQL_URL` name a server
//! (any database on it; each test creates and drops its own `pc_mig_<random>`).
//!
//! - the migrations apply twice, and re-run on their own output when their
//!   bookkeeping is lost, without changing the schema;
//! - on a database Better Auth 1.7.25's own migrator created (the committed
//!   `fixtures/better-auth-1.7.25-*.sql`, its exact statements) they add only
//!   Portcullis's own `twoFactorBackupCode` and `twoFactor.lastUsedStep`, plus the
//!   `username()` columns exactly as Better Auth's migrator adds them to an existing
//!   table, and the result is the schema a fresh run gives;
//! - on a database Better Auth created with `username()` already on they add no second
//!   unique index on `username`;
//! - on Better Auth's plugin-less schema they add `twoFactorEnabled`, `twoFactor` and the
//!   `username()` columns exactly as Better Auth's own migrator would when the plugins
//!   are enabled later;
//! - [`Timestamp`] round-trips through `ts_value` inserts and entity reads, and
//!   SQLite holds `toISOString()` text that sorts chronologically.

// Tests may panic on setup failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;

use portcullis_entity::{Timestamp, ts_value};
use portcullis_entity::{
    account, rate_limit, session, two_factor, two_factor_backup_code, user, verification,
};
use portcullis_migration::{
    Migrator, MigratorTrait, apply, m20261124_000002_two_factor_backup_code,
    m20261124_000003_two_factor_last_used_step,
};
use sea_orm_migration::prelude::{Alias, MigrationTrait, Query, SchemaManager};
use sea_orm_migration::sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, IdenStatic, Iterable, QueryFilter, QueryOrder, Statement, Value,
};
use time::OffsetDateTime;
use time::macros::datetime;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type TestResult = Result<(), BoxError>;

const POSTGRES_ENV: &str = "PORTCULLIS_TEST_POSTGRES_URL";
const MYSQL_ENV: &str = "PORTCULLIS_TEST_MYSQL_URL";

// ---------------------------------------------------------------------------------
// Scratch databases
// ---------------------------------------------------------------------------------

/// A scratch database; `server` is `Some((admin connection, database name))` for
/// Postgres/MySQL, which get dropped after the test.
struct Scratch {
    db: DatabaseConnection,
    server: Option<(DatabaseConnection, String)>,
}

fn options(url: &str) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(1).sqlx_logging(false);
    opts
}

/// `url` with its database (path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    format!("{root}/{name}{query}")
}

async fn scratch(backend: DbBackend) -> Option<Scratch> {
    let env = match backend {
        DbBackend::Sqlite => {
            let db = Database::connect(options("sqlite::memory:")).await.unwrap();
            return Some(Scratch { db, server: None });
        }
        DbBackend::Postgres => POSTGRES_ENV,
        _ => MYSQL_ENV,
    };
    let Some(admin_url) = std::env::var(env).ok().filter(|u| !u.is_empty()) else {
        eprintln!("{env} not set; skipping the {backend:?} case");
        return None;
    };
    let admin = Database::connect(options(&admin_url)).await.unwrap();
    let name = format!(
        "pc_mig_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let db = Database::connect(options(&with_database(&admin_url, &name)))
        .await
        .unwrap();
    Some(Scratch {
        db,
        server: Some((admin, name)),
    })
}

impl Scratch {
    /// Closes the connections and drops the server database, if any.
    async fn finish(self) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        self.db.close().await?;
        if let Some((admin, name)) = self.server {
            let drop = match backend {
                DbBackend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            admin.execute_unprepared(&drop).await?;
            admin.close().await?;
        }
        Ok(())
    }
}

/// Runs `body` on a scratch database of `backend` and drops the database afterwards,
/// even when `body` fails or panics.
async fn with_scratch<F, Fut>(backend: DbBackend, body: F)
where
    F: FnOnce(DatabaseConnection) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let Some(scratch) = scratch(backend).await else {
        return;
    };
    let outcome = tokio::spawn(body(scratch.db.clone())).await;
    scratch.finish().await.unwrap();
    match outcome {
        Ok(result) => result.unwrap(),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("test task failed: {e}"),
    }
}

/// The schema after running `scripts` (Better Auth fixtures) and then our migrations
/// on a new scratch database of `backend`.
async fn schema_after(backend: DbBackend, scripts: &[&str]) -> Result<Vec<String>, BoxError> {
    let scratch = scratch(backend).await.ok_or("no scratch database")?;
    let result = async {
        for script in scripts {
            run_script(&scratch.db, script).await?;
        }
        apply(&scratch.db).await?;
        Ok::<_, BoxError>(schema(&scratch.db).await?)
    }
    .await;
    scratch.finish().await?;
    result
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// Runs a captured Better Auth DDL script statement by statement.
async fn run_script(db: &DatabaseConnection, script: &str) -> TestResult {
    let body: String = script
        .lines()
        .filter(|line| !line.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    for stmt in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        db.execute_unprepared(stmt).await?;
    }
    Ok(())
}

fn fixture(backend: DbBackend, variant: &str) -> &'static str {
    match (backend, variant) {
        (DbBackend::Sqlite, "full") => include_str!("fixtures/better-auth-1.7.25-sqlite.sql"),
        (DbBackend::Sqlite, "core") => include_str!("fixtures/better-auth-1.7.25-core-sqlite.sql"),
        (DbBackend::Sqlite, "core+2fa") => {
            include_str!("fixtures/better-auth-1.7.25-core-then-two-factor-sqlite.sql")
        }
        (DbBackend::Sqlite, "username") => {
            include_str!("fixtures/better-auth-1.7.25-username-sqlite.sql")
        }
        (DbBackend::Sqlite, "+username") => {
            include_str!("fixtures/better-auth-1.7.25-then-username-sqlite.sql")
        }
        (DbBackend::Postgres, "full") => include_str!("fixtures/better-auth-1.7.25-postgres.sql"),
        (DbBackend::Postgres, "core") => {
            include_str!("fixtures/better-auth-1.7.25-core-postgres.sql")
        }
        (DbBackend::Postgres, "core+2fa") => {
            include_str!("fixtures/better-auth-1.7.25-core-then-two-factor-postgres.sql")
        }
        (DbBackend::Postgres, "username") => {
            include_str!("fixtures/better-auth-1.7.25-username-postgres.sql")
        }
        (DbBackend::Postgres, "+username") => {
            include_str!("fixtures/better-auth-1.7.25-then-username-postgres.sql")
        }
        (_, "full") => include_str!("fixtures/better-auth-1.7.25-mysql.sql"),
        (_, "core") => include_str!("fixtures/better-auth-1.7.25-core-mysql.sql"),
        (_, "core+2fa") => {
            include_str!("fixtures/better-auth-1.7.25-core-then-two-factor-mysql.sql")
        }
        (_, "username") => include_str!("fixtures/better-auth-1.7.25-username-mysql.sql"),
        (_, "+username") => include_str!("fixtures/better-auth-1.7.25-then-username-mysql.sql"),
        (DbBackend::Sqlite, "rate-limit") => {
            include_str!("fixtures/better-auth-1.7.25-rate-limit-sqlite.sql")
        }
        (DbBackend::Postgres, "rate-limit") => {
            include_str!("fixtures/better-auth-1.7.25-rate-limit-postgres.sql")
        }
        (_, "rate-limit") => include_str!("fixtures/better-auth-1.7.25-rate-limit-mysql.sql"),
        _ => unreachable!("unknown fixture {variant}"),
    }
}

async fn strings(db: &DatabaseConnection, sql: &str) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
}

/// A normalised description of every table except `seaql_migrations`: columns
/// (type, nullability, default, key), indexes and foreign keys, one line each.
async fn schema(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let mut lines = Vec::new();
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            const TABLES: &str = "m.type = 'table' \
                AND m.name <> 'seaql_migrations' AND m.name NOT LIKE 'sqlite_%'";
            for sql in [
                format!(
                    "SELECT m.name || '.' || p.name || ' ' || p.type \
                     || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END \
                     || COALESCE(' DEFAULT ' || p.dflt_value, '') \
                     || CASE WHEN p.pk THEN ' PRIMARY KEY' ELSE '' END \
                     FROM sqlite_master m, pragma_table_info(m.name) p WHERE {TABLES} ORDER BY m.name, p.cid"
                ),
                format!(
                    "SELECT m.name || ' index ' || il.name || ' origin=' || il.origin \
                     || CASE WHEN il.\"unique\" THEN ' UNIQUE' ELSE '' END || ' (' \
                     || (SELECT group_concat(ii.name, ',') FROM pragma_index_info(il.name) ii) \
                     || ')' FROM sqlite_master m, pragma_index_list(m.name) il WHERE {TABLES} ORDER BY m.name, il.name"
                ),
                format!(
                    "SELECT m.name || ' fk ' || fk.\"from\" || ' -> ' || fk.\"table\" || '(' \
                     || fk.\"to\" || ') ON DELETE ' || fk.on_delete \
                     FROM sqlite_master m, pragma_foreign_key_list(m.name) fk WHERE {TABLES} ORDER BY m.name, fk.id"
                ),
            ] {
                lines.extend(strings(db, &sql).await?);
            }
        }
        DbBackend::Postgres => {
            for sql in [
                "SELECT table_name || '.' || column_name || ' ' || data_type \
                 || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END \
                 || COALESCE(' DEFAULT ' || column_default, '') \
                 FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name <> 'seaql_migrations' ORDER BY table_name, ordinal_position",
                "SELECT tablename || ' ' || indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename <> 'seaql_migrations' \
                 ORDER BY tablename, indexname",
                "SELECT conrelid::regclass::text || ' ' || conname || ' ' \
                 || pg_get_constraintdef(oid) FROM pg_constraint \
                 WHERE connamespace = current_schema()::regnamespace \
                 AND conrelid::regclass::text <> 'seaql_migrations' ORDER BY 1",
            ] {
                lines.extend(strings(db, sql).await?);
            }
        }
        _ => {
            let tables = strings(
                db,
                "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.tables \
                 WHERE table_schema = DATABASE() AND TABLE_NAME <> 'seaql_migrations' \
                 ORDER BY TABLE_NAME",
            )
            .await?;
            for table in tables {
                let rows = db
                    .query_all_raw(Statement::from_string(
                        DbBackend::MySql,
                        format!("SHOW CREATE TABLE `{table}`"),
                    ))
                    .await?;
                for row in rows {
                    let ddl: String = row.try_get_by_index(1)?;
                    // Without the trailing comma, so a line does not change when a
                    // key or column is added after it.
                    lines.extend(
                        ddl.lines()
                            .map(|l| format!("{table}: {}", l.trim().trim_end_matches(','))),
                    );
                }
            }
        }
    }
    Ok(lines)
}

/// Lines of `after` not in `before`, and lines of `before` not in `after`.
fn diff(before: &[String], after: &[String]) -> (Vec<String>, Vec<String>) {
    let added = after
        .iter()
        .filter(|l| !before.contains(l))
        .cloned()
        .collect();
    let removed = before
        .iter()
        .filter(|l| !after.contains(l))
        .cloned()
        .collect();
    (added, removed)
}

/// Tables present, except `seaql_migrations`.
async fn tables(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> 'seaql_migrations' ORDER BY name"
        }
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             AND tablename <> 'seaql_migrations' ORDER BY tablename"
        }
        _ => {
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND TABLE_NAME <> 'seaql_migrations' \
             ORDER BY TABLE_NAME"
        }
    };
    strings(db, sql).await
}

async fn insert(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    values: Vec<Value>,
) -> TestResult {
    let stmt = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&stmt).await?;
    Ok(())
}

async fn insert_user(db: &DatabaseConnection, id: &str, at: OffsetDateTime) -> TestResult {
    let b = db.get_database_backend();
    insert(
        db,
        "user",
        &[
            "id",
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
        ],
        vec![
            id.into(),
            "Ada".into(),
            format!("{id}@example.com").into(),
            true.into(),
            Value::String(None),
            ts_value(b, at),
            ts_value(b, at),
        ],
    )
    .await
}

// ---------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------

/// Fresh database: apply twice; forget the bookkeeping and apply again; the schema
/// must not change. Then exercise the entities.
async fn fresh_and_idempotent(db: DatabaseConnection) -> TestResult {
    apply(&db).await?;
    let first = schema(&db).await?;
    assert_eq!(
        tables(&db).await?,
        [
            "account",
            "rateLimit",
            "session",
            "twoFactor",
            "twoFactorBackupCode",
            "user",
            "verification"
        ]
    );
    apply(&db).await?;
    db.execute_unprepared("DELETE FROM seaql_migrations")
        .await?;
    apply(&db).await?;
    assert_eq!(schema(&db).await?, first);
    assert_eq!(Migrator::get_pending_migrations(&db).await?.len(), 0);

    // Better Auth's tables and columns cannot be rolled back: the newest migration
    // (the `rateLimit` table) refuses, and nothing changes.
    assert!(Migrator::down(&db, Some(1)).await.is_err());
    assert_eq!(schema(&db).await?, first);
    // Our own additions can be rolled back (run directly, beneath the refusing one) and
    // are re-created by the next start-up.
    let manager = SchemaManager::new(&db);
    m20261124_000003_two_factor_last_used_step::Migration
        .down(&manager)
        .await?;
    m20261124_000002_two_factor_backup_code::Migration
        .down(&manager)
        .await?;
    assert!(
        !tables(&db)
            .await?
            .contains(&"twoFactorBackupCode".to_owned())
    );
    assert!(
        !schema(&db)
            .await?
            .iter()
            .any(|l| l.contains("lastUsedStep"))
    );
    db.execute_unprepared("DELETE FROM seaql_migrations")
        .await?;
    apply(&db).await?;
    assert_eq!(schema(&db).await?, first);

    entities_match_tables(&db).await?;
    round_trip(&db).await?;
    username_is_unique(&db).await
}

/// `user.username` is unique (several users may have none); `displayUsername` is not.
async fn username_is_unique(db: &DatabaseConnection) -> TestResult {
    let at = datetime!(2026-11-24 12:32:04.685 UTC);
    for id in ["n1", "n2", "n3", "n4"] {
        insert_user(db, id, at).await?;
    }
    let set = |id: &str, username: &str| {
        Query::update()
            .table(Alias::new("user"))
            .value(Alias::new("username"), username)
            .value(Alias::new("displayUsername"), "Ada")
            .and_where(user::Column::Id.eq(id))
            .to_owned()
    };
    db.execute(&set("n1", "ada")).await?;
    db.execute(&set("n2", "bob")).await?;
    assert!(
        db.execute(&set("n3", "ada")).await.is_err(),
        "duplicate username accepted"
    );
    let n1 = user::Entity::find_by_id("n1")
        .one(db)
        .await?
        .ok_or("no user")?;
    assert_eq!(
        (n1.username.as_deref(), n1.display_username.as_deref()),
        (Some("ada"), Some("Ada"))
    );
    let none = user::Entity::find()
        .filter(user::Column::Username.is_null())
        .all(db)
        .await?;
    assert_eq!(none.len(), 2);
    db.execute(&Query::delete().from_table(Alias::new("user")).to_owned())
        .await?;
    Ok(())
}

/// `name:NULL|NOT NULL` for each column of entity `E`, in declaration order.
fn entity_columns<E: EntityTrait>() -> Vec<String> {
    E::Column::iter()
        .map(|c| {
            let null = if c.def().is_null() {
                "NULL"
            } else {
                "NOT NULL"
            };
            format!("{}:{null}", c.as_str())
        })
        .collect()
}

/// The same for a table, in column order.
async fn table_columns(db: &DatabaseConnection, table: &str) -> Result<Vec<String>, DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Sqlite => format!(
            "SELECT name || ':' || CASE WHEN \"notnull\" THEN 'NOT NULL' ELSE 'NULL' END \
             FROM pragma_table_info('{table}') ORDER BY cid"
        ),
        DbBackend::Postgres => format!(
            "SELECT column_name || ':' || CASE WHEN is_nullable = 'NO' THEN 'NOT NULL' ELSE 'NULL' END \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        _ => format!(
            "SELECT CAST(CONCAT(COLUMN_NAME, ':', IF(IS_NULLABLE = 'NO', 'NOT NULL', 'NULL')) AS CHAR) \
             FROM information_schema.columns WHERE table_schema = DATABASE() \
             AND TABLE_NAME = '{table}' ORDER BY ORDINAL_POSITION"
        ),
    };
    strings(db, &sql).await
}

/// Drift check: every entity names exactly its table's columns, in order, with the
/// same nullability (`Option<T>` exactly where the column is nullable).
async fn entities_match_tables(db: &DatabaseConnection) -> TestResult {
    async fn check<E: EntityTrait + Default>(db: &DatabaseConnection) -> TestResult {
        let table = E::default().table_name().to_owned();
        assert_eq!(
            entity_columns::<E>(),
            table_columns(db, &table).await?,
            "{table}"
        );
        Ok(())
    }
    check::<user::Entity>(db).await?;
    check::<session::Entity>(db).await?;
    check::<account::Entity>(db).await?;
    check::<verification::Entity>(db).await?;
    check::<two_factor::Entity>(db).await?;
    check::<two_factor_backup_code::Entity>(db).await?;
    check::<rate_limit::Entity>(db).await
}

async fn round_trip(db: &DatabaseConnection) -> TestResult {
    let b = db.get_database_backend();
    let created = datetime!(2026-11-24 12:32:04.685 UTC);
    let whole_second = datetime!(2026-11-24 12:32:05 UTC);
    insert_user(db, "u1", created).await?;

    let u = user::Entity::find_by_id("u1")
        .one(db)
        .await?
        .ok_or("no user")?;
    assert_eq!(u.created_at, Timestamp::new(created));
    assert_eq!(u.created_at.to_string(), "2026-11-24T12:32:04.685Z");
    assert!(u.email_verified);
    assert_eq!(u.two_factor_enabled, None);
    assert_eq!(u.image, None);

    // SQLite stores exactly `Date#toISOString()`.
    if b == DbBackend::Sqlite {
        let raw = strings(
            db,
            "SELECT \"createdAt\" || '|' || typeof(\"createdAt\") FROM \"user\"",
        )
        .await?;
        assert_eq!(raw, ["2026-11-24T12:32:04.685Z|text"]);
        let bools = strings(
            db,
            "SELECT typeof(\"emailVerified\") || '=' || \"emailVerified\" FROM \"user\"",
        )
        .await?;
        assert_eq!(bools, ["integer=1"]);
    }

    // Dates sort and filter chronologically; also with a whole second, which sqlx's own
    // SQLite encoding would write as `...:05Z` and sort after `...:05.010Z`.
    let rows = [
        ("v3", datetime!(2026-11-24 12:32:05.100 UTC)),
        ("v1", whole_second),
        ("v2", datetime!(2026-11-24 12:32:05.010 UTC)),
    ];
    for (id, at) in rows {
        insert(
            db,
            "verification",
            &[
                "id",
                "identifier",
                "value",
                "expiresAt",
                "createdAt",
                "updatedAt",
            ],
            vec![
                id.into(),
                "2fa-abc".into(),
                "u1".into(),
                ts_value(b, at),
                ts_value(b, at),
                ts_value(b, at),
            ],
        )
        .await?;
    }
    let ordered: Vec<String> = verification::Entity::find()
        .order_by_asc(verification::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ordered, ["v1", "v2", "v3"]);
    let expired = verification::Entity::find()
        .filter(
            verification::Column::ExpiresAt
                .lte(ts_value(b, datetime!(2026-11-24 12:32:05.010 UTC))),
        )
        .all(db)
        .await?;
    assert_eq!(expired.len(), 2);
    let v1 = verification::Entity::find_by_id("v1")
        .one(db)
        .await?
        .ok_or("no v1")?;
    assert_eq!(v1.created_at, Timestamp::new(whole_second));
    if b == DbBackend::Sqlite {
        let raw = strings(db, "SELECT \"createdAt\" FROM verification WHERE id = 'v1'").await?;
        assert_eq!(raw, ["2026-11-24T12:32:05.000Z"]);
    }

    // The remaining tables, nullable dates and booleans, and ON DELETE CASCADE.
    insert(
        db,
        "session",
        &[
            "id",
            "expiresAt",
            "token",
            "createdAt",
            "updatedAt",
            "userId",
        ],
        vec![
            "s1".into(),
            ts_value(b, whole_second),
            "tok".into(),
            ts_value(b, created),
            ts_value(b, created),
            "u1".into(),
        ],
    )
    .await?;
    insert(
        db,
        "twoFactor",
        &[
            "id",
            "secret",
            "backupCodes",
            "userId",
            "verified",
            "failedVerificationCount",
        ],
        vec![
            "t1".into(),
            "sec".into(),
            "[]".into(),
            "u1".into(),
            false.into(),
            0i32.into(),
        ],
    )
    .await?;
    insert(
        db,
        "twoFactorBackupCode",
        &["id", "userId", "codeHash", "usedAt", "createdAt"],
        vec![
            "c1".into(),
            "u1".into(),
            "hash".into(),
            ts_value(b, created),
            ts_value(b, created),
        ],
    )
    .await?;
    let s = session::Entity::find_by_id("s1")
        .one(db)
        .await?
        .ok_or("no session")?;
    assert_eq!(
        (s.user_id.as_str(), s.expires_at),
        ("u1", Timestamp::new(whole_second))
    );
    let t = two_factor::Entity::find_by_id("t1")
        .one(db)
        .await?
        .ok_or("no twoFactor")?;
    assert_eq!(
        (t.verified, t.failed_verification_count, t.locked_until),
        (Some(false), Some(0), None)
    );
    let c = two_factor_backup_code::Entity::find_by_id("c1")
        .one(db)
        .await?
        .ok_or("no code")?;
    assert_eq!(c.used_at, Some(Timestamp::new(created)));
    // (userId, codeHash) is unique.
    let dup = insert(
        db,
        "twoFactorBackupCode",
        &["id", "userId", "codeHash", "createdAt"],
        vec![
            "c2".into(),
            "u1".into(),
            "hash".into(),
            ts_value(b, created),
        ],
    )
    .await;
    assert!(dup.is_err(), "duplicate (userId, codeHash) accepted");

    db.execute(&Query::delete().from_table(Alias::new("user")).to_owned())
        .await?;
    assert_eq!(session::Entity::find().all(db).await?.len(), 0);
    assert_eq!(two_factor::Entity::find().all(db).await?.len(), 0);
    assert_eq!(
        two_factor_backup_code::Entity::find().all(db).await?.len(),
        0
    );
    Ok(())
}

/// Lines describing what Portcullis adds to Better Auth's `twoFactor()` schema: its own
/// table and column, the `username()` columns and index, and the `rateLimit` table.
fn ours_beyond_two_factor(line: &str) -> bool {
    line.contains("rateLimit")
        || line.contains("twoFactorBackupCode")
        || line.contains("lastUsedStep")
        || line.to_lowercase().contains("username")
}

/// Better Auth's own migrator ran first: ours add only `twoFactorBackupCode`,
/// `lastUsedStep` and the `username()` columns, and the result is exactly what they
/// produce on an empty database.
async fn adopt_better_auth(db: DatabaseConnection) -> TestResult {
    let b = db.get_database_backend();
    run_script(&db, fixture(b, "full")).await?;
    let before = schema(&db).await?;
    apply(&db).await?;
    let after = schema(&db).await?;
    let (added, removed) = diff(&before, &after);
    assert!(removed.is_empty(), "removed: {removed:#?}");
    assert!(
        added.iter().all(|l| ours_beyond_two_factor(l)),
        "added beyond ours: {added:#?}"
    );
    apply(&db).await?;
    assert_eq!(schema(&db).await?, after);
    round_trip(&db).await?;
    username_is_unique(&db).await?;

    // The `username()` part is exactly Better Auth's own ALTER plan for the plugin (ours,
    // run after it, then find nothing left to do for `username`).
    let theirs = schema_after(
        b,
        &[
            fixture(b, "full"),
            fixture(b, "+username"),
            fixture(b, "rate-limit"),
        ],
    )
    .await?;
    let (only_ours, only_theirs) = diff(&theirs, &after);
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "ours-only: {only_ours:#?}\nbetter-auth-only: {only_theirs:#?}"
    );

    // Compare with our migrations on an empty database.
    let fresh = schema_after(b, &[]).await?;
    let (only_ours, only_theirs) = diff(&after, &fresh);
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "fresh-only: {only_ours:#?}\nbetter-auth-then-ours-only: {only_theirs:#?}"
    );
    Ok(())
}

/// Better Auth with `twoFactor()` and `username()` ran first: the column's inline
/// unique constraint already covers `username`, so ours add no second index; apart from
/// that constraint's name the result is what ours produce on an empty database.
async fn adopt_better_auth_with_username(db: DatabaseConnection) -> TestResult {
    let b = db.get_database_backend();
    run_script(&db, fixture(b, "username")).await?;
    let before = schema(&db).await?;
    apply(&db).await?;
    let after = schema(&db).await?;
    let (added, removed) = diff(&before, &after);
    assert!(removed.is_empty(), "removed: {removed:#?}");
    assert!(
        added.iter().all(|l| l.contains("twoFactorBackupCode")
            || l.contains("lastUsedStep")
            || l.contains("rateLimit")),
        "added beyond twoFactorBackupCode/lastUsedStep/rateLimit: {added:#?}"
    );
    apply(&db).await?;
    assert_eq!(schema(&db).await?, after);
    username_is_unique(&db).await?;

    let fresh = schema_after(b, &[]).await?;
    let (only_fresh, only_theirs) = diff(&after, &fresh);
    assert!(
        only_fresh
            .iter()
            .chain(&only_theirs)
            .all(|l| l.contains("username") && l.contains("UNIQUE")),
        "fresh-only: {only_fresh:#?}\nbetter-auth-then-ours-only: {only_theirs:#?}"
    );
    assert!(
        !only_fresh.is_empty(),
        "expected differently named unique indexes"
    );
    Ok(())
}

/// Better Auth without the plugins ran first, with a user in it: ours add
/// `user.twoFactorEnabled`, `twoFactor` and the `username()` columns exactly as Better
/// Auth's migrator does when `twoFactor()` and then `username()` are enabled later.
async fn adopt_better_auth_without_plugin(db: DatabaseConnection) -> TestResult {
    let b = db.get_database_backend();
    run_script(&db, fixture(b, "core")).await?;
    insert_user(&db, "old", datetime!(2026-01-02 03:04:05.006 UTC)).await?;
    apply(&db).await?;
    let ours = schema(&db).await?;

    let old = user::Entity::find_by_id("old")
        .one(&db)
        .await?
        .ok_or("no user")?;
    assert_eq!(
        old.two_factor_enabled,
        Some(false),
        "existing rows get Better Auth's DEFAULT false"
    );
    assert_eq!((old.username, old.display_username), (None, None));
    assert!(
        ours.iter().any(|l| l.contains("twoFactorEnabled")),
        "twoFactorEnabled missing: {ours:#?}"
    );

    // Better Auth's own path: the plugin-less schema, then its ALTER plans.
    let theirs = schema_after(
        b,
        &[
            fixture(b, "core"),
            fixture(b, "core+2fa"),
            fixture(b, "+username"),
            fixture(b, "rate-limit"),
        ],
    )
    .await?;
    let (only_ours, only_theirs) = diff(&theirs, &ours);
    assert!(
        only_ours.is_empty() && only_theirs.is_empty(),
        "ours-only: {only_ours:#?}\nbetter-auth-only: {only_theirs:#?}"
    );
    Ok(())
}

/// A table lacking a *required* column is not patched: the migration stops and names
/// the column instead of inventing values for existing rows.
async fn missing_required_column_is_refused(db: DatabaseConnection) -> TestResult {
    let user = match db.get_database_backend() {
        DbBackend::MySql => "CREATE TABLE `user` (`id` varchar(36) NOT NULL PRIMARY KEY)",
        _ => "CREATE TABLE \"user\" (\"id\" text NOT NULL PRIMARY KEY)",
    };
    db.execute_unprepared(user).await?;
    let err = apply(&db)
        .await
        .err()
        .ok_or("migration accepted a table without `name`")?;
    assert!(err.to_string().contains("\"name\""), "{err}");
    Ok(())
}

/// MySQL: an index over an existing unbounded `text` column (as hand-made or older
/// schemas may have) is skipped instead of failing the start-up.
async fn mysql_text_column_index_is_skipped(db: DatabaseConnection) -> TestResult {
    db.execute_unprepared(
        "CREATE TABLE verification (id varchar(36) NOT NULL PRIMARY KEY, identifier text NOT NULL, \
         value text NOT NULL, expiresAt timestamp(3) NOT NULL, createdAt timestamp(3) NOT NULL, \
         updatedAt timestamp(3) NOT NULL)",
    )
    .await?;
    apply(&db).await?;
    let lines = schema(&db).await?;
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("verification_identifier_idx")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("session_userId_idx")),
        "{lines:#?}"
    );
    Ok(())
}

#[tokio::test]
async fn mysql_text_column_index() {
    with_scratch(DbBackend::MySql, mysql_text_column_index_is_skipped).await
}

// ---------------------------------------------------------------------------------
// Test matrix
// ---------------------------------------------------------------------------------

macro_rules! matrix {
    ($($name:ident => $scenario:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(#[tokio::test] async fn $name() { with_scratch(DbBackend::Sqlite, $scenario).await })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test] async fn $name() { with_scratch(DbBackend::Postgres, $scenario).await })*
        }
        mod mysql {
            use super::*;
            $(#[tokio::test] async fn $name() { with_scratch(DbBackend::MySql, $scenario).await })*
        }
    };
}

matrix! {
    fresh_database_migrates_idempotently => fresh_and_idempotent,
    better_auth_database_is_adopted => adopt_better_auth,
    better_auth_database_with_username_is_adopted => adopt_better_auth_with_username,
    better_auth_database_without_plugin_is_adopted => adopt_better_auth_without_plugin,
    missing_required_column_stops_the_migration => missing_required_column_is_refused,
}

#[test]
fn database_name_replacement() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306/test?ssl-mode=disabled", "x"),
        "mysql://root@127.0.0.1:3306/x?ssl-mode=disabled"
    );
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306", "x"),
        "mysql://root@127.0.0.1:3306/x"
    );
}
