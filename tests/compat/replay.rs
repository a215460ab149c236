//! Replays one fixture against a fresh in-process Portcullis and lists every difference from
//! what the reference answered. The matcher is strict; whether a difference is acceptable is
//! decided afterwards, only by the allow-list.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use reqwest::{Method, header::SET_COOKIE, redirect::Policy};
use serde_json::{Value, json};

use super::{
    db,
    fixture::{DbStep, Exchange, Fixture, Step},
    template::{Tx, Vars, form_encode},
};
use crate::common::{Backend, TestServer, webhook::OtpWebhook};

/// Response headers the fixtures assert (presence and value).
pub const RELEVANT_HEADERS: [&str; 4] = ["content-type", "cache-control", "pragma", "location"];

/// One way Portcullis's answer differs from the reference's.
#[derive(Debug, Clone)]
pub struct Difference {
    pub exchange: usize,
    pub title: String,
    /// `status`, `header:<name>`, `set-cookie`, `body` or `capture:<name>`.
    pub aspect: String,
    /// The fixture's expectation for that aspect, as recorded.
    pub expected: Value,
    /// Portcullis's answer for that aspect, normalized (known values → placeholders).
    pub actual: Value,
    pub detail: String,
}

pub struct Outcome {
    pub exchanges: usize,
    pub differences: Vec<Difference>,
    /// A replay that could not go on (a template that cannot be resolved, a failed db step).
    pub fatal: Option<String>,
}

struct Cookie {
    name: String,
    value: String,
    attributes: Vec<String>,
}

fn parse_set_cookie(line: &str) -> Cookie {
    let mut parts = line.split(';');
    let pair = parts.next().unwrap_or_default();
    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
    Cookie {
        name: name.trim().to_string(),
        value: value.trim().to_string(),
        attributes: parts
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

struct Replayer<'a> {
    server: &'a TestServer,
    webhook: Option<&'a OtpWebhook>,
    http: reqwest::Client,
    vars: Vars,
    differences: Vec<Difference>,
}

/// Replays `fixture` on a fresh database of `backend`; None when that backend is not configured.
pub async fn replay(fixture: &Fixture, backend: Backend) -> Option<Outcome> {
    let webhook = if fixture.server.otp_sender {
        Some(OtpWebhook::start().await)
    } else {
        None
    };
    let plugins = fixture.server.plugins.join(",");
    let mut env = vec![
        ("PORTCULLIS_PLUGINS", plugins.as_str()),
        ("PORTCULLIS_APP_NAME", fixture.server.app_name.as_str()),
    ];
    if let Some(w) = &webhook {
        env.push(("PORTCULLIS_OTP_WEBHOOK_URL", w.url.as_str()));
    }
    let Some(server) = TestServer::start_with(backend, &env).await else {
        if let Some(w) = webhook {
            w.stop().await;
        }
        return None;
    };
    let mut r = Replayer {
        server: &server,
        webhook: webhook.as_ref(),
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        vars: Vars::new(&server.origin),
        differences: Vec::new(),
    };
    let mut exchanges = 0;
    let mut fatal = None;
    for step in &fixture.steps {
        let result = match step {
            Step::Exchange(ex) => {
                exchanges += 1;
                r.exchange(ex)
                    .await
                    .map_err(|e| format!("#{} {}: {e}", ex.n, ex.title))
            }
            Step::Db(d) => r
                .db_step(d)
                .await
                .map_err(|e| format!("#{} {} (db {}): {e}", d.n, d.title, d.db)),
        };
        if let Err(e) = result {
            fatal = Some(e);
            break;
        }
    }
    let differences = std::mem::take(&mut r.differences);
    drop(r);
    server.stop().await;
    if let Some(w) = webhook {
        w.stop().await;
    }
    Some(Outcome {
        exchanges,
        differences,
        fatal,
    })
}

impl Replayer<'_> {
    async fn db_step(&mut self, d: &DbStep) -> Result<(), String> {
        let mut strings = HashMap::new();
        for (k, v) in &d.args {
            if let Some(s) = v.as_str() {
                strings.insert(k.clone(), self.vars.resolve(s)?);
            }
        }
        db::run(&self.server.state.db.conn, &d.db, &strings, &d.args).await
    }

    fn differ(
        &mut self,
        ex: &Exchange,
        aspect: &str,
        expected: Value,
        actual: Value,
        detail: String,
    ) {
        self.differences.push(Difference {
            exchange: ex.n,
            title: ex.title.clone(),
            aspect: aspect.to_string(),
            expected,
            actual,
            detail,
        });
    }

    async fn exchange(&mut self, ex: &Exchange) -> Result<(), String> {
        let req = &ex.request;
        let method = Method::from_bytes(req.method.as_bytes()).map_err(|e| e.to_string())?;
        let path = self.vars.resolve(&req.path)?;
        let url = format!("{}{path}", self.vars.origin);
        let mut rb = self.http.request(method, url);
        for (k, v) in &req.headers {
            let v = v.as_str().ok_or("header values are strings")?;
            rb = rb.header(k.as_str(), self.vars.resolve(v)?);
        }
        if !req.cookies.is_empty() {
            let mut pairs = Vec::new();
            for (name, v) in &req.cookies {
                pairs.push(format!("{name}={}", self.vars.resolve(v)?));
            }
            rb = rb.header("cookie", pairs.join("; "));
        }
        if let Some(body) = &req.body {
            let bytes = if let Some(j) = body.get("json") {
                serde_json::to_string(&self.vars.resolve_json(j).await?).unwrap()
            } else if let Some(form) = body.get("form") {
                let resolved = self.vars.resolve_json(form).await?;
                let pairs: Vec<(String, String)> = serde_json::from_value(resolved)
                    .map_err(|e| format!("form body is not [[name, value], …]: {e}"))?;
                form_encode(&pairs)
            } else if let Some(raw) = body.get("raw") {
                match self.vars.resolve_json(raw).await? {
                    Value::String(s) => s,
                    other => return Err(format!("raw body is not a string: {other}")),
                }
            } else {
                return Err(format!("unknown body {body}"));
            };
            rb = rb.body(bytes);
        }

        // OTP deliveries so far, for captures of the code this request makes the server send.
        let mut otp_before = Vec::new();
        for (name, spec) in &ex.capture {
            if let Some(email) = spec.get("otpSentTo").and_then(Value::as_str) {
                let email = self.vars.resolve(email)?;
                let seen = self.webhook.map_or(0, |w| w.count_for(&email));
                otp_before.push((name.clone(), email, seen));
            }
        }

        let resp = rb
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let cookies: Vec<Cookie> = headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| parse_set_cookie(v.to_str().unwrap_or_default()))
            .collect();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading body: {e}"))?;

        self.compare(ex, status, &headers, &cookies, &text);
        let cookies_differ = self
            .differences
            .iter()
            .any(|d| d.exchange == ex.n && d.aspect == "set-cookie");

        for (name, spec) in &ex.capture {
            if let Some(cookie) = spec.get("setCookie").and_then(Value::as_str) {
                match cookies.iter().rev().find(|c| c.name == cookie) {
                    Some(c) => {
                        self.vars.captures.insert(name.clone(), c.value.clone());
                    }
                    // Already reported as a Set-Cookie difference.
                    None if cookies_differ => {}
                    None => self.differ(
                        ex,
                        &format!("capture:{name}"),
                        spec.clone(),
                        Value::Null,
                        format!("no Set-Cookie {cookie} to capture"),
                    ),
                }
            } else if spec.get("otpSentTo").is_none() {
                return Err(format!("unknown capture source {spec}"));
            }
        }
        for (name, email, seen) in otp_before {
            match self.wait_for_otp(&email, seen).await {
                Some(otp) => {
                    self.vars.captures.insert(name, otp);
                }
                None => self.differ(
                    ex,
                    &format!("capture:{name}"),
                    ex.capture[&name].clone(),
                    Value::Null,
                    format!("no OTP delivered to {email} by the webhook"),
                ),
            }
        }
        Ok(())
    }

    async fn wait_for_otp(&self, email: &str, seen: usize) -> Option<String> {
        let webhook = self.webhook?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mine = webhook.deliveries_for(email);
            if mine.len() > seen {
                return mine.last()?["otp"].as_str().map(str::to_string);
            }
            if Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn compare(
        &mut self,
        ex: &Exchange,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        cookies: &[Cookie],
        text: &str,
    ) {
        let exp = &ex.response;
        if exp.status != status {
            self.differ(
                ex,
                "status",
                json!(exp.status),
                json!(status),
                format!("expected status {}, got {status}", exp.status),
            );
        }

        for name in RELEVANT_HEADERS {
            let actual: Vec<&str> = headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or("<non-ASCII>"))
                .collect();
            let actual = (!actual.is_empty()).then(|| actual.join(", "));
            let expected = exp.headers.get(name).and_then(Value::as_str);
            let mut tx = Tx::default();
            let result = match (expected, &actual) {
                (None, None) => Ok(()),
                (Some(e), Some(a)) => self.vars.match_str(e, a, &mut tx),
                (Some(e), None) => Err(format!("expected {e:?}, header absent")),
                (None, Some(a)) => Err(format!("unexpected header {a:?}")),
            };
            match result {
                Ok(()) => self.vars.commit(tx),
                Err(e) => {
                    let actual = actual
                        .as_deref()
                        .map_or(Value::Null, |a| Value::String(self.vars.normalize_str(a)));
                    self.differ(
                        ex,
                        &format!("header:{name}"),
                        expected.map_or(Value::Null, |e| json!(e)),
                        actual,
                        e,
                    );
                }
            }
        }

        let mut tx = Tx::default();
        match self.match_cookies(&exp.set_cookies, cookies, &mut tx) {
            Ok(()) => self.vars.commit(tx),
            Err(e) => {
                let actual = cookies
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name,
                            "value": self.vars.normalize_cookie_value(&c.value),
                            "attributes": c.attributes,
                        })
                    })
                    .collect();
                self.differ(
                    ex,
                    "set-cookie",
                    Value::Array(exp.set_cookies.clone()),
                    Value::Array(actual),
                    e,
                );
            }
        }

        let mut tx = Tx::default();
        match self.match_body(&exp.body, text, &mut tx) {
            Ok(()) => self.vars.commit(tx),
            Err(e) => {
                let is_json = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.contains("json"));
                let actual = if text.is_empty() {
                    json!({"empty": true})
                } else if let (true, Ok(v)) = (is_json, serde_json::from_str::<Value>(text)) {
                    json!({"json": self.vars.normalize_json(&v)})
                } else {
                    json!({"text": self.vars.normalize_str(text)})
                };
                self.differ(ex, "body", exp.body.clone(), actual, e);
            }
        }
    }

    fn match_cookies(
        &self,
        expected: &[Value],
        actual: &[Cookie],
        tx: &mut Tx,
    ) -> Result<(), String> {
        let names = |v: &[String]| v.join(", ");
        let exp_names: Vec<String> = expected
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect();
        let act_names: Vec<String> = actual.iter().map(|c| c.name.clone()).collect();
        if exp_names != act_names {
            return Err(format!(
                "expected Set-Cookie [{}], got [{}]",
                names(&exp_names),
                names(&act_names)
            ));
        }
        for (e, a) in expected.iter().zip(actual) {
            let attrs: Vec<&str> = e["attributes"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if attrs != a.attributes {
                return Err(format!(
                    "{}: expected attributes {:?}, got {:?}",
                    a.name, attrs, a.attributes
                ));
            }
            let tpl = e["value"].as_str().unwrap_or_default();
            self.vars
                .match_cookie_value(tpl, &a.value, tx)
                .map_err(|err| format!("{} value: {err}", a.name))?;
        }
        Ok(())
    }

    fn match_body(&self, expected: &Value, text: &str, tx: &mut Tx) -> Result<(), String> {
        if expected.get("empty").is_some() {
            return if text.is_empty() {
                Ok(())
            } else {
                Err(format!("expected an empty body, got {text:?}"))
            };
        }
        if let Some(t) = expected.get("text").and_then(Value::as_str) {
            return self.vars.match_str(t, text, tx);
        }
        let Some(j) = expected.get("json") else {
            return Err(format!("unknown expected body {expected}"));
        };
        if text.is_empty() {
            return Err("expected a JSON body, got an empty one".to_string());
        }
        let actual: Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text:?}"))?;
        self.vars.match_json(j, &actual, "$", tx)
    }
}
