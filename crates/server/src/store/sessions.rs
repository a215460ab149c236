//! `session` rows (better-auth: dist/db/internal-adapter.mjs createSession/findSession/...).

use portcullis_entity::{session, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, sea_query::Query,
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

pub async fn insert(c: &impl ConnectionTrait, s: &NewSession<'_>) -> Result<(), DbErr> {
    let b = backend_of(c);
    super::insert_row(
        c,
        session::Entity,
        vec![
            (session::Column::Id, s.id.into()),
            (session::Column::ExpiresAt, ts(b, s.expires_at)),
            (session::Column::Token, s.token.into()),
            (session::Column::CreatedAt, ts(b, s.now)),
            (session::Column::UpdatedAt, ts(b, s.now)),
            (session::Column::IpAddress, s.ip_address.into()),
            (session::Column::UserAgent, s.user_agent.into()),
            (session::Column::UserId, s.user_id.into()),
        ],
    )
    .await?;
    Ok(())
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
