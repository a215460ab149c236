//! `twoFactorBackupCode` rows: one keyed hash per code, spent with one conditional update.

use portcullis_entity::two_factor_backup_code as code;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Query};
use time::OffsetDateTime;

use super::{backend_of, ts};
use crate::auth::tokens::generate_id;

/// Replaces the user's codes with `hashes`.
pub async fn replace_all(
    c: &impl ConnectionTrait,
    user_id: &str,
    hashes: &[String],
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    code::Entity::delete_many()
        .filter(code::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    if hashes.is_empty() {
        return Ok(());
    }
    let b = backend_of(c);
    let mut stmt = Query::insert();
    stmt.into_table(code::Entity).columns([
        code::Column::Id,
        code::Column::UserId,
        code::Column::CodeHash,
        code::Column::CreatedAt,
    ]);
    for h in hashes {
        stmt.values([
            generate_id().into(),
            user_id.into(),
            h.as_str().into(),
            ts(b, now).into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    c.execute(&stmt).await?;
    Ok(())
}

/// Spends the code with this hash: true for exactly one caller, false if unknown or spent.
pub async fn spend(
    c: &impl ConnectionTrait,
    user_id: &str,
    hash: &str,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let stmt = Query::update()
        .table(code::Entity)
        .value(code::Column::UsedAt, ts(backend_of(c), now))
        .and_where(code::Column::UserId.eq(user_id))
        .and_where(code::Column::CodeHash.eq(hash))
        .and_where(code::Column::UsedAt.is_null())
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() == 1)
}

/// Whether the table has a row (spent or not) for this code.
pub async fn exists(c: &impl ConnectionTrait, user_id: &str, hash: &str) -> Result<bool, DbErr> {
    Ok(code::Entity::find()
        .filter(code::Column::UserId.eq(user_id))
        .filter(code::Column::CodeHash.eq(hash))
        .one(c)
        .await?
        .is_some())
}

/// Records a code that was never in this table (it came from Better Auth's list, e.g. generated
/// by a Better Auth server) as spent. Callers hold the user's `twoFactor` row lock; the unique
/// `(userId, codeHash)` index backs that up.
pub async fn insert_spent(
    c: &impl ConnectionTrait,
    user_id: &str,
    hash: &str,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    super::insert_row(
        c,
        code::Entity,
        vec![
            (code::Column::Id, generate_id().into()),
            (code::Column::UserId, user_id.into()),
            (code::Column::CodeHash, hash.into()),
            (code::Column::UsedAt, ts(b, now)),
            (code::Column::CreatedAt, ts(b, now)),
        ],
    )
    .await?;
    Ok(())
}
