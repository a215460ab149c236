//! `twoFactor` rows (better-auth: dist/plugins/two-factor/schema.mjs). One per user.

use portcullis_entity::two_factor;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Query},
};
use time::OffsetDateTime;

use super::{backend_of, ts};

pub async fn find_by_user(
    c: &impl ConnectionTrait,
    user_id: &str,
) -> Result<Option<two_factor::Model>, DbErr> {
    two_factor::Entity::find()
        .filter(two_factor::Column::UserId.eq(user_id))
        .one(c)
        .await
}

/// Creates the row, or replaces secret and codes of an existing one (a re-enable while pending).
pub async fn upsert_secret(
    c: &impl ConnectionTrait,
    existing_id: Option<&str>,
    new_id: &str,
    user_id: &str,
    encrypted_secret: &str,
    encrypted_backup_codes: &str,
    verified: bool,
) -> Result<(), DbErr> {
    match existing_id {
        Some(id) => {
            let stmt = Query::update()
                .table(two_factor::Entity)
                .value(two_factor::Column::Secret, encrypted_secret)
                .value(two_factor::Column::BackupCodes, encrypted_backup_codes)
                .value(two_factor::Column::Verified, verified)
                .value(two_factor::Column::LastUsedStep, Option::<i64>::None)
                .and_where(two_factor::Column::Id.eq(id))
                .to_owned();
            c.execute(&stmt).await?;
        }
        None => {
            super::insert_row(
                c,
                two_factor::Entity,
                vec![
                    (two_factor::Column::Id, new_id.into()),
                    (two_factor::Column::Secret, encrypted_secret.into()),
                    (
                        two_factor::Column::BackupCodes,
                        encrypted_backup_codes.into(),
                    ),
                    (two_factor::Column::UserId, user_id.into()),
                    (two_factor::Column::Verified, verified.into()),
                    (two_factor::Column::FailedVerificationCount, 0i32.into()),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

pub async fn set_verified(c: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(two_factor::Column::Verified, true)
        .and_where(two_factor::Column::Id.eq(id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}

pub async fn set_backup_codes(
    c: &impl ConnectionTrait,
    id: &str,
    encrypted_backup_codes: &str,
) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(two_factor::Column::BackupCodes, encrypted_backup_codes)
        .and_where(two_factor::Column::Id.eq(id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}

/// Replaces the stored list only if it still holds `expected` (Better Auth's compare-and-swap on
/// the column, better-auth: dist/plugins/two-factor/backup-codes/index.mjs). Returns whether it did.
pub async fn swap_backup_codes(
    c: &impl ConnectionTrait,
    id: &str,
    expected: &str,
    replacement: &str,
) -> Result<bool, DbErr> {
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(two_factor::Column::BackupCodes, replacement)
        .and_where(two_factor::Column::Id.eq(id))
        .and_where(two_factor::Column::BackupCodes.eq(expected))
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() == 1)
}

pub async fn delete_by_user(c: &impl ConnectionTrait, user_id: &str) -> Result<(), DbErr> {
    two_factor::Entity::delete_many()
        .filter(two_factor::Column::UserId.eq(user_id))
        .exec(c)
        .await?;
    Ok(())
}

/// Claims a TOTP time step: succeeds only if no equal or later step was accepted before, so a
/// code is never accepted twice, even by concurrent requests. With `reset_lockout` (a sign-in
/// challenge) the same statement clears the failure counter and any lock, as upstream does after
/// a successful verification.
pub async fn claim_totp_step(
    c: &impl ConnectionTrait,
    id: &str,
    step: i64,
    reset_lockout: bool,
) -> Result<bool, DbErr> {
    let mut stmt = Query::update();
    stmt.table(two_factor::Entity)
        .value(two_factor::Column::LastUsedStep, step)
        .and_where(two_factor::Column::Id.eq(id))
        .and_where(
            Expr::col(two_factor::Column::LastUsedStep)
                .is_null()
                .or(Expr::col(two_factor::Column::LastUsedStep).lt(step)),
        );
    if reset_lockout {
        stmt.value(two_factor::Column::FailedVerificationCount, 0i32)
            .value(two_factor::Column::LockedUntil, Expr::cust("NULL"));
    }
    Ok(c.execute(&stmt).await?.rows_affected() == 1)
}

/// Records one failed verification; at `max_failed` the account locks until `lock_until`.
/// One statement, so concurrent failures all count (better-auth:
/// dist/plugins/two-factor/verify-two-factor.mjs, account lockout).
pub async fn record_failure(
    c: &impl ConnectionTrait,
    user_id: &str,
    max_failed: i32,
    lock_until: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    let count = Expr::col(two_factor::Column::FailedVerificationCount);
    let next = Expr::expr(sea_orm::sea_query::Func::coalesce([count, Expr::val(0)])).add(1);
    // lockedUntil is assigned first: MySQL evaluates SET left to right with updated values.
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(
            two_factor::Column::LockedUntil,
            Expr::case(next.clone().gte(max_failed), Expr::val(ts(b, lock_until)))
                .finally(Expr::col(two_factor::Column::LockedUntil)),
        )
        .value(two_factor::Column::FailedVerificationCount, next)
        .and_where(two_factor::Column::UserId.eq(user_id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}

/// Clears the failure counter and any lock.
pub async fn reset_failures(c: &impl ConnectionTrait, user_id: &str) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(two_factor::Column::FailedVerificationCount, 0i32)
        .value(two_factor::Column::LockedUntil, Expr::cust("NULL"))
        .and_where(two_factor::Column::UserId.eq(user_id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}

/// Write-locks the user's row for the rest of the transaction with a no-op update (a row lock on
/// PostgreSQL and MySQL, the database write lock on SQLite). False when the user has no row.
pub async fn lock_row(c: &impl ConnectionTrait, user_id: &str) -> Result<bool, DbErr> {
    let stmt = Query::update()
        .table(two_factor::Entity)
        .value(
            two_factor::Column::BackupCodes,
            Expr::col(two_factor::Column::BackupCodes),
        )
        .and_where(two_factor::Column::UserId.eq(user_id))
        .to_owned();
    Ok(c.execute(&stmt).await?.rows_affected() > 0)
}
