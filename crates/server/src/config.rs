//! The one configuration struct. Sources, later ones winning: built-in defaults, an optional TOML
//! file (`--config FILE` or `PORTCULLIS_CONFIG`), then environment variables. Every setting is
//! documented in README.md; `portcullis --help` lists them too.

use std::{collections::HashMap, fmt, path::Path};

use serde::Deserialize;

use crate::{
    auth::{
        password::HashFormat,
        secrets::{SecretConfig, VersionedSecrets, parse_secrets_env},
    },
    ip::{Cidr, IpSettings},
};

/// Fixed secret used only with `PORTCULLIS_DEV=1`; never valid in production.
pub const DEV_SECRET: &str = "portcullis-dev-secret-do-not-use-in-production-0123456789";

/// Settings as read from env/file, before validation. Field names are the env names lower-cased
/// without their prefix, so a TOML file uses `better_auth_url = "…"`, `listen = "…"` and so on.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    better_auth_secret: Option<String>,
    better_auth_secrets: Option<String>,
    better_auth_url: Option<String>,
    database_url: Option<String>,
    listen: Option<String>,
    base_path: Option<String>,
    trusted_origins: Option<String>,
    dev: Option<bool>,
    session_expires_in: Option<i64>,
    session_update_age: Option<i64>,
    session_fresh_age: Option<i64>,
    cookie_cache: Option<Toggle>,
    cookie_cache_max_age: Option<i64>,
    cookie_cache_version: Option<String>,
    password_hash_concurrency: Option<usize>,
    password_hash_queue: Option<usize>,
    database_timeout: Option<u64>,
    password_hash: Option<String>,
    log: Option<String>,
    plugins: Option<String>,
    app_name: Option<String>,
    two_factor_issuer: Option<String>,
    two_factor_totp_digits: Option<u32>,
    two_factor_totp_period: Option<u64>,
    two_factor_skip_verification_on_enable: Option<bool>,
    two_factor_allow_passwordless: Option<bool>,
    otp_webhook_url: Option<String>,
    ip_address_headers: Option<String>,
    trusted_proxies: Option<String>,
    rate_limit: Option<Toggle>,
    rate_limit_storage: Option<String>,
    rate_limit_window: Option<u64>,
    rate_limit_max: Option<u64>,
    redis_url: Option<String>,
    redis_key_prefix: Option<String>,
}

/// An on/off setting: a TOML boolean, or a string (`on`/`off`, `true`/`false`, `1`/`0`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Toggle {
    Bool(bool),
    Text(String),
}

/// Every setting: (env name, TOML key, default, meaning). Drives `--help` and the README table.
pub const SETTINGS: &[(&str, &str, &str, &str)] = &[
    (
        "BETTER_AUTH_SECRET",
        "better_auth_secret",
        "(none)",
        "signing/encryption secret, as in Better Auth; required unless PORTCULLIS_DEV=1 or BETTER_AUTH_SECRETS is set. Beside BETTER_AUTH_SECRETS it is the legacy secret: it decrypts values written before the rotation and its cookies are still accepted",
    ),
    (
        "BETTER_AUTH_SECRETS",
        "better_auth_secrets",
        "(none)",
        "secret rotation, as Better Auth's `secrets`: \"<version>:<secret>,…\", current first. New cookies and trust-device tokens are signed, and new TOTP secrets and backup-code lists encrypted (as $ba$<version>$…), with the first; stored values are decrypted with the version they name; cookies signed with any listed secret are accepted. A malformed list is a start-up error with Better Auth's message",
    ),
    (
        "BETTER_AUTH_URL",
        "better_auth_url",
        "http://127.0.0.1:8080",
        "public base URL: decides Secure/__Secure- cookies and the default trusted origin",
    ),
    (
        "DATABASE_URL",
        "database_url",
        "sqlite://portcullis.db?mode=rwc",
        "sqlite://…, postgres://… or mysql://…",
    ),
    (
        "PORTCULLIS_LISTEN",
        "listen",
        "127.0.0.1:8080",
        "bind address",
    ),
    (
        "PORTCULLIS_BASE_PATH",
        "base_path",
        "/api/auth",
        "API mount point",
    ),
    (
        "PORTCULLIS_TRUSTED_ORIGINS",
        "trusted_origins",
        "(empty)",
        "comma-separated extra trusted origins (wildcards * and ? allowed)",
    ),
    (
        "PORTCULLIS_DEV",
        "dev",
        "0",
        "development mode: fixed dev secret if none is set, client IP falls back to 127.0.0.1",
    ),
    (
        "PORTCULLIS_SESSION_EXPIRES_IN",
        "session_expires_in",
        "604800",
        "session lifetime in seconds (Better Auth session.expiresIn)",
    ),
    (
        "PORTCULLIS_SESSION_UPDATE_AGE",
        "session_update_age",
        "86400",
        "seconds before a session's expiry is extended (session.updateAge)",
    ),
    (
        "PORTCULLIS_SESSION_FRESH_AGE",
        "session_fresh_age",
        "86400",
        "seconds a session counts as fresh; 0 disables the check (session.freshAge)",
    ),
    (
        "PORTCULLIS_COOKIE_CACHE",
        "cookie_cache",
        "off",
        "on|off: Better Auth's session cookie cache (session.cookieCache, strategy compact): /get-session answers from a signed session_data cookie without the database until it expires. Trade-off, as upstream: a session revoked elsewhere still reads as signed in on /get-session for up to the cache's max age (every other route reads the database)",
    ),
    (
        "PORTCULLIS_COOKIE_CACHE_MAX_AGE",
        "cookie_cache_max_age",
        "300",
        "seconds a session_data cookie is valid (cookieCache.maxAge)",
    ),
    (
        "PORTCULLIS_COOKIE_CACHE_VERSION",
        "cookie_cache_version",
        "1",
        "cookieCache.version: change it to invalidate every cached cookie at once",
    ),
    (
        "PORTCULLIS_PASSWORD_HASH_CONCURRENCY",
        "password_hash_concurrency",
        "(CPU count)",
        "password hashes computed at once (threads of their own, never the request workers)",
    ),
    (
        "PORTCULLIS_DATABASE_TIMEOUT",
        "database_timeout",
        "5",
        "seconds to wait for a database connection (and for the /ready ping); past it requests answer 503",
    ),
    (
        "PORTCULLIS_PASSWORD_HASH_QUEUE",
        "password_hash_queue",
        "128",
        "password hashes that may wait for a thread; beyond that sign-in/sign-up answer 503 at once",
    ),
    (
        "PORTCULLIS_PASSWORD_HASH",
        "password_hash",
        "argon2id",
        "format of new password hashes: argon2id, or scrypt (Better Auth's own, so Better Auth can verify them); a hash in the other format is rewritten at the next sign-in",
    ),
    (
        "PORTCULLIS_IP_ADDRESS_HEADERS",
        "ip_address_headers",
        "x-forwarded-for",
        "comma-separated headers the client IP is read from, first usable one wins (Better Auth advanced.ipAddress.ipAddressHeaders); the socket address is never used. Clients can set these headers themselves: only list headers your reverse proxy overwrites, or the IP (session ipAddress, rate-limit key) is whatever the client claims",
    ),
    (
        "PORTCULLIS_TRUSTED_PROXIES",
        "trusted_proxies",
        "(empty)",
        "comma-separated IPs/CIDRs of your proxies (advanced.ipAddress.trustedProxies): a forwarded chain is walked from the right past these to the client. Empty: a header is believed only when it holds exactly one IP",
    ),
    (
        "PORTCULLIS_RATE_LIMIT",
        "rate_limit",
        "on (off when PORTCULLIS_DEV=1)",
        "on|off: Better Auth's per-IP-and-path rate limiting (rateLimit.enabled, on in production); 429 + X-Retry-After when exceeded. sign-in/sign-up/change-password/change-email and /two-factor/* allow 3 per 10 s, password-reset/verification mails 3 per 60 s",
    ),
    (
        "PORTCULLIS_RATE_LIMIT_STORAGE",
        "rate_limit_storage",
        "memory (redis when PORTCULLIS_REDIS_URL is set)",
        "memory (per process), database (Better Auth's rateLimit table, shared by every instance on the database) or redis (shared through PORTCULLIS_REDIS_URL)",
    ),
    (
        "PORTCULLIS_RATE_LIMIT_WINDOW",
        "rate_limit_window",
        "10",
        "default rule's window in seconds (rateLimit.window)",
    ),
    (
        "PORTCULLIS_RATE_LIMIT_MAX",
        "rate_limit_max",
        "100",
        "default rule's requests per window (rateLimit.max)",
    ),
    (
        "PORTCULLIS_REDIS_URL",
        "redis_url",
        "(none)",
        "redis://… (or rediss://…) for rate_limit_storage = redis",
    ),
    (
        "PORTCULLIS_REDIS_KEY_PREFIX",
        "redis_key_prefix",
        "portcullis:",
        "prefix of every Redis key Portcullis writes (rate-limit counters are <prefix>rate-limit:<ip>|<path>)",
    ),
    (
        "PORTCULLIS_LOG",
        "log",
        "info",
        "log filter (tracing EnvFilter syntax)",
    ),
    (
        "BETTER_AUTH_SECRET_FILE, BETTER_AUTH_SECRETS_FILE, DATABASE_URL_FILE, PORTCULLIS_REDIS_URL_FILE",
        "-",
        "(none)",
        "read that setting from a file instead (e.g. a Docker/Kubernetes secret; one trailing newline is dropped); setting both is an error",
    ),
    (
        "PORTCULLIS_CONFIG",
        "-",
        "(none)",
        "path of an optional TOML file with any of the keys above",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "BETTER_AUTH_SECRET is not set; set it (32+ random characters) or run with PORTCULLIS_DEV=1"
    )]
    MissingSecret,
    #[error("cannot read config file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Toml {
        path: String,
        source: toml::de::Error,
    },
    #[error("invalid value for {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Settings that may hold credentials and can also be read from a file named by `<NAME>_FILE`
/// (Docker/Kubernetes secrets), so they need not sit in the environment.
pub const FILE_VARIANTS: &[(&str, &str)] = &[
    ("BETTER_AUTH_SECRET", "BETTER_AUTH_SECRET_FILE"),
    ("BETTER_AUTH_SECRETS", "BETTER_AUTH_SECRETS_FILE"),
    ("DATABASE_URL", "DATABASE_URL_FILE"),
    ("PORTCULLIS_REDIS_URL", "PORTCULLIS_REDIS_URL_FILE"),
];

/// The environment with every `<NAME>_FILE` replaced by `<NAME>` = the file's contents (one
/// trailing line break removed). Setting both is an error rather than a silent choice.
fn with_file_variants(
    env: &HashMap<String, String>,
) -> Result<std::borrow::Cow<'_, HashMap<String, String>>, ConfigError> {
    let mut out = std::borrow::Cow::Borrowed(env);
    for (name, file_name) in FILE_VARIANTS {
        let Some(path) = env.get(*file_name).filter(|p| !p.is_empty()) else {
            continue;
        };
        if env.get(*name).is_some_and(|v| !v.is_empty()) {
            return Err(ConfigError::Invalid {
                name: file_name,
                reason: format!("both {name} and {file_name} are set; keep one"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
            path: path.clone(),
            source,
        })?;
        let value = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        out.to_mut().insert((*name).to_string(), value.to_string());
    }
    Ok(out)
}

/// Validated configuration. `Debug` never prints a secret.
#[derive(Clone)]
pub struct Config {
    /// The secret new signatures and ciphertexts use (Better Auth's `ctx.context.secret`):
    /// `BETTER_AUTH_SECRET`, or the first entry of `BETTER_AUTH_SECRETS`.
    pub secret: String,
    /// All of them, for decryption and verification (Better Auth's `ctx.context.secretConfig`).
    pub secret_config: SecretConfig,
    /// Base URL without trailing slash, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    pub database_url: String,
    pub listen: String,
    /// Mount point, starting with `/` and without trailing slash.
    pub base_path: String,
    /// Origin of `base_url` first, then the extra trusted origins.
    pub trusted_origins: Vec<String>,
    pub dev: bool,
    /// Cookies get `Secure` and the `__Secure-` prefix (base URL is https).
    pub secure_cookies: bool,
    pub session_expires_in: i64,
    pub session_update_age: i64,
    pub session_fresh_age: i64,
    /// `session.cookieCache`, when on.
    pub cookie_cache: Option<CookieCacheSettings>,
    pub password_hash_concurrency: usize,
    pub password_hash_queue: usize,
    /// Seconds to wait for a database connection or the readiness ping.
    pub database_timeout: u64,
    /// Format of new password hashes (`PORTCULLIS_PASSWORD_HASH`).
    pub password_hash: HashFormat,
    pub log: String,
    /// Enabled Better Auth plugins.
    pub plugins: Plugins,
    pub app_name: String,
    pub two_factor: TwoFactorSettings,
    /// Where the client IP comes from (sessions' `ipAddress`, rate-limit keys).
    pub ip: IpSettings,
    pub rate_limit: RateLimitSettings,
}

/// Better Auth's `rateLimit` options (better-auth: dist/context/create-context.mjs defaults).
#[derive(Clone)]
pub struct RateLimitSettings {
    pub enabled: bool,
    pub storage: RateLimitStorage,
    /// Default rule: `window` seconds, `max` requests.
    pub window: u64,
    pub max: u64,
    pub redis_url: Option<String>,
    pub redis_key_prefix: String,
}

impl fmt::Debug for RateLimitSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitSettings")
            .field("enabled", &self.enabled)
            .field("storage", &self.storage)
            .field("window", &self.window)
            .field("max", &self.max)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_key_prefix", &self.redis_key_prefix)
            .finish()
    }
}

/// `rateLimit.storage`: `memory`, `database`, or Redis in place of `secondary-storage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitStorage {
    Memory,
    Database,
    Redis,
}

/// Better Auth's `session.cookieCache` (better-auth: dist/cookies/index.mjs getCookies,
/// setCookieCache): strategy `compact` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieCacheSettings {
    /// Seconds (`maxAge`, default 300).
    pub max_age: i64,
    pub version: String,
}

/// Which Better Auth plugins are on. A plugin's routes and user fields exist only when it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Plugins {
    pub two_factor: bool,
    pub username: bool,
}

/// The twoFactor plugin's options (better-auth: dist/plugins/two-factor/index.mjs defaults).
#[derive(Debug, Clone)]
pub struct TwoFactorSettings {
    pub issuer: String,
    pub totp_digits: u32,
    pub totp_period: u64,
    pub skip_verification_on_enable: bool,
    pub allow_passwordless: bool,
    /// Where one-time codes are delivered; `None` → OTP is not offered.
    pub otp_webhook_url: Option<String>,
    /// OTP codes are also printed to the log (development mode only).
    pub otp_log: bool,
    /// OTP lifetime in seconds (`otpOptions.period`, 3 minutes).
    pub otp_period: i64,
    pub otp_digits: u32,
    pub otp_allowed_attempts: u32,
    /// `twoFactorCookieMaxAge`: challenge cookie and rows.
    pub challenge_max_age: i64,
    /// `trustDeviceMaxAge`.
    pub trust_device_max_age: i64,
    /// Attempts per challenge for TOTP and backup codes (hard-coded upstream).
    pub challenge_attempts: u32,
    pub lockout_max_failed: i32,
    pub lockout_seconds: i64,
}

impl TwoFactorSettings {
    /// OTP is offered only when codes can be delivered (upstream: only with `sendOTP`).
    pub fn otp_enabled(&self) -> bool {
        self.otp_webhook_url.is_some()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("secret", &"***")
            .field("secret_config", &self.secret_config)
            .field("base_url", &self.base_url)
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("base_path", &self.base_path)
            .field("trusted_origins", &self.trusted_origins)
            .field("dev", &self.dev)
            .field("session_expires_in", &self.session_expires_in)
            .field("session_update_age", &self.session_update_age)
            .field("session_fresh_age", &self.session_fresh_age)
            .field("cookie_cache", &self.cookie_cache)
            .field("password_hash_concurrency", &self.password_hash_concurrency)
            .field("password_hash_queue", &self.password_hash_queue)
            .field("database_timeout", &self.database_timeout)
            .field("password_hash", &self.password_hash)
            .field("plugins", &self.plugins)
            .field("app_name", &self.app_name)
            .field("two_factor", &self.two_factor)
            .field("ip", &self.ip)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

/// Hides a password in `scheme://user:password@host/…`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Config {
    /// Reads the process environment, and the TOML file named by `file` or `PORTCULLIS_CONFIG`.
    pub fn from_env(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_sources(&env, file)
    }

    /// Same as [`Config::from_env`] with an explicit environment (tests).
    pub fn from_sources(
        env: &HashMap<String, String>,
        file: Option<&Path>,
    ) -> Result<Self, ConfigError> {
        let file_path = file
            .map(|p| p.to_string_lossy().into_owned())
            .or_else(|| env.get("PORTCULLIS_CONFIG").cloned());
        let mut raw = match file_path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::File {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Toml { path, source })?
            }
            None => RawConfig::default(),
        };
        let env = with_file_variants(env)?;
        raw.overlay_env(&env)?;
        Self::validate(raw)
    }

    fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let dev = raw.dev.unwrap_or(false);
        let rate_limit = rate_limit_settings(&raw, dev)?;
        let cookie_cache = cookie_cache_settings(&raw)?;
        // better-auth: dist/context/create-context.mjs: with a secrets list, `secret` becomes the
        // legacy secret; without one, behaviour is the single secret's.
        let single = raw.better_auth_secret.filter(|s| !s.is_empty());
        let secret_config = match raw.better_auth_secrets.as_deref().filter(|s| !s.is_empty()) {
            Some(list) => SecretConfig::Versioned(
                parse_secrets_env(list)
                    .and_then(|keys| VersionedSecrets::new(keys, single))
                    .map_err(|reason| ConfigError::Invalid {
                        name: "BETTER_AUTH_SECRETS",
                        reason,
                    })?,
            ),
            None => SecretConfig::Single(match single {
                Some(s) => s,
                None if dev => DEV_SECRET.to_string(),
                None => return Err(ConfigError::MissingSecret),
            }),
        };
        let secret = secret_config.current().to_owned();
        let base_url = raw
            .better_auth_url
            .unwrap_or_else(|| "http://127.0.0.1:8080".into())
            .trim_end_matches('/')
            .to_string();
        let base_origin = origin_of(&base_url).ok_or_else(|| ConfigError::Invalid {
            name: "BETTER_AUTH_URL",
            reason: format!("{base_url:?} is not an http(s) URL"),
        })?;
        let base_path = normalize_base_path(raw.base_path.as_deref().unwrap_or("/api/auth"));
        let mut trusted_origins = vec![base_origin];
        trusted_origins.extend(
            raw.trusted_origins
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
        let positive = |name: &'static str, v: i64| {
            if v < 0 {
                Err(ConfigError::Invalid {
                    name,
                    reason: "must not be negative".into(),
                })
            } else {
                Ok(v)
            }
        };
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let plugins = parse_plugins(raw.plugins.as_deref().unwrap_or("two-factor"))?;
        let app_name = raw.app_name.unwrap_or_else(|| "Portcullis".into());
        let totp_digits = raw.two_factor_totp_digits.unwrap_or(6);
        if totp_digits != 6 && totp_digits != 8 {
            return Err(ConfigError::Invalid {
                name: "PORTCULLIS_TWO_FACTOR_TOTP_DIGITS",
                reason: "must be 6 or 8".into(),
            });
        }
        let totp_period = raw.two_factor_totp_period.unwrap_or(30);
        if totp_period == 0 {
            return Err(ConfigError::Invalid {
                name: "PORTCULLIS_TWO_FACTOR_TOTP_PERIOD",
                reason: "must be at least 1".into(),
            });
        }
        let password_hash = match raw.password_hash.as_deref() {
            None => HashFormat::default(),
            Some(v) => v.parse().map_err(|reason| ConfigError::Invalid {
                name: "PORTCULLIS_PASSWORD_HASH",
                reason,
            })?,
        };
        let two_factor = TwoFactorSettings {
            issuer: raw.two_factor_issuer.unwrap_or_else(|| app_name.clone()),
            totp_digits,
            totp_period,
            skip_verification_on_enable: raw
                .two_factor_skip_verification_on_enable
                .unwrap_or(false),
            allow_passwordless: raw.two_factor_allow_passwordless.unwrap_or(false),
            otp_webhook_url: raw.otp_webhook_url.filter(|u| !u.is_empty()),
            otp_log: dev,
            otp_period: 180,
            otp_digits: 6,
            otp_allowed_attempts: 5,
            challenge_max_age: 600,
            trust_device_max_age: 2_592_000,
            challenge_attempts: 5,
            lockout_max_failed: 10,
            lockout_seconds: 900,
        };
        let ip = IpSettings {
            headers: match raw.ip_address_headers.as_deref() {
                None => IpSettings::default().headers,
                Some(list) => {
                    let headers: Vec<String> =
                        comma_list(list).map(str::to_ascii_lowercase).collect();
                    if let Some(bad) = headers.iter().find(|h| {
                        actix_web::http::header::HeaderName::try_from(h.as_str()).is_err()
                    }) {
                        return Err(ConfigError::Invalid {
                            name: "PORTCULLIS_IP_ADDRESS_HEADERS",
                            reason: format!("{bad:?} is not a header name"),
                        });
                    }
                    headers
                }
            },
            // Upstream ignores invalid entries with a warning (dist/context/create-context.mjs);
            // here a typo must not silently change whom we trust, so it stops the start-up.
            trusted_proxies: comma_list(raw.trusted_proxies.as_deref().unwrap_or(""))
                .map(|s| s.parse::<Cidr>())
                .collect::<Result<_, _>>()
                .map_err(|reason| ConfigError::Invalid {
                    name: "PORTCULLIS_TRUSTED_PROXIES",
                    reason,
                })?,
        };
        Ok(Self {
            ip,
            rate_limit,
            plugins,
            app_name,
            two_factor,
            secret,
            secret_config,
            secure_cookies: base_url.starts_with("https://"),
            base_url,
            database_url: raw
                .database_url
                .unwrap_or_else(|| "sqlite://portcullis.db?mode=rwc".into()),
            listen: raw.listen.unwrap_or_else(|| "127.0.0.1:8080".into()),
            base_path,
            trusted_origins,
            dev,
            session_expires_in: positive(
                "PORTCULLIS_SESSION_EXPIRES_IN",
                raw.session_expires_in.unwrap_or(604_800),
            )?,
            session_update_age: positive(
                "PORTCULLIS_SESSION_UPDATE_AGE",
                raw.session_update_age.unwrap_or(86_400),
            )?,
            session_fresh_age: positive(
                "PORTCULLIS_SESSION_FRESH_AGE",
                raw.session_fresh_age.unwrap_or(86_400),
            )?,
            cookie_cache,
            password_hash_concurrency: raw.password_hash_concurrency.unwrap_or(cpus).max(1),
            password_hash_queue: raw.password_hash_queue.unwrap_or(128),
            database_timeout: raw.database_timeout.unwrap_or(5).max(1),
            password_hash,
            log: raw.log.unwrap_or_else(|| "info".into()),
        })
    }
}

impl RawConfig {
    fn overlay_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        fn set(slot: &mut Option<String>, env: &HashMap<String, String>, name: &str) {
            if let Some(v) = env.get(name) {
                *slot = Some(v.clone());
            }
        }
        fn flag(slot: &mut Option<bool>, env: &HashMap<String, String>, name: &str) {
            if let Some(v) = env.get(name) {
                *slot = Some(matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                ));
            }
        }
        fn parse<T: std::str::FromStr>(
            slot: &mut Option<T>,
            env: &HashMap<String, String>,
            name: &'static str,
        ) -> Result<(), ConfigError> {
            if let Some(v) = env.get(name) {
                *slot = Some(v.trim().parse().map_err(|_| ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not a number"),
                })?);
            }
            Ok(())
        }
        set(&mut self.better_auth_secret, env, "BETTER_AUTH_SECRET");
        set(&mut self.better_auth_secrets, env, "BETTER_AUTH_SECRETS");
        set(&mut self.better_auth_url, env, "BETTER_AUTH_URL");
        set(&mut self.database_url, env, "DATABASE_URL");
        set(&mut self.listen, env, "PORTCULLIS_LISTEN");
        set(&mut self.base_path, env, "PORTCULLIS_BASE_PATH");
        set(&mut self.trusted_origins, env, "PORTCULLIS_TRUSTED_ORIGINS");
        set(&mut self.log, env, "PORTCULLIS_LOG");
        set(&mut self.password_hash, env, "PORTCULLIS_PASSWORD_HASH");
        set(&mut self.plugins, env, "PORTCULLIS_PLUGINS");
        set(&mut self.app_name, env, "PORTCULLIS_APP_NAME");
        set(
            &mut self.two_factor_issuer,
            env,
            "PORTCULLIS_TWO_FACTOR_ISSUER",
        );
        set(&mut self.otp_webhook_url, env, "PORTCULLIS_OTP_WEBHOOK_URL");
        set(
            &mut self.ip_address_headers,
            env,
            "PORTCULLIS_IP_ADDRESS_HEADERS",
        );
        set(&mut self.trusted_proxies, env, "PORTCULLIS_TRUSTED_PROXIES");
        if let Some(v) = env.get("PORTCULLIS_RATE_LIMIT") {
            self.rate_limit = Some(Toggle::Text(v.clone()));
        }
        if let Some(v) = env.get("PORTCULLIS_COOKIE_CACHE") {
            self.cookie_cache = Some(Toggle::Text(v.clone()));
        }
        set(
            &mut self.cookie_cache_version,
            env,
            "PORTCULLIS_COOKIE_CACHE_VERSION",
        );
        parse(
            &mut self.cookie_cache_max_age,
            env,
            "PORTCULLIS_COOKIE_CACHE_MAX_AGE",
        )?;
        set(
            &mut self.rate_limit_storage,
            env,
            "PORTCULLIS_RATE_LIMIT_STORAGE",
        );
        set(&mut self.redis_url, env, "PORTCULLIS_REDIS_URL");
        set(
            &mut self.redis_key_prefix,
            env,
            "PORTCULLIS_REDIS_KEY_PREFIX",
        );
        parse(
            &mut self.rate_limit_window,
            env,
            "PORTCULLIS_RATE_LIMIT_WINDOW",
        )?;
        parse(&mut self.rate_limit_max, env, "PORTCULLIS_RATE_LIMIT_MAX")?;
        flag(&mut self.dev, env, "PORTCULLIS_DEV");
        flag(
            &mut self.two_factor_skip_verification_on_enable,
            env,
            "PORTCULLIS_TWO_FACTOR_SKIP_VERIFICATION_ON_ENABLE",
        );
        flag(
            &mut self.two_factor_allow_passwordless,
            env,
            "PORTCULLIS_TWO_FACTOR_ALLOW_PASSWORDLESS",
        );
        parse(
            &mut self.two_factor_totp_digits,
            env,
            "PORTCULLIS_TWO_FACTOR_TOTP_DIGITS",
        )?;
        parse(
            &mut self.two_factor_totp_period,
            env,
            "PORTCULLIS_TWO_FACTOR_TOTP_PERIOD",
        )?;
        parse(
            &mut self.session_expires_in,
            env,
            "PORTCULLIS_SESSION_EXPIRES_IN",
        )?;
        parse(
            &mut self.session_update_age,
            env,
            "PORTCULLIS_SESSION_UPDATE_AGE",
        )?;
        parse(
            &mut self.session_fresh_age,
            env,
            "PORTCULLIS_SESSION_FRESH_AGE",
        )?;
        parse(
            &mut self.password_hash_concurrency,
            env,
            "PORTCULLIS_PASSWORD_HASH_CONCURRENCY",
        )?;
        parse(
            &mut self.password_hash_queue,
            env,
            "PORTCULLIS_PASSWORD_HASH_QUEUE",
        )?;
        parse(
            &mut self.database_timeout,
            env,
            "PORTCULLIS_DATABASE_TIMEOUT",
        )?;
        Ok(())
    }
}

fn parse_plugins(list: &str) -> Result<Plugins, ConfigError> {
    let mut plugins = Plugins::default();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "two-factor" | "twoFactor" => plugins.two_factor = true,
            "username" => plugins.username = true,
            other => {
                return Err(ConfigError::Invalid {
                    name: "PORTCULLIS_PLUGINS",
                    reason: format!("unknown plugin {other:?} (known: two-factor, username)"),
                });
            }
        }
    }
    Ok(plugins)
}

fn comma_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Rate limiting: on unless in development (upstream: `enabled ?? isProduction`), window 10 s,
/// max 100 (`|| 10`, `|| 100`), storage `memory`, or the secondary storage when one is
/// configured — Redis plays that part here (better-auth: dist/context/create-context.mjs).
/// An on/off setting's value, `default` when unset.
fn toggle(value: Option<&Toggle>, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match value {
        None => Ok(default),
        Some(Toggle::Bool(b)) => Ok(*b),
        Some(Toggle::Text(v)) => match v.trim().to_ascii_lowercase().as_str() {
            "on" | "1" | "true" | "yes" => Ok(true),
            "off" | "0" | "false" | "no" => Ok(false),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not on or off"),
            }),
        },
    }
}

fn cookie_cache_settings(raw: &RawConfig) -> Result<Option<CookieCacheSettings>, ConfigError> {
    if !toggle(raw.cookie_cache.as_ref(), "PORTCULLIS_COOKIE_CACHE", false)? {
        return Ok(None);
    }
    // `maxAge || 300` upstream: 0 means the default. Max-Age above 400 days is refused by the
    // cookie serializer, so it is refused here at start-up.
    let max_age = match raw.cookie_cache_max_age.unwrap_or(300) {
        0 => 300,
        v if (1..=portcullis_protocol::cookies::MAX_AGE_LIMIT).contains(&v) => v,
        v => {
            return Err(ConfigError::Invalid {
                name: "PORTCULLIS_COOKIE_CACHE_MAX_AGE",
                reason: format!("{v} is not between 1 and 34560000 seconds"),
            });
        }
    };
    let version = raw
        .cookie_cache_version
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| portcullis_protocol::cookie_cache::DEFAULT_VERSION.to_owned());
    Ok(Some(CookieCacheSettings { max_age, version }))
}

fn rate_limit_settings(raw: &RawConfig, dev: bool) -> Result<RateLimitSettings, ConfigError> {
    let enabled = toggle(raw.rate_limit.as_ref(), "PORTCULLIS_RATE_LIMIT", !dev)?;
    let redis_url = raw.redis_url.clone().filter(|u| !u.trim().is_empty());
    let storage = match raw.rate_limit_storage.as_deref().map(str::trim) {
        None | Some("") if redis_url.is_some() => RateLimitStorage::Redis,
        None | Some("") | Some("memory") => RateLimitStorage::Memory,
        Some("database") => RateLimitStorage::Database,
        Some("redis") => RateLimitStorage::Redis,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "PORTCULLIS_RATE_LIMIT_STORAGE",
                reason: format!("{other:?} is not memory, database or redis"),
            });
        }
    };
    if enabled && storage == RateLimitStorage::Redis && redis_url.is_none() {
        return Err(ConfigError::Invalid {
            name: "PORTCULLIS_REDIS_URL",
            reason: "rate_limit_storage = redis needs a Redis URL".into(),
        });
    }
    let window = raw.rate_limit_window.unwrap_or(10);
    let max = raw.rate_limit_max.unwrap_or(100);
    if window == 0 || max == 0 {
        return Err(ConfigError::Invalid {
            name: if window == 0 {
                "PORTCULLIS_RATE_LIMIT_WINDOW"
            } else {
                "PORTCULLIS_RATE_LIMIT_MAX"
            },
            reason: "must be at least 1".into(),
        });
    }
    Ok(RateLimitSettings {
        enabled,
        storage,
        window,
        max,
        redis_url,
        redis_key_prefix: raw
            .redis_key_prefix
            .clone()
            .unwrap_or_else(|| "portcullis:".into()),
    })
}

fn normalize_base_path(p: &str) -> String {
    let trimmed = p.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

/// `scheme://host[:port]` of an http(s) URL, lower-cased, default ports dropped (as WHATWG URL does).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?.to_ascii_lowercase();
    if host_port.is_empty() {
        return None;
    }
    let default_port = if scheme == "http" { ":80" } else { ":443" };
    let host_port = host_port
        .strip_suffix(default_port)
        .unwrap_or(&host_port)
        .to_string();
    Some(format!("{scheme}://{host_port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn refuses_to_start_without_secret() {
        assert!(matches!(
            Config::from_sources(&env(&[]), None),
            Err(ConfigError::MissingSecret)
        ));
    }

    #[test]
    fn dev_mode_uses_fixed_secret_and_defaults() {
        let c = Config::from_sources(&env(&[("PORTCULLIS_DEV", "1")]), None).unwrap();
        assert_eq!(c.secret, DEV_SECRET);
        assert_eq!(c.base_path, "/api/auth");
        assert_eq!(c.trusted_origins, vec!["http://127.0.0.1:8080"]);
        assert!(!c.secure_cookies);
        assert!(!format!("{c:?}").contains(DEV_SECRET));
        assert_eq!(
            c.plugins,
            Plugins {
                two_factor: true,
                username: false
            }
        );
        assert_eq!(c.two_factor.issuer, "Portcullis");
    }

    #[test]
    fn plugins_and_two_factor_settings() {
        let c = Config::from_sources(
            &env(&[
                ("PORTCULLIS_DEV", "1"),
                ("PORTCULLIS_PLUGINS", "username, two-factor"),
                ("PORTCULLIS_APP_NAME", "My App"),
                ("PORTCULLIS_TWO_FACTOR_TOTP_DIGITS", "8"),
            ]),
            None,
        )
        .unwrap();
        assert!(c.plugins.two_factor && c.plugins.username);
        assert_eq!(c.two_factor.issuer, "My App");
        assert_eq!(c.two_factor.totp_digits, 8);
        for (k, v) in [
            ("PORTCULLIS_PLUGINS", "magic-link"),
            ("PORTCULLIS_TWO_FACTOR_TOTP_DIGITS", "7"),
        ] {
            assert!(matches!(
                Config::from_sources(&env(&[("PORTCULLIS_DEV", "1"), (k, v)]), None),
                Err(ConfigError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn env_overrides_and_trusted_origins() {
        let c = Config::from_sources(
            &env(&[
                ("BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret"),
                ("BETTER_AUTH_URL", "https://Auth.Example.com:443/"),
                (
                    "PORTCULLIS_TRUSTED_ORIGINS",
                    " https://app.example.com ,,*.example.org",
                ),
                ("PORTCULLIS_BASE_PATH", "auth/"),
            ]),
            None,
        )
        .unwrap();
        assert!(c.secure_cookies);
        assert_eq!(c.base_path, "/auth");
        assert_eq!(
            c.trusted_origins,
            vec![
                "https://auth.example.com",
                "https://app.example.com",
                "*.example.org"
            ]
        );
    }

    #[test]
    fn toml_file_then_env() {
        let dir = std::env::temp_dir().join(format!("pc-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(
            &path,
            "better_auth_secret = \"from-file-secret-0123456789\"\nlisten = \"127.0.0.1:9999\"\n",
        )
        .unwrap();
        let c = Config::from_sources(&env(&[("PORTCULLIS_LISTEN", "127.0.0.1:1")]), Some(&path))
            .unwrap();
        assert_eq!(c.secret, "from-file-secret-0123456789");
        assert_eq!(c.listen, "127.0.0.1:1");
        std::fs::write(&path, "nope = 1\n").unwrap();
        assert!(matches!(
            Config::from_sources(&env(&[]), Some(&path)),
            Err(ConfigError::Toml { .. })
        ));
    }

    #[test]
    fn cookie_cache_settings() {
        let dev = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("PORTCULLIS_DEV", "1")];
            pairs.extend_from_slice(extra);
            Config::from_sources(&env(&pairs), None).map(|c| c.cookie_cache)
        };
        assert_eq!(dev(&[]).unwrap(), None, "off by default");
        let on = |max_age: i64, version: &str| {
            Some(CookieCacheSettings {
                max_age,
                version: version.into(),
            })
        };
        assert_eq!(
            dev(&[("PORTCULLIS_COOKIE_CACHE", "on")]).unwrap(),
            on(300, "1")
        );
        assert_eq!(
            dev(&[
                ("PORTCULLIS_COOKIE_CACHE", "true"),
                ("PORTCULLIS_COOKIE_CACHE_MAX_AGE", "0"),
                ("PORTCULLIS_COOKIE_CACHE_VERSION", "7"),
            ])
            .unwrap(),
            on(300, "7"),
            "maxAge 0 means the default, as `maxAge || 300`"
        );
        for bad in [
            [
                ("PORTCULLIS_COOKIE_CACHE", "maybe"),
                ("PORTCULLIS_COOKIE_CACHE_MAX_AGE", "1"),
            ],
            [
                ("PORTCULLIS_COOKIE_CACHE", "on"),
                ("PORTCULLIS_COOKIE_CACHE_MAX_AGE", "-5"),
            ],
            [
                ("PORTCULLIS_COOKIE_CACHE", "on"),
                ("PORTCULLIS_COOKIE_CACHE_MAX_AGE", "34560001"),
            ],
        ] {
            assert!(
                matches!(dev(&bad), Err(ConfigError::Invalid { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn password_hash_format() {
        let dev = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("PORTCULLIS_DEV", "1")];
            pairs.extend_from_slice(extra);
            Config::from_sources(&env(&pairs), None)
        };
        assert_eq!(dev(&[]).unwrap().password_hash, HashFormat::Argon2id);
        assert_eq!(
            dev(&[("PORTCULLIS_PASSWORD_HASH", "scrypt")])
                .unwrap()
                .password_hash,
            HashFormat::Scrypt
        );
        assert!(matches!(
            dev(&[("PORTCULLIS_PASSWORD_HASH", "md5")]),
            Err(ConfigError::Invalid {
                name: "PORTCULLIS_PASSWORD_HASH",
                ..
            })
        ));
        let dir = std::env::temp_dir().join(format!("pc-config-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        std::fs::write(&path, "dev = true\npassword_hash = \"scrypt\"\n").unwrap();
        let c = Config::from_sources(&env(&[]), Some(&path)).unwrap();
        assert_eq!(c.password_hash, HashFormat::Scrypt);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn rate_limit_defaults_and_overrides() {
        let cfg = |pairs: &[(&str, &str)]| Config::from_sources(&env(pairs), None);
        let dev = cfg(&[("PORTCULLIS_DEV", "1")]).unwrap().rate_limit;
        assert!(!dev.enabled);
        assert_eq!(
            (dev.storage, dev.window, dev.max),
            (RateLimitStorage::Memory, 10, 100)
        );
        let prod = cfg(&[("BETTER_AUTH_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret")])
            .unwrap()
            .rate_limit;
        assert!(prod.enabled);
        let c = cfg(&[
            ("PORTCULLIS_DEV", "1"),
            ("PORTCULLIS_RATE_LIMIT", "on"),
            ("PORTCULLIS_RATE_LIMIT_WINDOW", "2"),
            ("PORTCULLIS_RATE_LIMIT_MAX", "5"),
            ("PORTCULLIS_REDIS_URL", "redis://:pw@127.0.0.1:6379"),
        ])
        .unwrap();
        assert!(c.rate_limit.enabled);
        assert_eq!(c.rate_limit.storage, RateLimitStorage::Redis);
        assert_eq!((c.rate_limit.window, c.rate_limit.max), (2, 5));
        assert!(!format!("{c:?}").contains("pw@"));
        for (k, v) in [
            ("PORTCULLIS_RATE_LIMIT", "maybe"),
            ("PORTCULLIS_RATE_LIMIT_STORAGE", "disk"),
            ("PORTCULLIS_RATE_LIMIT_WINDOW", "0"),
            ("PORTCULLIS_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("PORTCULLIS_IP_ADDRESS_HEADERS", "bad header"),
        ] {
            assert!(
                matches!(
                    cfg(&[("PORTCULLIS_DEV", "1"), (k, v)]),
                    Err(ConfigError::Invalid { .. })
                ),
                "{k}={v}"
            );
        }
        assert!(matches!(
            cfg(&[
                ("PORTCULLIS_DEV", "1"),
                ("PORTCULLIS_RATE_LIMIT", "on"),
                ("PORTCULLIS_RATE_LIMIT_STORAGE", "redis")
            ]),
            Err(ConfigError::Invalid {
                name: "PORTCULLIS_REDIS_URL",
                ..
            })
        ));
        let c = cfg(&[
            ("PORTCULLIS_DEV", "1"),
            (
                "PORTCULLIS_IP_ADDRESS_HEADERS",
                "CF-Connecting-IP, x-forwarded-for",
            ),
            ("PORTCULLIS_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
        ])
        .unwrap();
        assert_eq!(c.ip.headers, ["cf-connecting-ip", "x-forwarded-for"]);
        assert_eq!(c.ip.trusted_proxies.len(), 2);
        let dir = std::env::temp_dir().join(format!("pc-config-rl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.toml");
        for (toml, on) in [("rate_limit = true", true), ("rate_limit = \"off\"", false)] {
            std::fs::write(&path, toml).unwrap();
            let c = Config::from_sources(&env(&[("PORTCULLIS_DEV", "1")]), Some(&path)).unwrap();
            assert_eq!(c.rate_limit.enabled, on, "{toml}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn secrets_can_come_from_files() {
        let dir = std::env::temp_dir().join(format!("pc_cfg_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("secret");
        std::fs::write(&secret, "from-a-file-0123456789-abcdefghijklmnop\n").unwrap();
        let db = dir.join("db");
        std::fs::write(&db, "sqlite://from-file.db?mode=rwc").unwrap();
        let c = Config::from_sources(
            &env(&[
                ("BETTER_AUTH_SECRET_FILE", secret.to_str().unwrap()),
                ("DATABASE_URL_FILE", db.to_str().unwrap()),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(c.secret, "from-a-file-0123456789-abcdefghijklmnop");
        assert_eq!(c.database_url, "sqlite://from-file.db?mode=rwc");

        let both = Config::from_sources(
            &env(&[
                ("BETTER_AUTH_SECRET", "x".repeat(32).as_str()),
                ("BETTER_AUTH_SECRET_FILE", secret.to_str().unwrap()),
            ]),
            None,
        );
        assert!(matches!(
            both,
            Err(ConfigError::Invalid {
                name: "BETTER_AUTH_SECRET_FILE",
                ..
            })
        ));
        let missing = Config::from_sources(
            &env(&[(
                "BETTER_AUTH_SECRET_FILE",
                dir.join("nope").to_str().unwrap(),
            )]),
            None,
        );
        assert!(matches!(missing, Err(ConfigError::File { .. })));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn secret_rotation_list() {
        let a = "secret-a-0123456789-abcdefghijklmnopqrstuvwxyz";
        let b = "secret-b-0123456789-abcdefghijklmnopqrstuvwxyz";
        let list = format!("2:{b}, 1:{a}");
        let c = Config::from_sources(
            &env(&[("BETTER_AUTH_SECRETS", &list), ("BETTER_AUTH_SECRET", a)]),
            None,
        )
        .unwrap();
        // The first entry signs and encrypts; BETTER_AUTH_SECRET becomes the legacy secret.
        assert_eq!(c.secret, b);
        assert_eq!(c.secret_config.verifying(), [b, a]);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secret-a") && !shown.contains("secret-b"),
            "{shown}"
        );
        assert!(shown.contains("Versioned { versions: [2, 1], legacy: true }"));

        // Neither a secret nor development mode is needed beside the list.
        let c = Config::from_sources(&env(&[("BETTER_AUTH_SECRETS", "7:only")]), None).unwrap();
        assert_eq!(
            (c.secret.as_str(), c.secret_config.verifying()),
            ("only", vec!["only"])
        );
        let c = Config::from_sources(
            &env(&[("BETTER_AUTH_SECRETS", "7:only"), ("PORTCULLIS_DEV", "1")]),
            None,
        )
        .unwrap();
        assert_eq!(c.secret_config.verifying(), ["only"]);
        // Empty means unset, as upstream (`if (!envValue) return null`).
        let c = Config::from_sources(
            &env(&[("BETTER_AUTH_SECRETS", ""), ("BETTER_AUTH_SECRET", a)]),
            None,
        )
        .unwrap();
        assert_eq!(c.secret_config, SecretConfig::Single(a.into()));

        match Config::from_sources(&env(&[("BETTER_AUTH_SECRETS", "2:b,2:c")]), None) {
            Err(
                e @ ConfigError::Invalid {
                    name: "BETTER_AUTH_SECRETS",
                    ..
                },
            ) => assert_eq!(
                e.to_string(),
                "invalid value for BETTER_AUTH_SECRETS: Duplicate version 2 in `secrets`. Each version must be unique."
            ),
            other => panic!("{other:?}"),
        }

        let dir = std::env::temp_dir().join(format!("pc_cfg_secrets_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secrets");
        std::fs::write(&file, format!("{list}\n")).unwrap();
        let c = Config::from_sources(
            &env(&[("BETTER_AUTH_SECRETS_FILE", file.to_str().unwrap())]),
            None,
        )
        .unwrap();
        assert_eq!(c.secret_config.verifying(), [b, a]);
        assert!(matches!(
            Config::from_sources(
                &env(&[
                    ("BETTER_AUTH_SECRETS", "1:x"),
                    ("BETTER_AUTH_SECRETS_FILE", file.to_str().unwrap())
                ]),
                None,
            ),
            Err(ConfigError::Invalid {
                name: "BETTER_AUTH_SECRETS_FILE",
                ..
            })
        ));
        let toml = dir.join("c.toml");
        std::fs::write(&toml, format!("better_auth_secrets = \"{list}\"\n")).unwrap();
        let c = Config::from_sources(&env(&[]), Some(&toml)).unwrap();
        assert_eq!(c.secret, b);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn redacts_database_password() {
        assert_eq!(
            redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
