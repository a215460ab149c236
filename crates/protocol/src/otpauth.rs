//! `otpauth://` URIs and base32 TOTP secrets, byte-identical to Better Auth's two-factor plugin
//! (`@better-auth/utils: dist/otp.mjs`, `dist/base32.mjs`;
//! `better-auth: dist/plugins/two-factor/totp/index.mjs`). Pure string work; the HOTP computation
//! itself is the server's (`auth::totp`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::cookies::encode_uri_component;

/// better-auth: dist/plugins/two-factor/totp/index.mjs (BASE32_PREFIX).
pub const BASE32_PREFIX: &str = "base32:";

/// The HMAC key for a (decrypted) stored TOTP secret: a `base32:<secret>` value (imported from
/// another provider) is upper-cased and base32-decoded, anything else is used as its UTF-8 bytes.
/// better-auth: dist/plugins/two-factor/totp/index.mjs (decryptTOTPSecret) and
/// @better-auth/utils: dist/otp.mjs ("Strings are used as UTF-8 bytes").
///
/// `None` where Better Auth throws (a 500 there): an invalid base32 character, or an empty key
/// (WebCrypto rejects zero-length HMAC keys).
pub fn key_bytes(secret: &str) -> Option<Vec<u8>> {
    let key = match secret.strip_prefix(BASE32_PREFIX) {
        // JS `toUpperCase` and Rust `to_uppercase` both apply Unicode's full case mapping.
        Some(encoded) => base32_decode(&encoded.to_uppercase())?,
        None => secret.as_bytes().to_vec(),
    };
    (!key.is_empty()).then_some(key)
}

/// The `otpauth://` URI for a plain (generated) secret string, byte-identical to
/// `createOTP(secret, {digits, period}).url(issuer, account)` (@better-auth/utils: dist/otp.mjs,
/// generateQRCode). The secret's UTF-8 bytes are what gets base32-encoded, exactly as enable does
/// with the fresh secret. For a stored secret that may carry `base32:` (get-totp-uri decrypts it
/// with decryptTOTPSecret first), use [`key_bytes`] and [`totp_uri_for_key`].
pub fn totp_uri(secret: &str, issuer: &str, account: &str, digits: u32, period: u64) -> String {
    totp_uri_for_key(secret.as_bytes(), issuer, account, digits, period)
}

/// The `otpauth://` URI for raw key bytes:
/// `otpauth://totp/<encodeURIComponent(issuer)>:<encodeURIComponent(account)>?secret=<BASE32>&issuer=<issuer>&digits=<d>&period=<p>`
/// with base32 unpadded and the query serialized like `URLSearchParams` (form-urlencoded).
/// @better-auth/utils: dist/otp.mjs (generateQRCode).
pub fn totp_uri_for_key(
    key: &[u8],
    issuer: &str,
    account: &str,
    digits: u32,
    period: u64,
) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&digits={digits}&period={period}",
        encode_uri_component(issuer),
        encode_uri_component(account),
        base32_encode(key),
        form_urlencode(issuer),
    )
}

/// RFC 4648 alphabet. @better-auth/utils: dist/base32.mjs (getAlphabet).
const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Unpadded RFC 4648 base32. @better-auth/utils: dist/base32.mjs (base32Encode, `padding: false`).
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in data {
        buffer = (buffer << 8 | u32::from(byte)) & 0xFFFF;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32_ALPHABET[(buffer >> bits & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_ALPHABET[(buffer << (5 - bits) & 31) as usize],
        ));
    }
    out
}

/// Base32 decoding with Better Auth's leniency: stops at the first `=`, drops leftover bits
/// without checking them, and rejects (`None`) any character outside the upper-case alphabet.
/// @better-auth/utils: dist/base32.mjs (base32Decode).
pub fn base32_decode(data: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in data.chars() {
        if c == '=' {
            break;
        }
        let value = BASE32_ALPHABET.iter().position(|&a| char::from(a) == c)?;
        buffer = (buffer << 5 | value as u32) & 0xFFFF;
        bits += 5;
        while bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits & 0xFF) as u8);
        }
    }
    Some(out)
}

/// The WHATWG `application/x-www-form-urlencoded` byte serializer used by `URLSearchParams`:
/// `A-Z a-z 0-9 * - . _` pass, space becomes `+`, everything else is percent-encoded.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// `URLSearchParams` value encoding (also used for `/error`'s redirect query).
pub fn form_urlencode(s: &str) -> String {
    // Every literal `%` in the input is itself encoded (`%25`), so `%20` only comes from spaces.
    utf8_percent_encode(s, FORM).to_string().replace("%20", "+")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn key_bytes_like_decrypt_totp_secret() {
        assert_eq!(
            key_bytes("base32:jbswy3dpehpk3pxp").as_deref(),
            Some(&b"Hello!\xde\xad\xbe\xef"[..])
        );
        assert_eq!(key_bytes("plain").as_deref(), Some(&b"plain"[..]));
        // Better Auth throws for these ("Invalid Base32 character", zero-length HMAC key).
        for bad in ["JBSW Y3DP", "JBSW1", "JBSWY3DP!", "A", "", "="] {
            assert_eq!(key_bytes(&format!("base32:{bad}")), None, "{bad:?}");
        }
        assert_eq!(key_bytes(""), None);
        // Only the exact lower-case prefix switches to base32.
        assert_eq!(key_bytes("BASE32:AB").as_deref(), Some(&b"BASE32:AB"[..]));
        // Full Unicode upper-casing, as JS `toUpperCase`: "ß" → "SS".
        assert_eq!(key_bytes("base32:\u{df}\u{df}"), base32_decode("SSSS"));
    }

    #[test]
    fn base32_encoding() {
        // §13.8
        assert_eq!(
            base32_encode(b"12345678901234567890"),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        assert_eq!(
            base32_encode(b"ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD"),
            "LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA"
        );
        // RFC 4648 §10 without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(base32_decode(encoded).as_deref(), Some(plain.as_bytes()));
        }
    }

    /// (issuer, account, digits, period, URI) — `createOTP(secret, {digits, period}).url(issuer,
    /// account)` in node for the secret `ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD`.
    const URI_VECTORS: &[(&str, &str, u32, u64, &str)] = &[
        (
            "My App",
            "alice@example.com",
            6,
            30,
            "otpauth://totp/My%20App:alice%40example.com?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=My+App&digits=6&period=30",
        ),
        (
            "My App",
            "alice@example.com",
            8,
            60,
            "otpauth://totp/My%20App:alice%40example.com?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=My+App&digits=8&period=60",
        ),
        // §9.3 example.
        (
            "Better Auth",
            "carol@example.com",
            6,
            30,
            "otpauth://totp/Better%20Auth:carol%40example.com?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=Better+Auth&digits=6&period=30",
        ),
        (
            "A&B=C+D",
            "x+y@ex.com",
            6,
            30,
            "otpauth://totp/A%26B%3DC%2BD:x%2By%40ex.com?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=A%26B%3DC%2BD&digits=6&period=30",
        ),
        (
            "\u{dc}n\u{ef}c\u{f8}d\u{e9} \u{65e5}\u{672c}",
            "\u{3a9}@\u{4f8b}\u{3048}.jp",
            8,
            60,
            "otpauth://totp/%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20%E6%97%A5%E6%9C%AC:%CE%A9%40%E4%BE%8B%E3%81%88.jp?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=%C3%9Cn%C3%AFc%C3%B8d%C3%A9+%E6%97%A5%E6%9C%AC&digits=8&period=60",
        ),
        (
            "~!*'()-_.",
            "a b/c?d#e%f",
            6,
            30,
            "otpauth://totp/~!*'()-_.:a%20b%2Fc%3Fd%23e%25f?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=%7E%21*%27%28%29-_.&digits=6&period=30",
        ),
        (
            "emoji \u{1f389}",
            "tab\u{9}here",
            6,
            30,
            "otpauth://totp/emoji%20%F0%9F%8E%89:tab%09here?secret=LJ5G64DXOBHVE4RNKY3VKV3KLB4DAR3LI5BUI327MRVG22TLMJCA&issuer=emoji+%F0%9F%8E%89&digits=6&period=30",
        ),
    ];

    #[test]
    fn uri_matches_better_auth() {
        for &(issuer, account, digits, period, uri) in URI_VECTORS {
            assert_eq!(
                totp_uri(
                    "ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD",
                    issuer,
                    account,
                    digits,
                    period
                ),
                uri
            );
        }
        // §13.8
        assert_eq!(
            totp_uri("12345678901234567890", "My App", "alice@example.com", 6, 30),
            "otpauth://totp/My%20App:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My+App&digits=6&period=30"
        );
        // node: `createOTP(Uint8Array 48656c6c6fdeadbeef).url("Iss", "acct")` (a decoded
        // `base32:` secret is passed to `url` as bytes).
        assert_eq!(
            totp_uri_for_key(b"Hello\xde\xad\xbe\xef", "Iss", "acct", 6, 30),
            "otpauth://totp/Iss:acct?secret=JBSWY3DP32W353Y&issuer=Iss&digits=6&period=30"
        );
    }
}
