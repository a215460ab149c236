//! `session` — @better-auth/core: dist/db/get-tables.mjs.

use sea_orm::entity::prelude::*;

use crate::Timestamp;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(column_name = "expiresAt")]
    pub expires_at: Timestamp,
    /// The session token (the unsigned part of the `session_token` cookie); unique.
    #[sea_orm(unique)]
    pub token: String,
    #[sea_orm(column_name = "createdAt")]
    pub created_at: Timestamp,
    #[sea_orm(column_name = "updatedAt")]
    pub updated_at: Timestamp,
    #[sea_orm(column_name = "ipAddress")]
    pub ip_address: Option<String>,
    #[sea_orm(column_name = "userAgent")]
    pub user_agent: Option<String>,
    #[sea_orm(column_name = "userId", indexed)]
    pub user_id: String,
    #[sea_orm(belongs_to, from = "user_id", to = "id", on_delete = "Cascade")]
    pub user: BelongsTo<super::user::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
