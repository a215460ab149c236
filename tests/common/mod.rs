//! Test harness: the real server, in-process on 127.0.0.1:0, with a fresh database per test.
//! SQLite always; PostgreSQL / MariaDB when `PORTCULLIS_TEST_POSTGRES_URL` /
//! `PORTCULLIS_TEST_MYSQL_URL` name an admin connection (a database is created per test).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod webhook;

use std::{collections::HashMap, net::TcpListener, path::PathBuf};

use portcullis_server::{AppState, Config};
use reqwest::{Client, Method, StatusCode, header::HeaderMap};
use serde_json::Value;

pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    pub fn admin_url(self) -> Option<String> {
        match self {
            Backend::Sqlite => Some(String::new()),
            Backend::Postgres => std::env::var("PORTCULLIS_TEST_POSTGRES_URL").ok(),
            Backend::Mysql => std::env::var("PORTCULLIS_TEST_MYSQL_URL").ok(),
        }
        .filter(|u| self == Backend::Sqlite || !u.is_empty())
    }
}

pub struct TestServer {
    pub base: String,
    pub origin: String,
    pub backend: Backend,
    pub state: AppState,
    handle: actix_web::dev::ServerHandle,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    File(PathBuf),
    Database { admin_url: String, name: String },
}

fn unique(prefix: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), n % 1_000_000_000_000)
}

/// Replaces the database name (path) of a URL.
fn with_database(url: &str, db: &str) -> String {
    let (head, _) = url.rsplit_once('/').unwrap();
    format!("{head}/{db}")
}

impl TestServer {
    /// Starts a server on `backend`, or returns None when that backend is not configured.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, &[]).await
    }

    pub async fn start_with(backend: Backend, extra_env: &[(&str, &str)]) -> Option<Self> {
        let database = TestDatabase::create(backend).await?;
        Some(Self::start_on(database, extra_env).await)
    }

    /// Starts a server on an already created (and possibly pre-filled) database; [`stop`]
    /// removes the database.
    ///
    /// [`stop`]: TestServer::stop
    pub async fn start_on(database: TestDatabase, extra_env: &[(&str, &str)]) -> Self {
        let TestDatabase {
            backend,
            url,
            cleanup,
        } = database;
        Self::serve(backend, url, Some(cleanup), extra_env).await
    }

    /// A second server on this one's database (another instance of a fleet). Stop it before this
    /// one, which drops the database.
    pub async fn start_sibling(&self, extra_env: &[(&str, &str)]) -> Self {
        let url = self.state.config.database_url.clone();
        Self::serve(self.backend, url, None, extra_env).await
    }

    async fn serve(
        backend: Backend,
        database_url: String,
        cleanup: Option<Cleanup>,
        extra_env: &[(&str, &str)],
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let origin = format!("http://{addr}");
        let mut env: HashMap<String, String> = [
            ("BETTER_AUTH_SECRET", SECRET),
            ("BETTER_AUTH_URL", origin.as_str()),
            ("DATABASE_URL", database_url.as_str()),
            ("PORTCULLIS_DEV", "1"),
            ("PORTCULLIS_PASSWORD_HASH_CONCURRENCY", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra_env {
            env.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_sources(&env, None).unwrap();
        let db = portcullis_server::connect(&config).await.unwrap();
        let state = AppState::new(config, db);
        let server = portcullis_server::serve(listener, state.clone()).unwrap();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Self {
            base: format!("{origin}/api/auth"),
            origin,
            backend,
            state,
            handle,
            cleanup,
        }
    }

    pub fn client(&self) -> TestClient {
        TestClient {
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: self.base.clone(),
            origin: Some(self.origin.clone()),
            jar: Vec::new(),
        }
    }

    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        self.state.db.conn.clone().close().await.ok();
        if let Some(cleanup) = self.cleanup.take() {
            cleanup.run(self.backend).await;
        }
    }
}

/// A fresh database of its own (a temp SQLite file, or a new PostgreSQL/MySQL database through
/// the admin URL), not yet served: fill it, then [`TestServer::start_on`] it.
pub struct TestDatabase {
    pub backend: Backend,
    /// The `DATABASE_URL` a server would use.
    pub url: String,
    cleanup: Cleanup,
}

impl TestDatabase {
    /// None when `backend` is not configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        let admin_url = backend.admin_url()?;
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique("pc_test")));
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    Cleanup::File(path),
                )
            }
            Backend::Postgres | Backend::Mysql => {
                use sea_orm::{ConnectionTrait, Database};
                let name = unique("pc_test");
                let admin = Database::connect(admin_url.as_str()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
                (
                    with_database(&admin_url, &name),
                    Cleanup::Database { admin_url, name },
                )
            }
        };
        Some(Self {
            backend,
            url,
            cleanup,
        })
    }
}

impl Cleanup {
    async fn run(self, backend: Backend) {
        match self {
            Cleanup::File(p) => {
                for suffix in ["", "-wal", "-shm"] {
                    std::fs::remove_file(format!("{}{suffix}", p.display())).ok();
                }
            }
            Cleanup::Database { admin_url, name } => {
                use sea_orm::{ConnectionTrait, Database};
                if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                    let force = if backend == Backend::Postgres {
                        " WITH (FORCE)"
                    } else {
                        ""
                    };
                    admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}"))
                        .await
                        .ok();
                    admin.close().await.ok();
                }
            }
        }
    }
}

/// A response, with its Set-Cookie lines kept verbatim and in order.
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub set_cookies: Vec<String>,
    pub text: String,
}

impl Res {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The Set-Cookie line for `name` (the last one, as a browser applies them in order).
    pub fn cookie_line(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .rev()
            .find(|l| l.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }

    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "body: {}", self.text);
        assert_eq!(body["message"], message, "body: {}", self.text);
    }
}

/// A browser-like client: a cookie jar and an `Origin` header.
#[derive(Clone)]
pub struct TestClient {
    http: Client,
    pub base: String,
    pub origin: Option<String>,
    /// name → value, as a browser would hold them.
    pub jar: Vec<(String, String)>,
}

impl TestClient {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn cookie_header(&self) -> Option<String> {
        (!self.jar.is_empty()).then(|| {
            self.jar
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    pub async fn raw(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(origin) = &self.origin {
            rb = rb.header("origin", origin);
        }
        if let Some(cookie) = self.cookie_header() {
            rb = rb.header("cookie", cookie);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some((ct, body)) = body {
            rb = rb.header("content-type", ct).body(body);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let set_cookies: Vec<String> = headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for line in &set_cookies {
            self.apply(line);
        }
        let text = resp.text().await.unwrap();
        Res {
            status,
            headers,
            set_cookies,
            text,
        }
    }

    fn apply(&mut self, line: &str) {
        let first = line.split(';').next().unwrap();
        let (name, value) = first.split_once('=').unwrap();
        let expired = line.contains("Max-Age=0");
        self.jar.retain(|(n, _)| n != name);
        if !expired {
            self.jar.push((name.to_string(), value.to_string()));
        }
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Res {
        self.raw(
            Method::POST,
            path,
            Some(("application/json", body.to_string())),
            &[],
        )
        .await
    }

    pub async fn get(&mut self, path: &str) -> Res {
        self.raw(Method::GET, path, None, &[]).await
    }

    pub async fn sign_up(&mut self, email: &str, password: &str) -> Res {
        let res = self
            .post(
                "/sign-up/email",
                serde_json::json!({"name": "Test User", "email": email, "password": password}),
            )
            .await;
        assert_eq!(res.status, 200, "sign-up failed: {}", res.text);
        res
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Res {
        self.post(
            "/sign-in/email",
            serde_json::json!({"email": email, "password": password}),
        )
        .await
    }
}

/// Runs `scenario` against a fresh server on `backend` (skipped when not configured).
pub async fn run(backend: Backend, scenario: impl AsyncFnOnce(&TestServer)) {
    let Some(server) = TestServer::start(backend).await else {
        eprintln!("{backend:?} not configured (PORTCULLIS_TEST_*_URL unset); skipped");
        return;
    };
    let outcome = catch_panic(scenario(&server)).await;
    server.stop().await;
    finish(outcome);
}

/// Runs a scenario future, catching a panic so the caller can still stop its server and drop its
/// database; hand the result to [`finish`] afterwards to re-raise the failure.
pub async fn catch_panic<F: std::future::Future<Output = ()>>(fut: F) -> std::thread::Result<()> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(fut).catch_unwind().await
}

/// Re-raises a panic caught by [`catch_panic`].
pub fn finish(outcome: std::thread::Result<()>) {
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Declares one test per backend for each scenario `async fn name(s: &TestServer)`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[actix_web::test] async fn $name() { $crate::common::run($crate::common::Backend::Sqlite, super::$name).await })*
        }
        mod postgres {
            $(#[actix_web::test] async fn $name() { $crate::common::run($crate::common::Backend::Postgres, super::$name).await })*
        }
        mod mysql {
            $(#[actix_web::test] async fn $name() { $crate::common::run($crate::common::Backend::Mysql, super::$name).await })*
        }
    };
}

/// [`run`] with extra server environment (e.g. `PORTCULLIS_PLUGINS`).
pub async fn run_with(
    backend: Backend,
    env: &[(&str, &str)],
    scenario: impl AsyncFnOnce(&TestServer),
) {
    let Some(server) = TestServer::start_with(backend, env).await else {
        eprintln!("{backend:?} not configured (PORTCULLIS_TEST_*_URL unset); skipped");
        return;
    };
    let outcome = catch_panic(scenario(&server)).await;
    server.stop().await;
    finish(outcome);
}

/// [`on_every_backend!`] with extra server environment, given as an expression that is valid
/// inside the generated modules (a literal, or a path such as `super::ENV`):
/// `on_every_backend_with!(&[("PORTCULLIS_PLUGINS", "username")]; scenario_a, scenario_b);`
#[macro_export]
macro_rules! on_every_backend_with {
    ($env:expr; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[actix_web::test] async fn $name() { $crate::common::run_with($crate::common::Backend::Sqlite, $env, super::$name).await })*
        }
        mod postgres {
            $(#[actix_web::test] async fn $name() { $crate::common::run_with($crate::common::Backend::Postgres, $env, super::$name).await })*
        }
        mod mysql {
            $(#[actix_web::test] async fn $name() { $crate::common::run_with($crate::common::Backend::Mysql, $env, super::$name).await })*
        }
    };
}

/// A fresh address `<tag>-<8 random>@example.com`.
pub fn unique_email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        portcullis_server::auth::tokens::random_alphanumeric(8).to_lowercase()
    )
}

/// A user just signed up on `s` with a [`unique_email`], and the browser holding its session.
pub struct NewUser {
    pub client: TestClient,
    pub email: String,
    pub id: String,
}

pub async fn sign_up_new(s: &TestServer, tag: &str, password: &str) -> NewUser {
    let mut client = s.client();
    let email = unique_email(tag);
    let res = client.sign_up(&email, password).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let id = res.json()["user"]["id"].as_str().unwrap().to_string();
    NewUser { client, email, id }
}

/// A user's TOTP enrolment, confirmed: the authenticator key, the step its first code used
/// (later codes must use later steps: replays are refused) and the backup codes.
pub struct TotpEnrolment {
    pub key: Vec<u8>,
    pub step: u64,
    pub backup_codes: Vec<String>,
}

/// Enables TOTP for `c`'s signed-in user (`password`) and confirms it with the current code.
pub async fn enrol_totp(c: &mut TestClient, password: &str) -> TotpEnrolment {
    use portcullis_server::auth::totp;
    let en = c
        .post(
            "/two-factor/enable",
            serde_json::json!({"password": password}),
        )
        .await
        .json();
    let uri = en["totpURI"].as_str().expect("enable answers a totpURI");
    let secret = uri
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let key = totp::base32_decode(secret).unwrap();
    let step = time::OffsetDateTime::now_utc().unix_timestamp() as u64 / 30;
    let res = c
        .post(
            "/two-factor/verify-totp",
            serde_json::json!({"code": totp::code_at(&key, step, 6)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let backup_codes = en["backupCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    TotpEnrolment {
        key,
        step,
        backup_codes,
    }
}
