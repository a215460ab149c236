//! Redis storage, in place of Better Auth's `secondary-storage` rate limiting
//! (better-auth: dist/api/rate-limiter/index.mjs, `storage === "secondary-storage"`; the
//! `SecondaryStorage.increment` contract in @better-auth/core: dist/db/type.d.mts). Same
//! semantics as upstream there: a fixed window per key — the first request creates the counter
//! with a TTL of the rule's window, later ones only increment it (the TTL is never extended);
//! allowed while the incremented count is `<= max`, refused otherwise with `X-Retry-After` = the
//! rule's window.
//!
//! The increment and the TTL are one Lua script, so instances sharing the Redis share one budget
//! and no counter is ever left without an expiry.

use std::time::Duration;

use redis::{Client, Script, aio::ConnectionManager, aio::ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{Outcome, Rule, StoreError};

/// INCR; give the key its TTL when it was just created (or somehow has none).
const INCREMENT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('TTL', KEYS[1]) == -1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
";

pub struct RedisStore {
    client: Client,
    /// Connected on first use, inside the server's runtime; a failed connect is retried by the
    /// next request.
    conn: OnceCell<ConnectionManager>,
    script: Script,
    prefix: String,
}

impl RedisStore {
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: Client::open(url)?,
            conn: OnceCell::new(),
            script: Script::new(INCREMENT),
            prefix: "portcullis:".into(),
        })
    }

    pub fn with_prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_string();
        self
    }

    /// The Redis key of a rate-limit key.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}rate-limit:{key}", self.prefix)
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        self.conn
            .get_or_try_init(|| {
                // Short timeouts: a hung Redis must not hold requests; the fallback decides then.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(500)))
                    .set_response_timeout(Some(Duration::from_millis(500)))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }

    pub async fn consume(&self, key: &str, rule: Rule) -> Result<Outcome, StoreError> {
        let mut conn = self.connection().await?;
        let count: u64 = self
            .script
            .key(self.redis_key(key))
            .arg(rule.window.max(1))
            .invoke_async(&mut conn)
            .await?;
        Ok(if count <= rule.max {
            Outcome::ALLOWED
        } else {
            Outcome::refused(rule.window)
        })
    }
}
