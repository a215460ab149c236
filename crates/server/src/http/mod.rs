//! HTTP plumbing shared by every route: request extraction and reply building.

pub mod reply;
pub mod request;

pub use reply::{CookieJar, Reply};
pub use request::{AllowForm, AuthRequest};
