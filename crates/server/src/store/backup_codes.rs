//! `twoFactorBackupCode` rows: one keyed hash per code, spent with one conditional update.
//!
//! A code is looked up by `hashes`: its keyed hash under each configured secret, current first
//! (`backup_codes::keyed_hashes`), so rows written before a secret rotation are still found.

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

/// Spends the code with one of these hashes: true for exactly one caller, false if unknown or
/// spent. A code has one row, so at most one hash matches.
pub async fn spend(
    c: &impl ConnectionTrait,
    user_id: &str,
    hashes: &[String],
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let stmt = Query::update()
        .table(code::Entity)
        .value(code::Column::UsedAt, ts(backend_of(c), now))
        .and_where(code::Column::UserId.eq(user_id))
        .and_where(code::Column::CodeHash.is_in(hashes.iter().map(String::as_str)))
        .and_where(code::Column::UsedAt.is_null())
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() >= 1)
}

/// Whether the table has a row (spent or not) for this code.
pub async fn exists(
    c: &impl ConnectionTrait,
    user_id: &str,
    hashes: &[String],
) -> Result<bool, DbErr> {
    Ok(code::Entity::find()
        .filter(code::Column::UserId.eq(user_id))
        .filter(code::Column::CodeHash.is_in(hashes.iter().map(String::as_str)))
        .one(c)
        .await?
        .is_some())
}

/// Records a code that was never in this table (it came from Better Auth's list, e.g. generated
/// by a Better Auth server) as spent, under its current-secret hash (the first). Callers hold the
/// user's `twoFactor` row lock; the unique `(userId, codeHash)` index backs that up.
pub async fn insert_spent(
    c: &impl ConnectionTrait,
    user_id: &str,
    hashes: &[String],
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let Some(hash) = hashes.first() else {
        return Err(DbErr::Custom("no backup-code hash to record".into()));
    };
    let b = backend_of(c);
    super::insert_row(
        c,
        code::Entity,
        vec![
            (code::Column::Id, generate_id().into()),
            (code::Column::UserId, user_id.into()),
            (code::Column::CodeHash, hash.as_str().into()),
            (code::Column::UsedAt, ts(b, now)),
            (code::Column::CreatedAt, ts(b, now)),
        ],
    )
    .await?;
    Ok(())
}
