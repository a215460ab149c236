//! Trusted-origin matching and the CSRF checks built on it.
//! better-auth: dist/auth/trusted-origins.mjs (matchesOriginPattern) and
//! dist/api/middlewares/origin-check.mjs (validateOrigin, validateFormCsrf, originCheckMiddleware).

use crate::config::origin_of;

/// Does `url` match one trusted-origin `pattern`? Exact origin match, `*`/`?` wildcards (host-only
/// patterns like `*.example.com` or `https://*.example.com`), and — with `allow_relative` — safe
/// relative paths. Custom schemes (`myapp://`) match by scheme and authority prefix.
pub fn matches_origin_pattern(url: &str, pattern: &str, allow_relative: bool) -> bool {
    if url.starts_with('/') {
        return allow_relative && is_safe_relative_url(url);
    }
    let has_wildcard = pattern.contains('*') || pattern.contains('?');
    if has_wildcard && !pattern.contains("://") {
        return match host_of(url) {
            Some(host) => wildcard_match(pattern, &host),
            None => false,
        };
    }
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("http") | Some("https") | None => {
            let Some(origin) = origin_of(url) else {
                return false;
            };
            if has_wildcard {
                wildcard_match(pattern, &origin)
            } else {
                pattern == origin
            }
        }
        Some(scheme) => {
            // Custom scheme: compare scheme, then authority/path prefix.
            let Some((p_scheme, p_rest)) = pattern.split_once(':') else {
                return false;
            };
            if !p_scheme.eq_ignore_ascii_case(scheme) {
                return false;
            }
            let rest = &url[scheme.len() + 1..];
            if has_wildcard {
                wildcard_match(p_rest, rest)
            } else {
                p_rest.is_empty()
                    || p_rest == "//"
                    || rest == p_rest
                    || rest.starts_with(&format!("{}/", p_rest.trim_end_matches('/')))
            }
        }
    }
}

pub fn is_trusted(url: &str, trusted: &[String], allow_relative: bool) -> bool {
    trusted
        .iter()
        .any(|p| matches_origin_pattern(url, p, allow_relative))
}

/// `/path` but not `//host`, no backslash, no control characters, no encoded `/` or `\` in the path.
fn is_safe_relative_url(value: &str) -> bool {
    if !value.starts_with('/')
        || value.starts_with("//")
        || value.contains('\\')
        || value.chars().any(|c| c.is_control())
    {
        return false;
    }
    let path = value.split(['?', '#']).next().unwrap_or("");
    let lower = path.to_ascii_lowercase();
    !(lower.contains("%2f") || lower.contains("%5c"))
}

fn host_of(url: &str) -> Option<String> {
    let origin = origin_of(url)?;
    let host_port = origin.split_once("://")?.1;
    Some(host_port.to_string())
}

/// Glob match where `*` is any run of characters and `?` one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Why a request failed the origin check; mapped to `MISSING_OR_NULL_ORIGIN` / `INVALID_ORIGIN` /
/// `CROSS_SITE_NAVIGATION_LOGIN_BLOCKED` by the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum OriginFailure {
    MissingOrNull,
    Untrusted,
    CrossSiteNavigation,
}

/// The request headers the checks look at.
#[derive(Debug, Default, Clone)]
pub struct OriginHeaders<'a> {
    pub origin: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub has_cookie: bool,
    pub sec_fetch_site: Option<&'a str>,
    pub sec_fetch_mode: Option<&'a str>,
    pub sec_fetch_dest: Option<&'a str>,
}

/// validateOrigin: only enforced when the request carries cookies, or when `force` is set.
/// `Origin: null` with `Sec-Fetch-Site: same-origin` counts as our own origin.
pub fn validate_origin(
    h: &OriginHeaders<'_>,
    trusted: &[String],
    force: bool,
) -> Result<(), OriginFailure> {
    if !(force || h.has_cookie) {
        return Ok(());
    }
    let candidate = if h.origin == Some("null") && h.sec_fetch_site == Some("same-origin") {
        trusted.first().map(String::as_str).unwrap_or("")
    } else {
        h.origin
            .filter(|o| !o.is_empty())
            .or(h.referer)
            .unwrap_or("")
    };
    if candidate.is_empty() || candidate == "null" {
        return Err(OriginFailure::MissingOrNull);
    }
    if is_trusted(candidate, trusted, false) {
        Ok(())
    } else {
        Err(OriginFailure::Untrusted)
    }
}

/// validateFormCsrf, used by `/sign-in/email` and `/sign-up/email`.
pub fn validate_form_csrf(h: &OriginHeaders<'_>, trusted: &[String]) -> Result<(), OriginFailure> {
    if h.has_cookie {
        return validate_origin(h, trusted, false);
    }
    let present = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
    if present(h.sec_fetch_site) || present(h.sec_fetch_mode) || present(h.sec_fetch_dest) {
        if h.sec_fetch_site == Some("cross-site") && h.sec_fetch_mode == Some("navigate") {
            return Err(OriginFailure::CrossSiteNavigation);
        }
        return validate_origin(h, trusted, true);
    }
    if present(h.origin) || present(h.referer) {
        return validate_origin(h, trusted, true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted() -> Vec<String> {
        vec![
            "http://127.0.0.1:8080".into(),
            "*.example.com".into(),
            "https://*.example.org".into(),
            "myapp://".into(),
        ]
    }

    #[test]
    fn exact_and_wildcard_origins() {
        let t = trusted();
        assert!(is_trusted("http://127.0.0.1:8080", &t, false));
        assert!(is_trusted("http://127.0.0.1:8080/some/page?x=1", &t, false));
        assert!(!is_trusted("http://127.0.0.1:8081", &t, false));
        assert!(!is_trusted("http://evil.com", &t, false));
        assert!(is_trusted("https://app.example.com", &t, false));
        assert!(!is_trusted("https://example.com.evil.net", &t, false));
        assert!(is_trusted("https://a.example.org", &t, false));
        assert!(!is_trusted("http://a.example.org", &t, false));
        assert!(is_trusted("myapp://callback", &t, false));
    }

    #[test]
    fn relative_urls_only_when_allowed_and_safe() {
        let t = trusted();
        assert!(is_trusted("/dashboard", &t, true));
        assert!(!is_trusted("/dashboard", &t, false));
        for bad in ["//evil.com", "/\\evil.com", "/a%2fb", "/a%5Cb"] {
            assert!(!is_trusted(bad, &t, true), "{bad}");
        }
    }

    #[test]
    fn origin_check_only_with_cookies_unless_forced() {
        let t = trusted();
        let mut h = OriginHeaders::default();
        assert_eq!(validate_origin(&h, &t, false), Ok(()));
        h.has_cookie = true;
        assert_eq!(
            validate_origin(&h, &t, false),
            Err(OriginFailure::MissingOrNull)
        );
        h.origin = Some("null");
        assert_eq!(
            validate_origin(&h, &t, false),
            Err(OriginFailure::MissingOrNull)
        );
        h.sec_fetch_site = Some("same-origin");
        assert_eq!(validate_origin(&h, &t, false), Ok(()));
        h.sec_fetch_site = None;
        h.origin = Some("http://evil.com");
        assert_eq!(
            validate_origin(&h, &t, false),
            Err(OriginFailure::Untrusted)
        );
        h.origin = None;
        h.referer = Some("http://127.0.0.1:8080/login");
        assert_eq!(validate_origin(&h, &t, false), Ok(()));
    }

    #[test]
    fn form_csrf_rules() {
        let t = trusted();
        // curl-like: nothing to check
        assert_eq!(validate_form_csrf(&OriginHeaders::default(), &t), Ok(()));
        let nav = OriginHeaders {
            sec_fetch_site: Some("cross-site"),
            sec_fetch_mode: Some("navigate"),
            ..Default::default()
        };
        assert_eq!(
            validate_form_csrf(&nav, &t),
            Err(OriginFailure::CrossSiteNavigation)
        );
        let cors_no_origin = OriginHeaders {
            sec_fetch_mode: Some("cors"),
            ..Default::default()
        };
        assert_eq!(
            validate_form_csrf(&cors_no_origin, &t),
            Err(OriginFailure::MissingOrNull)
        );
        let foreign = OriginHeaders {
            origin: Some("http://evil.com"),
            ..Default::default()
        };
        assert_eq!(
            validate_form_csrf(&foreign, &t),
            Err(OriginFailure::Untrusted)
        );
    }

    #[test]
    fn wildcard_glob() {
        assert!(wildcard_match("*.a.com", "x.a.com"));
        assert!(wildcard_match("h?st", "host"));
        assert!(!wildcard_match("*.a.com", "a.com"));
    }
}
