//! The database steps of a fixture (`{"db": ACTION, "args": {…}}`), on Better Auth's schema
//! through sea-orm. The same vocabulary as compat-fixtures/recorder/lib/db.mjs, which applies it
//! to the reference server's database while recording.

use std::collections::HashMap;

use portcullis_entity::{session, two_factor, user, verification};
use portcullis_server::store::ts;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Query,
};
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use super::template::unsigned;

fn ago(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::now_utc() - Duration::seconds(seconds)
}

fn arg<'a>(args: &'a HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    args.get(name)
        .map(String::as_str)
        .ok_or_else(|| format!("missing argument {name}"))
}

async fn user_id(c: &DatabaseConnection, email: &str) -> Result<String, String> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(c)
        .await
        .map_err(|e| e.to_string())?
        .map(|u| u.id)
        .ok_or_else(|| format!("no user {email}"))
}

async fn expire_identifiers(c: &DatabaseConnection, ids: &[String]) -> Result<(), String> {
    let stmt = Query::update()
        .table(verification::Entity)
        .value(
            verification::Column::ExpiresAt,
            ts(c.get_database_backend(), ago(60)),
        )
        .and_where(verification::Column::Identifier.is_in(ids.iter().cloned()))
        .to_owned();
    let n = c.execute(&stmt).await.map_err(|e| e.to_string())?;
    if n.rows_affected() == 0 {
        return Err(format!("no verification rows {ids:?}"));
    }
    Ok(())
}

/// Runs one database step; `args` are already resolved (captures and placeholders substituted).
pub async fn run(
    c: &DatabaseConnection,
    action: &str,
    args: &HashMap<String, String>,
    raw_args: &Map<String, Value>,
) -> Result<(), String> {
    let backend = c.get_database_backend();
    match action {
        // The 2FA sign-in challenge named by a two_factor cookie (with its attempt counter and
        // OTP) expired a minute ago.
        "expire-challenge" => {
            let id = unsigned(arg(args, "cookie")?);
            expire_identifiers(
                c,
                &[
                    id.clone(),
                    format!("2fa-attempts-{id}"),
                    format!("2fa-otp-{id}"),
                ],
            )
            .await
        }
        // The OTP sent for the challenge named by a two_factor cookie expired a minute ago.
        "expire-otp" => {
            let id = unsigned(arg(args, "cookie")?);
            expire_identifiers(c, &[format!("2fa-otp-{id}")]).await
        }
        // The user's account lock ended a second ago.
        "expire-lockout" => {
            let uid = user_id(c, arg(args, "email")?).await?;
            let stmt = Query::update()
                .table(two_factor::Entity)
                .value(two_factor::Column::LockedUntil, ts(backend, ago(1)))
                .and_where(two_factor::Column::UserId.eq(uid))
                .to_owned();
            let n = c.execute(&stmt).await.map_err(|e| e.to_string())?;
            (n.rows_affected() == 1)
                .then_some(())
                .ok_or_else(|| "no twoFactor row".to_string())
        }
        // Every trusted-device record of the user expired a minute ago.
        "expire-trust-device" => {
            let uid = user_id(c, arg(args, "email")?).await?;
            let stmt = Query::update()
                .table(verification::Entity)
                .value(verification::Column::ExpiresAt, ts(backend, ago(60)))
                .and_where(verification::Column::Identifier.like("trust-device-%"))
                .and_where(verification::Column::Value.eq(uid))
                .to_owned();
            let n = c.execute(&stmt).await.map_err(|e| e.to_string())?;
            (n.rows_affected() > 0)
                .then_some(())
                .ok_or_else(|| "no trust-device rows".to_string())
        }
        // The session with this token was created `seconds` earlier.
        "age-session" => {
            let token = arg(args, "token")?;
            let seconds = raw_args
                .get("seconds")
                .and_then(Value::as_i64)
                .ok_or("missing argument seconds")?;
            let s = session::Entity::find()
                .filter(session::Column::Token.eq(token))
                .one(c)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no session {token}"))?;
            let back = Duration::seconds(seconds);
            let stmt = Query::update()
                .table(session::Entity)
                .value(
                    session::Column::CreatedAt,
                    ts(backend, s.created_at.0 - back),
                )
                .value(
                    session::Column::UpdatedAt,
                    ts(backend, s.updated_at.0 - back),
                )
                .value(
                    session::Column::ExpiresAt,
                    ts(backend, s.expires_at.0 - back),
                )
                .and_where(session::Column::Id.eq(s.id))
                .to_owned();
            c.execute(&stmt).await.map_err(|e| e.to_string())?;
            Ok(())
        }
        other => Err(format!("unknown database step {other:?}")),
    }
}
