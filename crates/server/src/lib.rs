//! Portcullis: a drop-in Better Auth 1.7.25 backend. `main.rs` only parses arguments; everything
//! else — config, database, the actix app — is here so tests can start the real server in-process.

pub mod auth;
pub mod config;
pub mod cookies;
pub mod error;
pub mod health;
pub mod hooks;
pub mod http;
pub mod ip;
pub mod output;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod state;
pub mod store;
pub mod two_factor;
pub mod username;

use std::{net::TcpListener, time::Duration};

use actix_web::{
    App, HttpServer,
    body::BoxBody,
    dev::{Server, Service, ServiceRequest, ServiceResponse},
    web,
};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, DbErr};

pub use crate::{config::Config, state::AppState, store::Db};

/// Connects to `DATABASE_URL`, applies the migrations, and returns the handle.
pub async fn connect(config: &Config) -> Result<Db, DbErr> {
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(config.database_timeout))
        .acquire_timeout(Duration::from_secs(config.database_timeout))
        // sqlx pings every pooled connection before handing it out, one extra round trip per
        // request (get-session is one statement: the ping doubled its round trips). Only a
        // connection idle for a second or more is pinged now; a hot one that died with the
        // server fails its query (503), and the pool replaces it.
        .test_before_acquire_if_idle_for(Duration::from_secs(1));
    if config.database_url.starts_with("sqlite:") {
        // One writer at a time is SQLite's model; a small pool of readers is plenty.
        opts.max_connections(if config.database_url.contains(":memory:") {
            1
        } else {
            8
        });
    }
    if config.database_url.starts_with("mysql:") || config.database_url.starts_with("mariadb:") {
        // READ COMMITTED, PostgreSQL's default, on every pooled connection. Under InnoDB's default
        // REPEATABLE READ, a DELETE/UPDATE locks the gaps it scans (all of a small table when the
        // planner scans it), so unrelated users' transactions deadlock (1213 → 500): two users'
        // backup codes replaced at once, a session rotated while another user revokes theirs
        // (found by tests/soak). Every transaction here serializes on row locks or conditional
        // writes, never on a repeatable snapshot.
        opts.map_sqlx_mysql_pool_opts(|pool| {
            pool.after_connect(|conn, _| {
                Box::pin(async move {
                    sea_orm::sqlx::Executor::execute(
                        &mut *conn,
                        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
                    )
                    .await?;
                    Ok(())
                })
            })
        });
    }
    let conn = Database::connect(opts).await?;
    if conn.get_database_backend() == DbBackend::Sqlite {
        conn.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")
            .await?;
    }
    portcullis_migration::apply(&conn).await?;
    Ok(Db::new(conn))
}

/// Registers the whole application on an actix `ServiceConfig`.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.app_data(web::Data::new(state.clone()));
    routes::configure(cfg, &state.config.base_path, &state.config.plugins);
}

type Routed = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<ServiceResponse<BoxBody>, actix_web::Error>>>,
>;

/// What never reaches Better Auth's handler in Node, refused before routing:
/// - Better Auth's router matches the raw path, so `/api/auth/%6Fk` is not `/ok` but a 404;
///   actix would decode it first. Any percent-encoding in the path is therefore a 404 here.
/// - Node's HTTP server answers 431 to headers over [`MAX_HEADER_BYTES`].
fn guard_request<S>(req: ServiceRequest, srv: &S) -> Routed
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
    S::Future: 'static,
{
    if req.uri().path().contains('%') {
        let res = req.into_response(actix_web::HttpResponse::NotFound().finish());
        return Box::pin(async move { Ok(res) });
    }
    if header_bytes(&req) > MAX_HEADER_BYTES {
        let res = req.into_response(
            actix_web::HttpResponse::build(
                actix_web::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            )
            .json(serde_json::json!({"message": "Request header fields too large"})),
        );
        return Box::pin(async move { Ok(res) });
    }
    let fut = srv.call(req);
    Box::pin(fut)
}

/// Node's HTTP server refuses requests whose headers exceed 16 KiB (`--max-http-header-size`)
/// with 431 before Better Auth sees them; actix accepts far larger ones, so the same limit is
/// applied here (request line and headers, counted as Node counts them: roughly their bytes).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

fn header_bytes(req: &ServiceRequest) -> usize {
    let line = req.uri().to_string().len() + 16;
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
}

/// Serves on an already-bound listener (tests bind `127.0.0.1:0`). Signals are not handled here:
/// the binary shuts down through the returned server's handle (`main.rs`).
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(guard_request)
            // Outermost: Better Auth rate-limits in `onRequest`, before routing sees the path.
            .wrap(rate_limit::RateLimit)
            .configure(|cfg| configure(cfg, &state))
            .configure(health::configure)
            .default_service(web::to(routes::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(10)
    .disable_signals()
    .run();
    Ok(server)
}
