//! `session` rows (better-auth: dist/db/internal-adapter.mjs createSession/findSession/...).

use portcullis_entity::{session, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, Value,
    sea_query::Query,
};
use time::OffsetDateTime;

use super::{backend_of, ts};

pub struct NewSession<'a> {
    pub id: &'a str,
    pub token: &'a str,
    pub user_id: &'a str,
    pub expires_at: OffsetDateTime,
    pub ip_address: &'a str,
    pub user_agent: &'a str,
    pub now: OffsetDateTime,
}

/// The columns [`insert_values`] fills, in order.
pub const COLUMNS: [session::Column; 8] = [
    session::Column::Id,
    session::Column::ExpiresAt,
    session::Column::Token,
    session::Column::CreatedAt,
    session::Column::UpdatedAt,
    session::Column::IpAddress,
    session::Column::UserAgent,
    session::Column::UserId,
];

/// The bind values of a new row, in [`COLUMNS`] order (shared with the PostgreSQL statements
/// that insert a session while completing a challenge, store::challenges).
pub fn insert_values(b: DbBackend, s: &NewSession<'_>) -> [Value; 8] {
    [
        s.id.into(),
        ts(b, s.expires_at),
        s.token.into(),
        ts(b, s.now),
        ts(b, s.now),
        s.ip_address.into(),
        s.user_agent.into(),
        s.user_id.into(),
    ]
}

pub async fn insert(c: &impl ConnectionTrait, s: &NewSession<'_>) -> Result<(), DbErr> {
    let values = insert_values(backend_of(c), s);
    super::insert_row(
        c,
        session::Entity,
        COLUMNS.into_iter().zip(values).collect(),
    )
    .await
}

/// The session with this token and its user, in one statement.
pub async fn find_with_user(
    c: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    let found = session::Entity::find()
        .filter(session::Column::Token.eq(token))
        .find_also_related(user::Entity)
        .one(c)
        .await?;
    Ok(found.and_then(|(s, u)| u.map(|u| (s, u))))
}

pub async fn find_by_token(
    c: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::Token.eq(token))
        .one(c)
        .await
}

/// Unexpired sessions of a user, oldest first.
pub async fn list_active(
    c: &impl ConnectionTrait,
    user_id: &str,
    now: OffsetDateTime,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ExpiresAt.gt(ts(backend_of(c), now)))
        .order_by_asc(session::Column::CreatedAt)
        .all(c)
        .await
}

/// Extends a session; returns false when the row is gone.
pub async fn extend(
    c: &impl ConnectionTrait,
    token: &str,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let b = backend_of(c);
    let stmt = Query::update()
        .table(session::Entity)
        .value(session::Column::ExpiresAt, ts(b, expires_at))
        .value(session::Column::UpdatedAt, ts(b, now))
        .and_where(session::Column::Token.eq(token))
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() > 0)
}

pub async fn delete_by_token(c: &impl ConnectionTrait, token: &str) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::Token.eq(token))
        .exec(c)
        .await?;
    Ok(())
}

/// Deletes `token` only if it belongs to `user_id`.
pub async fn delete_owned(
    c: &impl ConnectionTrait,
    user_id: &str,
    token: &str,
) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::Token.eq(token))
        .filter(session::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(())
}

pub async fn delete_all_of_user(c: &impl ConnectionTrait, user_id: &str) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Deletes every session of the user except `keep_token`.
pub async fn delete_others(
    c: &impl ConnectionTrait,
    user_id: &str,
    keep_token: &str,
) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Token.ne(keep_token))
        .exec(c)
        .await?;
    Ok(())
}
