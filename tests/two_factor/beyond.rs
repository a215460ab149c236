//! Beyond Better Auth: TOTP replay, concurrency, the shared attempt cap.

use futures_util::future::join_all;

use super::common::TestClient;
use super::support::*;
use super::upstream_attempts_lockout::LOCKED;
use portcullis_entity::two_factor;

// ================================================================ beyond Better Auth: TOTP replay, concurrency, shared cap

/// Portcullis: a TOTP step accepted once (here at enrolment) is refused afterwards, also in
/// session mode. (Better Auth 1.7.25 would accept it again.)
pub(crate) async fn beyond_totp_replay_is_refused_in_session_mode(t: &Tf) {
    let mut tu = totp_user(t, "replay").await;
    verify_totp(&mut tu.u.client, &tu.auth.code(tu.t0))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let res = verify_totp(&mut tu.u.client, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "a fresh step is accepted: {}", res.text);
}

/// Portcullis: the step used at enrolment is refused at the next sign-in challenge, and the
/// step accepted on one challenge is refused on a later one.
pub(crate) async fn beyond_totp_replay_is_refused_across_challenges(t: &Tf) {
    let tu = totp_user(t, "replay").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    let res = verify_totp(&mut c, &tu.auth.code(tu.t0 + 1)).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(401, "INVALID_CODE", "Invalid code");
    assert_eq!(
        verify_backup(&mut c, &tu.backup_codes[0]).await.status,
        200,
        "the challenge is still usable"
    );
}

/// `n` clients of `email`, each holding its own sign-in challenge.
async fn challenges(t: &Tf, email: &str, methods: &[&str], n: usize) -> Vec<TestClient> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(challenge(t, email, methods).await);
    }
    out
}

/// Portcullis: one TOTP code submitted on 20 challenges at once signs in exactly once. The
/// losers are replays (401 INVALID_CODE) — or, once their failures reach the account
/// budget, 429 ACCOUNT_TEMPORARILY_LOCKED.
pub(crate) async fn beyond_one_totp_code_on_20_parallel_challenges_succeeds_once(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut clients = challenges(t, &tu.u.email, &["totp"], 20).await;
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.auth.code(tu.t0 + 1);
    let results = join_all(clients.iter_mut().map(|c| verify_totp(c, &code))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        let code = r.json()["code"].as_str().unwrap().to_string();
        assert!(
            (r.status == 401 && code == "INVALID_CODE")
                || (r.status == 429 && code == "ACCOUNT_TEMPORARILY_LOCKED"),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// One backup code submitted on 20 challenges at once signs in exactly once (Better Auth's
/// compare-and-swap loser gets 409; Portcullis may answer 401 INVALID_BACKUP_CODE).
pub(crate) async fn beyond_one_backup_code_on_20_parallel_challenges_succeeds_once(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut clients = challenges(t, &tu.u.email, &["totp"], 20).await;
    let before = db::session_count(t, &tu.u.id).await;
    let code = tu.backup_codes[0].clone();
    let results = join_all(clients.iter_mut().map(|c| verify_backup(c, &code))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for r in results.iter().filter(|r| r.status != 200) {
        let body = r.json();
        assert!(
            (r.status == 401 && body["code"] == "INVALID_BACKUP_CODE")
                || r.status == 409
                || (r.status == 429 && body["code"] == "ACCOUNT_TEMPORARILY_LOCKED"),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The challenge is consumed atomically: two different valid backup codes on the same
/// challenge at once yield one session.
pub(crate) async fn beyond_same_challenge_with_two_backup_codes_at_once_yields_one_session(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let mut a = challenge(t, &tu.u.email, &["totp"]).await;
    let mut b = twin(t, &a);
    let before = db::session_count(t, &tu.u.id).await;
    let (ra, rb) = futures_util::join!(
        verify_backup(&mut a, &tu.backup_codes[0]),
        verify_backup(&mut b, &tu.backup_codes[1])
    );
    let ok = [&ra, &rb].iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{} / {}", ra.text, rb.text);
    let loser = if ra.status == 200 { &rb } else { &ra };
    assert!(
        loser.status == 401 || loser.status == 409,
        "{} {}",
        loser.status,
        loser.text
    );
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The same challenge verified concurrently by 10 copies of the cookie yields one session.
pub(crate) async fn beyond_same_challenge_verified_by_10_at_once_yields_one_session(t: &Tf) {
    let tu = totp_user(t, "par").await;
    let c = challenge(t, &tu.u.email, &["totp"]).await;
    let before = db::session_count(t, &tu.u.id).await;
    let mut clients: Vec<TestClient> = (0..10).map(|_| twin(t, &c)).collect();
    let codes = &tu.backup_codes;
    let results = join_all(
        clients
            .iter_mut()
            .zip(codes.iter())
            .map(|(c, code)| verify_backup(c, code)),
    )
    .await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    assert_eq!(db::session_count(t, &tu.u.id).await, before + 1);
}

/// The per-challenge budget of 5 is shared by TOTP and backup codes; the 6th attempt cancels
/// the challenge (cookie expired) without spending the submitted code.
pub(crate) async fn beyond_attempt_cap_is_shared_by_totp_and_backup_codes(t: &Tf) {
    let tu = totp_user(t, "shared").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let wrong = tu.auth.wrong_code();
    for _ in 0..3 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    for _ in 0..2 {
        verify_backup(&mut c, "0000-0000").await.assert_error(
            401,
            "INVALID_BACKUP_CODE",
            "Invalid backup code",
        );
    }
    let res = verify_backup(&mut c, &tu.backup_codes[0]).await;
    res.assert_error(
        400,
        "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
        "Too many attempts. Please request a new code.",
    );
    assert_expires(&res, TWO_FACTOR);
    assert!(c.cookie(TWO_FACTOR).is_none());
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    assert_eq!(
        verify_backup(&mut c, &tu.backup_codes[0]).await.status,
        200,
        "the refused code was not spent"
    );
}

/// A locked account is refused on every factor (429), while password sign-in still answers
/// with a challenge (better-auth: dist/plugins/two-factor/verify-two-factor.mjs).
pub(crate) async fn beyond_lockout_blocks_every_factor(t: &Tf) {
    let tu = totp_user(t, "lockall").await;
    for _ in 0..10 {
        let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
        verify_totp(&mut c, &tu.auth.wrong_code())
            .await
            .assert_error(401, "INVALID_CODE", "Invalid code");
    }
    let mut c = challenge(t, &tu.u.email, &["totp", "otp"]).await;
    verify_totp(&mut c, &tu.auth.code(tu.t0 + 1))
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
    verify_backup(&mut c, &tu.backup_codes[0])
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
    let otp = t.send_otp(&mut c, &tu.u.email).await;
    verify_otp(&mut c, &otp)
        .await
        .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
}

/// Refusals that come before the attempt gate spend no attempt: a locked account (429) on both
/// factors, and verify-totp on a factor that is not verified (400). On PostgreSQL the challenge
/// read takes the attempt counter in the same statement, only when the route will get as far as
/// the gate (store::challenges::find_taking_attempt); this fails if it takes it in either case.
pub(crate) async fn beyond_refusals_before_the_gate_keep_the_attempts(t: &Tf) {
    let tu = totp_user(t, "gate").await;
    let mut c = challenge(t, &tu.u.email, &["totp"]).await;
    let wrong = tu.auth.wrong_code();
    let id = &tu.u.id;
    let now = time::OffsetDateTime::now_utc();

    let locked_until = db::ts(t, now + time::Duration::minutes(10));
    db::set_two_factor(t, id, two_factor::Column::LockedUntil, locked_until).await;
    for _ in 0..6 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(429, "ACCOUNT_TEMPORARILY_LOCKED", LOCKED);
        verify_backup(&mut c, "0000-0000").await.assert_error(
            429,
            "ACCOUNT_TEMPORARILY_LOCKED",
            LOCKED,
        );
    }
    // An expired lock is cleared and the attempt goes on.
    let expired = db::ts(t, now - time::Duration::minutes(1));
    db::set_two_factor(t, id, two_factor::Column::LockedUntil, expired).await;

    db::set_two_factor(t, id, two_factor::Column::Verified, false.into()).await;
    for _ in 0..6 {
        verify_totp(&mut c, &wrong)
            .await
            .assert_error(400, "TOTP_NOT_ENABLED", "TOTP not enabled");
    }
    db::set_two_factor(t, id, two_factor::Column::Verified, true.into()).await;

    assert_all_attempts_left(&mut c, &tu).await;
}
