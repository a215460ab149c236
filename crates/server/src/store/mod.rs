//! Database access: small async functions over one connection or transaction. Every date written
//! or compared goes through [`Db::ts`], which picks the representation Better Auth uses on each
//! backend (ISO text on SQLite, timestamptz on PostgreSQL, timestamp(3) on MySQL).

pub mod accounts;
pub mod backup_codes;
pub mod challenges;
pub mod sessions;
pub mod two_factor;
pub mod users;
pub mod verifications;

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Value,
    sea_query::{IntoIden, IntoTableRef, Query},
};
use time::OffsetDateTime;

#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    statements: Arc<AtomicU64>,
}

impl Db {
    /// Wraps a migrated connection and counts the statements run through it from here on.
    pub fn new(mut conn: DatabaseConnection) -> Self {
        let statements = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&statements);
        conn.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        Self { conn, statements }
    }

    /// SQL statements executed through this handle (and its transactions) so far; `BEGIN` and
    /// `COMMIT` are not counted. The query-count tests hold each hot route to a fixed number.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }
}

/// A date as a bind value for `backend`.
pub fn ts(backend: DbBackend, t: OffsetDateTime) -> Value {
    portcullis_entity::ts_value(backend, t)
}

/// Now, truncated to milliseconds: JS dates carry milliseconds, and rows must compare and
/// round-trip exactly as Better Auth writes them.
pub fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t)
}

/// Backend of any connection or transaction.
pub fn backend_of(c: &impl ConnectionTrait) -> DbBackend {
    c.get_database_backend()
}

/// `INSERT` of one row given as (column, value) pairs, so each value stands next to its column.
pub(crate) async fn insert_row<T, C>(
    c: &impl ConnectionTrait,
    table: T,
    row: Vec<(C, Value)>,
) -> Result<(), DbErr>
where
    T: IntoTableRef,
    C: IntoIden,
{
    let (columns, values): (Vec<C>, Vec<Value>) = row.into_iter().unzip();
    let mut stmt = Query::insert();
    stmt.into_table(table)
        .columns(columns)
        .values(values.into_iter().map(Into::into))
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    c.execute(&stmt).await?;
    Ok(())
}
