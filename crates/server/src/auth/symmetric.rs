//! Better Auth's symmetric encryption, used for the stored TOTP secret, the backup codes and
//! (optionally) the 2FA OTP. Byte-compatible with `symmetricEncrypt` / `symmetricDecrypt`
//! (better-auth: dist/crypto/index.mjs): key = SHA-256(UTF-8 secret), XChaCha20-Poly1305 with a
//! random 24-byte nonce and no AAD, stored as lowercase hex of `nonce || ciphertext || tag`.
//! With a rotated-secrets config Better Auth writes the envelope `$ba$<version>$<hex>` instead.
//!
//! [`encrypt`]/[`decrypt`] take one secret (Better Auth's string-key case); [`encrypt_with`] and
//! [`decrypt_with`] take the whole [`SecretConfig`], as `symmetricEncrypt`/`symmetricDecrypt` do,
//! and are what the server uses.

use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

use super::secrets::SecretConfig;

/// XChaCha20 nonce length (`xchacha20poly1305.nonceLength` in @noble/ciphers).
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// better-auth: dist/crypto/index.mjs (ENVELOPE_PREFIX).
const ENVELOPE_PREFIX: &str = "$ba$";

/// Encrypts `plaintext` under `secret` with a fresh random nonce; returns bare lowercase hex
/// (Better Auth's format for a plain-string secret config).
pub fn encrypt(secret: &str, plaintext: &str) -> String {
    encrypt_with_nonce(secret, plaintext, &fresh_nonce())
}

fn fresh_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    nonce
}

/// [`encrypt`] with a caller-chosen nonce; only for test vectors (a nonce must never repeat).
/// better-auth: dist/crypto/index.mjs (rawEncrypt: `managedNonce(xchacha20poly1305)` prepends the
/// nonce, @noble/ciphers appends the tag).
pub(crate) fn encrypt_with_nonce(secret: &str, plaintext: &str, nonce: &[u8; NONCE_LEN]) -> String {
    let cipher = cipher_for(secret);
    match cipher.encrypt(XNonce::from_slice(nonce), plaintext.as_bytes()) {
        Ok(sealed) => {
            let mut out = String::with_capacity(2 * (NONCE_LEN + sealed.len()));
            push_hex(&mut out, nonce);
            push_hex(&mut out, &sealed);
            out
        }
        // Only fails beyond the cipher's 256 GiB message limit; an empty string never decrypts.
        Err(_) => String::new(),
    }
}

/// Decrypts a value written by [`encrypt`] or by Better Auth. Accepts bare hex (either case, as
/// @noble/ciphers `hexToBytes` does) and the versioned envelope `$ba$<version>$<hex>`, which is
/// decrypted with the given `secret` (callers that keep several versions can pick the secret with
/// [`parse_envelope`] first). Anything malformed, forged or encrypted under another secret → `None`.
///
/// Divergence: Better Auth decodes the plaintext with a non-fatal `TextDecoder` (invalid UTF-8
/// becomes U+FFFD); we return `None`. Authenticated plaintexts are always valid UTF-8 in practice
/// because both implementations only ever encrypt strings.
pub fn decrypt(secret: &str, stored: &str) -> Option<String> {
    let hex = match parse_envelope(stored) {
        Some((_, hex)) => hex,
        None if stored.starts_with(ENVELOPE_PREFIX) => return None,
        None => stored,
    };
    let bytes = decode_hex(hex)?;
    if bytes.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_LEN);
    let plain = cipher_for(secret)
        .decrypt(XNonce::from_slice(nonce), sealed)
        .ok()?;
    String::from_utf8(plain).ok()
}

/// `symmetricEncrypt({key, data})` (better-auth: dist/crypto/index.mjs): bare hex under a single
/// secret; under a secrets list, the current secret's ciphertext in the envelope
/// `$ba$<currentVersion>$<hex>` (formatEnvelope).
pub fn encrypt_with(key: &SecretConfig, plaintext: &str) -> String {
    encrypt_config_with_nonce(key, plaintext, &fresh_nonce())
}

/// [`encrypt_with`] with a caller-chosen nonce; only for test vectors.
pub(crate) fn encrypt_config_with_nonce(
    key: &SecretConfig,
    plaintext: &str,
    nonce: &[u8; NONCE_LEN],
) -> String {
    let hex = encrypt_with_nonce(key.current(), plaintext, nonce);
    match key {
        SecretConfig::Single(_) => hex,
        SecretConfig::Versioned(v) => format!("{ENVELOPE_PREFIX}{}${hex}", v.current_version()),
    }
}

/// `symmetricDecrypt({key, data})` (better-auth: dist/crypto/index.mjs). A single secret decrypts
/// as [`decrypt`]. Under a secrets list, an envelope is decrypted with the secret of its version
/// (`None` once that version is retired from the list) and bare hex with the legacy
/// `BETTER_AUTH_SECRET` (`None` without one), as Better Auth does.
pub fn decrypt_with(key: &SecretConfig, stored: &str) -> Option<String> {
    match key {
        SecretConfig::Single(secret) => decrypt(secret, stored),
        SecretConfig::Versioned(v) => match parse_envelope(stored) {
            Some((version, _)) => decrypt(v.key(version)?, stored),
            None if stored.starts_with(ENVELOPE_PREFIX) => None,
            None => decrypt(v.legacy()?, stored),
        },
    }
}

/// Splits `$ba$<version>$<payload>` into `(version, payload)`; `None` if `stored` is not an
/// envelope. better-auth: dist/crypto/index.mjs (parseEnvelope). Divergence: Better Auth parses the
/// version with `parseInt`, which tolerates trailing junk (`$ba$2x$…` → 2); we require plain ASCII
/// digits (Better Auth itself only ever writes `formatEnvelope(<integer>, …)`).
pub fn parse_envelope(stored: &str) -> Option<(u32, &str)> {
    let rest = stored.strip_prefix(ENVELOPE_PREFIX)?;
    let (version, payload) = rest.split_once('$')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((version.parse().ok()?, payload))
}

/// better-auth: dist/crypto/index.mjs (rawEncrypt/rawDecrypt: `createHash("SHA-256").digest(secret)`).
fn cipher_for(secret: &str) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&Sha256::digest(secret.as_bytes()))
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// protocol notes §13 SECRET.
    const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn key_is_sha256_of_secret() {
        // §13.6
        let key = Sha256::digest(SECRET.as_bytes());
        let mut hex = String::new();
        push_hex(&mut hex, &key);
        assert_eq!(
            hex,
            "4edb325b27a0a0d0fac26a59140b3e6083ff5276ad827473bc5e65a24c68b984"
        );
    }

    fn nonce_from(start: u8) -> [u8; NONCE_LEN] {
        std::array::from_fn(|i| start.wrapping_add(i as u8))
    }

    /// (secret, plaintext, first nonce byte, stored) — printed by better-auth's own
    /// `symmetricEncrypt` with `crypto.getRandomValues` patched to yield start, start+1, ….
    const FIXED_NONCE_VECTORS: &[(&str, &str, u8, &str)] = &[
        // §13.6
        (
            SECRET,
            "ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD",
            0,
            "000102030405060708090a0b0c0d0e0f1011121314151617325807f4655c546e8c1d71afaf02ff2715b0a800d934634a064f4d8072931f26e5879a46dd145c7c52c893a939389ff8",
        ),
        (
            SECRET,
            "",
            100,
            "6465666768696a6b6c6d6e6f707172737475767778797a7b56261bc63b9e2585d79635588db71d13",
        ),
        (
            "other secret \u{2713}",
            "h\u{e9}llo w\u{f6}rld \u{1f389} \u{0} end",
            200,
            "c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe8c1b56d2dd8abe19a7c74610677a3194e6aca9188ecd9961b57bde1b74f593318b319233fd8f2eb",
        ),
        (
            SECRET,
            r#"["QogOg-lqI16","xAIyR-46pvN"]"#,
            7,
            "0708090a0b0c0d0e0f101112131415161718191a1b1c1d1ec341e69cd16ad3a77bb8b1ed5927f0c785b4e05ba60545b6c4cae11b1b036c51bddc774a1f03c3821064d6a34a",
        ),
    ];

    /// (secret, plaintext, stored) — random-nonce output of better-auth's `symmetricEncrypt`.
    const PACKAGE_VECTORS: &[(&str, &str, &str)] = &[
        (
            SECRET,
            "ZzopwpORr-V7UWjXx0GkGCDo_djmjkbD",
            "674acaef2eedf7a7f9f1e58ce770973345ec33b85754a9eb67f48db0b984fc1fd111055e6ca9bbf983f43d45650b0b5084168015b0391ca8b6e3e33515a76fd22adcf7b136c07466",
        ),
        (
            SECRET,
            "",
            "4713a218e3efa33fa18c2ae25ede4a85fe8ae64d2faa9af521c47cee23566887ed8bba6da7156bb2",
        ),
        (
            "other secret \u{2713}",
            "h\u{e9}llo w\u{f6}rld \u{1f389} \u{0} end",
            "a5cb998252f15e6eca4ecb270ab00fb79b47caba1cf64d86957cf88ae4935344608dcdabbad62273c7724cddd3e949130ed2b62dcbb31e26dc1219975692a18f",
        ),
        (
            SECRET,
            "base32:JBSWY3DPEHPK3PXP",
            "b662d04448c6bb14cc7d2124933447a3b19f15ad81700b220d8627c614088cc5164a60e898f95116cc3a3d5e655a4af494fcfa4ffb202641087f2320a2afbb",
        ),
        // Rotation config `{keys: {2: SECRET}, currentVersion: 2}`.
        (
            SECRET,
            "versioned-plain",
            "$ba$2$b4702431d4c7e29c61830dc716aa32c4a40628faba838edf999b4c2ce3ffc9cb4979a150e3adad265c5632fd4246145fc192397b3cce53",
        ),
    ];

    #[test]
    fn fixed_nonce_vectors_both_directions() {
        for &(secret, plain, start, stored) in FIXED_NONCE_VECTORS {
            assert_eq!(
                encrypt_with_nonce(secret, plain, &nonce_from(start)),
                stored
            );
            assert_eq!(decrypt(secret, stored).as_deref(), Some(plain));
        }
    }

    #[test]
    fn decrypts_package_output() {
        for &(secret, plain, stored) in PACKAGE_VECTORS {
            assert_eq!(decrypt(secret, stored).as_deref(), Some(plain), "{stored}");
        }
    }

    #[test]
    fn round_trip_with_random_nonce() {
        let a = encrypt(SECRET, "hello");
        let b = encrypt(SECRET, "hello");
        assert_ne!(a, b);
        assert_eq!(a.len(), 2 * (NONCE_LEN + 5 + TAG_LEN));
        assert!(a.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(decrypt(SECRET, &a).as_deref(), Some("hello"));
        // 32-char TOTP secret → 144 hex chars (§9.2).
        assert_eq!(encrypt(SECRET, &"x".repeat(32)).len(), 144);
    }

    #[test]
    fn accepts_uppercase_hex_and_any_envelope_version() {
        let stored = FIXED_NONCE_VECTORS[0].3;
        assert!(decrypt(SECRET, &stored.to_uppercase()).is_some());
        assert!(decrypt(SECRET, &format!("$ba$0${stored}")).is_some());
        assert!(decrypt(SECRET, &format!("$ba$17${stored}")).is_some());
        assert_eq!(parse_envelope("$ba$2$abc"), Some((2, "abc")));
        assert_eq!(parse_envelope("abc"), None);
    }

    fn rotated(list: &str, legacy: Option<&str>) -> SecretConfig {
        let keys = crate::auth::secrets::parse_secrets_env(list).unwrap();
        SecretConfig::Versioned(
            crate::auth::secrets::VersionedSecrets::new(keys, legacy.map(String::from)).unwrap(),
        )
    }

    #[test]
    fn rotated_config_writes_current_version_envelopes() {
        let key = rotated("2:secret-b,1:secret-a", Some("legacy"));
        let stored = encrypt_with(&key, "hello");
        let hex = stored.strip_prefix("$ba$2$").unwrap();
        assert_eq!(hex.len(), 2 * (NONCE_LEN + 5 + TAG_LEN));
        assert_eq!(decrypt("secret-b", hex).as_deref(), Some("hello"));
        assert_eq!(decrypt("secret-a", hex), None);
        assert_eq!(decrypt_with(&key, &stored).as_deref(), Some("hello"));
        // Without a list, bare hex as before.
        let single = SecretConfig::Single(SECRET.into());
        let bare = encrypt_with(&single, "hello");
        assert!(!bare.starts_with('$'));
        assert_eq!(decrypt(SECRET, &bare).as_deref(), Some("hello"));
        assert_eq!(decrypt_with(&single, &bare).as_deref(), Some("hello"));
    }

    #[test]
    fn rotated_config_decrypts_by_version_and_legacy() {
        let before = rotated("1:secret-a", None);
        let old_envelope = encrypt_with(&before, "from v1");
        assert!(old_envelope.starts_with("$ba$1$"));
        let bare = encrypt("secret-a", "from before rotation");
        let after = rotated("2:secret-b,1:secret-a", Some("secret-a"));
        assert_eq!(
            decrypt_with(&after, &old_envelope).as_deref(),
            Some("from v1")
        );
        assert_eq!(
            decrypt_with(&after, &bare).as_deref(),
            Some("from before rotation")
        );
        // The envelope's version picks the key: v1's ciphertext relabelled v2 does not open.
        let relabelled = old_envelope.replacen("$ba$1$", "$ba$2$", 1);
        assert_eq!(decrypt_with(&after, &relabelled), None);
        // Version 1 retired, no legacy secret: both refused, as Better Auth throws.
        let retired = rotated("2:secret-b", None);
        assert_eq!(decrypt_with(&retired, &old_envelope), None);
        assert_eq!(decrypt_with(&retired, &bare), None);
        // A legacy secret decrypts bare hex only, never an envelope of a retired version.
        let legacy_only = rotated("2:secret-b", Some("secret-a"));
        assert_eq!(decrypt_with(&legacy_only, &old_envelope), None);
        assert_eq!(
            decrypt_with(&legacy_only, &bare).as_deref(),
            Some("from before rotation")
        );
        for bad in ["$ba$", "$ba$x$00", "$ba$2$zz", ""] {
            assert_eq!(decrypt_with(&after, bad), None, "{bad:?}");
        }
    }

    /// tests/fixtures/secret-rotation.json: written by better-auth 1.7.25's own `symmetricEncrypt`
    /// under `BETTER_AUTH_SECRETS` (tests/js/secret-rotation-vectors.mjs, which also checks it).
    #[test]
    fn better_auth_rotation_fixture_both_directions() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/secret-rotation.json"
        ))
        .unwrap();
        let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap().to_owned();
        let key = rotated(
            &text(&fixture, "secrets"),
            Some(&text(&fixture, "legacySecret")),
        );
        let random = fixture["random"].as_array().unwrap();
        assert_eq!(random.len(), 9);
        for v in random {
            let stored = text(v, "stored");
            assert_eq!(
                decrypt_with(&key, &stored),
                Some(text(v, "plaintext")),
                "{stored}"
            );
        }
        // Better Auth wrote each kind: current-version and older-version envelopes, bare hex.
        let prefixes: Vec<&str> = random
            .iter()
            .map(|v| &v["stored"].as_str().unwrap()[..6])
            .collect();
        assert!(prefixes.contains(&"$ba$2$") && prefixes.contains(&"$ba$1$"));
        assert!(prefixes.iter().any(|p| !p.starts_with('$')));
        // Same nonce, same bytes: what Portcullis writes is what Better Auth writes.
        let fixed = fixture["fixedNonce"].as_array().unwrap();
        assert_eq!(fixed.len(), 3);
        for v in fixed {
            let start = u8::try_from(v["nonceStart"].as_u64().unwrap()).unwrap();
            assert_eq!(
                encrypt_config_with_nonce(&key, &text(v, "plaintext"), &nonce_from(start)),
                text(v, "stored")
            );
        }
    }

    #[test]
    fn malformed_or_foreign_input_is_none() {
        let stored = FIXED_NONCE_VECTORS[0].3;
        let mut flipped = stored.to_owned();
        flipped.replace_range(100..101, if &stored[100..101] == "0" { "1" } else { "0" });
        for bad in [
            "",
            "zz",
            "abc",
            &stored[..stored.len() - 1],
            &stored[..78],
            &flipped,
            "$ba$",
            "$ba$2",
            "$ba$$00",
            "$ba$x$00",
            "$ba$-1$00",
            "$ba$99999999999$00",
            "\u{e9}\u{e9}",
        ] {
            assert_eq!(decrypt(SECRET, bad), None, "{bad:?}");
        }
        assert_eq!(decrypt("wrong secret", stored), None);
        assert_eq!(decrypt(SECRET, &format!("$ba$2$x{stored}")), None);
    }
}
