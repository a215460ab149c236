//! Concurrency faults the soak test (tests/soak) found, pinned down deterministically:
//! - Transactions of different users never wait on each other. On MariaDB/MySQL that needs READ
//!   COMMITTED (set on every pooled connection by `portcullis_server::connect`): under InnoDB's
//!   REPEATABLE READ, clearing one user's backup codes locked the index gap another user's new
//!   codes go into, so two users enabling 2FA or regenerating codes at once deadlocked (error
//!   1213, a 500). PostgreSQL takes no such locks; SQLite has one writer at a time by design.
//! - PostgreSQL's one-statement TOTP completion (store::challenges::complete_with_totp) locks the
//!   `twoFactor` row before the challenge, as every other completion does (the first version took
//!   the challenge first and deadlocked against the backup-code path), and a challenge lost to
//!   another request leaves the step unclaimed.
//! - A request holds one pooled connection at a time: a trusted-device sign-in read the trust
//!   record on a second connection while its transaction (on SQLite: the write lock) was open, so
//!   with the pool full of requests waiting for that lock, everything stalled for the busy timeout
//!   and failed with "database is locked".

mod common;

use std::time::Duration;

use common::{Backend, TestServer, webhook::OtpWebhook};
use portcullis_entity::{session, two_factor, two_factor_backup_code as code, verification};
use portcullis_server::auth::tokens::generate_id;
use portcullis_server::store::{
    self,
    backup_codes::replace_all,
    challenges::{self, Completion, TotpCompletion},
    sessions::NewSession,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
    TransactionTrait,
};
use serde_json::json;

const PASSWORD: &str = "password123";
const TRUST_COOKIE: &str = "better-auth.trust_device";

async fn user_id(s: &TestServer, email: &str) -> String {
    let res = s.client().sign_up(email, PASSWORD).await;
    res.json()["user"]["id"].as_str().unwrap().to_string()
}

/// What enable and generate-backup-codes do, for two users at once: each transaction first clears
/// its user's codes, then both write their new ones concurrently.
async fn two_users_replace_backup_codes_at_once(s: &TestServer) {
    let a = user_id(s, "a@example.com").await;
    let b = user_id(s, "b@example.com").await;
    let conn = &s.state.db.conn;
    let now = store::now();
    let hashes = |p: &str| (0..10).map(|i| format!("{p}-{i}")).collect::<Vec<_>>();
    let (ta, tb) = (conn.begin().await.unwrap(), conn.begin().await.unwrap());
    replace_all(&ta, &a, &[], now).await.unwrap();
    replace_all(&tb, &b, &[], now).await.unwrap();
    let (ra, rb) = tokio::time::timeout(
        Duration::from_secs(20),
        futures_util::future::join(
            replace_all(&ta, &a, &hashes("a"), now),
            replace_all(&tb, &b, &hashes("b"), now),
        ),
    )
    .await
    .expect("two users' transactions waited on each other for 20 s");
    ra.expect("user a's codes (a deadlock here is error 1213)");
    rb.expect("user b's codes (a deadlock here is error 1213)");
    ta.commit().await.unwrap();
    tb.commit().await.unwrap();
    for user in [&a, &b] {
        let n = code::Entity::find()
            .filter(code::Column::UserId.eq(user.as_str()))
            .count(conn)
            .await
            .unwrap();
        assert_eq!(n, 10, "codes of {user}");
    }
}

/// Several enables of one user at once leave one `twoFactor` row and one set of ten codes
/// (upstream's findOne-then-create lets each insert its own row).
async fn concurrent_enables_leave_one_factor(s: &TestServer) {
    let mut c = s.client();
    let id = c.sign_up("twin-enable@example.com", PASSWORD).await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"password": PASSWORD});
    let mut clients: Vec<_> = (0..4).map(|_| c.clone()).collect();
    let answers = futures_util::future::join_all(
        clients
            .iter_mut()
            .map(|c| c.post("/two-factor/enable", body.clone())),
    )
    .await;
    for res in &answers {
        assert_eq!(res.status, 200, "enable: {}", res.text);
    }
    let conn = &s.state.db.conn;
    let factors = portcullis_entity::two_factor::Entity::find()
        .filter(portcullis_entity::two_factor::Column::UserId.eq(id.as_str()))
        .count(conn)
        .await
        .unwrap();
    assert_eq!(factors, 1, "twoFactor rows after concurrent enables");
    let codes = code::Entity::find()
        .filter(code::Column::UserId.eq(id.as_str()))
        .count(conn)
        .await
        .unwrap();
    assert_eq!(codes, 10, "backup-code rows after concurrent enables");
}

/// A trusted-device sign-in succeeds with a single free connection in the pool.
async fn trusted_sign_in_with_one_free_connection(backend: Backend) {
    let webhook = OtpWebhook::start().await;
    let env = [
        ("PORTCULLIS_OTP_WEBHOOK_URL", webhook.url.as_str()),
        ("PORTCULLIS_DATABASE_TIMEOUT", "1"),
    ];
    let Some(s) = TestServer::start_with(backend, &env).await else {
        eprintln!("{backend:?} not configured (PORTCULLIS_TEST_*_URL unset); skipped");
        return;
    };
    let outcome = common::catch_panic(async {
        let email = "trusted@example.com";
        let mut owner = s.client();
        owner.sign_up(email, PASSWORD).await;
        let res = owner
            .post(
                "/two-factor/enable",
                json!({"password": PASSWORD, "method": "otp"}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        // A browser that passes the OTP challenge with trustDevice.
        let mut browser = s.client();
        assert_eq!(
            browser.sign_in(email, PASSWORD).await.json()["twoFactorRedirect"],
            true
        );
        let seen = webhook.count_for(email);
        assert_eq!(
            browser.post("/two-factor/send-otp", json!({})).await.status,
            200
        );
        let otp = webhook.otp_after(email, seen).await;
        let res = browser
            .post(
                "/two-factor/verify-otp",
                json!({"code": otp, "trustDevice": true}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert!(browser.cookie(TRUST_COOKIE).is_some());

        // Every pooled connection but one is taken (a begin that cannot get one fails after the
        // 1 s acquire timeout).
        let conn = &s.state.db.conn;
        let mut held = Vec::new();
        while let Ok(txn) = conn.begin().await {
            held.push(txn);
        }
        held.pop().unwrap().rollback().await.unwrap();
        let res = browser.sign_in(email, PASSWORD).await;
        for txn in held {
            txn.rollback().await.unwrap();
        }
        assert_eq!(res.status, 200, "{}", res.text);
        let body = res.json();
        assert!(
            body["token"].is_string(),
            "the trusted device skips the challenge: {body}"
        );
    })
    .await;
    s.stop().await;
    webhook.stop().await;
    common::finish(outcome);
}

/// A user with a confirmed TOTP factor and a pending sign-in challenge: (user id, challenge
/// identifier, factor id, the enrolment's step).
async fn pending_challenge(s: &TestServer) -> (String, String, String, i64) {
    let mut u = common::sign_up_new(s, "lock", PASSWORD).await;
    let e = common::enrol_totp(&mut u.client, PASSWORD).await;
    let res = s.client().sign_in(&u.email, PASSWORD).await;
    assert_eq!(res.json()["twoFactorRedirect"], true, "{}", res.text);
    let conn = &s.state.db.conn;
    let challenge = verification::Entity::find()
        .filter(verification::Column::Value.eq(&u.id))
        .filter(verification::Column::Identifier.starts_with("2fa-"))
        .filter(verification::Column::Identifier.not_like("2fa-attempts-%"))
        .one(conn)
        .await
        .unwrap()
        .expect("the sign-in left a challenge");
    let factor = two_factor::Entity::find()
        .filter(two_factor::Column::UserId.eq(&u.id))
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    (u.id, challenge.identifier, factor.id, e.step as i64)
}

/// Runs the one-statement completion for `step` with a fresh session row.
async fn complete_totp(
    s: &TestServer,
    user_id: &str,
    challenge: &str,
    factor_id: &str,
    step: i64,
) -> TotpCompletion {
    let now = store::now();
    let (id, token) = (generate_id(), generate_id());
    let done = Completion {
        challenge,
        user_id,
        session: NewSession {
            id: &id,
            token: &token,
            user_id,
            expires_at: now + time::Duration::days(7),
            ip_address: "",
            user_agent: "",
            now,
        },
    };
    challenges::complete_with_totp(&s.state.db.conn, factor_id, step, &done)
        .await
        .unwrap()
}

async fn last_used_step(s: &TestServer, factor_id: &str) -> Option<i64> {
    let f = two_factor::Entity::find_by_id(factor_id)
        .one(&s.state.db.conn)
        .await
        .unwrap()
        .unwrap();
    f.last_used_step
}

/// While another transaction holds the `twoFactor` row, the completion waits for it without
/// having locked the challenge: a `FOR UPDATE NOWAIT` on the challenge succeeds. Under the
/// opposite order (the deadlocking one) it fails with 55P03.
async fn totp_completion_locks_factor_before_challenge(s: &TestServer) {
    let (user_id, challenge, factor_id, step) = pending_challenge(s).await;
    let conn = &s.state.db.conn;
    let holder = conn.begin().await.unwrap();
    holder
        .execute_unprepared(&format!(
            r#"SELECT 1 FROM "twoFactor" WHERE "id" = '{factor_id}' FOR UPDATE"#
        ))
        .await
        .unwrap();
    let completion = {
        let (s, user_id, challenge, factor_id) = (s, &user_id, &challenge, &factor_id);
        async move { complete_totp(s, user_id, challenge, factor_id, step + 1).await }
    };
    let probe = async {
        // Until the completion is seen waiting for a lock.
        let waiting = r#"SELECT count(*) AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND datname = current_database()
              AND query LIKE 'WITH locked AS%'"#;
        let mut seen = false;
        for _ in 0..200 {
            let row = conn
                .query_one_raw(Statement::from_string(DbBackend::Postgres, waiting))
                .await
                .unwrap()
                .unwrap();
            if row.try_get::<i64>("", "n").unwrap() > 0 {
                seen = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(seen, "the completion never waited for the twoFactor lock");
        let probe = conn.begin().await.unwrap();
        let free = probe
            .execute_unprepared(&format!(
                r#"SELECT 1 FROM "verification" WHERE "identifier" = '{challenge}' FOR UPDATE NOWAIT"#
            ))
            .await;
        probe.rollback().await.unwrap();
        holder.rollback().await.unwrap();
        free
    };
    let (outcome, free) = tokio::join!(completion, probe);
    assert!(
        free.is_ok(),
        "the waiting completion held the challenge lock: {free:?}"
    );
    assert_eq!(outcome, TotpCompletion::Completed);
    assert_eq!(last_used_step(s, &factor_id).await, Some(step + 1));
}

/// Each outcome of the one-statement completion changes exactly what it says: a used step
/// changes nothing (the challenge stays); a challenge that is gone leaves the step unclaimed; a
/// completion claims the step, consumes the challenge and inserts the session.
async fn totp_completion_outcomes(s: &TestServer) {
    let (user_id, challenge, factor_id, step) = pending_challenge(s).await;
    let conn = &s.state.db.conn;
    let sessions_of = async || {
        session::Entity::find()
            .filter(session::Column::UserId.eq(&user_id))
            .count(conn)
            .await
            .unwrap()
    };
    let before = sessions_of().await;

    let used = complete_totp(s, &user_id, &challenge, &factor_id, step).await;
    assert_eq!(
        used,
        TotpCompletion::StepUsed,
        "the enrolment used this step"
    );
    assert!(
        store::verifications::find(conn, &challenge)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(sessions_of().await, before);

    let other = complete_totp(s, &user_id, "2fa-not-a-challenge", &factor_id, step + 1).await;
    assert_eq!(other, TotpCompletion::ChallengeGone);
    assert_eq!(
        last_used_step(s, &factor_id).await,
        Some(step),
        "a challenge that is gone must not claim the step"
    );

    let done = complete_totp(s, &user_id, &challenge, &factor_id, step + 1).await;
    assert_eq!(done, TotpCompletion::Completed);
    assert_eq!(last_used_step(s, &factor_id).await, Some(step + 1));
    assert!(
        store::verifications::find(conn, &challenge)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(sessions_of().await, before + 1);

    let again = complete_totp(s, &user_id, &challenge, &factor_id, step + 2).await;
    assert_eq!(again, TotpCompletion::ChallengeGone, "consumed once");
    assert_eq!(last_used_step(s, &factor_id).await, Some(step + 1));
}

mod sqlite {
    use super::*;

    #[actix_web::test]
    async fn concurrent_enables_leave_one_factor() {
        common::run(Backend::Sqlite, super::concurrent_enables_leave_one_factor).await
    }

    #[actix_web::test]
    async fn trusted_sign_in_with_one_free_connection() {
        super::trusted_sign_in_with_one_free_connection(Backend::Sqlite).await
    }
}

mod postgres {
    use super::*;

    #[actix_web::test]
    async fn concurrent_enables_leave_one_factor() {
        common::run(
            Backend::Postgres,
            super::concurrent_enables_leave_one_factor,
        )
        .await
    }

    #[actix_web::test]
    async fn two_users_replace_backup_codes_at_once() {
        common::run(
            Backend::Postgres,
            super::two_users_replace_backup_codes_at_once,
        )
        .await
    }

    #[actix_web::test]
    async fn trusted_sign_in_with_one_free_connection() {
        super::trusted_sign_in_with_one_free_connection(Backend::Postgres).await
    }

    #[actix_web::test]
    async fn totp_completion_locks_factor_before_challenge() {
        common::run(
            Backend::Postgres,
            super::totp_completion_locks_factor_before_challenge,
        )
        .await
    }

    #[actix_web::test]
    async fn totp_completion_outcomes() {
        common::run(Backend::Postgres, super::totp_completion_outcomes).await
    }
}

mod mysql {
    use super::*;

    #[actix_web::test]
    async fn concurrent_enables_leave_one_factor() {
        common::run(Backend::Mysql, super::concurrent_enables_leave_one_factor).await
    }

    #[actix_web::test]
    async fn two_users_replace_backup_codes_at_once() {
        common::run(
            Backend::Mysql,
            super::two_users_replace_backup_codes_at_once,
        )
        .await
    }

    #[actix_web::test]
    async fn trusted_sign_in_with_one_free_connection() {
        super::trusted_sign_in_with_one_free_connection(Backend::Mysql).await
    }
}
