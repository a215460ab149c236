//! Secret rotation (`BETTER_AUTH_SECRETS`) on a live database: everything made under the old
//! single secret keeps working after the rotation (sessions, trusted devices, TOTP, backup codes,
//! each code spent once), everything new is signed and encrypted with the new current secret, and
//! retiring the old secret refuses what it signed.
//!
//! Each phase is another server on the same database (`start_sibling`), as a restart with a new
//! configuration would be.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{SECRET, TestClient, TestServer};
use futures_util::future::join_all;
use portcullis_entity::two_factor_backup_code as code_row;
use portcullis_protocol::{cookies::decode_uri_component, signed::verify_signed_value};
use portcullis_server::{
    auth::{backup_codes, totp},
    store::two_factor as factors,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const PW: &str = "password123";
const SESSION: &str = "better-auth.session_token";
const TRUST: &str = "better-auth.trust_device";
const NEW_SECRET: &str = "rotated-secret-B-0123456789-abcdefghijklmnopqrstuvwxyz";

/// The secret (of `candidates`) that signed this cookie value, if any.
fn signer<'a>(cookie_value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let decoded = decode_uri_component(cookie_value).unwrap();
    candidates
        .iter()
        .copied()
        .find(|s| verify_signed_value(&decoded, s.as_bytes()).is_some())
}

/// A client of `server` holding `jar` (the same browser, talking to the restarted server).
fn same_browser(server: &TestServer, jar: &[(String, String)]) -> TestClient {
    let mut c = server.client();
    c.jar = jar.to_vec();
    c
}

struct Enrolled {
    email: String,
    user_id: String,
    key: Vec<u8>,
    /// The step enrolment claimed; later verifications use later steps (replays are refused).
    t0: u64,
    codes: Vec<String>,
}

/// Signs up and enables TOTP (verified) on `s`.
async fn enrol(s: &TestServer, tag: &str) -> Enrolled {
    let mut u = common::sign_up_new(s, tag, PW).await;
    let common::TotpEnrolment {
        key,
        step: t0,
        backup_codes: codes,
    } = common::enrol_totp(&mut u.client, PW).await;
    Enrolled {
        email: u.email,
        user_id: u.id,
        key,
        t0,
        codes,
    }
}

/// A sign-in on `s` that must stop at the two-factor challenge.
async fn challenge(s: &TestServer, email: &str) -> TestClient {
    let mut c = s.client();
    let res = c.sign_in(email, PW).await;
    assert_eq!(
        res.json()["twoFactorRedirect"],
        Value::Bool(true),
        "{}",
        res.text
    );
    c
}

async fn spend(s: &TestServer, email: &str, code: &str) -> u16 {
    let mut c = challenge(s, email).await;
    c.post("/two-factor/verify-backup-code", json!({"code": code}))
        .await
        .status
        .as_u16()
}

async fn session_user(c: &mut TestClient) -> Value {
    c.get("/get-session").await.json()["user"]["id"].clone()
}

async fn stored(s: &TestServer, user_id: &str) -> (String, String) {
    let f = factors::find_by_user(&s.state.db.conn, user_id)
        .await
        .unwrap()
        .unwrap();
    (f.secret, f.backup_codes)
}

async fn code_hashes(s: &TestServer, user_id: &str) -> Vec<String> {
    code_row::Entity::find()
        .filter(code_row::Column::UserId.eq(user_id))
        .all(&s.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.code_hash)
        .collect()
}

/// The rows of `code` under either secret's hash, with whether each is spent.
async fn spent_rows(s: &TestServer, user_id: &str, code: &str) -> Vec<(String, bool)> {
    let hashes = [
        backup_codes::keyed_hash(SECRET, code),
        backup_codes::keyed_hash(NEW_SECRET, code),
    ];
    code_row::Entity::find()
        .filter(code_row::Column::UserId.eq(user_id))
        .filter(code_row::Column::CodeHash.is_in(hashes))
        .all(&s.state.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.code_hash, r.used_at.is_some()))
        .collect()
}

async fn rotation_keeps_old_secrets_working_until_retired(s: &TestServer) {
    // Phase 1: BETTER_AUTH_SECRET only (the harness default, SECRET).
    let u = enrol(s, "rot").await;
    let (secret_before, codes_before) = stored(s, &u.user_id).await;
    assert!(!secret_before.starts_with('$') && !codes_before.starts_with('$'));
    assert!(
        code_hashes(s, &u.user_id)
            .await
            .contains(&backup_codes::keyed_hash(SECRET, &u.codes[1]))
    );
    // A trusted device: the challenge completed with a backup code and trustDevice.
    let mut browser = challenge(s, &u.email).await;
    let res = browser
        .post(
            "/two-factor/verify-backup-code",
            json!({"code": u.codes[0], "trustDevice": true}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        signer(browser.cookie(TRUST).unwrap(), &[SECRET]),
        Some(SECRET)
    );
    assert_eq!(
        signer(browser.cookie(SESSION).unwrap(), &[SECRET]),
        Some(SECRET)
    );
    let old_jar = browser.jar.clone();

    // Phase 2: BETTER_AUTH_SECRETS="2:B,1:A", BETTER_AUTH_SECRET=A (legacy).
    let rotated_list = format!("2:{NEW_SECRET},1:{SECRET}");
    let rotated = s
        .start_sibling(&[("BETTER_AUTH_SECRETS", &rotated_list)])
        .await;
    let mut carried = None;
    let outcome = common::catch_panic(async {
        // The A-signed session cookie still authenticates.
        let mut c = same_browser(&rotated, &old_jar);
        assert_eq!(session_user(&mut c).await, json!(u.user_id));
        // The A-signed trust cookie still skips the challenge; the new cookies are signed with B.
        let mut c = same_browser(&rotated, &old_jar);
        let res = c.sign_in(&u.email, PW).await;
        assert_eq!(res.status, 200, "{}", res.text);
        assert_eq!(res.json()["twoFactorRedirect"], Value::Null, "{}", res.text);
        for name in [SESSION, TRUST] {
            assert_eq!(
                signer(c.cookie(name).unwrap(), &[SECRET, NEW_SECRET]),
                Some(NEW_SECRET),
                "{name}"
            );
        }
        let b_jar = c.jar.clone();
        // The TOTP secret written under A (bare hex) still verifies.
        let mut c = challenge(&rotated, &u.email).await;
        let res = c
            .post(
                "/two-factor/verify-totp",
                json!({"code": totp::code_at(&u.key, u.t0 + 1, 6)}),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        // An old code (its row hashed under A) spends once and only once, also when two
        // challenges present it at the same time.
        assert_eq!(spend(&rotated, &u.email, &u.codes[1]).await, 200);
        assert_eq!(spend(&rotated, &u.email, &u.codes[1]).await, 401);
        // Found under its A hash (the row is marked spent), not recorded again under B.
        assert_eq!(
            spent_rows(&rotated, &u.user_id, &u.codes[1]).await,
            [(backup_codes::keyed_hash(SECRET, &u.codes[1]), true)]
        );
        let mut racers = [
            challenge(&rotated, &u.email).await,
            challenge(&rotated, &u.email).await,
        ];
        let results = join_all(racers.iter_mut().map(|c| {
            c.post(
                "/two-factor/verify-backup-code",
                json!({"code": u.codes[2]}),
            )
        }))
        .await;
        let won = results.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            won,
            1,
            "{:?}",
            results.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        // The rewritten list is an envelope of the current version; the old secret is untouched.
        let (secret_now, codes_now) = stored(&rotated, &u.user_id).await;
        assert_eq!(secret_now, secret_before);
        assert!(codes_now.starts_with("$ba$2$"), "{codes_now}");

        // Everything newly written is a version-2 envelope and keyed with B.
        let v = enrol(&rotated, "rot-new").await;
        let (secret_new, codes_new) = stored(&rotated, &v.user_id).await;
        assert!(secret_new.starts_with("$ba$2$"), "{secret_new}");
        assert!(codes_new.starts_with("$ba$2$"), "{codes_new}");
        let hashes = code_hashes(&rotated, &v.user_id).await;
        assert!(hashes.contains(&backup_codes::keyed_hash(NEW_SECRET, &v.codes[0])));
        assert!(!hashes.contains(&backup_codes::keyed_hash(SECRET, &v.codes[0])));
        // Regenerating (on the B-signed session) writes a version-2 list and B-keyed rows.
        let mut c = same_browser(&rotated, &b_jar);
        let res = c
            .post("/two-factor/generate-backup-codes", json!({"password": PW}))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        let regenerated: Vec<String> = res.json()["backupCodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let (_, codes_regen) = stored(&rotated, &u.user_id).await;
        assert!(codes_regen.starts_with("$ba$2$"), "{codes_regen}");
        assert_eq!(spend(&rotated, &u.email, &regenerated[0]).await, 200);
        assert_eq!(spend(&rotated, &u.email, &regenerated[0]).await, 401);
        assert!(
            code_hashes(&rotated, &u.user_id)
                .await
                .contains(&backup_codes::keyed_hash(NEW_SECRET, &regenerated[1]))
        );
        carried = Some((b_jar, regenerated));
    })
    .await;
    rotated.stop().await;
    common::finish(outcome);
    let (b_jar, regenerated) = carried.unwrap();

    // Phase 3: A retired: BETTER_AUTH_SECRETS="2:B" only, no BETTER_AUTH_SECRET.
    let retired = s
        .start_sibling(&[
            ("BETTER_AUTH_SECRETS", &format!("2:{NEW_SECRET}")),
            ("BETTER_AUTH_SECRET", ""),
        ])
        .await;
    let outcome = common::catch_panic(async {
        let mut c = same_browser(&retired, &old_jar);
        assert_eq!(session_user(&mut c).await, Value::Null, "A-signed session");
        let mut c = same_browser(&retired, &old_jar);
        let res = c.sign_in(&u.email, PW).await;
        assert_eq!(
            res.json()["twoFactorRedirect"],
            Value::Bool(true),
            "A-signed trust cookie: {}",
            res.text
        );
        // B-signed cookies still work.
        let mut c = same_browser(&retired, &b_jar);
        assert_eq!(session_user(&mut c).await, json!(u.user_id));
        // The version-2 list still decrypts: a regenerated code spends once.
        assert_eq!(spend(&retired, &u.email, &regenerated[1]).await, 200);
        assert_eq!(spend(&retired, &u.email, &regenerated[1]).await, 401);
    })
    .await;
    retired.stop().await;
    common::finish(outcome);
}

on_every_backend!(rotation_keeps_old_secrets_working_until_retired);
