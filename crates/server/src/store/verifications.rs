//! `verification` rows: Better Auth's generic short-lived records (2FA challenges, attempt
//! counters, OTPs, trusted devices). better-auth: dist/db/internal-adapter.mjs
//! (createVerificationValue, findVerificationValue, consumeVerificationValue,
//! deleteVerificationByIdentifier).

use portcullis_entity::verification;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, sea_query::Query,
};
use time::OffsetDateTime;

use super::{backend_of, now, ts};
use crate::auth::tokens::generate_id;

pub async fn create(
    c: &impl ConnectionTrait,
    identifier: &str,
    value: &str,
    expires_at: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    let t = now();
    super::insert_row(
        c,
        verification::Entity,
        vec![
            (verification::Column::Id, generate_id().into()),
            (verification::Column::Identifier, identifier.into()),
            (verification::Column::Value, value.into()),
            (verification::Column::ExpiresAt, ts(b, expires_at)),
            (verification::Column::CreatedAt, ts(b, t)),
            (verification::Column::UpdatedAt, ts(b, t)),
        ],
    )
    .await?;
    Ok(())
}

/// The newest row for `identifier`, expired or not (callers check `expiresAt`).
pub async fn find(
    c: &impl ConnectionTrait,
    identifier: &str,
) -> Result<Option<verification::Model>, DbErr> {
    verification::Entity::find()
        .filter(verification::Column::Identifier.eq(identifier))
        .order_by_desc(verification::Column::CreatedAt)
        .one(c)
        .await
}

/// Atomically takes the newest row for `identifier`: of concurrent callers exactly one gets it;
/// older duplicates go too. An expired row is deleted but reported as absent
/// (better-auth: dist/db/internal-adapter.mjs consumeVerificationValue).
///
/// PostgreSQL and SQLite do it in one `DELETE … RETURNING`; MySQL has no RETURNING, so there it
/// is a read, then a `DELETE … WHERE id = ?` that only one caller can win, then the duplicates.
pub async fn consume(
    c: &impl ConnectionTrait,
    identifier: &str,
) -> Result<Option<verification::Model>, DbErr> {
    let row = match backend_of(c) {
        DbBackend::Postgres | DbBackend::Sqlite => take_all(c, identifier)
            .await?
            .into_iter()
            .max_by_key(|r| r.created_at.0),
        _ => take_newest(c, identifier).await?,
    };
    Ok(row.filter(|r| r.expires_at.0 >= now()))
}

/// `DELETE … WHERE identifier = ? RETURNING *`.
async fn take_all(
    c: &impl ConnectionTrait,
    identifier: &str,
) -> Result<Vec<verification::Model>, DbErr> {
    let stmt = Query::delete()
        .from_table(verification::Entity)
        .and_where(verification::Column::Identifier.eq(identifier))
        .returning_all()
        .to_owned();
    c.query_all(&stmt)
        .await?
        .iter()
        .map(|row| verification::Model::from_query_result(row, ""))
        .collect()
}

async fn take_newest(
    c: &impl ConnectionTrait,
    identifier: &str,
) -> Result<Option<verification::Model>, DbErr> {
    let Some(row) = find(c, identifier).await? else {
        return Ok(None);
    };
    let won = verification::Entity::delete_many()
        .filter(verification::Column::Id.eq(&row.id))
        .exec(c)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Ok(None);
    }
    verification::Entity::delete_many()
        .filter(verification::Column::Identifier.eq(identifier))
        .filter(verification::Column::CreatedAt.lte(ts(backend_of(c), row.created_at.0)))
        .exec(c)
        .await?;
    Ok(Some(row))
}

pub async fn delete_by_identifier(c: &impl ConnectionTrait, identifier: &str) -> Result<(), DbErr> {
    verification::Entity::delete_many()
        .filter(verification::Column::Identifier.eq(identifier))
        .exec(c)
        .await?;
    Ok(())
}
