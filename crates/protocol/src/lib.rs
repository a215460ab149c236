//! Better Auth 1.7.25 wire protocol, without I/O.
//!
//! Everything a server needs to look like Better Auth to its JS client, as pure functions and
//! serde types: the error catalogue ([`error`]), signed cookie values ([`signed`]), cookie
//! names, `Set-Cookie` lines and `Cookie` parsing ([`cookies`]), the `session_data` cookie cache
//! ([`cookie_cache`]), request body parsing
//! ([`body`](mod@body)), JSON bodies and date format ([`model`]), zod-compatible request
//! validation messages ([`validate`](mod@validate)), endpoint paths ([`paths`]), `otpauth://`
//! URIs and base32 secrets ([`otpauth`]) and the trusted-device cookie value ([`trust_device`]).
//!
//! Each mirrored behaviour cites its upstream file, package-relative at 1.7.25 (e.g.
//! `better-call: dist/cookies.mjs`). This crate must not depend on actix, sea-orm or any I/O
//! (checked by `tests/no_io.rs`).

pub mod body;
pub mod cookie_cache;
pub mod cookies;
pub mod error;
pub mod model;
pub mod otpauth;
pub mod paths;
pub mod signed;
pub mod trust_device;
pub mod validate;

pub use cookies::{
    CookieAttrs, CookieNames, SameSite, SetCookie, get_cookie, get_signed_cookie,
    parse_cookie_header,
};
pub use error::{ErrorBody, ErrorCode};
pub use model::{Session, User, iso_ms, parse_iso};
pub use signed::{hmac_base64url, sign_value, verify_signed_value};
pub use validate::{Field, Location, Rule, Schema, validate_body};
