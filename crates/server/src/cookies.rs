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
    secret: Vec<u8>,
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
            secret: config.secret.as_bytes().to_vec(),
            session_max_age: config.session_expires_in,
        }
    }

    /// A signed cookie line.
    pub fn signed(&self, name: &str, value: &str, max_age: Option<i64>) -> SetCookie {
        let mut c = SetCookie::new(name, sign_value(value, &self.secret), &self.attrs);
        c.max_age = max_age;
        c
    }

    pub fn expired(&self, name: &str) -> SetCookie {
        SetCookie::expired(name, &self.attrs)
    }

    /// The verified value of a signed request cookie; a bad signature reads as absent.
    pub fn read_signed(&self, cookies: &[(String, String)], name: &str) -> Option<String> {
        let raw = portcullis_protocol::cookies::get_cookie(cookies, name)?;
        verify_signed_value(raw, &self.secret)
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
