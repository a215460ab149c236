//! Cookie names, `Set-Cookie` serialization and `Cookie` header parsing, as Better Auth does them.
//!
//! Sources (1.7.25): `better-auth: dist/cookies/index.mjs` (`createCookieGetter`, names and
//! default attributes), `better-call: dist/cookies.mjs` (`serializeCookie`, `parseCookies`),
//! `better-auth: dist/cookies/cookie-utils.mjs` and `dist/cookies/session-store.mjs`
//! (chunked `session_data`).

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::signed;

/// `advanced.cookiePrefix` default. `better-auth: dist/cookies/index.mjs`.
pub const DEFAULT_COOKIE_PREFIX: &str = "better-auth";
/// Name prefix when secure cookies are on.
pub const SECURE_COOKIE_PREFIX: &str = "__Secure-";
/// `__Host-` prefix (never produced by default config, but honoured when serializing).
pub const HOST_COOKIE_PREFIX: &str = "__Host-";
/// Largest `Max-Age` better-call accepts (400 days); it throws above this.
/// `better-call: dist/cookies.mjs` `serializeCookieValue`.
pub const MAX_AGE_LIMIT: i64 = 34_560_000;

/// Base cookie names (before prefixing).
pub mod base {
    /// Signed session token. `better-auth: dist/cookies/index.mjs`.
    pub const SESSION_TOKEN: &str = "session_token";
    /// Cookie cache (possibly chunked as `session_data.N`). `better-auth: dist/cookies/index.mjs`.
    pub const SESSION_DATA: &str = "session_data";
    /// Signed `"true"` when `rememberMe: false`. `better-auth: dist/cookies/index.mjs`.
    pub const DONT_REMEMBER: &str = "dont_remember";
    /// Signed 2FA challenge id. `better-auth: dist/plugins/two-factor/constant.mjs`.
    pub const TWO_FACTOR: &str = "two_factor";
    /// Signed trust-device token. `better-auth: dist/plugins/two-factor/constant.mjs`.
    pub const TRUST_DEVICE: &str = "trust_device";
    /// OAuth account cookie. `better-auth: dist/cookies/index.mjs`.
    pub const ACCOUNT_DATA: &str = "account_data";
}

/// Default `Max-Age` values, in seconds.
pub mod max_age {
    /// `session.expiresIn` default (7 days). `better-auth: dist/cookies/index.mjs`.
    pub const SESSION_TOKEN: i64 = 604_800;
    /// `session.cookieCache.maxAge` default. `better-auth: dist/cookies/index.mjs`.
    pub const SESSION_DATA: i64 = 300;
    /// `twoFactorCookieMaxAge` default. `better-auth: dist/plugins/two-factor/index.mjs`.
    pub const TWO_FACTOR: i64 = 600;
    /// `trustDeviceMaxAge` default (30 days). `better-auth: dist/plugins/two-factor/constant.mjs`.
    pub const TRUST_DEVICE: i64 = 2_592_000;
}

/// `[__Secure-]<prefix>.<base>`. An empty `prefix` means the default, like upstream's
/// `options.advanced?.cookiePrefix || "better-auth"`. `better-auth: dist/cookies/index.mjs`.
pub fn cookie_name(prefix: &str, secure: bool, base: &str) -> String {
    let prefix = if prefix.is_empty() {
        DEFAULT_COOKIE_PREFIX
    } else {
        prefix
    };
    let secure = if secure { SECURE_COOKIE_PREFIX } else { "" };
    format!("{secure}{prefix}.{base}")
}

/// The full names of every cookie the server reads or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    pub session_token: String,
    pub session_data: String,
    pub dont_remember: String,
    pub two_factor: String,
    pub trust_device: String,
    pub account_data: String,
}

impl CookieNames {
    /// Names for `prefix` (empty = default) with or without the `__Secure-` prefix.
    pub fn new(prefix: &str, secure: bool) -> Self {
        let name = |b: &str| cookie_name(prefix, secure, b);
        CookieNames {
            session_token: name(base::SESSION_TOKEN),
            session_data: name(base::SESSION_DATA),
            dont_remember: name(base::DONT_REMEMBER),
            two_factor: name(base::TWO_FACTOR),
            trust_device: name(base::TRUST_DEVICE),
            account_data: name(base::ACCOUNT_DATA),
        }
    }
}

impl Default for CookieNames {
    fn default() -> Self {
        Self::new(DEFAULT_COOKIE_PREFIX, false)
    }
}

/// `SameSite` attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    /// Capitalized as better-call writes it (`charAt(0).toUpperCase() + slice(1)`).
    pub const fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// The per-server cookie attributes: `Secure` (on when secure cookies are on) and `Domain` (only
/// with cross-subdomain cookies). The rest are upstream's fixed defaults, applied by
/// [`SetCookie::new`]: `Path=/`, `HttpOnly`, `SameSite=Lax` (`createCookieGetter`,
/// `better-auth: dist/cookies/index.mjs`); change the [`SetCookie`] fields for anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieAttrs {
    pub secure: bool,
    pub domain: Option<String>,
}

impl CookieAttrs {
    pub fn new(secure: bool, domain: Option<String>) -> Self {
        CookieAttrs { secure, domain }
    }
}

/// Characters `encodeURIComponent` leaves alone: `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// JS `encodeURIComponent` (uppercase hex, UTF-8).
pub fn encode_uri_component(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// One `Set-Cookie` header line.
///
/// `value` holds the raw value; [`fmt::Display`] applies `encodeURIComponent` (better-call encodes
/// both plain and signed values exactly once) and renders the attributes in better-call's order:
/// `name=value; Max-Age=…; Domain=…; Path=…; HttpOnly; Secure; SameSite=…; Partitioned`.
/// Like better-call's `resolveCookie`, a `__Secure-`/`__Host-` name, `SameSite=None` or
/// `Partitioned` forces `Secure`, and `__Host-` forces `Path=/` and no `Domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    /// Seconds; negative values are omitted like upstream. Must not exceed [`MAX_AGE_LIMIT`]
    /// (upstream throws; see [`SetCookie::check`]).
    pub max_age: Option<i64>,
    pub domain: Option<String>,
    /// Empty = no `Path` attribute.
    pub path: String,
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<SameSite>,
    pub partitioned: bool,
}

/// A `Set-Cookie` that better-call would refuse to serialize.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    #[error("cookie {name}: Max-Age {max_age} exceeds 400 days ({MAX_AGE_LIMIT} seconds)")]
    MaxAgeTooLarge { name: String, max_age: i64 },
}

impl SetCookie {
    /// A cookie with upstream's default attributes (`Path=/; HttpOnly; SameSite=Lax`), `attrs`'
    /// `Secure`/`Domain`, and no `Max-Age` (a browser-session cookie).
    pub fn new(name: impl Into<String>, value: impl Into<String>, attrs: &CookieAttrs) -> Self {
        SetCookie {
            name: name.into(),
            value: value.into(),
            max_age: None,
            domain: attrs.domain.clone(),
            path: "/".to_owned(),
            http_only: true,
            secure: attrs.secure,
            same_site: Some(SameSite::Lax),
            partitioned: false,
        }
    }

    /// A cookie whose value is `sign_value(value, secret)`.
    /// `better-call: dist/cookies.mjs` `serializeSignedCookie`.
    pub fn signed(
        name: impl Into<String>,
        value: &str,
        secret: &[u8],
        attrs: &CookieAttrs,
    ) -> Self {
        Self::new(name, signed::sign_value(value, secret), attrs)
    }

    /// The expiring form: empty value, `Max-Age=0`, same attributes.
    /// `better-auth: dist/cookies/index.mjs` `expireCookie`.
    pub fn expired(name: impl Into<String>, attrs: &CookieAttrs) -> Self {
        Self::new(name, "", attrs).with_max_age(Some(0))
    }

    /// Sets `Max-Age` (seconds) or clears it.
    pub fn with_max_age(mut self, max_age: Option<i64>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Fails where better-call's serializer would throw (`Max-Age` above 400 days).
    pub fn check(&self) -> Result<(), CookieError> {
        match self.max_age {
            Some(max_age) if max_age > MAX_AGE_LIMIT => Err(CookieError::MaxAgeTooLarge {
                name: self.name.clone(),
                max_age,
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for SetCookie {
    /// `better-call: dist/cookies.mjs` `resolveCookie` + `serializeCookieValue`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lower = self.name.to_ascii_lowercase();
        let host = lower.starts_with("__host-");
        let secure = self.secure
            || host
            || lower.starts_with("__secure-")
            || self.partitioned
            || self.same_site == Some(SameSite::None);
        let (path, domain) = if host {
            ("/", None)
        } else {
            (self.path.as_str(), self.domain.as_deref())
        };

        write!(f, "{}={}", self.name, encode_uri_component(&self.value))?;
        if let Some(max_age) = self.max_age
            && max_age >= 0
        {
            write!(f, "; Max-Age={max_age}")?;
        }
        if let Some(domain) = domain
            && !domain.is_empty()
        {
            write!(f, "; Domain={domain}")?;
        }
        if !path.is_empty() {
            write!(f, "; Path={path}")?;
        }
        if self.http_only {
            f.write_str("; HttpOnly")?;
        }
        if secure {
            f.write_str("; Secure")?;
        }
        if let Some(same_site) = self.same_site {
            write!(f, "; SameSite={}", same_site.as_str())?;
        }
        if self.partitioned {
            f.write_str("; Partitioned")?;
        }
        Ok(())
    }
}

/// Whitespace stripped by JS `String.prototype.trim`.
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{0009}'
            | '\u{000A}'
            | '\u{000B}'
            | '\u{000C}'
            | '\u{000D}'
            | '\u{0020}'
            | '\u{00A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// JS `decodeURIComponent`; `None` where it would throw `URIError`
/// (a `%` not followed by two hex digits, or escapes that are not valid UTF-8).
pub fn decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16))?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `tryDecode`: decode only if the value contains `%`, keep it as-is if decoding fails.
/// `better-call: dist/utils.mjs`, `better-auth: dist/cookies/cookie-utils.mjs`.
fn try_decode(s: &str) -> String {
    if s.contains('%') {
        decode_uri_component(s).unwrap_or_else(|| s.to_owned())
    } else {
        s.to_owned()
    }
}

/// Parses a request `Cookie` header the way better-call does (`better-call: dist/cookies.mjs`
/// `parseCookies`), which is what Better Auth's `ctx.getCookie` / `ctx.getSignedCookie` read:
/// pairs split on `;`, name and value JS-trimmed, the **first** occurrence of a name wins, a
/// value starting with `"` loses its first and last character, and values containing `%` are
/// `decodeURIComponent`-ed when valid. Entries without `=` are skipped (and parsing stops at
/// the first `;`-less tail without `=`). Order of first occurrence is preserved.
pub fn parse_cookie_header(header: &str) -> Vec<(String, String)> {
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    while index < header.len() {
        let Some(eq) = header[index..].find('=').map(|i| i + index) else {
            break;
        };
        let end = match header[index..].find(';').map(|i| i + index) {
            None => header.len(),
            Some(end) if end < eq => {
                // `index = str.lastIndexOf(";", eqIdx - 1) + 1`: restart after the `;` closest
                // before this `=`.
                index = header[..eq].rfind(';').map_or(0, |i| i + 1);
                continue;
            }
            Some(end) => end,
        };
        let key = js_trim(&header[index..eq]);
        if !cookies.iter().any(|(k, _)| k == key) {
            let mut val = js_trim(&header[eq + 1..end]);
            if let Some(rest) = val.strip_prefix('"') {
                // `val.slice(1, -1)`: drops the first and the last character unconditionally
                // (a lone `"` becomes empty).
                let mut chars = rest.chars();
                chars.next_back();
                val = chars.as_str();
            }
            cookies.push((key.to_owned(), try_decode(val)));
        }
        index = end + 1;
    }
    cookies
}

/// The value of cookie `name` from [`parse_cookie_header`] output.
pub fn get_cookie<'a>(cookies: &'a [(String, String)], name: &str) -> Option<&'a str> {
    cookies
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `ctx.getSignedCookie(name, secret)`: the verified inner value of a signed cookie, `None` when
/// absent, empty or badly signed. `better-call: dist/context.mjs`.
pub fn get_signed_cookie(
    cookies: &[(String, String)],
    name: &str,
    secret: &[u8],
) -> Option<String> {
    signed::verify_signed_value(get_cookie(cookies, name)?, secret)
}

/// RFC 7230 token characters (`cookieNameRegex`, `better-auth: dist/cookies/cookie-utils.mjs`).
fn is_cookie_name_byte(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x27 | 0x2A | 0x2B | 0x2D | 0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5E..=0x7A | 0x7C | 0x7E)
}

/// RFC 6265 cookie-octet plus space and comma (`cookieValueRegex`).
fn is_cookie_value_byte(b: u8) -> bool {
    matches!(b, 0x20 | 0x21 | 0x23..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// Better Auth's own stricter parser (`better-auth: dist/cookies/cookie-utils.mjs`
/// `parseCookies`), used upstream to discover `session_data` chunks: split on `;`, trim only
/// space/tab, drop entries whose name or value has characters outside the RFC sets, unquote
/// only `"…"`, and the **last** occurrence wins (a JS `Map` keeps the first insertion position).
pub fn parse_cookie_header_strict(header: &str) -> Vec<(String, String)> {
    let mut cookies: Vec<(String, String)> = Vec::new();
    if header.len() < 2 {
        return cookies;
    }
    let ows = |c: char| c == ' ' || c == '\t';
    for chunk in header.split(';') {
        let Some(eq) = chunk.find('=') else { continue };
        let key = chunk[..eq].trim_matches(ows);
        let mut val = chunk[eq + 1..].trim_matches(ows);
        if val.len() >= 2 && val.starts_with('"') && val.ends_with('"') {
            val = &val[1..val.len() - 1];
        }
        if key.is_empty()
            || !key.bytes().all(is_cookie_name_byte)
            || !val.bytes().all(is_cookie_value_byte)
        {
            continue;
        }
        let decoded = try_decode(val);
        match cookies.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = decoded,
            None => cookies.push((key.to_owned(), decoded)),
        }
    }
    cookies
}

/// The chunk index of `name` relative to `cookie_name` (`<cookie_name>.<n>`, canonical decimal,
/// ≤ 2^53-1). `better-auth: dist/cookies/session-store.mjs` `parseCookieChunkIndex`.
pub fn chunk_index(cookie_name: &str, name: &str) -> Option<u64> {
    let suffix = name.strip_prefix(cookie_name)?.strip_prefix('.')?;
    if suffix.is_empty()
        || !suffix.bytes().all(|b| b.is_ascii_digit())
        || (suffix.len() > 1 && suffix.starts_with('0'))
    {
        return None;
    }
    let index: u64 = suffix.parse().ok()?;
    (index < (1u64 << 53)).then_some(index)
}

/// Names of the request cookies that upstream expires when it "cleans" the chunked store for
/// `cookie_name` (the name itself and every `<cookie_name>.<n>`), in upstream order.
/// `better-auth: dist/cookies/session-store.mjs` `readExistingChunks`.
pub fn existing_chunk_names(header: &str, cookie_name: &str) -> Vec<String> {
    parse_cookie_header_strict(header)
        .into_iter()
        .filter(|(name, _)| name == cookie_name || chunk_index(cookie_name, name).is_some())
        .map(|(name, _)| name)
        .collect()
}

/// The chunked cookie value: the cookie itself if present and non-empty (better-call parser),
/// else the `<cookie_name>.<n>` chunks (strict parser) joined in index order.
/// `better-auth: dist/cookies/session-store.mjs` `getChunkedCookie`.
pub fn get_chunked_cookie(header: &str, cookie_name: &str) -> Option<String> {
    let cookies = parse_cookie_header(header);
    if let Some(value) = get_cookie(&cookies, cookie_name)
        && !value.is_empty()
    {
        return Some(value.to_owned());
    }
    let mut chunks: Vec<(u64, String)> = parse_cookie_header_strict(header)
        .into_iter()
        .filter_map(|(name, value)| chunk_index(cookie_name, &name).map(|i| (i, value)))
        .collect();
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|(i, _)| *i);
    Some(chunks.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn names() {
        let n = CookieNames::new("better-auth", false);
        assert_eq!(n.session_token, "better-auth.session_token");
        assert_eq!(n.two_factor, "better-auth.two_factor");
        let s = CookieNames::new("", true);
        assert_eq!(s.session_data, "__Secure-better-auth.session_data");
        assert_eq!(s.trust_device, "__Secure-better-auth.trust_device");
        assert_eq!(
            CookieNames::new("app", false).dont_remember,
            "app.dont_remember"
        );
    }

    // §13 vectors, full Set-Cookie lines.
    #[test]
    fn vector_1_session_token_line() {
        let attrs = CookieAttrs::new(false, None);
        let c = SetCookie::signed(
            "better-auth.session_token",
            "LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS",
            SECRET,
            &attrs,
        )
        .with_max_age(Some(max_age::SESSION_TOKEN));
        assert_eq!(
            c.to_string(),
            "better-auth.session_token=LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS.ky97YzG3zyWq%2B7Wm9hZXEhyQd%2BUI8aZIDX5dOJrqaB4%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn vector_2_dont_remember_line() {
        let c = SetCookie::signed(
            "better-auth.dont_remember",
            "true",
            SECRET,
            &CookieAttrs::default(),
        );
        assert_eq!(
            c.to_string(),
            "better-auth.dont_remember=true.0R39059RJMlqy6vRfLQM%2B9OejOdzDaSFqtRZ3UvvW0o%3D; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn vector_3_two_factor_line() {
        let c = SetCookie::signed(
            "better-auth.two_factor",
            "2fa-_wofLskoxFwOB7js_GIn",
            SECRET,
            &CookieAttrs::default(),
        )
        .with_max_age(Some(max_age::TWO_FACTOR));
        assert_eq!(
            c.to_string(),
            "better-auth.two_factor=2fa-_wofLskoxFwOB7js_GIn.vqDNimkqNswQ8hXyPCEjkIfxWMjRHoWVrksLrQY%2F84s%3D; Max-Age=600; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn vector_4_expiry_line() {
        let c = SetCookie::expired("better-auth.session_token", &CookieAttrs::new(true, None));
        assert_eq!(
            c.to_string(),
            "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn vector_5_trust_device_line() {
        let token = signed::hmac_base64url(
            SECRET,
            "uzJ1Vuq2ADDOhmuxFams9a6vYNtTsVxQ!trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN",
        );
        let c = SetCookie::signed(
            "better-auth.trust_device",
            &format!("{token}!trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN"),
            SECRET,
            &CookieAttrs::default(),
        )
        .with_max_age(Some(max_age::TRUST_DEVICE));
        assert_eq!(
            c.to_string(),
            "better-auth.trust_device=0AHsVCnzegpPoeJzvOBMmfh7nIrGNhI0kCF4yFH3eI8!trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN.uVTSPhLGX4wjt68iFaijY56xkGt%2Bg4FCDf5QfK1Sw68%3D; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn encode_matches_encode_uri_component() {
        // Output of better-call serializeCookie("n", …) in node 20.
        let c = SetCookie {
            name: "n".into(),
            value: " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é€😀".into(),
            max_age: None,
            domain: None,
            path: String::new(),
            http_only: false,
            secure: false,
            same_site: None,
            partitioned: false,
        };
        assert_eq!(
            c.to_string(),
            "n=%20!%22%23%24%25%26'()*%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~%C3%A9%E2%82%AC%F0%9F%98%80"
        );
    }

    #[test]
    fn resolve_rules() {
        // Outputs of better-call serializeCookie in node 20.
        let mut c = SetCookie::new(
            "__Secure-x",
            "v",
            &CookieAttrs::new(false, Some("ex.com".into())),
        )
        .with_max_age(Some(10));
        c.same_site = Some(SameSite::None);
        assert_eq!(
            c.to_string(),
            "__Secure-x=v; Max-Age=10; Domain=ex.com; Path=/; HttpOnly; Secure; SameSite=None"
        );
        c = SetCookie {
            name: "__Host-x".into(),
            value: "v".into(),
            max_age: Some(-1),
            domain: Some("ex.com".into()),
            path: "/a".into(),
            http_only: false,
            secure: false,
            same_site: None,
            partitioned: true,
        };
        assert_eq!(c.to_string(), "__Host-x=v; Path=/; Secure; Partitioned");
    }

    #[test]
    fn domain_attribute() {
        let c = SetCookie::expired("a", &CookieAttrs::new(true, Some("example.com".into())));
        assert_eq!(
            c.to_string(),
            "a=; Max-Age=0; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
    }

    #[test]
    fn max_age_limit() {
        let c = SetCookie::new("a", "b", &CookieAttrs::default());
        assert!(c.clone().with_max_age(Some(MAX_AGE_LIMIT)).check().is_ok());
        assert!(c.with_max_age(Some(MAX_AGE_LIMIT + 1)).check().is_err());
    }

    /// Header → better-call `parseCookies` → better-auth `parseCookies`, observed in node 20.
    #[test]
    fn parse_like_both_upstream_parsers() {
        #[allow(clippy::type_complexity)]
        let cases: &[(&str, &[(&str, &str)], &[(&str, &str)])] = &[
            (
                "a=1; b=2",
                &[("a", "1"), ("b", "2")],
                &[("a", "1"), ("b", "2")],
            ),
            ("a=1; a=2", &[("a", "1")], &[("a", "2")]),
            (
                " a = 1 ;b=\"quoted\"",
                &[("a", "1"), ("b", "quoted")],
                &[("a", "1"), ("b", "quoted")],
            ),
            ("a=\"unterminated", &[("a", "unterminate")], &[]),
            ("a=\"", &[("a", "")], &[]),
            ("noeq; a=1", &[("a", "1")], &[("a", "1")]),
            ("a; b=2", &[("b", "2")], &[("b", "2")]),
            (
                "x=1;;y=2",
                &[("x", "1"), ("y", "2")],
                &[("x", "1"), ("y", "2")],
            ),
            ("k=%41%2B%3D", &[("k", "A+=")], &[("k", "A+=")]),
            ("k=%zz", &[("k", "%zz")], &[("k", "%zz")]),
            ("k=%E2%82", &[("k", "%E2%82")], &[("k", "%E2%82")]),
            ("k=%C3%A9", &[("k", "é")], &[("k", "é")]),
            ("k=a=b=c", &[("k", "a=b=c")], &[("k", "a=b=c")]),
            ("=v; k=1", &[("", "v"), ("k", "1")], &[("k", "1")]),
            ("k=1 2", &[("k", "1 2")], &[("k", "1 2")]),
            ("k=\t1\t", &[("k", "1")], &[("k", "1")]),
            ("k=\u{a0}1\u{a0}", &[("k", "1")], &[]),
            ("k=\u{feff}1", &[("k", "1")], &[]),
            ("a=1;b", &[("a", "1")], &[("a", "1")]),
            (
                "a=1;b;c=3",
                &[("a", "1"), ("c", "3")],
                &[("a", "1"), ("c", "3")],
            ),
            ("k=%ED%A0%80", &[("k", "%ED%A0%80")], &[("k", "%ED%A0%80")]),
            ("k=\"%41\"", &[("k", "A")], &[("k", "A")]),
            ("k=\"a\";k=b", &[("k", "a")], &[("k", "b")]),
            ("", &[], &[]),
            ("=", &[("", "")], &[]),
            (
                "a=1; b=2=3; c",
                &[("a", "1"), ("b", "2=3")],
                &[("a", "1"), ("b", "2=3")],
            ),
            ("foo;bar=1", &[("bar", "1")], &[("bar", "1")]),
            ("foo;bar;baz=1", &[("baz", "1")], &[("baz", "1")]),
            (
                "x=1; foo;bar=2",
                &[("x", "1"), ("bar", "2")],
                &[("x", "1"), ("bar", "2")],
            ),
        ];
        for (header, call, strict) in cases {
            assert_eq!(
                parse_cookie_header(header),
                pairs(call),
                "better-call: {header:?}"
            );
            assert_eq!(
                parse_cookie_header_strict(header),
                pairs(strict),
                "better-auth: {header:?}"
            );
        }
    }

    #[test]
    fn signed_cookie_from_header() {
        let header = "better-auth.session_token=LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS.ky97YzG3zyWq%2B7Wm9hZXEhyQd%2BUI8aZIDX5dOJrqaB4%3D; other=1";
        let cookies = parse_cookie_header(header);
        assert_eq!(
            get_signed_cookie(&cookies, "better-auth.session_token", SECRET).as_deref(),
            Some("LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS")
        );
        assert_eq!(
            get_signed_cookie(&cookies, "better-auth.session_token", b"x"),
            None
        );
        assert_eq!(get_signed_cookie(&cookies, "missing", SECRET), None);
        assert_eq!(get_cookie(&cookies, "other"), Some("1"));
    }

    #[test]
    fn chunks() {
        assert_eq!(chunk_index("s", "s.0"), Some(0));
        assert_eq!(chunk_index("s", "s.12"), Some(12));
        assert_eq!(chunk_index("s", "s.01"), None);
        assert_eq!(chunk_index("s", "s.-1"), None);
        assert_eq!(chunk_index("s", "s."), None);
        assert_eq!(chunk_index("s", "s"), None);
        assert_eq!(chunk_index("s", "sx.1"), None);
        assert_eq!(
            chunk_index("s", "s.9007199254740991"),
            Some(9_007_199_254_740_991)
        );
        assert_eq!(chunk_index("s", "s.9007199254740992"), None);

        let header = "s.1=b; x=1; s.0=a; s=; s.01=z";
        assert_eq!(existing_chunk_names(header, "s"), vec!["s.1", "s.0", "s"]);
        assert_eq!(get_chunked_cookie(header, "s").as_deref(), Some("ab"));
        assert_eq!(
            get_chunked_cookie("s=whole; s.0=a", "s").as_deref(),
            Some("whole")
        );
        assert_eq!(get_chunked_cookie("x=1", "s"), None);
    }
}
