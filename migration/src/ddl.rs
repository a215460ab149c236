//! A small declarative description of Better Auth's tables, rendered per backend.
//!
//! Better Auth's migration compiler picks column types per dialect from a field's
//! logical type and its flags (`unique`, `index`, `sortable`, `references`); see
//! `better-auth: dist/db/get-migration.mjs` (`getType`). [`Kind`] reproduces that
//! mapping so one table description yields the same physical schema on SQLite,
//! PostgreSQL and MySQL/MariaDB as `npx auth migrate` would.
//!
//! The helpers are *tolerant*: [`ensure_table`] creates a missing table, or adds the
//! nullable columns an existing one lacks; [`ensure_index`] creates an index only when
//! no index of that name exists. Running them on a database Better Auth created is
//! therefore a no-op apart from what is genuinely missing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

/// Logical column kind, mapped to a physical type per backend.
///
/// better-auth: dist/db/get-migration.mjs (`getType` typeMap, default id generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Primary key `id`: `text` (SQLite, Postgres), `varchar(36)` (MySQL).
    Id,
    /// A column referencing an `id`: `text` (SQLite, Postgres), `varchar(36)` (MySQL).
    ForeignId,
    /// A string that is unique, indexed or sortable: `text`, or `varchar(255)` on MySQL
    /// (MySQL cannot index `text` without a prefix length).
    IndexedString,
    /// Any other string: `text` everywhere.
    Text,
    /// `integer` 0/1 (SQLite), `boolean` (Postgres), `boolean` = `tinyint(1)` (MySQL).
    Bool,
    /// `integer` everywhere (`int(11)` on MySQL).
    Int,
    /// `bigint` everywhere (a `number` field with `bigint: true`).
    BigInt,
    /// `date` (SQLite; values are ISO-8601 text), `timestamptz` (Postgres),
    /// `timestamp(3)` (MySQL).
    Date,
}

/// A value Better Auth uses as the column default when it *adds* the column to an
/// existing table (`hasStaticColumnDefault` in `dist/db/get-migration.mjs`). A freshly
/// created table gets no such default; Better Auth applies it in application code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlterDefault {
    Bool(bool),
    Int(i64),
}

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub name: &'static str,
    pub kind: Kind,
    /// `NOT NULL`.
    pub required: bool,
    /// Inline `UNIQUE` (Postgres names it `<table>_<col>_key`, MySQL `<col>`).
    pub unique: bool,
    /// `DEFAULT CURRENT_TIMESTAMP` (Postgres) / `DEFAULT CURRENT_TIMESTAMP(3)` (MySQL);
    /// Better Auth emits it for date fields whose `defaultValue` is a function, and
    /// never on SQLite.
    pub default_now: bool,
    /// See [`AlterDefault`].
    pub alter_default: Option<AlterDefault>,
    /// `REFERENCES <table>(<column>) ON DELETE CASCADE`.
    pub references: Option<(&'static str, &'static str)>,
}

impl Col {
    /// A nullable column without constraints.
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            required: false,
            unique: false,
            default_now: false,
            alter_default: None,
            references: None,
        }
    }

    /// The `id text not null primary key` column every Better Auth table starts with.
    pub const fn id() -> Self {
        Self::new("id", Kind::Id).required()
    }

    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    pub const fn default_now(mut self) -> Self {
        self.default_now = true;
        self
    }

    pub const fn alter_default(mut self, value: AlterDefault) -> Self {
        self.alter_default = Some(value);
        self
    }

    /// `REFERENCES "<table>" ("<column>") ON DELETE CASCADE` (Better Auth's default
    /// `onDelete`).
    pub const fn references(mut self, table: &'static str, column: &'static str) -> Self {
        self.references = Some((table, column));
        self
    }
}

/// A table: name and columns in Better Auth's order (the `id` column first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableDef {
    pub name: &'static str,
    pub columns: &'static [Col],
}

/// A secondary index, created after the tables (as Better Auth does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct IndexDef {
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [&'static str],
    pub unique: bool,
}

fn column_def(backend: DbBackend, col: &Col, adding: bool) -> ColumnDef {
    let mut def = ColumnDef::new(col.name);
    match (col.kind, backend) {
        (Kind::Id | Kind::ForeignId, DbBackend::MySql) => def.string_len(36),
        (Kind::IndexedString, DbBackend::MySql) => def.string_len(255),
        (Kind::Id | Kind::ForeignId | Kind::IndexedString | Kind::Text, _) => def.text(),
        (Kind::Bool, DbBackend::Sqlite) => def.integer(),
        (Kind::Bool, _) => def.boolean(),
        (Kind::Int, _) => def.integer(),
        // sea-query writes `integer` for a SQLite big integer; Better Auth writes `bigint`.
        (Kind::BigInt, DbBackend::Sqlite) => def.custom("bigint"),
        (Kind::BigInt, _) => def.big_integer(),
        (Kind::Date, DbBackend::Postgres) => def.timestamp_with_time_zone(),
        (Kind::Date, DbBackend::MySql) => def.custom("timestamp(3)"),
        (Kind::Date, _) => def.custom("date"),
    };
    if col.required {
        def.not_null();
    }
    if col.kind == Kind::Id {
        def.primary_key();
    }
    if col.unique {
        def.unique_key();
    }
    if col.default_now {
        match backend {
            DbBackend::Postgres => {
                def.default(Expr::current_timestamp());
            }
            DbBackend::MySql => {
                def.default(Expr::Keyword(Keyword::Custom(
                    "CURRENT_TIMESTAMP(3)".into_iden(),
                )));
            }
            _ => {}
        }
    }
    if adding && let Some(value) = col.alter_default {
        let value = match (value, backend) {
            // SQLite booleans are integers; better-auth writes `default 0` / `default 1`.
            (AlterDefault::Bool(b), DbBackend::Sqlite) => Value::from(i64::from(b)),
            (AlterDefault::Bool(b), _) => Value::from(b),
            (AlterDefault::Int(i), _) => Value::from(i),
        };
        def.default(value);
    }
    def
}

/// `CREATE TABLE IF NOT EXISTS` for `table`, foreign keys as table constraints left
/// unnamed so each database names them as it does for Better Auth's inline
/// `references` (`<table>_<col>_fkey` on Postgres, `<table>_ibfk_<n>` on MariaDB).
pub(crate) fn create_table_statement(backend: DbBackend, table: &TableDef) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(table.name).if_not_exists();
    for col in table.columns {
        stmt.col(column_def(backend, col, false));
    }
    for col in table.columns {
        if let Some((ref_table, ref_col)) = col.references {
            stmt.foreign_key(
                ForeignKey::create()
                    .from_col(col.name)
                    .to(ref_table, ref_col)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        }
    }
    stmt
}

/// `CREATE INDEX IF NOT EXISTS` (the `IF NOT EXISTS` is dropped on MySQL, which lacks
/// it; [`ensure_index`] checks for the index first anyway).
pub(crate) fn create_index_statement(index: &IndexDef) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(index.name).table(index.table).if_not_exists();
    for col in index.columns {
        stmt.col(*col);
    }
    if index.unique {
        stmt.unique();
    }
    stmt
}

/// Create `table` if it is missing; if it exists (for instance made by Better Auth's
/// own migrator, possibly an older version or without a plugin), add the nullable
/// columns it lacks, as Better Auth's migrator would (`ALTER TABLE .. ADD COLUMN`).
///
/// A missing *required* column is not added: existing rows would have no value for
/// it. Better Auth refuses the same change (`UnsafeMigrationError`); we return an
/// error naming the column so an operator can backfill it by hand.
pub(crate) async fn ensure_table(
    manager: &SchemaManager<'_>,
    table: &TableDef,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    if !manager.has_table(table.name).await? {
        return manager
            .create_table(create_table_statement(backend, table))
            .await;
    }
    ensure_columns(manager, table).await
}

/// Add the columns of `table` that the existing table lacks (`ALTER TABLE .. ADD
/// COLUMN`, as Better Auth's migrator does when a plugin adds fields later). The
/// table must exist; `table.columns` may list only the columns of interest.
///
/// Only nullable, unconstrained columns can be added: a required column has no
/// value for existing rows (Better Auth refuses too, `UnsafeMigrationError`), and a
/// unique column is added plain, its unique index created separately with
/// [`ensure_index`] — exactly Better Auth's ALTER plan for `username`.
pub(crate) async fn ensure_columns(
    manager: &SchemaManager<'_>,
    table: &TableDef,
) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    for col in table.columns {
        if manager.has_column(table.name, col.name).await? {
            continue;
        }
        if col.required {
            return Err(DbErr::Migration(format!(
                "table \"{}\" exists but lacks the required column \"{}\"; add it (and backfill \
                 existing rows) by hand, e.g. with Better Auth's `npx auth migrate`, then restart",
                table.name, col.name
            )));
        }
        if col.references.is_some() || col.unique {
            // Adding a foreign key or an inline unique constraint would need
            // backend-specific constraint DDL we do not carry; uniqueness of an added
            // column comes from a separate unique index instead.
            return Err(DbErr::Migration(format!(
                "table \"{}\" lacks the constrained column \"{}\"; add it by hand",
                table.name, col.name
            )));
        }
        tracing::info!(
            table = table.name,
            column = col.name,
            "adding missing column"
        );
        manager
            .alter_table(
                Table::alter()
                    .table(table.name)
                    .add_column(column_def(backend, col, true))
                    .take(),
            )
            .await?;
    }
    Ok(())
}

/// Whether some unique index or constraint of `table` covers exactly `column` —
/// e.g. the inline `unique` Better Auth writes when it creates the table with the
/// column already in it (`sqlite_autoindex_…`, Postgres `<table>_<col>_key`, MySQL
/// `UNIQUE KEY <col>`), whatever its name.
pub(crate) async fn has_unique_index_on(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<bool, DbErr> {
    let backend = manager.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => {
            "SELECT il.name FROM pragma_index_list(?) il WHERE il.\"unique\" = 1 \
             AND (SELECT COUNT(*) FROM pragma_index_info(il.name)) = 1 \
             AND (SELECT ii.name FROM pragma_index_info(il.name) ii) = ?"
        }
        DbBackend::Postgres => {
            "SELECT ic.relname::text AS name FROM pg_index i \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] \
             WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = $1 \
             AND i.indisunique AND i.indnatts = 1 AND a.attname = $2"
        }
        _ => {
            "SELECT CAST(INDEX_NAME AS CHAR) AS name FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 0 \
             GROUP BY INDEX_NAME HAVING COUNT(*) = 1 AND MAX(COLUMN_NAME) = ?"
        }
    };
    let stmt = Statement::from_sql_and_values(backend, sql, [table.into(), column.into()]);
    Ok(manager
        .get_connection()
        .query_one_raw(stmt)
        .await?
        .is_some())
}

/// Create `index` unless an index with that name already exists on its table.
///
/// On MySQL an index over an unbounded `text`/`blob` column is impossible without a
/// prefix length. Better Auth's migrator refuses to index such an existing column
/// (`assertExistingTableIndexFits`); we skip the index with a warning instead, since
/// the index only speeds up look-ups and Better Auth itself runs without it.
pub(crate) async fn ensure_index(
    manager: &SchemaManager<'_>,
    index: &IndexDef,
) -> Result<(), DbErr> {
    if manager.has_index(index.table, index.name).await? {
        return Ok(());
    }
    if manager.get_database_backend() == DbBackend::MySql {
        for col in index.columns {
            if mysql_column_is_unbounded(manager, index.table, col).await? {
                tracing::warn!(
                    table = index.table,
                    column = *col,
                    index = index.name,
                    "skipping index: the existing column is an unbounded text/blob type on MySQL"
                );
                return Ok(());
            }
        }
    }
    manager.create_index(create_index_statement(index)).await
}

async fn mysql_column_is_unbounded(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
) -> Result<bool, DbErr> {
    let stmt = Statement::from_sql_and_values(
        DbBackend::MySql,
        "SELECT LOWER(DATA_TYPE) AS data_type FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
        [table.into(), column.into()],
    );
    let Some(row) = manager.get_connection().query_one_raw(stmt).await? else {
        return Ok(false);
    };
    let data_type: String = row.try_get("", "data_type")?;
    Ok(data_type.ends_with("text") || data_type.ends_with("blob"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TableDef = TableDef {
        name: "t",
        columns: &[
            Col::id(),
            Col::new("name", Kind::IndexedString).required().unique(),
            Col::new("flag", Kind::Bool).alter_default(AlterDefault::Bool(false)),
            Col::new("userId", Kind::ForeignId)
                .required()
                .references("user", "id"),
            Col::new("createdAt", Kind::Date).required().default_now(),
        ],
    };

    #[test]
    fn sqlite_types_match_better_auth() {
        let sql = create_table_statement(DbBackend::Sqlite, &T).to_string(SqliteQueryBuilder);
        assert_eq!(
            sql,
            r#"CREATE TABLE IF NOT EXISTS "t" ( "id" text NOT NULL PRIMARY KEY, "name" text NOT NULL UNIQUE, "flag" integer, "userId" text NOT NULL, "createdAt" date NOT NULL, FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE )"#
        );
    }

    #[test]
    fn postgres_types_match_better_auth() {
        let sql = create_table_statement(DbBackend::Postgres, &T).to_string(PostgresQueryBuilder);
        assert_eq!(
            sql,
            r#"CREATE TABLE IF NOT EXISTS "t" ( "id" text NOT NULL PRIMARY KEY, "name" text NOT NULL UNIQUE, "flag" bool, "userId" text NOT NULL, "createdAt" timestamp with time zone NOT NULL DEFAULT CURRENT_TIMESTAMP, FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE )"#
        );
    }

    #[test]
    fn mysql_types_match_better_auth() {
        let sql = create_table_statement(DbBackend::MySql, &T).to_string(MysqlQueryBuilder);
        assert_eq!(
            sql,
            "CREATE TABLE IF NOT EXISTS `t` ( `id` varchar(36) NOT NULL PRIMARY KEY, `name` varchar(255) NOT NULL UNIQUE, `flag` bool, `userId` varchar(36) NOT NULL, `createdAt` timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), CONSTRAINT  FOREIGN KEY (`userId`) REFERENCES `user` (`id`) ON DELETE CASCADE )"
        );
    }

    #[test]
    fn added_columns_carry_better_auths_alter_default() {
        let flag = &T.columns[2];
        let add = |backend| {
            Table::alter()
                .table("t")
                .add_column(column_def(backend, flag, true))
                .take()
        };
        assert_eq!(
            add(DbBackend::Sqlite).to_string(SqliteQueryBuilder),
            r#"ALTER TABLE "t" ADD COLUMN "flag" integer DEFAULT 0"#
        );
        assert_eq!(
            add(DbBackend::Postgres).to_string(PostgresQueryBuilder),
            r#"ALTER TABLE "t" ADD COLUMN "flag" bool DEFAULT FALSE"#
        );
    }
}
