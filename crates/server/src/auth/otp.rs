//! The two-factor one-time password sent by email/SMS (`/two-factor/send-otp`), its hashed
//! storage form and the `"<stored>:<attempts>"` verification-row value.
//! better-auth: dist/plugins/two-factor/otp/index.mjs.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::tokens::random_from;

/// better-auth: dist/plugins/two-factor/otp/index.mjs (`digits: 6` default).
pub const DEFAULT_DIGITS: u32 = 6;

/// A numeric code of `digits` uniform decimal digits from the OS CSPRNG (leading zeros kept).
/// better-auth: dist/plugins/two-factor/otp/index.mjs (`generateRandomString(opts.digits, "0-9")`).
pub fn generate(digits: u32) -> String {
    random_from(b"0123456789", digits as usize)
}

/// `storeOTP: "hashed"`: base64url without padding of SHA-256(UTF-8 otp).
/// better-auth: dist/plugins/two-factor/utils.mjs (defaultKeyHasher).
pub fn hash_for_storage(otp: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(otp.as_bytes()))
}

/// Whether a hashed stored value matches the submitted `otp` (constant-time comparison of the
/// hashes). better-auth: dist/plugins/two-factor/otp/index.mjs (decryptOrHashForComparison,
/// then `constantTimeEqual`).
pub fn stored_matches(stored: &str, otp: &str) -> bool {
    hash_for_storage(otp)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

/// Splits a verification-row value `"<stored otp>:<attempts>"`.
///
/// Better Auth does `const [otp, counter] = value.split(":")` and
/// `attempts = parseInt(counter, 10) || 0` (better-auth: dist/plugins/two-factor/otp/index.mjs,
/// verifyOTP), i.e. it splits at the **first** `:` and ignores anything after a second one; so do
/// we. None of Better Auth's storage modes (plain digits, base64url hash, hex or `$ba$<v>$hex`
/// ciphertext) contains `:`. The attempt count is parsed like JS `parseInt(_, 10)` (leading
/// whitespace, optional sign, leading digits); unparsable or missing → 0, negative → 0, overflow
/// saturates. Divergence: an empty stored part → `None` (Better Auth would compare against `""`).
pub fn split_value(v: &str) -> Option<(&str, u32)> {
    let (stored, rest) = match v.split_once(':') {
        Some((stored, rest)) => (
            stored,
            rest.split_once(':').map_or(rest, |(count, _)| count),
        ),
        None => (v, ""),
    };
    if stored.is_empty() {
        return None;
    }
    Some((stored, js_parse_attempts(rest)))
}

/// The verification-row value Better Auth writes: `` `${storedOtp}:${attempts}` ``.
/// better-auth: dist/plugins/two-factor/otp/index.mjs (send2FaOTP / verifyOTP). `stored` must not
/// contain `:` (no built-in storage format does).
pub fn join_value(stored: &str, attempts: u32) -> String {
    format!("{stored}:{attempts}")
}

/// `parseInt(s, 10) || 0`, clamped to `u32`.
fn js_parse_attempts(s: &str) -> u32 {
    let s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut value: u32 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    if negative { 0 } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_is_numeric_with_requested_length() {
        for digits in [4, 6, 8] {
            let otp = generate(digits);
            assert_eq!(otp.len(), digits as usize);
            assert!(otp.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    /// `defaultKeyHasher(otp)` from the package (node); the first is §13.10.
    const HASH_VECTORS: &[(&str, &str)] = &[
        ("123456", "jZae727K08KaOmKSgOaGzww_XVqGr_PKEgIMkjrcbJI"),
        ("000000", "kbTRQoI_fSDF8I32kSLeQ_NfBXqYjZYZ9tMThIXJogM"),
        ("99999999", "PwjY-ttLZ_sFZiNWXtu8LHiAkdeP0ky8Rz_OMEPONHM"),
        ("0", "X-zrZv_IbzjZUnhsbWlsecLbwjndTpG0ZynXOif7V-k"),
    ];

    #[test]
    fn hashed_storage_matches_better_auth() {
        for &(otp, hash) in HASH_VECTORS {
            assert_eq!(hash_for_storage(otp), hash);
            assert!(stored_matches(hash, otp));
        }
        assert!(!stored_matches(HASH_VECTORS[0].1, "123457"));
        assert!(!stored_matches(HASH_VECTORS[0].1, " 123456"));
        assert!(!stored_matches("123456", "123456"));
        assert!(!stored_matches("", ""));
    }

    #[test]
    fn value_format_round_trips() {
        assert_eq!(join_value("123456", 0), "123456:0");
        assert_eq!(split_value("123456:0"), Some(("123456", 0)));
        let hashed = join_value(HASH_VECTORS[0].1, 4);
        assert_eq!(split_value(&hashed), Some((HASH_VECTORS[0].1, 4)));
        let encrypted = "$ba$2$0a0b";
        assert_eq!(split_value(&join_value(encrypted, 3)), Some((encrypted, 3)));
    }

    #[test]
    fn split_mirrors_js_split_and_parse_int() {
        // `const [otp, counter] = value.split(":")`: first segment, then the second.
        assert_eq!(split_value("111:2:9"), Some(("111", 2)));
        // `parseInt(counter, 10) || 0`
        assert_eq!(split_value("111"), Some(("111", 0)));
        assert_eq!(split_value("111:"), Some(("111", 0)));
        assert_eq!(split_value("111:abc"), Some(("111", 0)));
        assert_eq!(split_value("111:3abc"), Some(("111", 3)));
        assert_eq!(split_value("111: \t7"), Some(("111", 7)));
        assert_eq!(split_value("111:+5"), Some(("111", 5)));
        assert_eq!(split_value("111:-5"), Some(("111", 0)));
        assert_eq!(split_value("111:99999999999"), Some(("111", u32::MAX)));
        assert_eq!(split_value("111:2.9"), Some(("111", 2)));
        assert_eq!(split_value(""), None);
        assert_eq!(split_value(":3"), None);
    }
}
