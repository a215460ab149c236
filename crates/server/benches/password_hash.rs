//! Password hashing cost per hash on this machine, one core:
//! `cargo bench -p portcullis-server --bench password_hash` (bench/run prints it beside Node's
//! scrypt). argon2id at OWASP parameters (m=19456 KiB, t=2, p=1) is what new hashes use; Better
//! Auth's scrypt (N=16384, r=16, p=1, 64 bytes) is what users taken over from Better Auth have
//! until their next sign-in rewrites it.

#![allow(clippy::expect_used)] // a benchmark: a failed hash should stop it loudly

use std::time::{Duration, Instant};

use portcullis_server::auth::password::{hash_argon2id, hash_scrypt, verify_sync};

fn per_op(label: &str, mut f: impl FnMut()) {
    f(); // warm-up (allocator, page faults of the first 19–32 MiB)
    let mut n = 0u32;
    let start = Instant::now();
    while n < 5 || start.elapsed() < Duration::from_secs(2) {
        f();
        n += 1;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    println!("{label:<32} {ms:>7.1} ms/hash  ({n} runs)");
}

fn main() {
    let password = "correct horse battery staple";
    let argon = hash_argon2id(password).expect("argon2id hash");
    let scrypt = hash_scrypt(password).expect("scrypt hash");
    assert!(verify_sync(&argon, password) && verify_sync(&scrypt, password));
    per_op("argon2id hash (new passwords)", || {
        hash_argon2id(password).expect("argon2id hash");
    });
    per_op("argon2id verify", || assert!(verify_sync(&argon, password)));
    per_op("scrypt verify (Better Auth hash)", || {
        assert!(verify_sync(&scrypt, password))
    });
}
