//! Backup codes on a database shared with Better Auth: Better Auth keeps codes only in its encrypted
//! list on `twoFactor.backupCodes`; Portcullis also keeps `twoFactorBackupCode` rows. Whatever the
//! list says is valid must work exactly once, whatever it no longer holds must be refused.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestClient, TestServer};
use portcullis_server::{
    auth::backup_codes,
    store::{self, backup_codes as code_rows, two_factor as factors, users},
};
use serde_json::{Value, json};

const PW: &str = "password123";

struct Enrolled {
    email: String,
    user_id: String,
    codes: Vec<String>,
}

async fn enrol(s: &TestServer, tag: &str) -> Enrolled {
    let mut u = common::sign_up_new(s, tag, PW).await;
    let codes = common::enrol_totp(&mut u.client, PW).await.backup_codes;
    Enrolled {
        email: u.email,
        user_id: u.id,
        codes,
    }
}

/// A fresh sign-in challenge, then the backup code.
async fn verify_backup(s: &TestServer, email: &str, code: &str) -> u16 {
    let mut c: TestClient = s.client();
    let res = c.sign_in(email, PW).await;
    assert_eq!(res.json()["twoFactorRedirect"], Value::Bool(true));
    c.post("/two-factor/verify-backup-code", json!({"code": code}))
        .await
        .status
        .as_u16()
}

/// What Better Auth's `generate-backup-codes` does: only the encrypted list changes.
async fn better_auth_regenerates(s: &TestServer, user_id: &str) -> Vec<String> {
    let codes = backup_codes::generate(10);
    let factor = factors::find_by_user(&s.state.db.conn, user_id)
        .await
        .unwrap()
        .unwrap();
    let list = backup_codes::encode_for_better_auth(&s.state.config.secret_config, &codes);
    factors::set_backup_codes(&s.state.db.conn, &factor.id, &list)
        .await
        .unwrap();
    codes
}

fn remaining_list(s: &TestServer, stored: &str) -> Vec<String> {
    backup_codes::decode_from_better_auth(&s.state.config.secret_config, stored).unwrap()
}

async fn codes_generated_by_better_auth_work_once(s: &TestServer) {
    let e = enrol(s, "ba-codes").await;
    // A database taken over from Better Auth: no rows of ours at all.
    code_rows::replace_all(&s.state.db.conn, &e.user_id, &[], store::now())
        .await
        .unwrap();
    let ba_codes = better_auth_regenerates(s, &e.user_id).await;
    assert_eq!(verify_backup(s, &e.email, &ba_codes[0]).await, 200);
    assert_eq!(verify_backup(s, &e.email, &ba_codes[0]).await, 401);
    // Our original codes were replaced by Better Auth and are refused.
    assert_eq!(verify_backup(s, &e.email, &e.codes[1]).await, 401);
    let factor = factors::find_by_user(&s.state.db.conn, &e.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        remaining_list(s, &factor.backup_codes),
        ba_codes[1..].to_vec()
    );
}

async fn codes_regenerated_by_better_auth_after_ours(s: &TestServer) {
    let e = enrol(s, "ba-regen").await;
    // Our rows for e.codes stay, unspent; Better Auth regenerates the list.
    let ba_codes = better_auth_regenerates(s, &e.user_id).await;
    assert_eq!(verify_backup(s, &e.email, &e.codes[0]).await, 401);
    assert_eq!(verify_backup(s, &e.email, &ba_codes[3]).await, 200);
    assert_eq!(verify_backup(s, &e.email, &ba_codes[3]).await, 401);
}

async fn code_spent_by_better_auth_is_refused(s: &TestServer) {
    let e = enrol(s, "ba-spent").await;
    // Better Auth spends a code by rewriting the list without it; our row stays unspent.
    let factor = factors::find_by_user(&s.state.db.conn, &e.user_id)
        .await
        .unwrap()
        .unwrap();
    let without_first =
        backup_codes::encode_for_better_auth(&s.state.config.secret_config, &e.codes[1..]);
    factors::set_backup_codes(&s.state.db.conn, &factor.id, &without_first)
        .await
        .unwrap();
    assert_eq!(verify_backup(s, &e.email, &e.codes[0]).await, 401);
    assert_eq!(verify_backup(s, &e.email, &e.codes[1]).await, 200);
    let user = users::find_by_id(&s.state.db.conn, &e.user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.two_factor_enabled, Some(true));
}

on_every_backend!(
    codes_generated_by_better_auth_work_once,
    codes_regenerated_by_better_auth_after_ours,
    code_spent_by_better_auth_is_refused,
);
