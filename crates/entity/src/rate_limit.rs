//! `rateLimit` — Better Auth's table for `rateLimit.storage = "database"`
//! (@better-auth/core: dist/db/get-tables.mjs `rateLimitTable`): one row per `ip|path` key.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rateLimit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `<ip>|<path>` (createRateLimitKey), unique.
    #[sea_orm(unique)]
    pub key: String,
    /// Requests counted in the current window.
    pub count: i32,
    /// Milliseconds since the Unix epoch (`bigint`; Better Auth writes `Date.now()`).
    #[sea_orm(column_name = "lastRequest")]
    pub last_request: i64,
}

impl ActiveModelBehavior for ActiveModel {}
