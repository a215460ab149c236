//! `/ok` and `/error` (better-auth: dist/api/routes/ok.mjs, error.mjs).

use actix_web::{HttpRequest, HttpResponse, web};
use portcullis_protocol::{model::OkResponse, otpauth::form_urlencode};

use crate::{http::Reply, state::AppState};

pub async fn ok() -> Reply {
    Reply::json(&OkResponse { ok: true })
}

/// Upstream renders its own HTML error page in development and redirects to
/// `/?error=<code>[&error_description=…]` in production. We keep the same code filtering,
/// escaping and redirect; the development page is a plain page of our own (divergence: Better
/// Auth's styled page is presentation, not protocol).
pub async fn error(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(|q| q.into_inner())
        .unwrap_or_default();
    let get = |k: &str| {
        query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let raw_code = get("error").unwrap_or_else(|| "UNKNOWN".into());
    let code = if !raw_code.is_empty()
        && raw_code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"'_-".contains(&b))
    {
        raw_code
    } else {
        "UNKNOWN".into()
    };
    let description = get("error_description");
    if !state.config.dev {
        let mut params = vec![("error", code.as_str())];
        if let Some(d) = description.as_deref() {
            params.push(("error_description", d));
        }
        let qs = serde_urlencoded_string(&params);
        return HttpResponse::Found()
            .insert_header(("location", format!("/?{qs}")))
            .finish();
    }
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"UTF-8\" /><title>Error</title></head>\
         <body><h1>{}</h1><p>{}</p></body></html>\n",
        sanitize(&code),
        description
            .as_deref()
            .map(sanitize)
            .unwrap_or_else(|| "We encountered an unexpected error. Please try again.".into())
    );
    HttpResponse::Ok().content_type("text/html").body(body)
}

fn sanitize(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `URLSearchParams.toString()` encoding (space → `+`).
fn serde_urlencoded_string(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", form_urlencode(k), form_urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html_and_form_encodes() {
        assert_eq!(sanitize("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
        assert_eq!(form_urlencode("a b/c"), "a+b%2Fc");
    }
}
