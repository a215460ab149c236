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

/// Whether the user has rows in this table at all (false for a database taken over from Better
/// Auth before Portcullis saw the user's codes).
pub async fn has_any(c: &impl ConnectionTrait, user_id: &str) -> Result<bool, DbErr> {
    Ok(code::Entity::find()
        .filter(code::Column::UserId.eq(user_id))
        .one(c)
        .await?
        .is_some())
}
