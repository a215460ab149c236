//! Rate limiting, as Better Auth 1.7.25 does it (better-auth: dist/api/rate-limiter/index.mjs,
//! wired in dist/api/index.mjs `onRequest`): every request to the auth handler, before route
//! matching and the origin check, is counted against the key `<client ip>|<path>`; over the
//! limit it is answered with a bare 429 (not Better Auth's `{code,message}` error shape):
//!
//! ```text
//! 429 Too Many Requests
//! Content-Type: application/json
//! X-Retry-After: <seconds>
//!
//! {"message":"Too many requests. Please try again later."}
//! ```
//!
//! Rules, later ones winning: the default (`PORTCULLIS_RATE_LIMIT_WINDOW`/`_MAX`, 10 s / 100),
//! then upstream's special rules (sign-in, sign-up, change-password, change-email: 3 per 10 s;
//! password reset and verification mails: 3 per 60 s), then the two-factor plugin's
//! `/two-factor/*` rule (3 per 10 s). Custom rules (`rateLimit.customRules`) are not offered.
//!
//! Storages ([`memory`], [`database`], [`redis`]) each decide and count in one atomic step.
//! When a shared storage fails, the request is decided by a per-process in-memory limiter instead
//! (see [`RateLimiter::consume`]).

pub mod database;
pub mod memory;
pub mod redis;

use std::{
    future::{Ready, ready},
    rc::Rc,
    sync::atomic::{AtomicBool, AtomicI64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use actix_web::{
    HttpResponse,
    body::BoxBody,
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::StatusCode,
    web,
};

use crate::{
    config::{Config, Plugins, RateLimitStorage},
    state::AppState,
    store::Db,
};

/// The body of every 429 (rateLimitResponse).
pub const TOO_MANY_REQUESTS: &str = r#"{"message":"Too many requests. Please try again later."}"#;

/// Key used when no trustworthy client IP is known: one shared bucket per path (NO_TRUSTED_IP_KEY).
pub const NO_TRUSTED_IP_KEY: &str = "no-trusted-ip";

/// A limit: at most `max` requests per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub window: u64,
    pub max: u64,
}

impl Rule {
    pub fn window_ms(self) -> i64 {
        i64::try_from(self.window.saturating_mul(1000)).unwrap_or(i64::MAX)
    }
}

/// What a storage answers for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub allowed: bool,
    /// Seconds until the window frees up, when refused (`None` → the rule's window).
    pub retry_after: Option<u64>,
}

impl Outcome {
    pub const ALLOWED: Self = Self {
        allowed: true,
        retry_after: None,
    };

    pub fn refused(retry_after: u64) -> Self {
        Self {
            allowed: false,
            retry_after: Some(retry_after),
        }
    }
}

/// The counter stored per key (Better Auth's `RateLimit`: `count`, `lastRequest` in ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub count: u64,
    pub last_request: i64,
}

/// decideConsume's answer: the counter to store (when allowed) and the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub next: Counter,
    pub outcome: Outcome,
}

/// decideConsume: a rolling window anchored at the last *allowed* request. No counter → first
/// request; the window elapsed since `lastRequest` → reset to 1; `count >= max` → refused (the
/// counter is left as is); else count + 1 and `lastRequest = now`.
pub fn decide_consume(data: Option<Counter>, rule: Rule, now: i64) -> Decision {
    let allow = |count| Decision {
        next: Counter {
            count,
            last_request: now,
        },
        outcome: Outcome::ALLOWED,
    };
    match data {
        None => allow(1),
        Some(d) if now - d.last_request >= rule.window_ms() => allow(1),
        Some(d) if d.count >= rule.max => Decision {
            next: d,
            outcome: Outcome::refused(retry_after(d.last_request, rule, now)),
        },
        Some(d) => allow(d.count + 1),
    }
}

/// getRetryAfter: whole seconds (rounded up) until `lastRequest + window`.
pub fn retry_after(last_request: i64, rule: Rule, now: i64) -> u64 {
    let ms = last_request.saturating_add(rule.window_ms()) - now;
    u64::try_from(ms.max(0)).unwrap_or(0).div_ceil(1000)
}

/// normalizePathname (@better-auth/core: dist/utils/url.mjs) for a request under `base_path`:
/// the path without the base path and trailing slashes, `/` for the base path itself. `None`
/// for paths outside the base path, which never reach Better Auth's handler.
pub fn normalize_path(path: &str, base_path: &str) -> Option<String> {
    let path = path.trim_end_matches('/');
    let path = if path.is_empty() { "/" } else { path };
    if base_path.is_empty() {
        return Some(path.to_string());
    }
    if path == base_path {
        return Some("/".into());
    }
    let rest = path.strip_prefix(base_path)?.strip_prefix('/')?;
    let rest = rest.trim_end_matches('/');
    Some(format!("/{rest}"))
}

/// getDefaultSpecialRules, then the plugins' `rateLimit` rules (a plugin rule overrides a special
/// rule). Only the two-factor plugin has one; username has none.
pub fn builtin_rule(path: &str, plugins: &Plugins) -> Option<Rule> {
    let mut rule = None;
    if ["/sign-in", "/sign-up", "/change-password", "/change-email"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        rule = Some(Rule { window: 10, max: 3 });
    } else if [
        "/request-password-reset",
        "/send-verification-email",
        "/email-otp/send-verification-otp",
        "/email-otp/request-password-reset",
    ]
    .contains(&path)
        || path.starts_with("/forget-password")
    {
        rule = Some(Rule { window: 60, max: 3 });
    }
    // better-auth: dist/plugins/two-factor/index.mjs `rateLimit`.
    if plugins.two_factor && path.starts_with("/two-factor/") {
        rule = Some(Rule { window: 10, max: 3 });
    }
    rule
}

/// resolveRateLimitConfig: the key (createRateLimitKey, `<ip>|<path>`) and the rule for a
/// normalised path.
pub fn resolve(ip: Option<&str>, path: &str, default: Rule, plugins: &Plugins) -> (String, Rule) {
    let key = format!("{}|{path}", ip.unwrap_or(NO_TRUSTED_IP_KEY));
    (key, builtin_rule(path, plugins).unwrap_or(default))
}

/// Milliseconds since the Unix epoch (`Date.now()`).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A storage failure; the request is then decided by the in-memory fallback.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    #[error("the counter kept changing under us")]
    Contended,
}

enum Store {
    Memory,
    Database(database::DatabaseStore),
    Redis(Box<redis::RedisStore>),
}

/// The process's rate limiter: settings, the configured storage, and an in-memory limiter that
/// is the memory storage itself or, with a shared storage, its fallback.
pub struct RateLimiter {
    enabled: bool,
    default: Rule,
    plugins: Plugins,
    base_path: String,
    store: Store,
    memory: memory::MemoryStore,
    ip_warning_logged: AtomicBool,
    last_store_warning: AtomicI64,
}

impl RateLimiter {
    pub fn new(config: &Config, db: &Db) -> Self {
        let rl = &config.rate_limit;
        let default = Rule {
            window: rl.window,
            max: rl.max,
        };
        let store = match rl.storage {
            RateLimitStorage::Memory => Store::Memory,
            // getConfiguredRateLimitWindows: the longest window any rule uses decides when a
            // row is old enough to prune.
            RateLimitStorage::Database => {
                Store::Database(database::DatabaseStore::new(db.clone(), rl.window.max(60)))
            }
            RateLimitStorage::Redis => match rl.redis_url.as_deref().map(redis::RedisStore::new) {
                Some(Ok(store)) => Store::Redis(Box::new(store.with_prefix(&rl.redis_key_prefix))),
                Some(Err(e)) => {
                    tracing::error!("rate limiting: invalid Redis URL ({e}); using memory storage");
                    Store::Memory
                }
                None => Store::Memory,
            },
        };
        Self {
            enabled: rl.enabled,
            default,
            plugins: config.plugins,
            base_path: config.base_path.clone(),
            store,
            memory: memory::MemoryStore::default(),
            ip_warning_logged: AtomicBool::new(false),
            last_store_warning: AtomicI64::new(i64::MIN),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts one request for `key` under `rule`.
    ///
    /// A storage error must never become a 500 (upstream lets it throw). Failing closed (503 for
    /// everyone) would turn a Redis or database hiccup into a full outage of sign-in and sessions;
    /// failing fully open would drop the brute-force protection exactly when an attacker may be
    /// causing the trouble. So the request is decided by this process's in-memory limiter — the
    /// same rules, per instance instead of shared — and the failure is logged (at most every 10 s).
    pub async fn consume(&self, key: &str, rule: Rule) -> Outcome {
        let result = match &self.store {
            Store::Memory => return self.memory.consume(key, rule, now_ms()),
            Store::Database(db) => db.consume(key, rule).await,
            Store::Redis(r) => r.consume(key, rule).await,
        };
        match result {
            Ok(outcome) => outcome,
            Err(e) => {
                let now = now_ms();
                let last = self.last_store_warning.load(Ordering::Relaxed);
                if now.saturating_sub(last) >= 10_000
                    && self
                        .last_store_warning
                        .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    tracing::warn!(
                        "rate-limit storage failed ({e}); limiting per process in memory until it recovers"
                    );
                }
                self.memory.consume(key, rule, now)
            }
        }
    }

    /// The key and rule for a request path, or `None` when the path is outside the base path.
    fn plan(&self, req: &ServiceRequest, state: &AppState) -> Option<(String, Rule)> {
        let path = normalize_path(req.path(), &self.base_path)?;
        let ip = crate::ip::client_ip(req.headers(), &state.config.ip, state.config.dev);
        if ip.is_none() && !self.ip_warning_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "rate limiting could not determine a client IP and falls back to one shared bucket \
                 per path; make your reverse proxy set X-Forwarded-For (or configure \
                 PORTCULLIS_IP_ADDRESS_HEADERS / PORTCULLIS_TRUSTED_PROXIES)"
            );
        }
        Some(resolve(ip.as_deref(), &path, self.default, &self.plugins))
    }
}

/// rateLimitResponse: a raw 429, not the `{code,message}` error shape.
pub fn too_many_requests(retry_after: u64) -> HttpResponse {
    HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("X-Retry-After", retry_after.to_string()))
        .body(TOO_MANY_REQUESTS)
}

/// The middleware (`App::wrap`, outermost): onRequestRateLimit before anything else of the
/// request, so refused requests never reach routing, body parsing or the origin check.
pub struct RateLimit;

impl<S> Transform<S, ServiceRequest> for RateLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = RateLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RateLimitService {
            service: Rc::new(service),
        }))
    }
}

type LocalBoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

pub struct RateLimitService<S> {
    service: Rc<S>,
}

impl<S> Service<ServiceRequest> for RateLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let plan = state.as_ref().and_then(|s| {
                let limiter = &s.rate_limit;
                limiter.enabled().then(|| limiter.plan(&req, s)).flatten()
            });
            if let (Some(state), Some((key, rule))) = (state, plan) {
                let outcome = state.rate_limit.consume(&key, rule).await;
                if !outcome.allowed {
                    // onRequestRateLimit: `retryAfter ?? currentWindow`.
                    let retry = outcome.retry_after.unwrap_or(rule.window);
                    return Ok(req.into_response(too_many_requests(retry)));
                }
            }
            service.call(req).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rule = Rule { window: 10, max: 3 };

    #[test]
    fn decide_consume_like_upstream() {
        let first = decide_consume(None, R, 1_000);
        assert_eq!(first.outcome, Outcome::ALLOWED);
        assert_eq!(
            first.next,
            Counter {
                count: 1,
                last_request: 1_000
            }
        );
        let mut c = first.next;
        for (t, n) in [(2_000, 2), (3_000, 3)] {
            let d = decide_consume(Some(c), R, t);
            assert!(d.outcome.allowed);
            assert_eq!(d.next.count, n);
            c = d.next;
        }
        // 4th within the window: refused, counter untouched; retry after ceil((3000+10000-3500)/1000).
        let d = decide_consume(Some(c), R, 3_500);
        assert_eq!(d.outcome, Outcome::refused(10));
        assert_eq!(d.next, c);
        assert_eq!(
            decide_consume(Some(c), R, 12_001).outcome,
            Outcome::refused(1)
        );
        // The window counts from the last allowed request: exactly 10 s later resets to 1.
        let d = decide_consume(Some(c), R, 13_000);
        assert_eq!(d.outcome, Outcome::ALLOWED);
        assert_eq!(d.next.count, 1);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after(0, R, 0), 10);
        assert_eq!(retry_after(0, R, 1), 10);
        assert_eq!(retry_after(0, R, 9_000), 1);
        assert_eq!(retry_after(0, R, 10_000), 0);
    }

    #[test]
    fn normalizes_paths_like_normalize_pathname() {
        let n = |p| normalize_path(p, "/api/auth");
        assert_eq!(
            n("/api/auth/sign-in/email").as_deref(),
            Some("/sign-in/email")
        );
        assert_eq!(
            n("/api/auth/sign-in/email//").as_deref(),
            Some("/sign-in/email")
        );
        assert_eq!(n("/api/auth").as_deref(), Some("/"));
        assert_eq!(n("/api/auth/").as_deref(), Some("/"));
        assert_eq!(n("/api/authx"), None);
        assert_eq!(n("/other"), None);
        assert_eq!(normalize_path("/ok/", "").as_deref(), Some("/ok"));
    }

    #[test]
    fn rules_resolve_in_upstream_order() {
        let on = Plugins {
            two_factor: true,
            username: false,
        };
        let off = Plugins::default();
        let d = Rule {
            window: 10,
            max: 100,
        };
        let rule = |p: &str, plugins: &Plugins| resolve(Some("1.2.3.4"), p, d, plugins).1;
        for p in [
            "/sign-in/email",
            "/sign-in/username",
            "/sign-up/email",
            "/change-password",
            "/change-email",
            "/sign-inx",
        ] {
            assert_eq!(rule(p, &off), Rule { window: 10, max: 3 }, "{p}");
        }
        for p in [
            "/request-password-reset",
            "/send-verification-email",
            "/forget-password/x",
            "/email-otp/send-verification-otp",
            "/email-otp/request-password-reset",
        ] {
            assert_eq!(rule(p, &off), Rule { window: 60, max: 3 }, "{p}");
        }
        assert_eq!(rule("/request-password-reset/x", &off), d);
        assert_eq!(
            rule("/two-factor/verify-totp", &on),
            Rule { window: 10, max: 3 }
        );
        assert_eq!(rule("/two-factor/verify-totp", &off), d);
        assert_eq!(rule("/two-factor", &on), d);
        assert_eq!(rule("/get-session", &on), d);
        assert_eq!(rule("/ok", &on), d);
    }

    #[test]
    fn keys_are_ip_bar_path() {
        let d = Rule { window: 1, max: 1 };
        let p = Plugins::default();
        assert_eq!(
            resolve(Some("203.0.113.9"), "/ok", d, &p).0,
            "203.0.113.9|/ok"
        );
        assert_eq!(resolve(None, "/ok", d, &p).0, "no-trusted-ip|/ok");
    }

    #[test]
    fn response_is_the_raw_upstream_429() {
        let res = too_many_requests(7);
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers().get("x-retry-after").unwrap(), "7");
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/json"
        );
    }
}
