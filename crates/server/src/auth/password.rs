//! Password hashing. New hashes are argon2id (PHC string, OWASP parameters m=19456 KiB, t=2,
//! p=1) or, with `PORTCULLIS_PASSWORD_HASH=scrypt`, Better Auth's own scrypt format (so a Better
//! Auth server on the same database verifies every password we write). Verification accepts both
//! formats whatever the setting, so users created by a Node Better Auth server keep their
//! passwords; [`PasswordHasher::needs_rehash`] tells sign-in when a stored hash is not in the
//! configured format. Hashing is CPU- and memory-heavy (argon2id touches 19 MiB, scrypt 32 MiB): it
//! runs on a fixed pool of `concurrency` threads of its own, never on the async executor, fed by
//! a bounded queue. A full queue answers [`PasswordError::Busy`] (503) at once instead of letting
//! sign-ins pile up. Fixed threads also bound memory: each thread's allocator keeps the buffer of
//! its last hash, and tokio's blocking pool (up to 512 threads) would keep one per thread it
//! ever used (hundreds of MiB under a sign-in burst, measured by bench/run).

use std::sync::{
    Arc, Mutex,
    mpsc::{self, Receiver, SyncSender, TrySendError},
};

use std::cell::RefCell;

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{self, Output, ParamsString, SaltString},
};
use rand::{RngCore as _, rngs::OsRng as RandOsRng};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

/// Better Auth's length policy, counted in UTF-16 code units as JS `string.length` does.
/// better-auth: dist/utils/password.mjs (assertPasswordNotTooShort / TooLong), defaults 8 / 128.
pub const MIN_PASSWORD_LENGTH: usize = 8;
pub const MAX_PASSWORD_LENGTH: usize = 128;

/// JS `string.length` of a Rust string.
pub fn js_length(s: &str) -> usize {
    s.encode_utf16().count()
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed")]
    Join,
    /// Every hashing thread is busy and the queue is full.
    #[error("too many password hashes queued")]
    Busy,
}

/// The format of new password hashes (`PORTCULLIS_PASSWORD_HASH`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HashFormat {
    /// argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`). Better Auth cannot verify them.
    #[default]
    Argon2id,
    /// Better Auth's `"<32 hex salt>:<128 hex key>"` scrypt format.
    Scrypt,
}

impl HashFormat {
    /// The stored hash's format, or `None` for something neither format produces.
    pub fn of(stored: &str) -> Option<Self> {
        if stored.starts_with("$argon2") {
            Some(Self::Argon2id)
        } else if stored.contains(':') {
            Some(Self::Scrypt)
        } else {
            None
        }
    }
}

impl std::str::FromStr for HashFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "argon2id" | "argon2" => Ok(Self::Argon2id),
            "scrypt" => Ok(Self::Scrypt),
            other => Err(format!(
                "unknown password hash {other:?} (known: argon2id, scrypt)"
            )),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordHasher {
    jobs: SyncSender<Job>,
    format: HashFormat,
}

impl PasswordHasher {
    /// `threads` hashing threads (at least 1) and room for `queue` waiting hashes. The threads end
    /// when the last clone of the hasher is dropped.
    pub fn new(threads: usize, queue: usize, format: HashFormat) -> Self {
        let (jobs, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Self { jobs, format }
    }

    pub fn format(&self) -> HashFormat {
        self.format
    }

    /// Hashes in the configured format: an argon2id PHC string, or Better Auth's scrypt string.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let password = password.to_owned();
        match self.format {
            HashFormat::Argon2id => self.run(move || hash_argon2id(&password)).await?,
            HashFormat::Scrypt => self.run(move || hash_scrypt(&password)).await?,
        }
    }

    /// Whether a hash that just verified should be rewritten in the configured format (a Better
    /// Auth scrypt hash under `argon2id`, an argon2id one under `scrypt`). Unknown formats never
    /// verify, so they never get here.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        HashFormat::of(stored).is_some_and(|f| f != self.format)
    }

    /// Verifies against an argon2 PHC string or a Better Auth scrypt `salt:key` string.
    /// Unknown formats verify as false (never an error the client can see).
    pub async fn verify(&self, stored: &str, password: &str) -> Result<bool, PasswordError> {
        let (stored, password) = (stored.to_owned(), password.to_owned());
        self.run(move || verify_sync(&stored, &password)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // The requester may have gone (client disconnected): nothing to tell.
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => rx.await.map_err(|_| PasswordError::Join),
            Err(TrySendError::Full(_)) => Err(PasswordError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(PasswordError::Join),
        }
    }
}

/// A hashing thread: runs queued jobs until every sender is gone. A panicking job (a bug in a
/// hash crate) fails only its own request: its reply channel drops, the thread carries on.
fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

fn argon2() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The largest argon2 working memory a stored hash may ask for (256 MiB). A PHC string comes
/// from our own database, but a corrupted or planted one must not make a sign-in allocate GiBs.
const MAX_ARGON2_BLOCKS: usize = 256 * 1024;

thread_local! {
    /// This thread's argon2 working memory, allocated once and reused by every hash it computes.
    /// Freshly allocated 19 MiB per hash is what glibc's allocator keeps resident (its mmap
    /// threshold adapts upwards after the first free): bench/run measured 206 MB under sign-in
    /// load, and a fresh mmap per hash instead cost ~40% of the throughput in page faults.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon.hash_password_into` on this thread's reusable working memory.
fn argon2_into(
    argon: &Argon2<'_>,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let blocks = argon.params().block_count();
    if blocks > MAX_ARGON2_BLOCKS {
        return Err(PasswordError::Hash(format!(
            "argon2 memory of {blocks} KiB refused"
        )));
    }
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(pwd, salt, out, &mut memory[..blocks])
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
}

/// argon2id over the NFKC-normalised password, as Better Auth normalises before scrypt
/// (@better-auth/utils: dist/password.node.mjs), so the same user input (a ligature, a
/// full-width digit, a composed or decomposed accent) signs in whichever hash the account has.
/// Written as a standard PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
pub fn hash_argon2id(password: &str) -> Result<String, PasswordError> {
    let fail = |e: password_hash::Error| PasswordError::Hash(e.to_string());
    let mut raw_salt = [0u8; 16];
    RandOsRng.fill_bytes(&mut raw_salt);
    let salt = SaltString::encode_b64(&raw_salt).map_err(fail)?;
    let normalized: String = password.nfkc().collect();
    let argon = argon2()?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, normalized.as_bytes(), &raw_salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(fail)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(fail)?),
    };
    Ok(phc.to_string())
}

pub fn verify_sync(stored: &str, password: &str) -> bool {
    if stored.starts_with("$argon2") {
        return verify_argon2(stored, password).unwrap_or(false);
    }
    verify_better_auth_scrypt(stored, password)
}

/// An argon2 PHC string (any variant and version, parameters from the string itself) against the
/// NFKC-normalised password; the outputs are compared in constant time.
fn verify_argon2(stored: &str, password: &str) -> Option<bool> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = parsed
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .ok()?;
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let argon = Argon2::new(algorithm, version, params);
    let normalized: String = password.nfkc().collect();
    let mut out = vec![0u8; expected.len()];
    argon2_into(&argon, normalized.as_bytes(), salt, &mut out).ok()?;
    Some(bool::from(expected.as_bytes().ct_eq(&out)))
}

/// Better Auth's default hash: `"<32 hex salt>:<128 hex key>"`, scrypt N=16384 r=16 p=1 dkLen=64
/// over the NFKC-normalised password, with the ASCII bytes of the hex salt string as the salt.
/// @better-auth/utils: dist/password.node.mjs. Upstream compares hex strings with `===`; we compare
/// in constant time.
pub fn verify_better_auth_scrypt(stored: &str, password: &str) -> bool {
    let Some((salt, key_hex)) = stored.split_once(':') else {
        return false;
    };
    let Some(expected) = decode_hex(key_hex) else {
        return false;
    };
    if salt.is_empty() || expected.is_empty() {
        return false;
    }
    match scrypt_key(password, salt, expected.len()) {
        Some(derived) => bool::from(derived.ct_eq(&expected)),
        None => false,
    }
}

fn scrypt_key(password: &str, salt: &str, len: usize) -> Option<Vec<u8>> {
    let normalized: String = password.nfkc().collect();
    let params = scrypt::Params::new(14, 16, 1).ok()?;
    let mut out = vec![0u8; len];
    scrypt::scrypt(normalized.as_bytes(), salt.as_bytes(), &params, &mut out).ok()?;
    Some(out)
}

/// A new Better Auth scrypt hash with a fresh salt: 16 random bytes as 32 lowercase hex chars, as
/// @better-auth/utils: dist/password.node.mjs (`randomBytes(16).toString("hex")`).
pub fn hash_scrypt(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    RandOsRng.fill_bytes(&mut salt);
    hash_better_auth_scrypt(password, &encode_hex(&salt))
        .ok_or_else(|| PasswordError::Hash("scrypt parameters rejected".into()))
}

/// Better Auth's scrypt hash of `password` with the given hex salt.
pub fn hash_better_auth_scrypt(password: &str, salt_hex: &str) -> Option<String> {
    let key = scrypt_key(password, salt_hex, 64)?;
    Some(format!("{salt_hex}:{}", encode_hex(&key)))
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // protocol notes §13 vector 7, printed by the package's own hashPassword.
    const BA_HASH: &str = "00112233445566778899aabbccddeeff:73122e887cfc14f91396cdef78dfe4b9dec28d459037601c4904cedba5a637ab97b39b40c236df5d42881d0109ca8cf0f85e39dbaba2911c190915bd8f30fe85";

    /// One thread, one queue slot: with the thread busy and the slot taken, the next hash is
    /// refused at once (Busy → 503), and everything queued still completes.
    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let h = PasswordHasher::new(1, 1, HashFormat::Argon2id);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let blocker = {
            let h = h.clone();
            tokio::spawn(async move {
                h.run(move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    1
                })
                .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        let queued = {
            let h = h.clone();
            tokio::spawn(async move { h.run(|| 2).await })
        };
        // Let the second job reach the queue (a current-thread runtime runs it on our yield).
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(h.run(|| 3).await, Err(PasswordError::Busy)));
        release_tx.send(()).unwrap();
        assert_eq!(blocker.await.unwrap().unwrap(), 1);
        assert_eq!(queued.await.unwrap().unwrap(), 2);
        assert_eq!(h.run(|| 4).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn a_panicking_hash_fails_only_its_own_request() {
        let h = PasswordHasher::new(1, 4, HashFormat::Argon2id);
        let r: Result<(), _> = h.run(|| panic!("boom")).await;
        assert!(matches!(r, Err(PasswordError::Join)));
        assert_eq!(h.run(|| 5).await.unwrap(), 5);
    }

    /// Our PHC strings and the argon2 crate's own are interchangeable (any argon2 library verifies
    /// ours; hashes made elsewhere, e.g. argon2i or other parameters, verify here).
    #[test]
    fn argon2_phc_strings_interoperate_with_the_reference_implementation() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _, password_hash::rand_core::OsRng};
        let ours = hash_argon2id("hunter2-password").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"hunter2-password", &parsed)
                .is_ok()
        );
        for (alg, m) in [
            (Algorithm::Argon2id, 8192),
            (Algorithm::Argon2i, 4096),
            (Algorithm::Argon2d, 4096),
        ] {
            let theirs = Argon2::new(alg, Version::V0x13, Params::new(m, 1, 1, None).unwrap())
                .hash_password(b"other-password", &SaltString::generate(&mut OsRng))
                .unwrap()
                .to_string();
            assert!(verify_sync(&theirs, "other-password"), "{theirs}");
            assert!(!verify_sync(&theirs, "other-passworD"));
        }
        // A planted hash asking for 1 TiB of memory is refused, not allocated.
        let greedy = ours.replace("m=19456", "m=1073741824");
        assert!(!verify_sync(&greedy, "hunter2-password"));
    }

    /// NFKC-equivalent spellings are the same password in both formats (Better Auth normalises).
    #[test]
    fn passwords_are_nfkc_normalised_in_both_formats() {
        for hash in [
            hash_argon2id("ﬁne-ｐａｓｓ-é").unwrap(),
            hash_scrypt("ﬁne-ｐａｓｓ-é").unwrap(),
        ] {
            assert!(verify_sync(&hash, "fine-pass-e\u{301}"), "{hash}");
            assert!(verify_sync(&hash, "ﬁne-ｐａｓｓ-é"));
            assert!(!verify_sync(&hash, "fine-pass-e"));
        }
    }

    #[test]
    fn verifies_better_auth_scrypt_vector() {
        assert!(verify_sync(BA_HASH, "password123"));
        assert!(!verify_sync(BA_HASH, "password124"));
        assert_eq!(
            hash_better_auth_scrypt("password123", "00112233445566778899aabbccddeeff").as_deref(),
            Some(BA_HASH)
        );
    }

    #[test]
    fn argon2id_round_trip_with_owasp_params() {
        let h = hash_argon2id("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_sync(&h, "correct horse"));
        assert!(!verify_sync(&h, "wrong horse"));
    }

    #[test]
    fn garbage_hashes_never_verify() {
        for stored in ["", "nocolon", "zz:zz", "abc:", ":00", "$argon2id$garbage"] {
            assert!(!verify_sync(stored, "password123"), "{stored}");
        }
    }

    #[test]
    fn js_length_counts_utf16_units() {
        assert_eq!(js_length("abc"), 3);
        assert_eq!(js_length("😀"), 2);
    }

    #[tokio::test]
    async fn pool_hashes_off_the_executor() {
        let h = PasswordHasher::new(1, 8, HashFormat::Argon2id);
        let hash = h.hash("pool-password").await.unwrap();
        assert!(h.verify(&hash, "pool-password").await.unwrap());
    }

    #[test]
    fn scrypt_hashes_have_better_auths_shape() {
        let h = hash_scrypt("pässword123").unwrap();
        let (salt, key) = h.split_once(':').unwrap();
        assert_eq!(salt.len(), 32);
        assert_eq!(key.len(), 128);
        assert!(
            salt.bytes()
                .chain(key.bytes())
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{h}"
        );
        assert!(verify_sync(&h, "pässword123"));
        // NFKC: the decomposed spelling verifies too, as in Better Auth.
        assert!(verify_sync(&h, "pa\u{308}ssword123"));
        assert!(!verify_sync(&h, "password123"));
        assert_ne!(
            hash_scrypt("pässword123").unwrap(),
            h,
            "fresh salt each time"
        );
    }

    #[tokio::test]
    async fn configured_format_decides_new_hashes_and_rehash() {
        let argon = PasswordHasher::new(1, 8, HashFormat::Argon2id);
        let scrypt = PasswordHasher::new(1, 8, HashFormat::Scrypt);
        let a = argon.hash("format-password").await.unwrap();
        let s = scrypt.hash("format-password").await.unwrap();
        assert_eq!(HashFormat::of(&a), Some(HashFormat::Argon2id));
        assert_eq!(HashFormat::of(&s), Some(HashFormat::Scrypt));
        // Either setting verifies both formats.
        for h in [&argon, &scrypt] {
            assert!(h.verify(&a, "format-password").await.unwrap());
            assert!(h.verify(&s, "format-password").await.unwrap());
        }
        assert!(argon.needs_rehash(BA_HASH) && argon.needs_rehash(&s));
        assert!(!argon.needs_rehash(&a));
        assert!(scrypt.needs_rehash(&a));
        assert!(!scrypt.needs_rehash(&s) && !scrypt.needs_rehash(BA_HASH));
        assert!(!argon.needs_rehash("garbage") && !scrypt.needs_rehash(""));
    }

    #[test]
    fn hash_format_parses() {
        assert_eq!("argon2id".parse(), Ok(HashFormat::Argon2id));
        assert_eq!(" SCRYPT ".parse(), Ok(HashFormat::Scrypt));
        assert!("bcrypt".parse::<HashFormat>().is_err());
    }
}
