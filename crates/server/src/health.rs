//! Health endpoints for load balancers and orchestrators, outside the Better Auth base path (Better
//! Auth has none; these names are Portcullis's own):
//! - `GET /health` — liveness: the process answers HTTP. Always 200 `{"status":"ok"}`.
//! - `GET /ready` — readiness: the database answers a ping within `PORTCULLIS_DATABASE_TIMEOUT`.
//!   200 `{"status":"ready"}`, or 503 `{"status":"unavailable","database":"unreachable"}`.
//!   Take an instance out of rotation on 503; it comes back by itself once the database does
//!   (the pool reconnects on demand).

use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready));
}

async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(json!({"status": "ok"}))
}

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let timeout = Duration::from_secs(state.config.database_timeout);
    match tokio::time::timeout(timeout, state.db.conn.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .json(json!({"status": "ready"})),
        outcome => {
            let reason = match outcome {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {timeout:?}"),
            };
            tracing::warn!(reason, "readiness check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .insert_header(("cache-control", "no-store"))
                .json(json!({"status": "unavailable", "database": "unreachable"}))
        }
    }
}
