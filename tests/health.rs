//! `/health` (liveness) and `/ready` (readiness), and what requests answer while the database is
//! gone: a JSON 503 within the configured timeout, never a hang or a 500; service resumes by
//! itself once the database is back.

mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestDatabase, TestServer};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

async fn get(url: &str) -> (u16, Value) {
    let res = reqwest::get(url).await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn health_and_ready_answer(s: &TestServer) {
    assert_eq!(
        get(&format!("{}/health", s.origin)).await,
        (200, json!({"status": "ok"}))
    );
    assert_eq!(
        get(&format!("{}/ready", s.origin)).await,
        (200, json!({"status": "ready"}))
    );
    // Outside the Better Auth base path: not an auth route.
    assert_eq!(get(&format!("{}/health", s.base)).await.0, 404);
}

on_every_backend!(health_and_ready_answer);

/// PostgreSQL disappears under a running server (its database is dropped, which terminates the
/// server's connections), then comes back (recreated and migrated).
#[actix_web::test]
async fn database_outage_answers_503_then_recovers() {
    let Some(admin_url) = Backend::Postgres.admin_url() else {
        eprintln!("PostgreSQL not configured; skipped");
        return;
    };
    let db = TestDatabase::create(Backend::Postgres).await.unwrap();
    let url = db.url.clone();
    let name = url.rsplit('/').next().unwrap().to_string();
    let s = TestServer::start_on(db, &[("PORTCULLIS_DATABASE_TIMEOUT", "2")]).await;
    let outcome = common::catch_panic(async {
        let mut c = s.client();
        assert_eq!(
            c.sign_up("outage@example.com", "password123").await.status,
            200
        );

        let admin = Database::connect(admin_url.as_str()).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();

        let started = Instant::now();
        let (status, body) = get(&format!("{}/ready", s.origin)).await;
        assert_eq!(
            (status, body),
            (
                503,
                json!({"status": "unavailable", "database": "unreachable"})
            )
        );
        for _ in 0..2 {
            let res = c.get("/get-session").await;
            assert_eq!(
                res.status, 503,
                "get-session while the database is gone: {}",
                res.text
            );
            assert_eq!(res.json()["code"], "SERVICE_UNAVAILABLE");
            let res = s
                .client()
                .sign_in("outage@example.com", "password123")
                .await;
            assert_eq!(
                res.status, 503,
                "sign-in while the database is gone: {}",
                res.text
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "answers came within the timeout, took {:?}",
            started.elapsed()
        );
        assert_eq!(
            get(&format!("{}/health", s.origin)).await.0,
            200,
            "still alive"
        );

        // The database comes back (empty, migrated): the server serves again without a restart.
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let fresh = Database::connect(url.as_str()).await.unwrap();
        portcullis_migration::apply(&fresh).await.unwrap();
        fresh.close().await.ok();
        admin.close().await.ok();
        let mut ready = (0, Value::Null);
        for _ in 0..20 {
            ready = get(&format!("{}/ready", s.origin)).await;
            if ready.0 == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(ready.0, 200, "ready again");
        let mut c = s.client();
        assert_eq!(
            c.sign_up("back@example.com", "password123").await.status,
            200
        );
        assert_eq!(c.get("/get-session").await.status, 200);
    })
    .await;
    s.stop().await;
    common::finish(outcome);
}
