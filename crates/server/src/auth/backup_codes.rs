//! Two-factor backup codes: generation in Better Auth's format, a keyed one-way hash for
//! Portcullis's own storage, and Better Auth's default storage format for
//! `twoFactor.backupCodes` (symmetric-encrypted compact JSON array) so rows written by either
//! server stay readable. better-auth: dist/plugins/two-factor/backup-codes/index.mjs.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{secrets::SecretConfig, symmetric, tokens::random_from};

/// better-auth: dist/plugins/two-factor/backup-codes/index.mjs (generateBackupCodesFn:
/// `options.amount ?? 10`).
pub const DEFAULT_AMOUNT: usize = 10;
/// `generateRandomString(10, "a-z", "0-9", "A-Z")`, alphabet order as Better Auth expands it.
const CODE_LEN: usize = 10;
const CODE_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Domain-separation label for [`keyed_hash`]'s key derivation.
const HASH_KEY_LABEL: &[u8] = b"portcullis/backup-code/v1";

type HmacSha256 = Hmac<Sha256>;

/// `amount` fresh codes `xxxxx-xxxxx`: 10 uniform characters from `[a-z0-9A-Z]` (OS CSPRNG),
/// split 5+5 with `-`. better-auth: dist/plugins/two-factor/backup-codes/index.mjs
/// (generateBackupCodesFn with the default length 10).
pub fn generate(amount: usize) -> Vec<String> {
    (0..amount)
        .map(|_| {
            let raw = random_from(CODE_ALPHABET, CODE_LEN);
            let (head, tail) = raw.split_at(CODE_LEN / 2);
            format!("{head}-{tail}")
        })
        .collect()
}

/// A deterministic, one-way, keyed digest of a backup code, for storage and lookup by equality
/// (Portcullis's own format; Better Auth stores codes reversibly):
///
/// `base64url_nopad(HMAC-SHA256(key = HMAC-SHA256(key = UTF-8 secret, msg = "portcullis/backup-code/v1"), msg = UTF-8 code))`
///
/// The derived key keeps this hash domain-separated from every other HMAC made with the secret
/// (cookie signatures etc.); without the secret a leaked table cannot be brute-forced offline.
/// Always 43 characters.
pub fn keyed_hash(secret: &str, code: &str) -> String {
    let key = hmac_sha256(secret.as_bytes(), HASH_KEY_LABEL);
    URL_SAFE_NO_PAD.encode(hmac_sha256(&key, code.as_bytes()))
}

/// The code's [`keyed_hash`] under every configured secret, the current one first: rows written
/// before a secret rotation carry an older key's hash, and a spend must find them.
pub fn keyed_hashes(key: &SecretConfig, code: &str) -> Vec<String> {
    key.verifying()
        .into_iter()
        .map(|secret| keyed_hash(secret, code))
        .collect()
}

/// Index of `code` in `codes`, comparing every entry in constant time (Better Auth uses
/// `codes.includes(code)`, exact string equality, in verifyBackupCode).
pub fn position(codes: &[String], code: &str) -> Option<usize> {
    let mut found = None;
    for (i, candidate) in codes.iter().enumerate() {
        if bool::from(candidate.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

/// Better Auth's default `storeBackupCodes: "encrypted"` column value:
/// `symmetricEncrypt(JSON.stringify(codes))`. serde_json's compact output escapes strings exactly
/// as `JSON.stringify` does. better-auth: dist/plugins/two-factor/backup-codes/index.mjs
/// (encodeBackupCodes).
pub fn encode_for_better_auth(key: &SecretConfig, codes: &[String]) -> String {
    // Serializing a slice of strings cannot fail.
    let json = serde_json::to_string(codes).unwrap_or_else(|_| String::from("[]"));
    symmetric::encrypt_with(key, &json)
}

/// Reads a `twoFactor.backupCodes` value written by Better Auth (or [`encode_for_better_auth`]):
/// symmetric-encrypted JSON (`"encrypted"`, the default) or, failing decryption, a plain JSON
/// array (`storeBackupCodes: "plain"`). better-auth: dist/plugins/two-factor/backup-codes/index.mjs
/// (getBackupCodes → safeJSONParse).
///
/// Divergence: Better Auth accepts any JSON (and would then match non-arrays by substring or
/// never); we require an array of strings and return `None` otherwise.
pub fn decode_from_better_auth(key: &SecretConfig, stored: &str) -> Option<Vec<String>> {
    match symmetric::decrypt_with(key, stored) {
        Some(json) => serde_json::from_str(&json).ok(),
        None => serde_json::from_str(stored).ok(),
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

    fn single(secret: &str) -> SecretConfig {
        SecretConfig::Single(secret.to_owned())
    }

    #[test]
    fn generated_codes_have_better_auth_shape() {
        let codes = generate(DEFAULT_AMOUNT);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 11);
            let (head, tail) = code.split_at(5);
            assert!(tail.starts_with('-'));
            assert!(
                head.bytes()
                    .chain(tail[1..].bytes())
                    .all(|b| b.is_ascii_alphanumeric())
            );
        }
        assert_ne!(codes[0], codes[1]);
        assert!(generate(0).is_empty());
    }

    /// `generateBackupCodes(SECRET, {storeBackupCodes: "encrypted"})` from the package (node).
    const PACKAGE_CODES: [&str; 10] = [
        "QogOg-lqI16",
        "xAIyR-46pvN",
        "w69zG-YyMr3",
        "PfyEn-LsYoA",
        "rKT53-jvTEP",
        "PpWz6-gd2bQ",
        "A2Lzn-6BUt2",
        "Jnr26-lsg7Y",
        "1vvdj-kankC",
        "tuNec-qeg0g",
    ];
    const PACKAGE_STORED: &str = "52fbd1956c301b71efcea90e5bdddeb89d8cb608b847ed910d35aa4688d67bb1c2c4be57ac8cc52ec8fdf134b1da932bcdcbd014850d0e690eb2b8292853d1341d2ebfde803ea706b5bf10a76ecbef5cdd883f7cb9dfb04af9d3c92dab46fd61c042afda930ed3400ebaf438ea70c48e39cc18f9a5921535846ac28a551c63d7581832e6aa2274978a46f5cd3ba35384e058e64daf1dad9d36d2b9d8b1fa228242df7f22cce387f03fc2c70fad15e0bb1aa11b2a90";
    const KEYED_HASH_VECTOR: &str = "zvwRYVZzIXouMAHM4-fgVPaCkv6OFXubFr_fq9aV5Pc";
    /// The same function with `storeBackupCodes` unset (plain JSON).
    const PACKAGE_PLAIN: &str = r#"["FQmXD-TTWdB","bfmgU-nQc36","pn3Wf-CxdH5","DG0ez-x77Ie","1u1qN-uw97a","vQCtL-K9kXC","LANfV-sjajY","Jfv7a-EejpR","M6ViF-MszV0","QHS3T-jf15x"]"#;

    #[test]
    fn decodes_package_encrypted_and_plain_storage() {
        assert_eq!(
            decode_from_better_auth(&single(SECRET), PACKAGE_STORED).unwrap(),
            PACKAGE_CODES
        );
        let plain = decode_from_better_auth(&single(SECRET), PACKAGE_PLAIN).unwrap();
        assert_eq!(plain.len(), 10);
        assert_eq!(plain[0], "FQmXD-TTWdB");
        assert_eq!(plain[9], "QHS3T-jf15x");
    }

    #[test]
    fn encode_round_trips_and_is_compact_json() {
        let codes: Vec<String> = PACKAGE_CODES.iter().map(|c| c.to_string()).collect();
        let stored = encode_for_better_auth(&single(SECRET), &codes);
        // 10 codes of 11 chars as compact JSON = 141 bytes (+40 bytes nonce/tag), hex.
        assert_eq!(stored.len(), 2 * (141 + 40));
        assert_eq!(
            symmetric::decrypt(SECRET, &stored).unwrap(),
            r#"["QogOg-lqI16","xAIyR-46pvN","w69zG-YyMr3","PfyEn-LsYoA","rKT53-jvTEP","PpWz6-gd2bQ","A2Lzn-6BUt2","Jnr26-lsg7Y","1vvdj-kankC","tuNec-qeg0g"]"#
        );
        assert_eq!(
            decode_from_better_auth(&single(SECRET), &stored).unwrap(),
            codes
        );
        assert_eq!(
            decode_from_better_auth(
                &single(SECRET),
                &encode_for_better_auth(&single(SECRET), &[])
            )
            .unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn undecodable_storage_is_none() {
        for bad in [
            "",
            "{}",
            "\"QogOg-lqI16\"",
            "[1,2]",
            "not json",
            "[\"a\",null]",
        ] {
            assert_eq!(
                decode_from_better_auth(&single(SECRET), bad),
                None,
                "{bad:?}"
            );
        }
        assert_eq!(
            decode_from_better_auth(&single("other secret"), PACKAGE_STORED),
            None
        );
        // A decryptable value that is not a string array.
        assert_eq!(
            decode_from_better_auth(&single(SECRET), &symmetric::encrypt(SECRET, "{\"a\":1}")),
            None
        );
    }

    #[test]
    fn keyed_hash_is_deterministic_keyed_and_code_specific() {
        let h = keyed_hash(SECRET, "QogOg-lqI16");
        assert_eq!(h.len(), 43);
        assert_eq!(h, keyed_hash(SECRET, "QogOg-lqI16"));
        assert_ne!(h, keyed_hash(SECRET, "QogOg-lqI17"));
        assert_ne!(h, keyed_hash("other secret", "QogOg-lqI16"));
        // Pinned so the stored format cannot drift silently. Cross-checked with node:
        // HMAC-SHA256(HMAC-SHA256(SECRET, "portcullis/backup-code/v1"), code), base64url.
        assert_eq!(h, KEYED_HASH_VECTOR);
    }

    #[test]
    fn rotated_secrets_hash_under_every_key_and_write_envelopes() {
        let keys = crate::auth::secrets::parse_secrets_env("2:secret-b,1:secret-a").unwrap();
        let rotated = SecretConfig::Versioned(
            crate::auth::secrets::VersionedSecrets::new(keys, Some(SECRET.into())).unwrap(),
        );
        assert_eq!(
            keyed_hashes(&rotated, "QogOg-lqI16"),
            [
                keyed_hash("secret-b", "QogOg-lqI16"),
                keyed_hash("secret-a", "QogOg-lqI16"),
                KEYED_HASH_VECTOR.to_string(),
            ]
        );
        assert_eq!(
            keyed_hashes(&single(SECRET), "QogOg-lqI16"),
            [KEYED_HASH_VECTOR]
        );
        // A list written before the rotation (bare hex, legacy secret) still reads; a new one is
        // an envelope of the current version.
        assert_eq!(
            decode_from_better_auth(&rotated, PACKAGE_STORED).unwrap(),
            PACKAGE_CODES
        );
        let stored = encode_for_better_auth(&rotated, &["a".to_string()]);
        assert!(stored.starts_with("$ba$2$"), "{stored}");
        assert_eq!(decode_from_better_auth(&rotated, &stored).unwrap(), ["a"]);
    }

    #[test]
    fn position_finds_exact_matches_only() {
        let codes: Vec<String> = PACKAGE_CODES.iter().map(|c| c.to_string()).collect();
        assert_eq!(position(&codes, "QogOg-lqI16"), Some(0));
        assert_eq!(position(&codes, "tuNec-qeg0g"), Some(9));
        assert_eq!(position(&codes, "qogog-lqi16"), None);
        assert_eq!(position(&codes, "QogOg-lqI1"), None);
        assert_eq!(position(&codes, ""), None);
    }
}
