//! Shared application state, passed explicitly (no globals).

use std::sync::Arc;

use crate::{
    auth::password::PasswordHasher, config::Config, cookies::CookieSet, rate_limit::RateLimiter,
    store::Db,
};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub hasher: PasswordHasher,
    pub cookies: CookieSet,
    /// Outgoing HTTP (OTP webhook).
    pub http: reqwest::Client,
    /// One per server, shared by its workers.
    pub rate_limit: Arc<RateLimiter>,
}

impl AppState {
    pub fn new(config: Config, db: Db) -> Self {
        Self {
            hasher: PasswordHasher::new(
                config.password_hash_concurrency,
                config.password_hash_queue,
                config.password_hash,
            ),
            cookies: CookieSet::new(&config),
            http: reqwest::Client::new(),
            rate_limit: Arc::new(RateLimiter::new(&config, &db)),
            config: Arc::new(config),
            db,
        }
    }
}
