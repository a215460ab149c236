//! Building responses: JSON body plus Set-Cookie lines in the order Better Auth emits them.

use actix_web::{HttpResponse, http::StatusCode};
use portcullis_protocol::cookies::SetCookie;
use serde::Serialize;

/// Set-Cookie lines queued for one response.
#[derive(Debug, Default)]
pub struct CookieJar {
    lines: Vec<SetCookie>,
}

impl CookieJar {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, c: SetCookie) {
        self.lines.push(c);
    }

    /// Queues an expiring line and drops any earlier line for the same cookie or its
    /// `<name>.<n>` chunks, so a valid value never leaks next to its own expiry (better-auth:
    /// dist/cookies/index.mjs expireCookie / removeSetCookieEntries).
    pub fn expire(&mut self, c: SetCookie) {
        let name = c.name.clone();
        let chunk = format!("{name}.");
        self.lines
            .retain(|l| l.name != name && !l.name.starts_with(&chunk));
        self.lines.push(c);
    }

    pub fn extend(&mut self, other: CookieJar) {
        for c in other.lines {
            self.lines.push(c);
        }
    }

    pub fn lines(&self) -> &[SetCookie] {
        &self.lines
    }

    pub fn into_lines(self) -> Vec<SetCookie> {
        self.lines
    }
}

/// A JSON reply. Better Auth serialises with `JSON.stringify` and `Content-Type: application/json`.
pub struct Reply {
    status: StatusCode,
    body: String,
    jar: CookieJar,
    headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json<T: Serialize>(value: &T) -> Self {
        Self {
            status: StatusCode::OK,
            // Serialising our own response types cannot fail (no maps with non-string keys).
            body: serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
            jar: CookieJar::new(),
            headers: Vec::new(),
        }
    }

    pub fn cookies(mut self, jar: CookieJar) -> Self {
        self.jar.extend(jar);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn finish(self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.content_type("application/json");
        for (k, v) in self.headers {
            res.append_header((k, v));
        }
        for c in self.jar.into_lines() {
            res.append_header(("set-cookie", c.to_string()));
        }
        res.body(self.body)
    }
}

impl actix_web::Responder for Reply {
    type Body = actix_web::body::BoxBody;
    fn respond_to(self, _req: &actix_web::HttpRequest) -> HttpResponse {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use portcullis_protocol::cookies::CookieAttrs;

    use super::*;

    #[test]
    fn an_expiry_drops_earlier_lines_of_the_cookie_and_its_chunks() {
        let attrs = CookieAttrs::default();
        let mut jar = CookieJar::new();
        for name in [
            "a.session_data.0",
            "a.session_data.1",
            "a.session_data",
            "a.session_token",
        ] {
            jar.set(SetCookie::new(name, "live", &attrs));
        }
        jar.expire(SetCookie::expired("a.session_data", &attrs));
        let left: Vec<_> = jar
            .lines()
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str()))
            .collect();
        assert_eq!(left, [("a.session_token", "live"), ("a.session_data", "")]);
    }
}
