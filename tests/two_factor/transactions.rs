//! Multi-statement changes are transactional: a database fault injected mid-way (a trigger that
//! makes one statement fail) leaves nothing half-written — every Better Auth table is exactly as
//! before — and once the fault is gone the same request, with the same code, succeeds.
//!
//! Covered: challenge completion by TOTP, backup code and OTP (code claimed, challenge consumed,
//! session and trusted-device record created; the attempt counter taken before the transaction is
//! put back), enrolment (2FA turned on, factor verified, session
//! rotated), enable with `skipVerificationOnEnable`, enable's secret + codes, backup-code
//! regeneration, disable (+ rotation), the sign-in gate (provisional session, challenge), sign-up
//! and change-password.

use portcullis_entity::{account, session, two_factor, two_factor_backup_code, user, verification};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use super::{common::Backend, support::*};

const FAULT: &str = "pc_injected_fault";

/// A trigger making every `event` (`INSERT`, `UPDATE`, `DELETE`) on `table` fail until dropped.
struct Fault {
    table: &'static str,
}

impl Fault {
    async fn install(t: &Tf, event: &str, table: &'static str) -> Self {
        let sql = match t.s.backend {
            Backend::Sqlite => vec![format!(
                "CREATE TRIGGER {FAULT} BEFORE {event} ON \"{table}\" \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            )],
            Backend::Postgres => vec![
                format!(
                    "CREATE OR REPLACE FUNCTION {FAULT}() RETURNS trigger AS \
                     $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql"
                ),
                format!(
                    "CREATE TRIGGER {FAULT} BEFORE {event} ON \"{table}\" \
                     FOR EACH ROW EXECUTE FUNCTION {FAULT}()"
                ),
            ],
            Backend::Mysql => vec![format!(
                "CREATE TRIGGER {FAULT} BEFORE {event} ON `{table}` FOR EACH ROW \
                 SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected fault'"
            )],
        };
        for s in sql {
            t.conn().execute_unprepared(&s).await.unwrap();
        }
        Fault { table }
    }

    async fn remove(self, t: &Tf) {
        let sql = match t.s.backend {
            Backend::Postgres => format!("DROP TRIGGER {FAULT} ON \"{}\"", self.table),
            _ => format!("DROP TRIGGER {FAULT}"),
        };
        t.conn().execute_unprepared(&sql).await.unwrap();
    }
}

/// Every row of Better Auth's tables. `verification` rows are compared by content: an attempt
/// counter taken and put back is the same counter under a new id.
#[derive(Debug, PartialEq)]
struct Snapshot {
    users: Vec<user::Model>,
    sessions: Vec<session::Model>,
    accounts: Vec<account::Model>,
    verifications: Vec<(String, String, String)>,
    factors: Vec<two_factor::Model>,
    codes: Vec<two_factor_backup_code::Model>,
}

async fn snapshot(t: &Tf) -> Snapshot {
    let c = t.conn();
    let mut verifications: Vec<_> = verification::Entity::find()
        .all(c)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.identifier, v.value, format!("{:?}", v.expires_at)))
        .collect();
    verifications.sort();
    Snapshot {
        users: user::Entity::find()
            .order_by_asc(user::Column::Id)
            .all(c)
            .await
            .unwrap(),
        sessions: session::Entity::find()
            .order_by_asc(session::Column::Id)
            .all(c)
            .await
            .unwrap(),
        accounts: account::Entity::find()
            .order_by_asc(account::Column::Id)
            .all(c)
            .await
            .unwrap(),
        verifications,
        factors: two_factor::Entity::find()
            .order_by_asc(two_factor::Column::Id)
            .all(c)
            .await
            .unwrap(),
        codes: two_factor_backup_code::Entity::find()
            .order_by_asc(two_factor_backup_code::Column::Id)
            .all(c)
            .await
            .unwrap(),
    }
}

/// Runs `request` with `event` on `table` failing: it must answer a JSON 500 and change nothing.
/// Then the fault is removed.
async fn faulted(
    t: &Tf,
    event: &str,
    table: &'static str,
    request: impl AsyncFnOnce() -> super::common::Res,
) {
    let before = snapshot(t).await;
    let fault = Fault::install(t, event, table).await;
    let res = request().await;
    fault.remove(t).await;
    // Better Auth's own answer where it has one (FAILED_TO_CREATE_SESSION), else ours.
    let code = res.json()["code"].as_str().map(str::to_owned);
    assert!(
        res.status.as_u16() == 500
            && matches!(
                code.as_deref(),
                Some("INTERNAL_SERVER_ERROR" | "FAILED_TO_CREATE_SESSION")
            ),
        "{event} on {table} failing: {} {}",
        res.status,
        res.text
    );
    assert!(
        res.cookie_line(SESSION).is_none(),
        "no session cookie from a failed change"
    );
    assert_eq!(
        snapshot(t).await,
        before,
        "{event} on {table} failing left a half-written change"
    );
}

pub(crate) async fn faults_leave_challenge_completion_undone(t: &Tf) {
    let tu = totp_user(t, "tx-totp").await;

    // TOTP: step claimed, challenge consumed, session inserted — or none of it.
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let code = tu.auth.code(tu.t0 + 1);
    faulted(t, "INSERT", "session", async || {
        verify_totp(&mut c, &code).await
    })
    .await;
    let res = verify_totp(&mut c, &code).await;
    assert_eq!(
        res.status, 200,
        "the same code after the fault: {}",
        res.text
    );

    // Backup code: spent (both stores), challenge consumed, session inserted — or none of it.
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let code = &tu.backup_codes[0];
    faulted(t, "INSERT", "session", async || {
        verify_backup(&mut c, code).await
    })
    .await;
    let res = verify_backup(&mut c, code).await;
    assert_eq!(
        res.status, 200,
        "the same backup code after the fault: {}",
        res.text
    );

    // OTP: code taken, challenge consumed, session and trusted-device record inserted — or none
    // of it.
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    let body = serde_json::json!({"code": otp, "trustDevice": true});
    for (event, table) in [("INSERT", "session"), ("INSERT", "verification")] {
        faulted(t, event, table, async || {
            c.post("/two-factor/verify-otp", body.clone()).await
        })
        .await;
    }
    let res = c.post("/two-factor/verify-otp", body).await;
    assert_eq!(
        res.status, 200,
        "the same OTP after the fault: {}",
        res.text
    );
    assert!(res.cookie_line(TRUST).is_some());
    assert!(get_session(&mut c).await["session"].is_object());
}

pub(crate) async fn faults_leave_enrolment_undone(t: &Tf) {
    let mut u = new_user(t, "tx-enrol").await;

    // enable: secret and codes written together — or neither.
    faulted(t, "INSERT", "twoFactorBackupCode", async || {
        u.client
            .post("/two-factor/enable", serde_json::json!({"password": PW}))
            .await
    })
    .await;
    assert!(db::two_factor_row(t, &u.id).await.is_none());

    // First verification: 2FA on, factor verified, session rotated — or none of it.
    let e = enable_totp(&mut u.client).await;
    let code = e.auth.code(e.auth.step());
    for (event, table) in [("DELETE", "session"), ("UPDATE", "user")] {
        faulted(t, event, table, async || {
            verify_totp(&mut u.client, &code).await
        })
        .await;
    }
    let res = verify_totp(&mut u.client, &code).await;
    assert_eq!(
        res.status, 200,
        "the same code after the fault: {}",
        res.text
    );
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );

    // OTP enrolment: 2FA on and session rotated — or neither.
    let mut o = new_user(t, "tx-enrol-otp").await;
    let otp = t.send_otp(&mut o.client, &o.email).await;
    faulted(t, "DELETE", "session", async || {
        verify_otp(&mut o.client, &otp).await
    })
    .await;
    let res = verify_otp(&mut o.client, &otp).await;
    assert_eq!(
        res.status, 200,
        "the same OTP after the fault: {}",
        res.text
    );
}

pub(crate) async fn faults_leave_skip_verification_enable_undone(t: &Tf) {
    let mut u = new_user(t, "tx-skip").await;
    faulted(t, "DELETE", "session", async || {
        u.client
            .post("/two-factor/enable", serde_json::json!({"password": PW}))
            .await
    })
    .await;
    assert!(db::two_factor_row(t, &u.id).await.is_none());
    enable_totp(&mut u.client).await;
    assert_eq!(
        get_session(&mut u.client).await["user"]["twoFactorEnabled"],
        true
    );
}

pub(crate) async fn faults_leave_codes_and_disable_undone(t: &Tf) {
    let mut tu = totp_user(t, "tx-codes").await;
    let body = serde_json::json!({"password": PW});

    // Regeneration: Better Auth's list and our hashed rows replaced together — or neither.
    faulted(t, "INSERT", "twoFactorBackupCode", async || {
        tu.u.client
            .post("/two-factor/generate-backup-codes", body.clone())
            .await
    })
    .await;

    // Disable: 2FA off, factor and codes gone, session rotated — or none of it.
    for (event, table) in [("DELETE", "session"), ("DELETE", "twoFactorBackupCode")] {
        faulted(t, event, table, async || {
            tu.u.client.post("/two-factor/disable", body.clone()).await
        })
        .await;
    }

    // The old codes still work: the regeneration never happened.
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let res = verify_backup(&mut c, &tu.backup_codes[1]).await;
    assert_eq!(
        res.status, 200,
        "an old code after the failed regeneration: {}",
        res.text
    );
    let res = tu.u.client.post("/two-factor/disable", body).await;
    assert_eq!(res.status, 200, "disable after the faults: {}", res.text);
}

pub(crate) async fn faults_leave_no_provisional_session(t: &Tf) {
    let tu = totp_user(t, "tx-gate").await;
    let sessions = db::session_count(t, &tu.u.id).await;
    let mut c = t.client();
    // The provisional session cannot be deleted, or the challenge cannot be written: either way
    // the provisional session must not survive.
    for (event, table) in [("DELETE", "session"), ("INSERT", "verification")] {
        faulted(t, event, table, async || c.sign_in(&tu.u.email, PW).await).await;
        assert_eq!(db::session_count(t, &tu.u.id).await, sessions);
    }
    challenge(t, &tu.u.email, &["totp"]).await;
}

pub(crate) async fn faults_leave_sign_up_and_password_change_undone(t: &Tf) {
    // Sign-up: user, credential account and session together — or none of them.
    let mut c = t.client();
    let e = email("tx-sign-up");
    let sign_up = serde_json::json!({"email": e, "password": PW, "name": "Tx"});
    faulted(t, "INSERT", "session", async || {
        c.post("/sign-up/email", sign_up.clone()).await
    })
    .await;
    assert_eq!(
        c.sign_up(&e, PW).await.status,
        200,
        "the same sign-up after the fault"
    );

    // Change password revoking other sessions: sessions revoked, hash replaced, new session —
    // or none of it (the old password still works).
    let body = serde_json::json!({
        "currentPassword": PW, "newPassword": "another-password-1", "revokeOtherSessions": true,
    });
    faulted(t, "INSERT", "session", async || {
        c.post("/change-password", body.clone()).await
    })
    .await;
    assert_eq!(t.client().sign_in(&e, PW).await.status, 200);
    assert_eq!(c.post("/change-password", body).await.status, 200);
}
