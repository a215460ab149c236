//! Better Auth's signed cookie values and HMAC tokens.
//!
//! A signed value is `value + "." + base64_std_padded(HMAC-SHA256(secret, value))`
//! (`better-call: dist/crypto.mjs` `signCookieValue`; the cookie layer then
//! `encodeURIComponent`s it, see [`crate::cookies::SetCookie`]). The key is the UTF-8 bytes of
//! the server secret.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Length of the base64 signature after the last `.` (32 bytes, padded).
pub const SIGNATURE_LEN: usize = 44;

/// Decoder matching `atob` closely enough for 44-char signatures: canonical padding required
/// (we already demand exactly one trailing `=` of 44 chars), non-zero trailing bits accepted as
/// `atob` ignores them.
const ATOB: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn mac(secret: &[u8], msg: &str) -> HmacSha256 {
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC hashes over-long keys and pads short ones; `new_from_slice` cannot fail for it.
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(msg.as_bytes());
    mac
}

/// `base64_std_padded(HMAC-SHA256(secret, value))` — 44 characters ending in `=`.
/// `better-call: dist/crypto.mjs` `makeSignature`.
pub fn signature(value: &str, secret: &[u8]) -> String {
    STANDARD.encode(mac(secret, value).finalize().into_bytes())
}

/// `value + "." + signature` — the signed cookie value *before* cookie encoding.
/// `better-call: dist/crypto.mjs` `signCookieValue` (minus its `encodeURIComponent`).
pub fn sign_value(value: &str, secret: &[u8]) -> String {
    format!("{value}.{}", signature(value, secret))
}

/// Verifies a (percent-decoded) signed cookie value and returns the inner value.
///
/// Mirrors `getSignedCookie` in `better-call: dist/context.mjs`: empty → absent; split at the
/// **last** `.`, which must not be at index 0; the signature must be exactly 44 chars and end
/// with `=`; HMAC verified in constant time. Upstream distinguishes "absent" (`null`) from "bad
/// signature" (`false`), but every Better Auth caller treats both as no cookie, so both are `None`.
///
/// Deliberately stricter than upstream: the signature must be the canonical base64 of its bytes.
/// `atob` ignores the two spare bits of the last character, so upstream accepts four spellings of
/// every signature (found by tests/hostile_input.rs); only the one `btoa` produces is accepted
/// here, so a signed cookie has exactly one valid form. No cookie Better Auth signs is affected.
pub fn verify_signed_value(signed: &str, secret: &[u8]) -> Option<String> {
    if signed.is_empty() {
        return None;
    }
    let dot = signed.rfind('.')?;
    if dot < 1 {
        return None;
    }
    let (value, signature) = (&signed[..dot], &signed[dot + 1..]);
    if signature.len() != SIGNATURE_LEN || !signature.ends_with('=') {
        return None;
    }
    let raw = ATOB.decode(signature).ok()?;
    if STANDARD.encode(&raw) != signature {
        return None;
    }
    mac(secret, value)
        .verify_slice(&raw)
        .ok()
        .map(|()| value.to_owned())
}

/// `base64url_no_pad(HMAC-SHA256(secret, msg))` — `createHMAC("SHA-256", "base64urlnopad").sign`
/// in `@better-auth/utils: dist/hmac.mjs`. Used for trust-device tokens (`<userId>!<identifier>`,
/// `better-auth: dist/plugins/two-factor/index.mjs`) and the compact cookie-cache signature.
pub fn hmac_base64url(secret: &[u8], msg: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret, msg).finalize().into_bytes())
}

/// Constant-time check that `token == hmac_base64url(secret, msg)`.
///
/// Upstream compares the strings with `!==` (`better-auth: dist/plugins/two-factor/index.mjs`);
/// we compare in constant time instead — same accept/reject set, no timing leak.
pub fn verify_hmac_base64url(secret: &[u8], msg: &str, token: &str) -> bool {
    let expected = hmac_base64url(secret, msg);
    expected.as_bytes().ct_eq(token.as_bytes()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Protocol notes §13.
    const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn vector_1_session_token() {
        let signed = sign_value("LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS", SECRET);
        assert_eq!(
            signed,
            "LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS.ky97YzG3zyWq+7Wm9hZXEhyQd+UI8aZIDX5dOJrqaB4="
        );
        assert_eq!(
            verify_signed_value(&signed, SECRET).as_deref(),
            Some("LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS")
        );
    }

    #[test]
    fn vector_2_dont_remember() {
        assert_eq!(
            sign_value("true", SECRET),
            "true.0R39059RJMlqy6vRfLQM+9OejOdzDaSFqtRZ3UvvW0o="
        );
    }

    #[test]
    fn vector_3_two_factor() {
        let signed = sign_value("2fa-_wofLskoxFwOB7js_GIn", SECRET);
        assert_eq!(
            signed,
            "2fa-_wofLskoxFwOB7js_GIn.vqDNimkqNswQ8hXyPCEjkIfxWMjRHoWVrksLrQY/84s="
        );
        assert_eq!(
            verify_signed_value(&signed, SECRET).as_deref(),
            Some("2fa-_wofLskoxFwOB7js_GIn")
        );
    }

    #[test]
    fn vector_5_trust_device() {
        let user_id = "uzJ1Vuq2ADDOhmuxFams9a6vYNtTsVxQ";
        let identifier = "trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN";
        let token = hmac_base64url(SECRET, &format!("{user_id}!{identifier}"));
        assert_eq!(token, "0AHsVCnzegpPoeJzvOBMmfh7nIrGNhI0kCF4yFH3eI8");
        assert!(verify_hmac_base64url(
            SECRET,
            &format!("{user_id}!{identifier}"),
            &token
        ));
        assert!(!verify_hmac_base64url(SECRET, "other!x", &token));
        let signed = sign_value(&format!("{token}!{identifier}"), SECRET);
        assert_eq!(
            signed,
            "0AHsVCnzegpPoeJzvOBMmfh7nIrGNhI0kCF4yFH3eI8!trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN.uVTSPhLGX4wjt68iFaijY56xkGt+g4FCDf5QfK1Sw68="
        );
        assert_eq!(
            verify_signed_value(&signed, SECRET),
            Some(format!("{token}!{identifier}"))
        );
    }

    #[test]
    fn rejects_malformed() {
        let good = sign_value("abc", SECRET);
        assert_eq!(verify_signed_value(&good, b"other-secret"), None);
        assert_eq!(verify_signed_value("", SECRET), None);
        assert_eq!(verify_signed_value("abc", SECRET), None);
        // Dot at index 0: upstream `signatureStartPos < 1`.
        let empty_value = sign_value("", SECRET);
        assert!(empty_value.starts_with('.'));
        assert_eq!(verify_signed_value(&empty_value, SECRET), None);
        // Wrong length / missing '='.
        assert_eq!(verify_signed_value(&good[..good.len() - 1], SECRET), None);
        assert_eq!(verify_signed_value(&format!("{good}x"), SECRET), None);
        // Tampered value.
        assert_eq!(
            verify_signed_value(&good.replacen("abc", "abd", 1), SECRET),
            None
        );
        // Not base64.
        let bad = format!("abc.{}=", "!".repeat(43));
        assert_eq!(verify_signed_value(&bad, SECRET), None);
    }

    #[test]
    fn value_may_contain_dots() {
        let signed = sign_value("a.b.c", SECRET);
        assert_eq!(
            verify_signed_value(&signed, SECRET).as_deref(),
            Some("a.b.c")
        );
    }

    #[test]
    fn non_canonical_spare_bits_are_refused() {
        // 32 bytes → 43 chars carry 2 spare bits; atob ignores them (upstream accepts this
        // spelling), Portcullis accepts only the canonical one.
        let signed = sign_value("abc", SECRET);
        let (value, sig) = signed.rsplit_once('.').unwrap();
        let last = sig.as_bytes()[42];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let idx = alphabet.iter().position(|&c| c == last).unwrap();
        let flipped = alphabet[idx ^ 1] as char;
        let tweaked = format!("{value}.{}{}=", &sig[..42], flipped);
        assert_eq!(verify_signed_value(&tweaked, SECRET), None);
        assert_eq!(verify_signed_value(&signed, SECRET).as_deref(), Some("abc"));
    }
}
