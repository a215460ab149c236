//! TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1) as Better Auth's two-factor plugin does it
//! (@better-auth/utils: dist/otp.mjs; better-auth: dist/plugins/two-factor/totp/index.mjs).
//!
//! The HOTP computation is `totp-rs` (`TOTP::new_unchecked(..).generate(..)`). We do not use its
//! `TOTP::new` (rejects keys under 16 bytes, which imported `base32:` secrets may be) nor its
//! `check` (returns only a bool, so the caller could not refuse a replayed step, and it
//! underflows when `time / step < skew`), nor its otpauth URL (different parameters and encoding
//! from Better Auth's); we loop over the window ourselves. The URI, base32 and the stored-secret
//! key are pure wire formats in `portcullis_protocol::otpauth`, re-exported here.

pub use portcullis_protocol::otpauth::{
    BASE32_PREFIX, base32_decode, base32_encode, key_bytes, totp_uri, totp_uri_for_key,
};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use super::tokens::random_from;

/// better-auth: dist/plugins/two-factor/index.mjs (enable: `generateRandomString(32)`).
pub const SECRET_LEN: usize = 32;
/// better-auth: dist/crypto/random.mjs (`createRandomStringGenerator("a-z", "0-9", "A-Z", "-_")`).
const SECRET_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
/// @better-auth/utils: dist/otp.mjs (generateHOTP throws outside 1..=8).
const MIN_DIGITS: u32 = 1;
const MAX_DIGITS: u32 = 8;
/// @better-auth/utils: dist/otp.mjs (verifyTOTP `window = 1`).
const WINDOW: u64 = 1;

/// A fresh TOTP secret: 32 characters from `[a-z0-9A-Z-_]` (OS CSPRNG, uniform). It is stored
/// (symmetric-encrypted) as is; the HMAC key is its UTF-8 bytes.
pub fn generate_secret() -> String {
    random_from(SECRET_ALPHABET, SECRET_LEN)
}

/// The HOTP code for counter `step` (a TOTP time step is `unix_time / period`), zero-padded to
/// `digits`. @better-auth/utils: dist/otp.mjs (generateHOTP). `digits` is clamped to 1..=8
/// (Better Auth throws outside that range; its options only allow 6 or 8).
pub fn code_at(key: &[u8], step: u64, digits: u32) -> String {
    let digits = digits.clamp(MIN_DIGITS, MAX_DIGITS);
    // Step length 1 makes totp-rs's counter `time / 1` equal to `step`.
    TOTP::new_unchecked(Algorithm::SHA1, digits as usize, 0, 1, key.to_vec()).generate(step)
}

/// Checks `code` against time steps t−1, t, t+1 (t = `unix_time / period`) and returns the
/// matched step, so the caller can refuse a step it has already accepted (Better Auth itself has
/// no replay protection; this is an addition). Exact string comparison, no trimming, constant
/// time per candidate; all three candidates are always computed. If more than one step matches,
/// the latest is returned. @better-auth/utils: dist/otp.mjs (verifyTOTP, constantTimeEqualOTP).
/// A `period` of 0 (invalid; Better Auth maps a falsy period to 30) never matches.
pub fn verify(key: &[u8], code: &str, unix_time: u64, digits: u32, period: u64) -> Option<u64> {
    if period == 0 {
        return None;
    }
    let now = unix_time / period;
    let mut matched = None;
    for step in now.saturating_sub(WINDOW)..=now.saturating_add(WINDOW) {
        if bool::from(code_at(key, step, digits).as_bytes().ct_eq(code.as_bytes())) {
            matched = Some(step);
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_use_better_auth_alphabet() {
        let s = generate_secret();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| SECRET_ALPHABET.contains(&b)));
        assert_ne!(s, generate_secret());
        assert_eq!(key_bytes(&s).as_deref(), Some(s.as_bytes()));
    }

    /// (key as UTF-8 string, counter, digits, code) — §13.8 RFC vectors and codes printed by
    /// `createOTP(secret, {digits}).hotp(counter)` (@better-auth/utils 0.5.1).
    const HOTP_VECTORS: &[(&str, u64, u32, &str)] = &[
        // §13.8: RFC 6238 SHA-1 key, 6 digits.
        ("12345678901234567890", 1, 6, "287082"),
        ("12345678901234567890", 37037036, 6, "081804"),
        ("12345678901234567890", 37037037, 6, "050471"),
        ("12345678901234567890", 41152263, 6, "005924"),
        ("12345678901234567890", 66666666, 6, "279037"),
        ("12345678901234567890", 666666666, 6, "353130"),
        // node, 8 digits (RFC 6238 appendix B values).
        ("12345678901234567890", 1, 8, "94287082"),
        ("12345678901234567890", 37037036, 8, "07081804"),
        ("12345678901234567890", 666666666, 8, "65353130"),
        // node, a Better Auth-generated secret.
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 0, 6, "264446"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 1, 6, "846752"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 59, 6, "053977"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 58823529, 6, "209999"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 59310345, 6, "172402"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 0, 8, "02264446"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 1, 8, "75846752"),
        ("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD", 59310345, 8, "14172402"),
        ("a-_Z9", 0, 6, "497055"),
        ("a-_Z9", 7, 6, "893648"),
    ];

    #[test]
    fn hotp_matches_better_auth() {
        for &(secret, counter, digits, code) in HOTP_VECTORS {
            let key = key_bytes(secret).unwrap();
            assert_eq!(code_at(&key, counter, digits), code, "{secret} {counter}");
        }
    }

    /// (unix time, digits, period, codes at steps t-2..=t+2) — node with `Date.now` pinned to
    /// `time * 1000 + 999`; Better Auth's `verify` accepted exactly the middle three.
    const WINDOW_VECTORS: &[(u64, u32, u64, [&str; 5])] = &[
        (
            59,
            6,
            30,
            ["530871", "264446", "846752", "616636", "154920"],
        ),
        (
            1111111109,
            6,
            30,
            ["423664", "847230", "516436", "026708", "600230"],
        ),
        (
            1234567890,
            8,
            30,
            ["37169841", "72546613", "56616905", "72004984", "32708976"],
        ),
        (
            2000000000,
            6,
            60,
            ["330286", "490958", "187818", "348846", "533931"],
        ),
    ];

    #[test]
    fn verify_accepts_window_of_one_and_reports_step() {
        let key = key_bytes("ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD").unwrap();
        for &(time, digits, period, codes) in WINDOW_VECTORS {
            let now = time / period;
            assert_eq!(verify(&key, codes[0], time, digits, period), None);
            assert_eq!(verify(&key, codes[1], time, digits, period), Some(now - 1));
            assert_eq!(verify(&key, codes[2], time, digits, period), Some(now));
            assert_eq!(verify(&key, codes[3], time, digits, period), Some(now + 1));
            assert_eq!(verify(&key, codes[4], time, digits, period), None);
        }
    }

    #[test]
    fn verify_is_exact_string_comparison() {
        let key = b"12345678901234567890";
        // counter 1 at 30 s steps → any time in [30, 60).
        assert_eq!(verify(key, "287082", 45, 6, 30), Some(1));
        for near_miss in [
            " 287082", "287082 ", "28708", "2870820", "94287082", "", "287O82",
        ] {
            assert_eq!(verify(key, near_miss, 45, 6, 30), None, "{near_miss:?}");
        }
        // 8-digit config does not accept the 6-digit suffix.
        assert_eq!(verify(key, "287082", 45, 8, 30), None);
        assert_eq!(verify(key, "94287082", 45, 8, 30), Some(1));
        // Step 0 has no predecessor; period 0 never matches.
        assert_eq!(verify(key, &code_at(key, 0, 6), 0, 6, 30), Some(0));
        assert_eq!(verify(key, &code_at(key, 0, 6), 0, 6, 0), None);
        // u64::MAX has no successor; must not overflow.
        let last = u64::MAX / 30;
        assert_eq!(
            verify(key, &code_at(key, last, 6), u64::MAX, 6, 30),
            Some(last)
        );
    }

    #[test]
    fn digits_are_clamped_to_better_auth_range() {
        let key = b"12345678901234567890";
        assert_eq!(code_at(key, 1, 0), code_at(key, 1, 1));
        assert_eq!(code_at(key, 1, 12), "94287082");
        assert_eq!(code_at(key, 1, 1).len(), 1);
    }

    /// (`base32:` payload, decoded key hex, HOTP(counter 12345, 6 digits)) — node:
    /// `base32.decode(payload.toUpperCase())` as decryptTOTPSecret does, then `createOTP(key).hotp`.
    const BASE32_VECTORS: &[(&str, &str, &str)] = &[
        ("JBSWY3DPEHPK3PXP", "48656c6c6f21deadbeef", "145128"),
        ("jbswy3dpehpk3pxp", "48656c6c6f21deadbeef", "145128"),
        (
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "3132333435363738393031323334353637383930",
            "611215",
        ),
        ("GEZDGNBVGY3TQOJQ====", "31323334353637383930", "436101"),
        ("MZXW6YQ=", "666f6f62", "598326"),
        ("MZXW6", "666f6f", "289969"),
        ("AB", "00", "177522"),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
            "00443214c74254b635cf84653a56d7c675be77df",
            "411916",
        ),
    ];

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn base32_prefixed_secrets_decode_like_better_auth() {
        for &(payload, key_hex, code) in BASE32_VECTORS {
            let key = key_bytes(&format!("base32:{payload}")).unwrap();
            assert_eq!(hex(&key), key_hex, "{payload}");
            assert_eq!(code_at(&key, 12345, 6), code, "{payload}");
        }
    }
}
