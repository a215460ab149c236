//! Random identifiers and tokens from a CSPRNG: `rand`'s `ThreadRng` (ChaCha12, seeded from the
//! operating system and reseeded every 64 KiB). Sampling straight from `OsRng` cost one
//! `getrandom` syscall per character (two ids per session: 64+ syscalls, ~5% of verify-totp's CPU).

use rand::{Rng, distributions::Alphanumeric, thread_rng};

/// Better Auth's default id/token: 32 characters `[A-Za-z0-9]`.
/// @better-auth/core: dist/utils/id.mjs (generateId).
pub fn generate_id() -> String {
    random_alphanumeric(32)
}

pub fn random_alphanumeric(len: usize) -> String {
    thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Random string over an arbitrary alphabet (uniform: `gen_range` rejects biased samples).
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_alphanumeric_and_distinct() {
        let a = generate_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(a, generate_id());
    }

    #[test]
    fn random_from_respects_alphabet() {
        let s = random_from(b"ab-", 64);
        assert_eq!(s.len(), 64);
        assert!(s.bytes().all(|b| b"ab-".contains(&b)));
    }
}
