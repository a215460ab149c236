//! Rate limiting over real HTTP (better-auth: dist/api/rate-limiter/index.mjs): the special
//! sign-in and `/two-factor/*` rules, the default rule's window, the off switch, and budgets
//! shared by two servers through the database or Redis. Memory and database storage run on every
//! configured database; Redis uses `PORTCULLIS_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`; set it empty to skip).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Backend, Res, TestClient, TestServer, catch_panic, finish};
use reqwest::Method;
use serde_json::json;

const BODY: &str = r#"{"message":"Too many requests. Please try again later."}"#;

fn env<'a>(storage: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("PORTCULLIS_RATE_LIMIT", "on"),
        ("PORTCULLIS_RATE_LIMIT_STORAGE", storage),
    ];
    env.extend_from_slice(extra);
    env
}

/// Starts a server with `env`, runs `scenario`, stops it (skipped when the backend is not set up).
async fn with_server(
    backend: Backend,
    env: &[(&str, &str)],
    scenario: impl AsyncFnOnce(&TestServer),
) {
    common::run_with(backend, env, scenario).await;
}

async fn post_from(c: &mut TestClient, ip: &str, path: &str, body: serde_json::Value) -> Res {
    c.raw(
        Method::POST,
        path,
        Some(("application/json", body.to_string())),
        &[("x-forwarded-for", ip)],
    )
    .await
}

async fn get_from(c: &mut TestClient, ip: &str, path: &str) -> Res {
    c.raw(Method::GET, path, None, &[("x-forwarded-for", ip)])
        .await
}

async fn sign_in_from(c: &mut TestClient, ip: &str) -> Res {
    post_from(
        c,
        ip,
        "/sign-in/email",
        json!({"email": "nobody@example.com", "password": "wrong-password"}),
    )
    .await
}

/// The raw upstream 429, with `X-Retry-After` within `1..=max_retry` seconds.
fn assert_limited(res: &Res, max_retry: u64) {
    assert_eq!(res.status, 429, "body: {}", res.text);
    assert_eq!(res.text, BODY);
    assert_eq!(res.headers["content-type"], "application/json");
    let retry: u64 = res.headers["x-retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=max_retry).contains(&retry), "X-Retry-After {retry}");
}

/// With database storage, the counter row in Better Auth's `rateLimit` table (proves the storage
/// answered, not the in-memory fallback).
async fn assert_db_count(s: &TestServer, storage: &str, key: &str, count: i32) {
    use portcullis_entity::rate_limit as rl;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if storage != "database" {
        return;
    }
    let row = rl::Entity::find()
        .filter(rl::Column::Key.eq(key))
        .one(&s.state.db.conn)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no rateLimit row for {key}"));
    assert_eq!(row.count, count, "{key}");
    assert!((portcullis_server::rate_limit::now_ms() - row.last_request) < 60_000);
}

fn assert_not_limited(res: &Res) {
    assert_ne!(res.status, 429, "unexpected 429");
    assert!(res.headers.get("x-retry-after").is_none());
}

/// The 4th sign-in within 10 s from one IP gets 429; other paths and other IPs are unaffected.
async fn sign_in_limit(backend: Backend, storage: &str) {
    with_server(backend, &env(storage, &[]), async |s: &TestServer| {
        let mut c = s.client();
        for _ in 0..3 {
            let res = sign_in_from(&mut c, "203.0.113.10").await;
            assert_eq!(res.status, 401, "body: {}", res.text);
        }
        assert_limited(&sign_in_from(&mut c, "203.0.113.10").await, 10);
        // `/sign-in/*` paths are separate keys (key = ip|path), each with the 3 / 10 s rule.
        let res = post_from(
            &mut c,
            "203.0.113.10",
            "/sign-in/username",
            json!({"username": "nobody", "password": "wrong-password"}),
        )
        .await;
        assert_not_limited(&res);
        assert_not_limited(&get_from(&mut c, "203.0.113.10", "/get-session").await);
        assert_not_limited(&get_from(&mut c, "203.0.113.10", "/ok").await);
        assert_eq!(sign_in_from(&mut c, "203.0.113.11").await.status, 401);
        // Still refused (refusals are not counted, the window does not move).
        assert_limited(&sign_in_from(&mut c, "203.0.113.10").await, 10);
        assert_db_count(s, storage, "203.0.113.10|/sign-in/email", 3).await;
        assert_db_count(s, storage, "203.0.113.11|/sign-in/email", 1).await;
    })
    .await;
}

/// The two-factor plugin's rule: `/two-factor/*` allows 3 per 10 s.
async fn two_factor_limit(backend: Backend, storage: &str) {
    with_server(backend, &env(storage, &[]), async |s: &TestServer| {
        let mut c = s.client();
        for _ in 0..3 {
            let res = post_from(
                &mut c,
                "198.51.100.7",
                "/two-factor/verify-totp",
                json!({"code": "123456"}),
            )
            .await;
            assert_eq!(res.status, 401, "body: {}", res.text);
        }
        let res = post_from(
            &mut c,
            "198.51.100.7",
            "/two-factor/verify-totp",
            json!({"code": "123456"}),
        )
        .await;
        assert_limited(&res, 10);
        let res = post_from(&mut c, "198.51.100.7", "/two-factor/send-otp", json!({})).await;
        assert_not_limited(&res);
    })
    .await;
}

/// The default rule, with a short configured window: refused, then free again once it elapses.
async fn default_rule_window(backend: Backend, storage: &str) {
    let env = env(
        storage,
        &[
            ("PORTCULLIS_RATE_LIMIT_WINDOW", "1"),
            ("PORTCULLIS_RATE_LIMIT_MAX", "2"),
        ],
    );
    with_server(backend, &env, async |s: &TestServer| {
        let mut c = s.client();
        for _ in 0..2 {
            assert_eq!(get_from(&mut c, "192.0.2.1", "/ok").await.status, 200);
        }
        let res = get_from(&mut c, "192.0.2.1", "/ok").await;
        assert_limited(&res, 1);
        // Paths are counted before routing: unknown routes too, under their own key.
        assert_eq!(get_from(&mut c, "192.0.2.1", "/nope").await.status, 404);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        assert_eq!(get_from(&mut c, "192.0.2.1", "/ok").await.status, 200);
    })
    .await;
}

/// Concurrent requests cannot all pass a stale read: exactly `max` of them are allowed.
async fn concurrent_budget(backend: Backend, storage: &str) {
    let env = env(
        storage,
        &[
            ("PORTCULLIS_RATE_LIMIT_WINDOW", "60"),
            ("PORTCULLIS_RATE_LIMIT_MAX", "5"),
        ],
    );
    with_server(backend, &env, async |s: &TestServer| {
        let url = format!("{}/ok", s.base);
        let http = reqwest::Client::new();
        let statuses = futures_util::future::join_all((0..16).map(|_| {
            http.get(&url)
                .header("x-forwarded-for", "192.0.2.99")
                .send()
        }))
        .await;
        let statuses: Vec<u16> = statuses
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|&&s| s == 200).count(),
            5,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|&&s| s == 429).count(),
            11,
            "{statuses:?}"
        );
        assert_db_count(s, storage, "192.0.2.99|/ok", 5).await;
    })
    .await;
}

/// Two servers on one database share the database storage's budget.
async fn database_shared_by_two_servers(backend: Backend) {
    let env = env("database", &[]);
    with_server(backend, &env, async |a: &TestServer| {
        let b = a.start_sibling(&env).await;
        let outcome = catch_panic(async {
            let (mut ca, mut cb) = (a.client(), b.client());
            assert_eq!(sign_in_from(&mut ca, "203.0.113.20").await.status, 401);
            assert_eq!(sign_in_from(&mut cb, "203.0.113.20").await.status, 401);
            assert_eq!(sign_in_from(&mut ca, "203.0.113.20").await.status, 401);
            assert_limited(&sign_in_from(&mut cb, "203.0.113.20").await, 10);
            assert_limited(&sign_in_from(&mut ca, "203.0.113.20").await, 10);
            assert_db_count(a, "database", "203.0.113.20|/sign-in/email", 3).await;
        })
        .await;
        b.stop().await;
        finish(outcome);
    })
    .await;
}

/// Off: no limit at all; and it is off by default in development mode (the harness's mode).
async fn off_switch(backend: Backend, storage: &str) {
    for env in [
        vec![
            ("PORTCULLIS_RATE_LIMIT", "off"),
            ("PORTCULLIS_RATE_LIMIT_STORAGE", storage),
        ],
        vec![("PORTCULLIS_RATE_LIMIT_STORAGE", storage)],
    ] {
        with_server(backend, &env, async |s: &TestServer| {
            let mut c = s.client();
            for _ in 0..6 {
                assert_eq!(sign_in_from(&mut c, "203.0.113.30").await.status, 401);
            }
        })
        .await;
    }
}

macro_rules! per_storage {
    ($($name:ident),* $(,)?) => {
        mod memory {
            mod sqlite { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Sqlite, "memory").await })* }
            mod postgres { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Postgres, "memory").await })* }
            mod mysql { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Mysql, "memory").await })* }
        }
        mod database {
            mod sqlite { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Sqlite, "database").await })* }
            mod postgres { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Postgres, "database").await })* }
            mod mysql { $(#[actix_web::test] async fn $name() { crate::$name(crate::Backend::Mysql, "database").await })* }
        }
    };
}

per_storage!(
    sign_in_limit,
    two_factor_limit,
    default_rule_window,
    concurrent_budget,
    off_switch
);

mod shared_database {
    #[actix_web::test]
    async fn sqlite() {
        crate::database_shared_by_two_servers(crate::Backend::Sqlite).await
    }
    #[actix_web::test]
    async fn postgres() {
        crate::database_shared_by_two_servers(crate::Backend::Postgres).await
    }
    #[actix_web::test]
    async fn mysql() {
        crate::database_shared_by_two_servers(crate::Backend::Mysql).await
    }
}

// ---------------------------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------------------------

fn redis_url() -> Option<String> {
    let url = std::env::var("PORTCULLIS_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    (!url.is_empty()).then_some(url)
}

/// A key prefix of this test's own, so parallel tests never share counters.
fn unique_prefix(test: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("portcullis-test:{test}:{}:{n}:", std::process::id())
}

/// Two servers with one Redis and prefix share one budget; upstream's secondary-storage
/// semantics (fixed window, `X-Retry-After` = the rule's window).
#[actix_web::test]
async fn redis_shared_by_two_servers() {
    let Some(url) = redis_url() else {
        eprintln!("PORTCULLIS_TEST_REDIS_URL empty; skipped");
        return;
    };
    let prefix = unique_prefix("shared");
    let env = [
        ("PORTCULLIS_RATE_LIMIT", "on"),
        ("PORTCULLIS_REDIS_URL", url.as_str()),
        ("PORTCULLIS_REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    with_server(Backend::Sqlite, &env, async |a: &TestServer| {
        assert_eq!(
            a.state.config.rate_limit.storage,
            portcullis_server::config::RateLimitStorage::Redis,
            "a Redis URL makes redis the default storage"
        );
        let b = a.start_sibling(&env).await;
        let outcome = catch_panic(async {
            let (mut ca, mut cb) = (a.client(), b.client());
            assert_eq!(sign_in_from(&mut ca, "203.0.113.40").await.status, 401);
            assert_eq!(sign_in_from(&mut cb, "203.0.113.40").await.status, 401);
            assert_eq!(sign_in_from(&mut ca, "203.0.113.40").await.status, 401);
            let res = sign_in_from(&mut cb, "203.0.113.40").await;
            assert_limited(&res, 10);
            assert_eq!(res.headers["x-retry-after"], "10");
            assert_limited(&sign_in_from(&mut ca, "203.0.113.40").await, 10);
            assert_not_limited(&sign_in_from(&mut ca, "203.0.113.41").await);
            // The counter lives under the prefix, with the rule's window as its TTL.
            let client = redis::Client::open(url.as_str()).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            let key = format!("{prefix}rate-limit:203.0.113.40|/sign-in/email");
            let ttl: i64 = redis::cmd("TTL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap();
            assert!((1..=10).contains(&ttl), "TTL {ttl}");
            let _: () = redis::cmd("DEL")
                .arg(&key)
                .arg(format!("{prefix}rate-limit:203.0.113.41|/sign-in/email"))
                .query_async(&mut conn)
                .await
                .unwrap();
        })
        .await;
        b.stop().await;
        finish(outcome);
    })
    .await;
}

/// An unreachable Redis is never a 500: the process's in-memory limiter decides instead.
#[actix_web::test]
async fn redis_down_falls_back_to_memory() {
    let env = [
        ("PORTCULLIS_RATE_LIMIT", "on"),
        ("PORTCULLIS_REDIS_URL", "redis://127.0.0.1:1"),
    ];
    with_server(Backend::Sqlite, &env, async |s: &TestServer| {
        let mut c = s.client();
        for _ in 0..3 {
            assert_eq!(sign_in_from(&mut c, "203.0.113.50").await.status, 401);
        }
        assert_limited(&sign_in_from(&mut c, "203.0.113.50").await, 10);
        assert_eq!(get_from(&mut c, "203.0.113.50", "/ok").await.status, 200);
    })
    .await;
}
