//! SQL statements per request on the hot routes, counted by the server's own database handle
//! (`Db::statement_count`: every statement sea-orm runs; `BEGIN`/`COMMIT` are not counted). A
//! regression to extra round trips (an N+1, a read-back after a write) fails here.
//!
//! The budgets are the design:
//! - get-session: one join of session and user; the refresh write only once `updateAge` passed.
//! - verify-totp on a sign-in challenge: challenge + user + twoFactor in one read, the attempt
//!   gate taken with `DELETE … RETURNING`, the TOTP step claimed and the lockout cleared in one
//!   `UPDATE`, the challenge consumed with `DELETE … RETURNING`, the session inserted: 5, the
//!   last three in a transaction. MySQL has no `RETURNING`, so each take there is read + delete +
//!   delete-duplicates (+4). PostgreSQL: 2 — the read takes the attempt counter, and one
//!   statement claims the step, consumes the challenge and inserts the session
//!   (store::challenges; sqlx pings every connection it takes back, so statements outside a
//!   transaction cost two round trips each).
//! - Better Auth 1.7.25 runs 2 statements for get-session and 14 for the verify-totp success
//!   (issue #7's measurement on its Kysely adapter).

use portcullis_entity::session;
use sea_orm::{ColumnTrait, ConnectionTrait, sea_query::Query};

use super::{
    common::Backend,
    support::{db::ts, *},
};

/// Statements the server ran while `f` ran (the scenario is the server's only client).
async fn statements<T>(t: &Tf, f: impl AsyncFnOnce() -> T) -> (u64, T) {
    let before = t.s.state.db.statement_count();
    let out = f().await;
    (t.s.state.db.statement_count() - before, out)
}

/// `n` on PostgreSQL, `other` elsewhere.
fn on_postgres(t: &Tf, n: u64, other: u64) -> u64 {
    if t.s.backend == Backend::Postgres {
        n
    } else {
        other
    }
}

/// Extra statements on MySQL for each verification row taken (no `DELETE … RETURNING`).
fn takes(t: &Tf, n: u64) -> u64 {
    if t.s.backend == Backend::Mysql {
        2 * n
    } else {
        0
    }
}

pub(crate) async fn query_count_hot_routes(t: &Tf) {
    let mut u = new_user(t, "qc").await;

    let (n, res) = statements(t, async || u.client.get("/get-session").await).await;
    assert_eq!(res.status, 200);
    assert_eq!(n, 1, "get-session: one join of session and user");

    // Past updateAge (expiry within expiresIn - updateAge of now): the refresh adds one UPDATE.
    let soon = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let stmt = Query::update()
        .table(session::Entity)
        .value(session::Column::ExpiresAt, ts(t, soon))
        .and_where(session::Column::UserId.eq(&u.id))
        .to_owned();
    t.conn().execute(&stmt).await.unwrap();
    let (n, res) = statements(t, async || u.client.get("/get-session").await).await;
    assert_eq!(res.status, 200);
    assert!(res.cookie_line(SESSION).is_some(), "refreshed cookie");
    assert_eq!(n, 2, "get-session with refresh: the join, then one UPDATE");
    let (n, _) = statements(t, async || u.client.get("/get-session").await).await;
    assert_eq!(n, 1, "no second refresh");

    let mut plain = t.client();
    let (n, res) = statements(t, async || plain.sign_in(&u.email, PW).await).await;
    assert_eq!(res.status, 200);
    assert_eq!(n, 3, "sign-in: user, credential account, session insert");

    let e = enable_totp(&mut u.client).await;
    let t0 = e.auth.step();
    let (n, res) = statements(t, async || {
        verify_totp(&mut u.client, &e.auth.code(t0)).await
    })
    .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(n, 7, "enrolment verify-totp");

    let mut c = t.client();
    let (n, res) = statements(t, async || c.sign_in(&u.email, PW).await).await;
    assert_redirect(&res, &["totp"]);
    assert_eq!(n, 7, "sign-in answered by the two-factor gate");

    let (n, res) = statements(t, async || verify_totp(&mut c, &e.auth.code(t0 + 1)).await).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        n,
        on_postgres(t, 2, 5 + takes(t, 2)),
        "verify-totp completing a challenge"
    );

    let mut c = challenge(t, &u.email, &["totp"]).await;
    let wrong = e.auth.wrong_code();
    let (n, res) = statements(t, async || verify_totp(&mut c, &wrong).await).await;
    assert_eq!(res.status, 401, "{}", res.text);
    assert_eq!(
        n,
        on_postgres(t, 3, 4 + takes(t, 1)),
        "wrong code: read, attempt gate (with the read on PostgreSQL), counter back, lockout counter"
    );

    let (n, res) = statements(t, async || verify_backup(&mut c, &e.backup_codes[0]).await).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        n,
        on_postgres(t, 7, 9 + takes(t, 2)),
        "verify-backup-code completing a challenge (PostgreSQL: the read takes the attempt \
         counter, one statement consumes the challenge and inserts the session)"
    );
}
