//! The auth cookies of this deployment: names, attributes and signing, bound to the config.
//! better-auth: dist/cookies/index.mjs (getCookies, setSessionCookie, deleteSessionCookie).

use portcullis_entity::{session, user};
use portcullis_protocol::{
    cookie_cache,
    cookies::{CookieAttrs, CookieNames, SetCookie, chunk_index, get_chunked_cookie},
    model::to_epoch_ms,
    signed::{sign_value, verify_signed_value},
};

use crate::{
    config::{Config, CookieCacheSettings, Plugins},
    http::CookieJar,
    output,
};

#[derive(Clone)]
pub struct CookieSet {
    pub names: CookieNames,
    attrs: CookieAttrs,
    /// Signs: the current secret.
    signing: Vec<u8>,
    /// Verifies: every configured secret, current first (`SecretConfig::verifying`).
    verifying: Vec<Vec<u8>>,
    session_max_age: i64,
    /// `session.cookieCache` when on, and the plugins that shape its user object.
    cache: Option<CookieCacheSettings>,
    plugins: Plugins,
}

impl CookieSet {
    pub fn new(config: &Config) -> Self {
        Self {
            names: CookieNames::new("better-auth", config.secure_cookies),
            attrs: CookieAttrs {
                secure: config.secure_cookies,
                domain: None,
            },
            signing: config.secret.as_bytes().to_vec(),
            verifying: config
                .secret_config
                .verifying()
                .into_iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            session_max_age: config.session_expires_in,
            cache: config.cookie_cache.clone(),
            plugins: config.plugins,
        }
    }

    /// Whether `/get-session` may answer from `session_data`.
    pub fn cache_enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// A signed cookie line.
    pub fn signed(&self, name: &str, value: &str, max_age: Option<i64>) -> SetCookie {
        let mut c = SetCookie::new(name, sign_value(value, &self.signing), &self.attrs);
        c.max_age = max_age;
        c
    }

    pub fn expired(&self, name: &str) -> SetCookie {
        SetCookie::expired(name, &self.attrs)
    }

    /// The verified value of a signed request cookie; a bad signature reads as absent.
    ///
    /// Divergence: Better Auth verifies with the current secret only (`getSignedCookie(…,
    /// ctx.context.secret)`, better-auth: dist/api/routes/session.mjs,
    /// dist/plugins/two-factor/index.mjs), so rotating its `secrets` signs every user out and
    /// forgets every trusted device. Here a cookie signed with any configured secret (an older
    /// version of `BETTER_AUTH_SECRETS`, or the legacy `BETTER_AUTH_SECRET`) is accepted; new
    /// cookies are signed with the current one. Removing a version from the list retires it.
    pub fn read_signed(&self, cookies: &[(String, String)], name: &str) -> Option<String> {
        let raw = portcullis_protocol::cookies::get_cookie(cookies, name)?;
        self.verifying
            .iter()
            .find_map(|secret| verify_signed_value(raw, secret))
    }

    /// setSessionCookie: `session_token` (no Max-Age when not remembered), then `dont_remember`
    /// when not remembered, or its expiry when the request carried one and this session is
    /// remembered, then the cookie cache when it is on. `dont_remember = None` means "as the
    /// request's cookie says".
    pub fn set_session(
        &self,
        jar: &mut CookieJar,
        cookies: &[(String, String)],
        (session, user): (&session::Model, &user::Model),
        dont_remember: Option<bool>,
        max_age_override: Option<i64>,
    ) {
        let token = session.token.as_str();
        let had_dont_remember = self
            .read_signed(cookies, &self.names.dont_remember)
            .is_some();
        let dont_remember = dont_remember.unwrap_or(had_dont_remember);
        let max_age = if dont_remember {
            None
        } else {
            Some(max_age_override.unwrap_or(self.session_max_age))
        };
        jar.set(self.signed(&self.names.session_token, token, max_age));
        if dont_remember {
            jar.set(self.signed(&self.names.dont_remember, "true", None));
        } else if had_dont_remember {
            jar.expire(self.expired(&self.names.dont_remember));
        }
        self.set_cache(jar, cookies, (session, user), dont_remember);
    }

    /// setCookieCache: `session_data` (split into `session_data.N` chunks when too large) with
    /// the session and user as `/get-session` returns them, valid for `maxAge` seconds, or a
    /// browser-session cookie valid for 60 s when the session is not remembered. Chunks the
    /// request carried that the new value does not overwrite are expired. No-op when off.
    pub fn set_cache(
        &self,
        jar: &mut CookieJar,
        cookies: &[(String, String)],
        (session, user): (&session::Model, &user::Model),
        dont_remember: bool,
    ) {
        let Some(cache) = &self.cache else { return };
        let now_ms = to_epoch_ms(crate::store::now());
        let max_age = (!dont_remember).then_some(cache.max_age);
        let expires_at = now_ms + max_age.unwrap_or(60) * 1_000;
        let (Ok(session), Ok(user)) = (
            serde_json::to_value(output::session(session)),
            serde_json::to_value(output::user(&self.plugins, user)),
        ) else {
            return;
        };
        let payload = cookie_cache::payload(session, user, now_ms, &cache.version);
        let value = cookie_cache::encode(&payload, expires_at, &self.signing);
        let name = &self.names.session_data;
        let overhead = SetCookie::new(format!("{name}.99"), "", &self.attrs)
            .with_max_age(max_age)
            .to_string()
            .len();
        let new: Vec<SetCookie> = match cookie_cache::chunk(&value, overhead) {
            Some(parts) if parts.len() == 1 => vec![SetCookie::new(name, parts[0], &self.attrs)],
            Some(parts) => parts
                .iter()
                .enumerate()
                .map(|(i, part)| SetCookie::new(format!("{name}.{i}"), *part, &self.attrs))
                .collect(),
            None => {
                tracing::warn!("session cookie cache too large to store, even chunked; skipped");
                Vec::new()
            }
        };
        for (old, _) in cookies {
            let stale = old == name || chunk_index(name, old).is_some();
            if stale && !new.iter().any(|c| &c.name == old) {
                jar.set(self.expired(old));
            }
        }
        for c in new {
            jar.set(c.with_max_age(max_age));
        }
    }

    /// The request's `session_data` cookie (chunks joined), verified.
    pub fn read_cache(&self, cookie_header: Option<&str>) -> CacheCookie {
        let Some(raw) = cookie_header.and_then(|h| get_chunked_cookie(h, &self.names.session_data))
        else {
            return CacheCookie::Absent;
        };
        let secrets: Vec<&[u8]> = self.verifying.iter().map(Vec::as_slice).collect();
        match cookie_cache::decode(&raw, &secrets).and_then(|d| cookie_cache::parse_payload(&d)) {
            Some(cached) => CacheCookie::Valid(Box::new(cached)),
            None => CacheCookie::Invalid,
        }
    }

    /// Whether a verified cache cookie may answer for the signed session `token` now.
    pub fn cache_answers(&self, cached: &cookie_cache::Cached, token: &str) -> bool {
        self.cache.as_ref().is_some_and(|cache| {
            cached.answers(token, &cache.version, to_epoch_ms(crate::store::now()))
        })
    }

    /// deleteSessionCookie: expire `session_token`, `session_data` (and any `session_data.N`
    /// chunks the request sent), then `dont_remember` unless told to keep it.
    pub fn delete_session(
        &self,
        jar: &mut CookieJar,
        cookies: &[(String, String)],
        keep_dont_remember: bool,
    ) {
        jar.expire(self.expired(&self.names.session_token));
        jar.expire(self.expired(&self.names.session_data));
        self.expire_session_data_chunks(jar, cookies);
        if !keep_dont_remember {
            jar.expire(self.expired(&self.names.dont_remember));
        }
    }

    pub fn expire_session_data_chunks(&self, jar: &mut CookieJar, cookies: &[(String, String)]) {
        let prefix = format!("{}.", self.names.session_data);
        for (name, _) in cookies {
            if name
                .strip_prefix(&prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            {
                jar.expire(self.expired(name));
            }
        }
    }
}

/// What a request's `session_data` cookie is.
pub enum CacheCookie {
    Absent,
    /// Present but malformed, unsigned or signed with an unknown secret.
    Invalid,
    Valid(Box<cookie_cache::Cached>),
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cookie_set(env: &[(&str, &str)]) -> CookieSet {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CookieSet::new(&Config::from_sources(&env, None).unwrap())
    }

    fn request(value: String) -> Vec<(String, String)> {
        vec![("better-auth.session_token".to_string(), value)]
    }

    #[test]
    fn signs_with_the_current_secret_and_accepts_every_configured_one() {
        let set = cookie_set(&[
            ("BETTER_AUTH_SECRETS", "3:secret-c,2:secret-b"),
            ("BETTER_AUTH_SECRET", "secret-a"),
        ]);
        let name = "better-auth.session_token";
        assert_eq!(
            set.signed(name, "tok", None).value,
            sign_value("tok", b"secret-c")
        );
        for secret in ["secret-c", "secret-b", "secret-a"] {
            let cookies = request(sign_value("tok", secret.as_bytes()));
            assert_eq!(
                set.read_signed(&cookies, name).as_deref(),
                Some("tok"),
                "{secret}"
            );
        }
        let foreign = request(sign_value("tok", b"secret-d"));
        assert_eq!(set.read_signed(&foreign, name), None);
        // Retired: version 2 and the legacy secret gone.
        let retired = cookie_set(&[("BETTER_AUTH_SECRETS", "3:secret-c")]);
        for secret in ["secret-b", "secret-a"] {
            let cookies = request(sign_value("tok", secret.as_bytes()));
            assert_eq!(retired.read_signed(&cookies, name), None, "{secret}");
        }
    }
}
