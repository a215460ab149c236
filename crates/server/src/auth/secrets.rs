//! Better Auth's secret configuration (`ctx.context.secretConfig`): one string secret, or a
//! versioned list for rotation, `BETTER_AUTH_SECRETS="<version>:<secret>,…"` whose first entry is
//! the current secret. better-auth: dist/context/secret-utils.mjs (parseSecretsEnv,
//! validateSecretsArray, buildSecretConfig) and dist/context/create-context.mjs (`secret`,
//! `secretConfig`).
//!
//! What the keys are used for:
//! - everything new is signed and encrypted with the current secret ([`SecretConfig::current`]);
//! - ciphertexts are decrypted with the version their `$ba$<version>$` envelope names, bare hex
//!   with the legacy `BETTER_AUTH_SECRET` (`symmetric::decrypt_with`);
//! - signatures (cookies, trust-device tokens) and backup-code hashes are checked against every
//!   key, current first ([`SecretConfig::verifying`]). Better Auth verifies signatures with the
//!   current secret only, so rotating there signs everybody out; see `CookieSet::read_signed`.

use std::fmt;

/// Better Auth's fallback when no secret is configured (better-auth: dist/context/create-context.mjs);
/// never a legacy secret.
const BETTER_AUTH_DEFAULT_SECRET: &str = "better-auth-secret-12345678901234567890";

/// Either kind of secret configuration.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretConfig {
    /// `BETTER_AUTH_SECRET` alone (Better Auth: `secretConfig` is the string itself).
    Single(String),
    /// `BETTER_AUTH_SECRETS`, with `BETTER_AUTH_SECRET` beside it as the legacy secret.
    Versioned(VersionedSecrets),
}

/// Better Auth's `{keys, currentVersion, legacySecret}`.
#[derive(Clone, PartialEq, Eq)]
pub struct VersionedSecrets {
    /// `(version, secret)` in the configured order: the first one is current. Never empty, versions
    /// unique.
    keys: Vec<(u32, String)>,
    /// Decrypts bare-hex values written before rotation was configured.
    legacy: Option<String>,
}

impl SecretConfig {
    /// The secret every new signature and ciphertext uses (Better Auth's `ctx.context.secret`).
    pub fn current(&self) -> &str {
        match self {
            SecretConfig::Single(secret) => secret,
            SecretConfig::Versioned(v) => &v.keys[0].1,
        }
    }

    /// Every configured secret, current first, then the older versions in the configured order,
    /// then the legacy secret (when it is not one of the versions).
    pub fn verifying(&self) -> Vec<&str> {
        match self {
            SecretConfig::Single(secret) => vec![secret],
            SecretConfig::Versioned(v) => {
                let mut all: Vec<&str> = v.keys.iter().map(|(_, s)| s.as_str()).collect();
                if let Some(legacy) = v.legacy.as_deref()
                    && !all.contains(&legacy)
                {
                    all.push(legacy);
                }
                all
            }
        }
    }
}

impl VersionedSecrets {
    /// Checks the list as `validateSecretsArray` does: at least one entry, unique versions.
    /// `legacy` is `BETTER_AUTH_SECRET`, if set (`buildSecretConfig`).
    pub fn new(keys: Vec<(u32, String)>, legacy: Option<String>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("`secrets` array must contain at least one entry.".into());
        }
        for (i, (version, value)) in keys.iter().enumerate() {
            if value.is_empty() {
                return Err(format!(
                    "Empty secret value for version {version} in `secrets`."
                ));
            }
            if keys[..i].iter().any(|(v, _)| v == version) {
                return Err(format!(
                    "Duplicate version {version} in `secrets`. Each version must be unique."
                ));
            }
        }
        Ok(Self {
            keys,
            // buildSecretConfig drops Better Auth's built-in default secret as a legacy secret.
            legacy: legacy.filter(|s| !s.is_empty() && s != BETTER_AUTH_DEFAULT_SECRET),
        })
    }

    /// The current version (`currentVersion`): the one new envelopes name.
    pub fn current_version(&self) -> u32 {
        self.keys[0].0
    }

    /// The secret of `version`; `None` once it is retired (no longer listed).
    pub fn key(&self, version: u32) -> Option<&str> {
        self.keys
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, s)| s.as_str())
    }

    pub fn legacy(&self) -> Option<&str> {
        self.legacy.as_deref()
    }
}

/// Parses `BETTER_AUTH_SECRETS` as `parseSecretsEnv` does (better-auth:
/// dist/context/secret-utils.mjs), with its error messages: comma-separated `<version>:<secret>`
/// entries, each trimmed, the secret trimmed and non-empty. The version is read like JavaScript's
/// `parseInt(…, 10)` (leading spaces, a sign and the leading digits; `"2x"` is 2), so every value
/// Better Auth accepts is accepted; versions beyond 2³²−1 are refused (Better Auth would take them
/// as floating-point numbers).
pub fn parse_secrets_env(value: &str) -> Result<Vec<(u32, String)>, String> {
    value
        .split(',')
        .enumerate()
        .map(|(index, entry)| {
            let position = index + 1;
            let entry = entry.trim();
            let Some((version, secret)) = entry.split_once(':') else {
                return Err(format!(
                    "Invalid BETTER_AUTH_SECRETS entry at position {position}. Expected format: \"<version>:<secret>\""
                ));
            };
            let version = parse_int(version).ok_or_else(|| {
                format!(
                    "Invalid version in BETTER_AUTH_SECRETS entry at position {position}. Version must be a non-negative integer."
                )
            })?;
            let version = u32::try_from(version).map_err(|_| {
                format!(
                    "Version {version} in BETTER_AUTH_SECRETS entry at position {position} is too large (at most {}).",
                    u32::MAX
                )
            })?;
            let secret = secret.trim();
            if secret.is_empty() {
                return Err(format!(
                    "Empty secret value for version {version} in BETTER_AUTH_SECRETS."
                ));
            }
            Ok((version, secret.to_owned()))
        })
        .collect()
}

/// JavaScript `parseInt(s, 10)` restricted to non-negative results: `None` for NaN or a negative
/// number (`-0` is 0). Saturates at `u64::MAX`, which the caller refuses as too large.
fn parse_int(s: &str) -> Option<u64> {
    let s = s.trim_start();
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n = rest[..digits].bytes().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    (!negative || n == 0).then_some(n)
}

/// Names the versions and whether a legacy secret is set; never a secret.
impl fmt::Debug for SecretConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretConfig::Single(_) => f.write_str("Single(***)"),
            SecretConfig::Versioned(v) => f
                .debug_struct("Versioned")
                .field(
                    "versions",
                    &v.keys
                        .iter()
                        .map(|(version, _)| version)
                        .collect::<Vec<_>>(),
                )
                .field("legacy", &v.legacy.is_some())
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versioned(list: &str, legacy: Option<&str>) -> Result<SecretConfig, String> {
        let keys = parse_secrets_env(list)?;
        Ok(SecretConfig::Versioned(VersionedSecrets::new(
            keys,
            legacy.map(String::from),
        )?))
    }

    #[test]
    fn parses_the_list_current_first() {
        let c = versioned(" 2:secret-b , 1: secret-a ", Some("legacy")).unwrap();
        assert_eq!(c.current(), "secret-b");
        assert_eq!(c.verifying(), ["secret-b", "secret-a", "legacy"]);
        let SecretConfig::Versioned(v) = &c else {
            unreachable!()
        };
        assert_eq!(v.current_version(), 2);
        assert_eq!(v.key(1), Some("secret-a"));
        assert_eq!(v.key(3), None);
        assert_eq!(v.legacy(), Some("legacy"));
        // A secret may contain ':'; only the first one separates.
        assert_eq!(
            parse_secrets_env("0:a:b").unwrap(),
            [(0, "a:b".to_string())]
        );
        // As JavaScript's parseInt: leading junk after the digits is ignored, +/-0 allowed.
        assert_eq!(
            parse_secrets_env("2x:a, +3:b,-0:c,007:d").unwrap(),
            [
                (2, "a".to_string()),
                (3, "b".to_string()),
                (0, "c".to_string()),
                (7, "d".to_string())
            ]
        );
    }

    #[test]
    fn legacy_is_dropped_when_empty_or_already_listed() {
        let c = versioned("2:b,1:a", Some("")).unwrap();
        assert_eq!(c.verifying(), ["b", "a"]);
        let c = versioned("2:b,1:a", Some("a")).unwrap();
        assert_eq!(c.verifying(), ["b", "a"]);
        let c = versioned("2:b", Some(BETTER_AUTH_DEFAULT_SECRET)).unwrap();
        assert_eq!(c.verifying(), ["b"]);
        let single = SecretConfig::Single("s".into());
        assert_eq!((single.current(), single.verifying()), ("s", vec!["s"]));
    }

    #[test]
    fn parse_errors_use_better_auths_messages() {
        for (list, message) in [
            (
                "2:b,oops",
                "Invalid BETTER_AUTH_SECRETS entry at position 2. Expected format: \"<version>:<secret>\"",
            ),
            (
                "2:b,",
                "Invalid BETTER_AUTH_SECRETS entry at position 2. Expected format: \"<version>:<secret>\"",
            ),
            (
                "v2:b",
                "Invalid version in BETTER_AUTH_SECRETS entry at position 1. Version must be a non-negative integer.",
            ),
            (
                "1:a,-1:b",
                "Invalid version in BETTER_AUTH_SECRETS entry at position 2. Version must be a non-negative integer.",
            ),
            (
                ":b",
                "Invalid version in BETTER_AUTH_SECRETS entry at position 1. Version must be a non-negative integer.",
            ),
            (
                "3:  ",
                "Empty secret value for version 3 in BETTER_AUTH_SECRETS.",
            ),
            (
                "2:b,1:a,2:c",
                "Duplicate version 2 in `secrets`. Each version must be unique.",
            ),
            (
                "4294967296:b",
                "Version 4294967296 in BETTER_AUTH_SECRETS entry at position 1 is too large (at most 4294967295).",
            ),
        ] {
            assert_eq!(versioned(list, None).unwrap_err(), message, "{list:?}");
        }
    }

    #[test]
    fn debug_names_versions_only() {
        let c = versioned("2:secret-b,1:secret-a", Some("secret-legacy")).unwrap();
        let shown = format!("{c:?}");
        assert_eq!(shown, "Versioned { versions: [2, 1], legacy: true }");
        assert_eq!(
            format!("{:?}", SecretConfig::Single("secret".into())),
            "Single(***)"
        );
    }
}
