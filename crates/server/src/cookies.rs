//! The auth cookies of this deployment: names, attributes and signing, bound to the config.
//! better-auth: dist/cookies/index.mjs (getCookies, setSessionCookie, deleteSessionCookie).

use portcullis_protocol::{
    cookies::{CookieAttrs, CookieNames, SetCookie},
    signed::{sign_value, verify_signed_value},
};

use crate::{config::Config, http::CookieJar};

#[derive(Clone)]
pub struct CookieSet {
    pub names: CookieNames,
    attrs: CookieAttrs,
    /// Signs: the current secret.
    signing: Vec<u8>,
    /// Verifies: every configured secret, current first (`SecretConfig::verifying`).
    verifying: Vec<Vec<u8>>,
    session_max_age: i64,
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
        }
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
    /// remembered. `dont_remember = None` means "as the request's cookie says".
    pub fn set_session(
        &self,
        jar: &mut CookieJar,
        cookies: &[(String, String)],
        token: &str,
        dont_remember: Option<bool>,
        max_age_override: Option<i64>,
    ) {
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
