//! Random identifiers and tokens from the operating system's CSPRNG.

use rand::{Rng, distributions::Alphanumeric, rngs::OsRng};

/// Better Auth's default id/token: 32 characters `[A-Za-z0-9]`.
/// @better-auth/core: dist/utils/id.mjs (generateId).
pub fn generate_id() -> String {
    random_alphanumeric(32)
}

pub fn random_alphanumeric(len: usize) -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Random string over an arbitrary alphabet (uniform: `gen_range` rejects biased samples).
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[OsRng.gen_range(0..alphabet.len())]))
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
