//! Database storage: Better Auth's `rateLimit` table, shared by every instance on the database
//! (better-auth: dist/api/rate-limiter/index.mjs createDatabaseStorageWrapper). The same steps as
//! upstream, each a single statement, so concurrent instances share one budget:
//!
//! 1. no row → insert `count = 1` (a lost insert race re-reads and starts over);
//! 2. window elapsed → `UPDATE … SET count = 1, lastRequest = now WHERE key = ? AND
//!    lastRequest <= <the value read>` (only one racer resets), then prune old rows;
//! 3. else → `UPDATE … SET count = count + 1, lastRequest = now WHERE key = ? AND
//!    lastRequest > now - window AND count < max` — allowed iff a row changed;
//! 4. else re-read: refused with the retry time, or (window meanwhile elapsed) start over.
//!
//! Upstream retries without bound; here after [`MAX_ATTEMPTS`] the caller's fallback decides.

use portcullis_entity::rate_limit as rl;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{Outcome, Rule, StoreError, now_ms, retry_after};
use crate::{auth::tokens::generate_id, store::Db};

const MAX_ATTEMPTS: usize = 8;

pub struct DatabaseStore {
    db: Db,
    /// longestObservedWindow (seconds): rows idle longer are pruned.
    longest_window: u64,
}

impl DatabaseStore {
    pub fn new(db: Db, longest_window: u64) -> Self {
        Self { db, longest_window }
    }

    pub async fn consume(&self, key: &str, rule: Rule) -> Result<Outcome, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            if let Some(outcome) = self.attempt(key, rule).await? {
                return Ok(outcome);
            }
        }
        Err(StoreError::Contended)
    }

    /// One pass of upstream's `consume`; `None` where upstream recurses.
    async fn attempt(&self, key: &str, rule: Rule) -> Result<Option<Outcome>, StoreError> {
        let c = &self.db.conn;
        let window_ms = rule.window_ms();
        let data = read_row(c, key).await?;
        let now = now_ms();
        let Some(data) = data else {
            return match insert(c, key, now).await {
                Ok(()) => Ok(Some(Outcome::ALLOWED)),
                // Someone else created it first: start over; otherwise a real failure.
                Err(e) => match read_row(c, key).await? {
                    Some(_) => Ok(None),
                    None => Err(e.into()),
                },
            };
        };
        if now - data.last_request >= window_ms {
            let reset = Query::update()
                .table(rl::Entity)
                .value(rl::Column::Count, 1)
                .value(rl::Column::LastRequest, now)
                .and_where(rl::Column::Key.eq(key))
                .and_where(rl::Column::LastRequest.lte(data.last_request))
                .to_owned();
            if c.execute(&reset).await?.rows_affected() > 0 {
                self.delete_expired(now).await;
                return Ok(Some(Outcome::ALLOWED));
            }
            return Ok(None);
        }
        let max = i64::try_from(rule.max).unwrap_or(i64::MAX);
        let increment = Query::update()
            .table(rl::Entity)
            .value(rl::Column::Count, Expr::col(rl::Column::Count).add(1))
            .value(rl::Column::LastRequest, now)
            .and_where(rl::Column::Key.eq(key))
            .and_where(rl::Column::LastRequest.gt(now - window_ms))
            .and_where(rl::Column::Count.lt(max))
            .to_owned();
        if c.execute(&increment).await?.rows_affected() > 0 {
            return Ok(Some(Outcome::ALLOWED));
        }
        let Some(fresh) = read_row(c, key).await? else {
            return Ok(None);
        };
        if now - fresh.last_request >= window_ms {
            return Ok(None);
        }
        Ok(Some(Outcome::refused(retry_after(
            fresh.last_request,
            rule,
            now,
        ))))
    }

    /// deleteExpiredRows: rows idle longer than the longest window; failures are only logged.
    async fn delete_expired(&self, now: i64) {
        let cutoff = now - i64::try_from(self.longest_window.saturating_mul(1000)).unwrap_or(0);
        if let Err(e) = rl::Entity::delete_many()
            .filter(rl::Column::LastRequest.lt(cutoff))
            .exec(&self.db.conn)
            .await
        {
            tracing::error!("error pruning rate limit rows: {e}");
        }
    }
}

async fn read_row(c: &impl ConnectionTrait, key: &str) -> Result<Option<rl::Model>, DbErr> {
    rl::Entity::find()
        .filter(rl::Column::Key.eq(key))
        .one(c)
        .await
}

async fn insert(c: &impl ConnectionTrait, key: &str, now: i64) -> Result<(), DbErr> {
    crate::store::insert_row(
        c,
        rl::Entity,
        vec![
            (rl::Column::Id, generate_id().into()),
            (rl::Column::Key, key.into()),
            (rl::Column::Count, 1i32.into()),
            (rl::Column::LastRequest, now.into()),
        ],
    )
    .await
}
