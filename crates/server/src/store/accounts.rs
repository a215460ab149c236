//! `account` rows. Email/password users have one `credential` account whose `accountId` is the
//! user id and whose `password` holds the hash (better-auth: dist/api/routes/sign-up.mjs).

use portcullis_entity::account;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Query};
use time::OffsetDateTime;

use super::{backend_of, ts};

pub const CREDENTIAL: &str = "credential";

pub async fn insert_credential(
    c: &impl ConnectionTrait,
    id: &str,
    user_id: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    super::insert_row(
        c,
        account::Entity,
        vec![
            (account::Column::Id, id.into()),
            (account::Column::AccountId, user_id.into()),
            (account::Column::ProviderId, CREDENTIAL.into()),
            (account::Column::UserId, user_id.into()),
            (account::Column::Password, password_hash.into()),
            (account::Column::CreatedAt, ts(b, now)),
            (account::Column::UpdatedAt, ts(b, now)),
        ],
    )
    .await?;
    Ok(())
}

/// The credential account of a user, as sign-in looks for it: provider `credential` and
/// `accountId == userId` (better-auth: dist/api/routes/sign-in.mjs).
pub async fn find_credential(
    c: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<account::Model>, DbErr> {
    account::Entity::find()
        .filter(account::Column::UserId.eq(user_id))
        .filter(account::Column::ProviderId.eq(CREDENTIAL))
        .filter(account::Column::AccountId.eq(user_id))
        .one(c)
        .await
}

pub async fn set_password(
    c: &impl ConnectionTrait,
    account_id: &str,
    password_hash: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    let stmt = Query::update()
        .table(account::Entity)
        .value(account::Column::Password, password_hash)
        .value(account::Column::UpdatedAt, ts(b, now))
        .and_where(account::Column::Id.eq(account_id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}

/// Replaces the credential hash only if it still is `old` (a concurrent change-password wins over
/// a sign-in rehash). Returns whether the row was updated.
pub async fn replace_password_hash(
    c: &impl ConnectionTrait,
    account_id: &str,
    old: &str,
    new: &str,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let b = backend_of(c);
    let stmt = Query::update()
        .table(account::Entity)
        .value(account::Column::Password, new)
        .value(account::Column::UpdatedAt, ts(b, now))
        .and_where(account::Column::Id.eq(account_id))
        .and_where(account::Column::Password.eq(old))
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() == 1)
}
