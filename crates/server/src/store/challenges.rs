//! Sign-in challenges: `verification` rows `2fa-…` whose value is the user id, their attempt
//! counters (`2fa-attempts-…`), and the statements that read and complete them
//! (better-auth: dist/plugins/two-factor/verify-two-factor.mjs).
//!
//! Every backend reads a challenge with its user and `twoFactor` row in one statement ([`find`]),
//! and completes it in the caller's transaction. Issue #7 measured database round trips as the
//! cost of verify-totp, and sqlx pings each connection it takes back into the pool, so on
//! PostgreSQL three statements do in one what would otherwise take several:
//! - [`find_taking_attempt`]: the read, plus the attempt counter taken when the attempt will
//!   count;
//! - [`complete_with_totp`]: the TOTP step claimed, the challenge consumed, the session inserted;
//! - [`insert_session_consuming`]: the challenge consumed and the session inserted.
//!
//! Their SQL text is fixed, so each is built once (a `LazyLock`), not per request.
//!
//! Lock order, the same on every path that completes a challenge: the user's `twoFactor` row
//! first, then the challenge row (then the session insert's key-share lock on the user).

use std::sync::LazyLock;

use portcullis_entity::{two_factor, user, verification};
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable,
    Statement, Value,
    sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement},
};
use time::OffsetDateTime;

use super::{
    backend_of,
    sessions::{self, NewSession},
    ts, verifications,
};

/// A pending sign-in challenge with its user and that user's `twoFactor` row.
pub struct ChallengeRow {
    pub verification: verification::Model,
    pub user: user::Model,
    pub factor: Option<two_factor::Model>,
}

/// The newest `verification` row for the challenge `identifier`, joined with the user it names
/// (`value` = user id) and the user's `twoFactor` row: one statement where verifyTwoFactor reads
/// three. None when the row or its user is gone.
pub async fn find(
    c: &impl ConnectionTrait,
    identifier: &str,
) -> Result<Option<ChallengeRow>, DbErr> {
    let mut q = Query::select();
    select_prefixed::<verification::Entity>(&mut q, "v_");
    select_prefixed::<user::Entity>(&mut q, "u_");
    select_prefixed::<two_factor::Entity>(&mut q, "f_");
    q.from(verification::Entity)
        .inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((verification::Entity, verification::Column::Value)),
        )
        .left_join(
            two_factor::Entity,
            Expr::col((two_factor::Entity, two_factor::Column::UserId))
                .equals((user::Entity, user::Column::Id)),
        )
        .and_where(
            Expr::col((verification::Entity, verification::Column::Identifier)).eq(identifier),
        )
        .order_by(
            (verification::Entity, verification::Column::CreatedAt),
            Order::Desc,
        )
        .limit(1);
    match c.query_one(&q).await? {
        Some(row) => Ok(Some(challenge_row(&row)?)),
        None => Ok(None),
    }
}

fn challenge_row(row: &sea_orm::QueryResult) -> Result<ChallengeRow, DbErr> {
    Ok(ChallengeRow {
        verification: verification::Model::from_query_result(row, "v_")?,
        user: user::Model::from_query_result(row, "u_")?,
        factor: two_factor::Model::from_query_result_optional(row, "f_")?,
    })
}

/// Selects every column of `E` as `<prefix><column>`, as `Model::from_query_result(row, prefix)`
/// reads them.
fn select_prefixed<E: EntityTrait>(q: &mut SelectStatement, prefix: &str) {
    for col in E::Column::iter() {
        q.expr_as(
            Expr::col((E::default(), col)),
            Alias::new(format!("{prefix}{}", col.as_str())),
        );
    }
}

/// The same list as raw SQL: `alias."col" AS "<prefix>col", …`.
fn prefixed_sql<E: EntityTrait>(alias: &str, prefix: &str) -> String {
    E::Column::iter()
        .map(|c| format!(r#"{alias}."{name}" AS "{prefix}{name}""#, name = c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// When a read may take the attempt counter: the conditions under which the route would go on to
/// take it (beginAttempt comes after the lockout check, better-auth: verify-two-factor.mjs).
pub struct AttemptGate<'a> {
    /// The counter's identifier, `2fa-attempts-<challenge id>`.
    pub counter: &'a str,
    /// The factor must not be an unverified enrolment (verify-totp on a challenge).
    pub require_verified: bool,
    pub now: OffsetDateTime,
}

/// What a read did with the attempt counter.
#[derive(Debug, PartialEq, Eq)]
pub enum Counter {
    /// Not taken: the route takes it itself if it gets that far.
    Untouched,
    /// Taken; `None` when no live counter was there (another request has it).
    Taken(Option<String>),
}

/// PostgreSQL: [`find`], and in the same statement the attempt counter taken (deleted, its value
/// returned) when the challenge is live, the user has a `twoFactor` row, it is not locked and
/// (with `require_verified`) not an unverified enrolment. Otherwise the counter is left alone, and
/// the route answers as it would have before taking it.
pub async fn find_taking_attempt(
    c: &impl ConnectionTrait,
    identifier: &str,
    gate: &AttemptGate<'_>,
) -> Result<Option<(ChallengeRow, Counter)>, DbErr> {
    static SQL: LazyLock<[String; 2]> = LazyLock::new(|| {
        [
            find_taking_attempt_sql(false),
            find_taking_attempt_sql(true),
        ]
    });
    let sql = &SQL[usize::from(gate.require_verified)];
    let values = [
        identifier.into(),
        gate.counter.into(),
        ts(DbBackend::Postgres, gate.now),
    ];
    let stmt = Statement::from_sql_and_values(DbBackend::Postgres, sql.as_str(), values);
    let Some(row) = c.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    let counter = match row.try_get::<Option<bool>>("", "gate_open")? {
        Some(true) => Counter::Taken(row.try_get("", "counter")?),
        _ => Counter::Untouched,
    };
    Ok(Some((challenge_row(&row)?, counter)))
}

/// The SQL of [`find_taking_attempt`] (its text depends only on `require_verified`).
fn find_taking_attempt_sql(require_verified: bool) -> String {
    let verified = if require_verified {
        r#" AND "f_verified" IS NOT FALSE"#
    } else {
        ""
    };
    format!(
        r#"WITH ch AS (
  SELECT {v}, {u}, {f}
  FROM "verification" v
  JOIN "user" u ON u."id" = v."value"
  LEFT JOIN "twoFactor" f ON f."userId" = u."id"
  WHERE v."identifier" = $1
  ORDER BY v."createdAt" DESC LIMIT 1
), gate AS (
  SELECT "v_expiresAt" > $3 AND "f_id" IS NOT NULL
    AND ("f_lockedUntil" IS NULL OR "f_lockedUntil" <= $3){verified} AS open
  FROM ch
), taken AS (
  DELETE FROM "verification" WHERE "identifier" = $2 AND (SELECT open FROM gate)
  RETURNING "value", "expiresAt", "createdAt"
)
SELECT ch.*, (SELECT open FROM gate) AS "gate_open",
  (SELECT "value" FROM taken WHERE "expiresAt" >= $3 ORDER BY "createdAt" DESC LIMIT 1) AS "counter"
FROM ch"#,
        v = prefixed_sql::<verification::Entity>("v", "v_"),
        u = prefixed_sql::<user::Entity>("u", "u_"),
        f = prefixed_sql::<two_factor::Entity>("f", "f_"),
    )
}

/// The challenge being completed and the session that replaces it.
pub struct Completion<'a> {
    pub challenge: &'a str,
    pub user_id: &'a str,
    pub session: NewSession<'a>,
}

/// Outcome of [`complete_with_totp`].
#[derive(Debug, PartialEq, Eq)]
pub enum TotpCompletion {
    /// The session was inserted.
    Completed,
    /// The step (or a later one) was accepted before: an invalid code. Nothing changed.
    StepUsed,
    /// The challenge is gone (consumed concurrently, expired). Nothing changed.
    ChallengeGone,
}

/// PostgreSQL: completes a sign-in challenge with a verified TOTP step in one statement. It locks
/// the factor row if `step` is unused, deletes the challenge (only with that lock held), then
/// claims the step and clears the lockout counter (only if the challenge was deleted), then
/// inserts the session (only if the step was claimed). One statement is atomic: a fault anywhere
/// leaves the step unclaimed and the challenge pending, and a challenge lost to a concurrent
/// request leaves the step unclaimed, as the transaction on the other backends does.
///
/// PostgreSQL runs data-modifying CTEs in no set order; here each depends on the one before
/// through `EXISTS (SELECT 1 FROM …)`, which the planner evaluates once before the sub-statement
/// reads a row, so the `twoFactor` lock is taken before the challenge's
/// (tests/concurrency.rs, postgres::totp_completion_locks_factor_before_challenge).
pub async fn complete_with_totp(
    c: &impl ConnectionTrait,
    factor_id: &str,
    step: i64,
    done: &Completion<'_>,
) -> Result<TotpCompletion, DbErr> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let (columns, session_values) = session_insert(6);
        format!(
            r#"WITH locked AS (
  SELECT "id" FROM "twoFactor"
  WHERE "id" = $1 AND ("lastUsedStep" IS NULL OR "lastUsedStep" < $2)
  FOR UPDATE
), taken AS (
  DELETE FROM "verification"
  WHERE "identifier" = $3 AND "value" = $4 AND "expiresAt" >= $5 AND EXISTS (SELECT 1 FROM locked)
  RETURNING "id"
), claimed AS (
  UPDATE "twoFactor" SET "lastUsedStep" = $2, "failedVerificationCount" = 0, "lockedUntil" = NULL
  WHERE "id" IN (SELECT "id" FROM locked) AND EXISTS (SELECT 1 FROM taken)
  RETURNING "id"
), created AS (
  INSERT INTO "session" ({columns}) SELECT {session_values} WHERE EXISTS (SELECT 1 FROM claimed)
  RETURNING "id"
)
SELECT (SELECT count(*) FROM locked) AS "step_free", (SELECT count(*) FROM created) AS "created""#
        )
    });
    let values = vec![
        factor_id.into(),
        step.into(),
        done.challenge.into(),
        done.user_id.into(),
        ts(DbBackend::Postgres, done.session.now),
    ];
    let stmt = with_session_values(&SQL, values, &done.session);
    let row = c
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("completion result".into()))?;
    let step_free: i64 = row.try_get("", "step_free")?;
    let created: i64 = row.try_get("", "created")?;
    Ok(match (step_free, created) {
        (_, 1..) => TotpCompletion::Completed,
        (0, _) => TotpCompletion::StepUsed,
        _ => TotpCompletion::ChallengeGone,
    })
}

/// A PostgreSQL statement binding `leading`, then the new session row's values (placeholders from
/// [`session_insert`]).
fn with_session_values(sql: &str, mut leading: Vec<Value>, s: &NewSession<'_>) -> Statement {
    leading.extend(sessions::insert_values(DbBackend::Postgres, s));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, leading)
}

/// `"col", …` and `$first, …` for an `INSERT INTO "session"` of [`sessions::insert_values`].
fn session_insert(first: usize) -> (String, String) {
    let names: Vec<String> = sessions::COLUMNS
        .iter()
        .map(|c| format!(r#""{}""#, c.as_str()))
        .collect();
    let params: Vec<String> = (0..sessions::COLUMNS.len())
        .map(|i| format!("${}", first + i))
        .collect();
    (names.join(", "), params.join(", "))
}

/// Consumes the challenge and inserts the session, in the caller's transaction. False when the
/// challenge is gone, expired or names another user (then nothing is inserted). On PostgreSQL it
/// is one statement; elsewhere the take ([`verifications::consume`]) and then the insert.
pub async fn insert_session_consuming(
    c: &impl ConnectionTrait,
    done: &Completion<'_>,
) -> Result<bool, DbErr> {
    if backend_of(c) != DbBackend::Postgres {
        let taken = verifications::consume(c, done.challenge).await?;
        if taken.is_none_or(|row| row.value != done.user_id) {
            return Ok(false);
        }
        sessions::insert(c, &done.session).await?;
        return Ok(true);
    }
    static SQL: LazyLock<String> = LazyLock::new(|| {
        let (columns, session_values) = session_insert(4);
        format!(
            r#"WITH taken AS (
  DELETE FROM "verification" WHERE "identifier" = $1 AND "value" = $2 AND "expiresAt" >= $3
  RETURNING "id"
)
INSERT INTO "session" ({columns}) SELECT {session_values} WHERE EXISTS (SELECT 1 FROM taken)
RETURNING "id""#
        )
    });
    let values = vec![
        done.challenge.into(),
        done.user_id.into(),
        ts(DbBackend::Postgres, done.session.now),
    ];
    let stmt = with_session_values(&SQL, values, &done.session);
    Ok(c.query_one_raw(stmt).await?.is_some())
}
