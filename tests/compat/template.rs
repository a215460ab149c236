//! The template language of the fixtures (compat-fixtures/README.md "Placeholders"):
//! requests are resolved into real values, answers are matched against templates, binding
//! each numbered placeholder to the value it first matches and holding it to that value (and
//! no other placeholder to it) for the rest of the fixture.

use std::{
    collections::HashMap,
    sync::LazyLock,
    time::{SystemTime, UNIX_EPOCH},
};

use base64::Engine;
use hmac::{Hmac, Mac};
use regex::Regex;
use serde_json::{Map, Value};

use crate::common::SECRET;

/// `<kind[:N][|variant]>`.
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"<(origin|port|date|email|username|id|token|challenge|trust-id|hmac|totp-secret|backup-code)(?::(\d+))?(?:\|(upper|url))?>",
    )
    .unwrap()
});
/// `{{capture}}` or `{{capture|unsigned}}`.
static CAPTURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{([A-Za-z0-9_.:-]+)(?:\|(unsigned))?\}\}").unwrap());
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").unwrap());
static TOKEN32: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^A-Za-z0-9])([A-Za-z0-9]{32})($|[^A-Za-z0-9])").unwrap());

/// The shape a placeholder kind matches when it is not bound yet.
fn kind_pattern(kind: &str) -> &'static str {
    match kind {
        "date" => r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
        "id" | "token" => "[A-Za-z0-9]{32}",
        "challenge" => "[A-Za-z0-9_-]{20}",
        "trust-id" => "[A-Za-z0-9_-]{32}",
        "hmac" => "[A-Za-z0-9_-]{43}",
        "totp-secret" => "[A-Z2-7]+",
        "backup-code" => "[A-Za-z0-9]{5}-[A-Za-z0-9]{5}",
        "email" => r#"[^\s"<>@]+@[^\s"<>@]+"#,
        "username" => "[a-z0-9_.]+",
        _ => unreachable!("placeholder kind {kind}"),
    }
}

fn variant(value: &str, v: Option<&str>) -> String {
    match v {
        Some("upper") => value.to_uppercase(),
        Some("url") => percent_encoding::utf8_percent_encode(value, URI_COMPONENT).to_string(),
        _ => value.to_string(),
    }
}

/// What JavaScript's `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// `application/x-www-form-urlencoded` serialization, as `URLSearchParams#toString`.
pub fn form_encode(pairs: &[(String, String)]) -> String {
    fn enc(s: &str) -> String {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b' ' => out.push('+'),
                b'*' | b'-' | b'.' | b'_' => out.push(b as char),
                b if b.is_ascii_alphanumeric() => out.push(b as char),
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Better Auth's cookie signature: base64(HMAC-SHA256(secret, value)), padded.
pub fn cookie_signature(value: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(value.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub fn percent_decode(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

/// `value.sig` (URL-encoded or not) → `value` when the signature is Better Auth's for `value`.
pub fn verify_signed(raw: &str) -> Option<String> {
    let decoded = percent_decode(raw)?;
    let (inner, sig) = decoded.rsplit_once('.')?;
    (sig.len() == 44 && sig.ends_with('=') && cookie_signature(inner) == sig)
        .then(|| inner.to_string())
}

/// The part of a signed cookie value before its signature (URL-decoded).
pub fn unsigned(raw: &str) -> String {
    let decoded = percent_decode(raw).unwrap_or_else(|| raw.to_string());
    match decoded.rsplit_once('.') {
        Some((inner, _)) => inner.to_string(),
        None => decoded,
    }
}

// ---------------------------------------------------------------- TOTP (RFC 6238, SHA-1)

fn hotp(key: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[h.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]) & 0x7fff_ffff;
    format!("{:06}", bin % 1_000_000)
}

fn current_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

// ---------------------------------------------------------------- variables

/// Placeholder bindings and captures of one fixture replay.
pub struct Vars {
    pub origin: String,
    pub port: String,
    /// "token:1" → value.
    bound: HashMap<String, String>,
    /// value → "token:1".
    by_value: HashMap<String, String>,
    pub captures: HashMap<String, String>,
    /// TOTP secret → (step, code) of the last success code computed.
    totp_last: HashMap<String, (u64, String)>,
}

/// New bindings made while matching one aspect of an answer; kept only if it matches.
#[derive(Default)]
pub struct Tx {
    bound: HashMap<String, String>,
}

impl Vars {
    pub fn new(origin: &str) -> Self {
        let port = origin.rsplit(':').next().unwrap_or_default().to_string();
        Self {
            origin: origin.to_string(),
            port,
            bound: HashMap::new(),
            by_value: HashMap::new(),
            captures: HashMap::new(),
            totp_last: HashMap::new(),
        }
    }

    pub fn commit(&mut self, tx: Tx) {
        for (k, v) in tx.bound {
            self.by_value.insert(v.clone(), k.clone());
            self.bound.insert(k, v);
        }
    }

    fn lookup<'a>(&'a self, tx: &'a Tx, key: &str) -> Option<&'a String> {
        self.bound.get(key).or_else(|| tx.bound.get(key))
    }

    // ------------------------------------------------ requests

    /// A request template string → the real value.
    pub fn resolve(&mut self, s: &str) -> Result<String, String> {
        let mut err = None;
        let with_captures = CAPTURE.replace_all(s, |c: &regex::Captures| {
            let name = &c[1];
            match self.captures.get(name) {
                Some(v) if c.get(2).is_some() => unsigned(v),
                Some(v) => v.clone(),
                None => {
                    err = Some(format!("capture {{{{{name}}}}} is not set"));
                    String::new()
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        let mut out = String::new();
        let mut last = 0;
        for c in PLACEHOLDER.captures_iter(&with_captures) {
            let m = c.get(0).unwrap();
            out.push_str(&with_captures[last..m.start()]);
            last = m.end();
            let kind = &c[1];
            let value = match kind {
                "origin" => self.origin.clone(),
                "port" => self.port.clone(),
                _ => {
                    let n = c
                        .get(2)
                        .ok_or_else(|| format!("{} needs a number in a request", m.as_str()))?
                        .as_str();
                    let key = format!("{kind}:{n}");
                    match self.bound.get(&key) {
                        Some(v) => v.clone(),
                        None => {
                            // Values the client invents: any fresh value will do on a fresh database.
                            let v = match kind {
                                "email" => format!("user{n}@example.com"),
                                "username" => format!("user{n}_name"),
                                _ => {
                                    return Err(format!(
                                        "<{key}> used in a request before an answer bound it"
                                    ));
                                }
                            };
                            self.bound.insert(key.clone(), v.clone());
                            self.by_value.insert(v.clone(), key);
                            v
                        }
                    }
                }
            };
            out.push_str(&variant(&value, c.get(3).map(|v| v.as_str())));
        }
        out.push_str(&with_captures[last..]);
        Ok(out)
    }

    /// A request JSON template → the real JSON (strings resolved, `$compute` objects computed).
    pub async fn resolve_json(&mut self, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::String(s) => Value::String(self.resolve(s)?),
            Value::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    out.push(Box::pin(self.resolve_json(x)).await?);
                }
                Value::Array(out)
            }
            Value::Object(o) if o.contains_key("$compute") => Value::String(self.compute(o).await?),
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    out.insert(k.clone(), Box::pin(self.resolve_json(x)).await?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// `{"$compute": …}` (README "Computed values").
    async fn compute(&mut self, spec: &Map<String, Value>) -> Result<String, String> {
        let field = |k: &str| -> Result<String, String> {
            spec.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("$compute without {k}: {spec:?}"))
        };
        let kind = field("$compute")?;
        match kind.as_str() {
            "repeat" => {
                let count = spec.get("count").and_then(Value::as_u64).unwrap_or(0);
                Ok(field("text")?.repeat(usize::try_from(count).unwrap()))
            }
            "otp-wrong" => {
                let otp = self.resolve(&field("otp")?)?;
                let n: u64 = otp
                    .parse()
                    .map_err(|_| format!("OTP {otp:?} is not numeric"))?;
                let modulus = 10u64.pow(u32::try_from(otp.len()).unwrap());
                Ok(format!("{:0w$}", (n + 1) % modulus, w = otp.len()))
            }
            "totp" | "totp-wrong" => {
                let secret = self.resolve(&field("secret")?)?;
                let key = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &secret)
                    .ok_or_else(|| format!("TOTP secret {secret:?} is not base32"))?;
                if kind == "totp-wrong" {
                    let now = current_step();
                    let valid: Vec<String> = (now - 3..=now + 3).map(|s| hotp(&key, s)).collect();
                    return Ok((0u32..)
                        .map(|i| format!("{:06}", 123_456 + i * 7))
                        .find(|c| !valid.contains(c))
                        .unwrap());
                }
                let step = field("step")?;
                let last = self.totp_last.get(&secret).cloned();
                match step.as_str() {
                    "replay" => last
                        .map(|(_, code)| code)
                        .ok_or_else(|| "TOTP replay before any TOTP".to_string()),
                    "fresh" => loop {
                        let now = current_step();
                        if let Some(s) = [now, now + 1]
                            .into_iter()
                            .find(|s| last.as_ref().is_none_or(|(l, _)| s > l))
                        {
                            let code = hotp(&key, s);
                            self.totp_last.insert(secret.clone(), (s, code.clone()));
                            break Ok(code);
                        }
                        actix_web::rt::time::sleep(std::time::Duration::from_millis(250)).await;
                    },
                    other => Err(format!("unknown TOTP step {other:?}")),
                }
            }
            other => Err(format!("unknown $compute {other:?}")),
        }
    }

    // ------------------------------------------------ matching

    /// Matches `actual` against the string template `tpl`, binding unbound placeholders into `tx`.
    pub fn match_str(&self, tpl: &str, actual: &str, tx: &mut Tx) -> Result<(), String> {
        if !tpl.contains('<') {
            return if tpl == actual {
                Ok(())
            } else {
                Err(format!("expected {tpl:?}, got {actual:?}"))
            };
        }
        let mut pattern = String::from("^");
        let mut slots: Vec<String> = Vec::new();
        let mut last = 0;
        for c in PLACEHOLDER.captures_iter(tpl) {
            let m = c.get(0).unwrap();
            pattern.push_str(&regex::escape(&tpl[last..m.start()]));
            last = m.end();
            let kind = &c[1];
            let var = c.get(3).map(|v| v.as_str());
            match (kind, c.get(2)) {
                ("origin", _) => pattern.push_str(&regex::escape(&self.origin)),
                ("port", _) => pattern.push_str(&regex::escape(&self.port)),
                (kind, None) => {
                    pattern.push('(');
                    pattern.push_str(kind_pattern(kind));
                    pattern.push(')');
                    slots.push(String::new());
                }
                (kind, Some(n)) => {
                    let key = format!("{kind}:{}", n.as_str());
                    if let Some(v) = self.lookup(tx, &key) {
                        pattern.push_str(&regex::escape(&variant(v, var)));
                    } else if var.is_some() {
                        return Err(format!("{} is not bound yet", m.as_str()));
                    } else {
                        pattern.push('(');
                        pattern.push_str(kind_pattern(kind));
                        pattern.push(')');
                        slots.push(key);
                    }
                }
            }
        }
        pattern.push_str(&regex::escape(&tpl[last..]));
        pattern.push('$');
        let re = Regex::new(&pattern).map_err(|e| format!("bad template {tpl:?}: {e}"))?;
        let caps = re
            .captures(actual)
            .ok_or_else(|| format!("expected {tpl:?}, got {actual:?}"))?;
        for (i, key) in slots.iter().enumerate() {
            if key.is_empty() {
                continue;
            }
            let value = caps.get(i + 1).unwrap().as_str();
            if let Some(prev) = tx.bound.get(key) {
                if prev != value {
                    return Err(format!("<{key}> is {prev:?} but also {value:?}"));
                }
                continue;
            }
            let owner = self.by_value.get(value).or_else(|| {
                tx.bound
                    .iter()
                    .find(|(_, v)| v.as_str() == value)
                    .map(|(k, _)| k)
            });
            if let Some(owner) = owner {
                return Err(format!(
                    "{value:?} should be a new <{key}> but is already <{owner}>"
                ));
            }
            tx.bound.insert(key.clone(), value.to_string());
        }
        Ok(())
    }

    /// A Set-Cookie value: `""`, `<signed:TEMPLATE>` (signature verified) or a template.
    pub fn match_cookie_value(&self, tpl: &str, actual: &str, tx: &mut Tx) -> Result<(), String> {
        if let Some(inner_tpl) = tpl
            .strip_prefix("<signed:")
            .and_then(|t| t.strip_suffix('>'))
        {
            let inner = verify_signed(actual).ok_or_else(|| {
                format!("expected a value signed with the secret, got {actual:?}")
            })?;
            return self.match_str(inner_tpl, &inner, tx);
        }
        self.match_str(tpl, actual, tx)
    }

    /// Structural JSON match: same types, same key sets (order ignored), null ≠ absent.
    pub fn match_json(
        &self,
        tpl: &Value,
        actual: &Value,
        path: &str,
        tx: &mut Tx,
    ) -> Result<(), String> {
        match (tpl, actual) {
            (Value::String(t), Value::String(a)) => {
                self.match_str(t, a, tx).map_err(|e| format!("{path}: {e}"))
            }
            (Value::Object(t), Value::Object(a)) => {
                let missing: Vec<&String> = t.keys().filter(|k| !a.contains_key(*k)).collect();
                let extra: Vec<&String> = a.keys().filter(|k| !t.contains_key(*k)).collect();
                if !missing.is_empty() || !extra.is_empty() {
                    return Err(format!(
                        "{path}: keys differ (missing {missing:?}, unexpected {extra:?})"
                    ));
                }
                for (k, tv) in t {
                    self.match_json(tv, &a[k], &format!("{path}.{k}"), tx)?;
                }
                Ok(())
            }
            (Value::Array(t), Value::Array(a)) => {
                if t.len() != a.len() {
                    return Err(format!(
                        "{path}: expected {} elements, got {}",
                        t.len(),
                        a.len()
                    ));
                }
                for (i, (tv, av)) in t.iter().zip(a).enumerate() {
                    self.match_json(tv, av, &format!("{path}[{i}]"), tx)?;
                }
                Ok(())
            }
            (t, a) if t == a => Ok(()),
            (t, a) => Err(format!("{path}: expected {t}, got {a}")),
        }
    }

    // ------------------------------------------------ normalization (for reports and the allow-list)

    /// An answer's string with known values replaced by their placeholders.
    pub fn normalize_str(&self, s: &str) -> String {
        let mut out = s.replace(&self.origin, "<origin>");
        let port = format!(":{}", self.port);
        if !self.port.is_empty() {
            out = out.replace(&port, ":<port>");
        }
        let mut known: Vec<(&String, &String)> = self.by_value.iter().collect();
        known.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        for (value, key) in known {
            if value.len() < 3 {
                continue;
            }
            if key.starts_with("email:") {
                out = out.replace(&variant(value, Some("url")), &format!("<{key}|url>"));
                out = out.replace(&value.to_uppercase(), &format!("<{key}|upper>"));
            }
            out = out.replace(value.as_str(), &format!("<{key}>"));
        }
        out = DATE.replace_all(&out, "<date>").into_owned();
        TOKEN32.replace_all(&out, "${1}<id>${3}").into_owned()
    }

    pub fn normalize_cookie_value(&self, raw: &str) -> String {
        match verify_signed(raw) {
            Some(inner) => format!("<signed:{}>", self.normalize_str(&inner)),
            None => self.normalize_str(raw),
        }
    }

    pub fn normalize_json(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.normalize_str(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.normalize_json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.normalize_json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}
