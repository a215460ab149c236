//! `PORTCULLIS_PASSWORD_HASH`: the format of new hashes, and the rewrite of a hash in the other
//! format at the next successful sign-in (a Better Auth scrypt hash becomes argon2id under the
//! default; an argon2id hash becomes Better Auth's scrypt under `scrypt`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use portcullis_server::{
    auth::password::{HashFormat, hash_better_auth_scrypt, verify_better_auth_scrypt, verify_sync},
    store::{self, accounts},
};
use serde_json::json;

const PW: &str = "password123";

fn email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    )
}

/// The stored credential hash and `account.updatedAt` of `user_id`.
async fn stored(s: &TestServer, user_id: &str) -> (String, time::OffsetDateTime) {
    let a = accounts::find_credential(&s.state.db.conn, user_id)
        .await
        .unwrap()
        .unwrap();
    (a.password.unwrap(), a.updated_at.0)
}

async fn set_hash(s: &TestServer, user_id: &str, hash: &str) {
    let a = accounts::find_credential(&s.state.db.conn, user_id)
        .await
        .unwrap()
        .unwrap();
    let long_ago = store::now() - time::Duration::days(30);
    accounts::set_password(&s.state.db.conn, &a.id, hash, long_ago)
        .await
        .unwrap();
}

async fn sign_up(s: &TestServer, tag: &str) -> (String, String) {
    let email = email(tag);
    let id = s.client().sign_up(&email, PW).await.json()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (email, id)
}

/// Default argon2id: a Better Auth scrypt hash is rewritten to argon2id by the first successful
/// sign-in, only by a successful one, and the new hash keeps working.
async fn legacy_scrypt_rehashed_to_argon2id(s: &TestServer) {
    assert_eq!(s.state.hasher.format(), HashFormat::Argon2id);
    let (email, id) = sign_up(s, "rehash").await;
    assert!(
        stored(s, &id)
            .await
            .0
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let legacy = hash_better_auth_scrypt(PW, "00112233445566778899aabbccddeeff").unwrap();
    set_hash(s, &id, &legacy).await;
    let (_, before) = stored(s, &id).await;

    let mut c = s.client();
    assert_eq!(c.sign_in(&email, "wrong-password").await.status, 401);
    assert_eq!(
        stored(s, &id).await.0,
        legacy,
        "a failed sign-in rewrites nothing"
    );

    assert_eq!(c.sign_in(&email, PW).await.status, 200);
    let (now_hash, updated) = stored(s, &id).await;
    assert!(now_hash.starts_with("$argon2id$"), "{now_hash}");
    assert!(verify_sync(&now_hash, PW));
    assert!(updated > before, "account.updatedAt moves with the rewrite");

    // Signing in again verifies the new hash and leaves it alone.
    assert_eq!(s.client().sign_in(&email, PW).await.status, 200);
    assert_eq!(stored(s, &id).await.0, now_hash);
}

/// A user with 2FA is rehashed too: the password was proven, the challenge is separate.
async fn rehash_happens_before_the_two_factor_challenge(s: &TestServer) {
    let (email, id) = sign_up(s, "rehash-2fa").await;
    let user = portcullis_server::store::users::find_by_id(&s.state.db.conn, &id)
        .await
        .unwrap()
        .unwrap();
    portcullis_server::store::users::set_two_factor_enabled(
        &s.state.db.conn,
        &user,
        true,
        store::now(),
    )
    .await
    .unwrap();
    let legacy = hash_better_auth_scrypt(PW, "ffeeddccbbaa99887766554433221100").unwrap();
    set_hash(s, &id, &legacy).await;
    let res = s.client().sign_in(&email, PW).await;
    assert_eq!(res.json()["twoFactorRedirect"], json!(true), "{}", res.text);
    assert!(stored(s, &id).await.0.starts_with("$argon2id$"));
}

/// `scrypt`: sign-up and change-password write Better Auth's format, which Better Auth's own
/// algorithm verifies; an argon2id hash from before the switch is rewritten at sign-in.
async fn scrypt_mode_writes_better_auth_hashes(s: &TestServer) {
    assert_eq!(s.state.hasher.format(), HashFormat::Scrypt);
    let (email, id) = sign_up(s, "scrypt").await;
    let (h, _) = stored(s, &id).await;
    let (salt, key) = h.split_once(':').unwrap();
    assert_eq!((salt.len(), key.len()), (32, 128), "{h}");
    assert!(verify_better_auth_scrypt(&h, PW));

    let mut c = s.client();
    assert_eq!(c.sign_in(&email, PW).await.status, 200);
    assert_eq!(
        stored(s, &id).await.0,
        h,
        "already in the configured format"
    );
    let res = c
        .post(
            "/change-password",
            json!({"currentPassword": PW, "newPassword": "new-password-456"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let (changed, _) = stored(s, &id).await;
    assert_ne!(changed, h);
    assert!(verify_better_auth_scrypt(&changed, "new-password-456"));

    let argon = portcullis_server::auth::password::hash_argon2id("argon-password").unwrap();
    set_hash(s, &id, &argon).await;
    assert_eq!(
        s.client().sign_in(&email, "argon-password").await.status,
        200
    );
    let (back, _) = stored(s, &id).await;
    assert!(verify_better_auth_scrypt(&back, "argon-password"), "{back}");
}

on_every_backend!(
    legacy_scrypt_rehashed_to_argon2id,
    rehash_happens_before_the_two_factor_challenge,
);

mod scrypt {
    use super::*;
    on_every_backend_with!(&[("PORTCULLIS_PASSWORD_HASH", "scrypt")]; scrypt_mode_writes_better_auth_hashes);
}
