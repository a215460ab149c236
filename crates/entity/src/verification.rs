//! `verification` — @better-auth/core: dist/db/get-tables.mjs.
//!
//! Short-lived rows keyed by `identifier` (2FA challenges, trusted devices, password
//! resets, ...); look-ups take the newest row by `createdAt`.

use sea_orm::entity::prelude::*;

use crate::Timestamp;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verification")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(indexed)]
    pub identifier: String,
    pub value: String,
    #[sea_orm(column_name = "expiresAt")]
    pub expires_at: Timestamp,
    #[sea_orm(column_name = "createdAt")]
    pub created_at: Timestamp,
    #[sea_orm(column_name = "updatedAt")]
    pub updated_at: Timestamp,
}

impl ActiveModelBehavior for ActiveModel {}
