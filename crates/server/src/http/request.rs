//! `AuthRequest`: what every Better Auth endpoint starts from. Extracting it runs the stages that
//! better-call and Better Auth run before any endpoint code, in their order
//! (better-call: dist/router.mjs, dist/context.mjs; better-auth: dist/api/middlewares/origin-check.mjs):
//! read the body (415 on a media type the route does not accept, 400 on malformed JSON), then the
//! global origin check for state-changing requests that carry cookies, then the callback-URL checks.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    http::{Method, StatusCode, header::HeaderMap},
    web,
};
use portcullis_protocol::{
    body::{self, BodyError},
    cookies::parse_cookie_header,
    error::{ErrorBody, ErrorCode},
};
use serde_json::{Map, Value};

use crate::{
    auth::origin::{self, OriginFailure, OriginHeaders},
    error::ApiError,
    state::AppState,
};

/// Marker put on a route's resource when it also accepts `application/x-www-form-urlencoded`
/// (`/sign-in/email` and `/sign-up/email` upstream).
#[derive(Clone, Copy)]
pub struct AllowForm;

pub struct AuthRequest {
    pub method: Method,
    pub headers: HeaderMap,
    /// Request cookies in header order (first occurrence of a name wins on lookup).
    pub cookies: Vec<(String, String)>,
    /// Parsed body: `None` when the request had no body.
    pub body: Option<Value>,
    /// Query string pairs, in order.
    pub query: Vec<(String, String)>,
}

impl AuthRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        portcullis_protocol::cookies::get_cookie(&self.cookies, name)
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as an object; an absent body reads as an empty object.
    pub fn body_object(&self) -> Map<String, Value> {
        match &self.body {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        }
    }

    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.body.as_ref()?.get(name)?.as_str()
    }

    pub fn bool_field(&self, name: &str) -> Option<bool> {
        self.body.as_ref()?.get(name)?.as_bool()
    }

    pub fn origin_headers(&self) -> OriginHeaders<'_> {
        OriginHeaders {
            origin: self.header("origin"),
            referer: self.header("referer"),
            has_cookie: self.headers.contains_key("cookie"),
            sec_fetch_site: self.header("sec-fetch-site"),
            sec_fetch_mode: self.header("sec-fetch-mode"),
            sec_fetch_dest: self.header("sec-fetch-dest"),
        }
    }
}

pub fn origin_error(f: OriginFailure) -> ApiError {
    ApiError::forbidden(match f {
        OriginFailure::MissingOrNull => ErrorCode::MissingOrNullOrigin,
        OriginFailure::Untrusted => ErrorCode::InvalidOrigin,
        OriginFailure::CrossSiteNavigation => ErrorCode::CrossSiteNavigationLoginBlocked,
    })
}

impl FromRequest for AuthRequest {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let bytes = web::Bytes::from_request(&req, payload);
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or(ApiError::NotFound)?;
            let bytes = bytes.await.map_err(|_| {
                ApiError::body(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorBody::message_only("Request body is too large"),
                )
            })?;
            let body = parse_body(&req, &bytes)?;
            let cookies = req
                .headers()
                .get("cookie")
                .and_then(|v| v.to_str().ok())
                .map(parse_cookie_header)
                .unwrap_or_default();
            let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
                .map(|q| q.into_inner())
                .unwrap_or_default();
            let r = AuthRequest {
                method: req.method().clone(),
                headers: req.headers().clone(),
                cookies,
                body,
                query,
            };
            if !matches!(r.method, Method::GET | Method::HEAD | Method::OPTIONS) {
                check_origin(&r, &state.config.trusted_origins)?;
            }
            Ok(r)
        })
    }
}

fn parse_body(req: &HttpRequest, bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    let form_allowed = req.app_data::<AllowForm>().is_some();
    let raw_content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    body::parse_body(raw_content_type, form_allowed, bytes).map_err(|e| match e {
        BodyError::InvalidJson => ApiError::body(
            StatusCode::BAD_REQUEST,
            ErrorBody::with_message(ErrorCode::BadRequest, "Invalid JSON in request body"),
        ),
        // better-call: dist/router.mjs (allowedMediaTypes check)
        BodyError::UnsupportedMediaType => {
            let allowed = if form_allowed {
                "application/x-www-form-urlencoded, application/json"
            } else {
                "application/json"
            };
            ApiError::body(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorBody::with_message(
                    ErrorCode::UnsupportedMediaType,
                    format!(
                        "Content-Type \"{raw_content_type}\" is not allowed. Allowed types: {allowed}"
                    ),
                ),
            )
        }
    })
}

/// originCheckMiddleware: the cookie-bound origin check, then every callback-style URL in the
/// body or query must be a trusted origin or a safe relative path.
fn check_origin(r: &AuthRequest, trusted: &[String]) -> Result<(), ApiError> {
    origin::validate_origin(&r.origin_headers(), trusted, false).map_err(origin_error)?;
    let body_str = |k: &str| r.body.as_ref().and_then(|b| b.get(k)).filter(|v| truthy(v));
    let fields: [(&str, Option<&Value>, ErrorCode); 4] = [
        (
            "callbackURL",
            body_str("callbackURL"),
            ErrorCode::InvalidCallbackUrl,
        ),
        (
            "redirectURL",
            body_str("redirectTo"),
            ErrorCode::InvalidRedirectUrl,
        ),
        (
            "errorCallbackURL",
            body_str("errorCallbackURL"),
            ErrorCode::InvalidErrorCallbackUrl,
        ),
        (
            "newUserCallbackURL",
            body_str("newUserCallbackURL"),
            ErrorCode::InvalidNewUserCallbackUrl,
        ),
    ];
    let query_callback = r.query("callbackURL").filter(|s| !s.is_empty());
    for (label, value, code) in fields {
        let value = match (label, value) {
            ("callbackURL", None) => query_callback.map(|s| Value::String(s.to_owned())),
            (_, v) => v.cloned(),
        };
        let Some(value) = value else { continue };
        let Some(url) = value.as_str() else {
            return Err(ApiError::body(
                StatusCode::BAD_REQUEST,
                ErrorBody::message_only(format!("Invalid {label}: expected a string")),
            ));
        };
        if !origin::is_trusted(url, trusted, true) {
            return Err(ApiError::forbidden(code));
        }
    }
    Ok(())
}

/// JS truthiness of a JSON value (`if (body.x)` upstream).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
