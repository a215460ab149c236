//! The server's one error type, and the one place it becomes Better Auth's `{message, code}` body.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use portcullis_protocol::{
    cookies::SetCookie,
    error::{ErrorBody, ErrorCode},
};

use crate::auth::password::PasswordError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A Better Auth error: status, body, and any cookies the response must still carry
    /// (e.g. an expired challenge cookie on "too many attempts").
    #[error("{status} {}", body.message)]
    Api {
        status: StatusCode,
        body: ErrorBody,
        cookies: Vec<SetCookie>,
    },
    /// Better Auth answers unknown routes and wrong methods with 404 and an empty body.
    #[error("not found")]
    NotFound,
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode) -> Self {
        Self::body(status, ErrorBody::from(code))
    }

    pub fn body(status: StatusCode, body: ErrorBody) -> Self {
        Self::Api {
            status,
            body,
            cookies: Vec::new(),
        }
    }

    pub fn bad_request(code: ErrorCode) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code)
    }
    pub fn unauthorized(code: ErrorCode) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code)
    }
    pub fn forbidden(code: ErrorCode) -> Self {
        Self::new(StatusCode::FORBIDDEN, code)
    }

    /// Attaches Set-Cookie lines to an error response.
    pub fn with_cookies(mut self, extra: Vec<SetCookie>) -> Self {
        if let Self::Api { cookies, .. } = &mut self {
            cookies.extend(extra);
        }
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Api { status, .. } => *status,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Password(PasswordError::Busy) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Db(e) if db_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Db(_) | Self::Password(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Api {
                status,
                body,
                cookies,
            } => {
                let mut res = HttpResponse::build(*status);
                for c in cookies {
                    res.append_header(("set-cookie", c.to_string()));
                }
                res.json(body)
            }
            Self::NotFound => HttpResponse::NotFound().finish(),
            // Upstream answers unexpected failures with an empty 500; we keep the JSON shape so the
            // client shows a message, and log the cause (never the request's secrets).
            // Beyond Better Auth (which answers 500): the database is unreachable, not broken, so
            // the client may retry; nothing was half-written by a statement that never ran.
            Self::Db(e) if db_unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable; answered 503");
                HttpResponse::ServiceUnavailable()
                    .insert_header(("Retry-After", "1"))
                    .json(ErrorBody::with_message(
                        ErrorCode::ServiceUnavailable,
                        "The database is unavailable. Please try again shortly.",
                    ))
            }
            Self::Db(e) => {
                tracing::error!(error = %e, "database error");
                HttpResponse::InternalServerError()
                    .json(ErrorBody::from(ErrorCode::InternalServerError))
            }
            Self::Password(PasswordError::Busy) => {
                tracing::warn!("password hashing queue full; answered 503");
                HttpResponse::ServiceUnavailable()
                    .insert_header(("Retry-After", "1"))
                    .json(ErrorBody::from(ErrorCode::ServiceUnavailable))
            }
            Self::Password(e) => {
                tracing::error!(error = %e, "password hashing error");
                HttpResponse::InternalServerError()
                    .json(ErrorBody::from(ErrorCode::InternalServerError))
            }
        }
    }
}

/// Whether a database error means "the database is not reachable right now" (no connection could
/// be had, the connection broke, the server is shutting down) rather than a fault in the request
/// or in Portcullis: those requests answer 503 instead of 500.
pub(crate) fn db_unavailable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr, sqlx::Error as Sqlx};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            match s.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // PostgreSQL admin_shutdown, crash_shutdown, cannot_connect_now.
                Sqlx::Database(db) => {
                    matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}
