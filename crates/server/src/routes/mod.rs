//! THE route table: one line per endpoint, each handler in the module named after the upstream
//! file it mirrors (better-auth: dist/api/routes/*.mjs).

mod is_username_available;
mod meta;
mod password;
mod session;
mod sign_in;
mod sign_in_username;
mod sign_out;
pub(crate) mod sign_up;
mod update_user;

use actix_web::{HttpResponse, Route, web};
use portcullis_protocol::{
    error::{ErrorBody, ErrorCode},
    validate::{Location, Schema, validate as validate_input},
};

use crate::{
    config::Plugins,
    error::{ApiError, ApiResult},
    http::{AllowForm, AuthRequest},
};

/// Mounts every endpoint under the configured base path.
pub fn configure(cfg: &mut web::ServiceConfig, base_path: &str, plugins: &Plugins) {
    let two_factor = plugins.two_factor;
    let username = plugins.username;
    cfg.service(
        web::scope(base_path)
            .service(get("/ok", meta::ok))
            .service(get("/error", meta::error))
            .service(post("/sign-up/email", sign_up::sign_up_email).app_data(AllowForm))
            .service(post("/sign-in/email", sign_in::sign_in_email).app_data(AllowForm))
            .service(post("/sign-out", sign_out::sign_out))
            .service(
                web::resource("/get-session")
                    .route(web::get().to(session::get_session))
                    .route(web::post().to(session::post_get_session))
                    .default_service(web::to(not_found)),
            )
            .service(get("/list-sessions", session::list_sessions))
            .service(post("/revoke-session", session::revoke_session))
            .service(post("/revoke-sessions", session::revoke_sessions))
            .service(post(
                "/revoke-other-sessions",
                session::revoke_other_sessions,
            ))
            .service(post("/update-user", update_user::update_user))
            .service(post("/change-password", password::change_password))
            .configure(|cfg| {
                if two_factor {
                    two_factor_routes(cfg)
                }
            })
            .configure(|cfg| {
                if username {
                    username_routes(cfg)
                }
            })
            .default_service(web::to(not_found)),
    );
}

/// The two-factor plugin's endpoints (only when the plugin is on, as upstream).
fn two_factor_routes(cfg: &mut web::ServiceConfig) {
    use crate::two_factor::routes as tf;
    cfg.service(post("/two-factor/enable", tf::enable))
        .service(post("/two-factor/disable", tf::disable))
        .service(post("/two-factor/get-totp-uri", tf::get_totp_uri))
        .service(post("/two-factor/verify-totp", tf::verify_totp))
        .service(post("/two-factor/send-otp", tf::send_otp))
        .service(post("/two-factor/verify-otp", tf::verify_otp))
        .service(post(
            "/two-factor/generate-backup-codes",
            tf::generate_backup_codes,
        ))
        .service(post(
            "/two-factor/verify-backup-code",
            tf::verify_backup_code,
        ));
}

/// The username plugin's endpoints (only when the plugin is on, as upstream). JSON only: no
/// `AllowForm`, as upstream's `/sign-in/username` answers 415 to a form.
fn username_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(post(
        "/sign-in/username",
        sign_in_username::sign_in_username,
    ))
    .service(post(
        "/is-username-available",
        is_username_available::is_username_available,
    ));
}

fn resource(path: &str, route: Route) -> actix_web::Resource {
    // Wrong method on a known path is a 404 upstream, not a 405.
    web::resource(path)
        .route(route)
        .default_service(web::to(not_found))
}

fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path, web::get().to(handler))
}

fn post<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path, web::post().to(handler))
}

/// Unknown route or wrong method: 404, empty body, no Content-Type (better-call: dist/router.mjs).
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}

/// Runs a route's body schema; failures are 400 VALIDATION_ERROR with zod's message.
pub(crate) fn validate(req: &AuthRequest, schema: &Schema<'_>) -> ApiResult<()> {
    validate_input(req.body.as_ref(), schema, Location::Body).map_err(|message| {
        ApiError::body(
            actix_web::http::StatusCode::BAD_REQUEST,
            ErrorBody::with_message(ErrorCode::ValidationError, message),
        )
    })
}
