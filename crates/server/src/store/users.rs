//! `user` rows.

use portcullis_entity::user;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, sea_query::Query};
use time::OffsetDateTime;

use super::{backend_of, ts};

/// A new user as sign-up creates it (better-auth: dist/api/routes/sign-up.mjs).
pub struct NewUser<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub image: Option<&'a str>,
    /// Username plugin columns (normalized username, display username); NULL without the plugin.
    pub username: Option<&'a str>,
    pub display_username: Option<&'a str>,
    pub now: OffsetDateTime,
}

impl NewUser<'_> {
    /// The row as inserted (defaults as upstream: not verified, 2FA off).
    pub fn into_model(&self) -> user::Model {
        user::Model {
            id: self.id.to_owned(),
            name: self.name.to_owned(),
            email: self.email.to_owned(),
            email_verified: false,
            image: self.image.map(str::to_owned),
            created_at: self.now.into(),
            updated_at: self.now.into(),
            two_factor_enabled: Some(false),
            username: self.username.map(str::to_owned),
            display_username: self.display_username.map(str::to_owned),
        }
    }
}

pub async fn insert(c: &impl ConnectionTrait, u: &NewUser<'_>) -> Result<(), DbErr> {
    let b = backend_of(c);
    super::insert_row(
        c,
        user::Entity,
        vec![
            (user::Column::Id, u.id.into()),
            (user::Column::Name, u.name.into()),
            (user::Column::Email, u.email.into()),
            (user::Column::EmailVerified, false.into()),
            (user::Column::Image, u.image.map(str::to_owned).into()),
            (user::Column::CreatedAt, ts(b, u.now)),
            (user::Column::UpdatedAt, ts(b, u.now)),
            (user::Column::TwoFactorEnabled, false.into()),
            (user::Column::Username, u.username.map(str::to_owned).into()),
            (
                user::Column::DisplayUsername,
                u.display_username.map(str::to_owned).into(),
            ),
        ],
    )
    .await?;
    Ok(())
}

pub async fn find_by_email(
    c: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(c)
        .await
}

/// The user with this (already normalized) username (username plugin).
pub async fn find_by_username(
    c: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(c)
        .await
}

pub async fn find_by_id(c: &impl ConnectionTrait, id: &str) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id.to_owned()).one(c).await
}

/// Fields `/update-user` may change. `None` leaves a column alone; `Some(None)` writes NULL.
#[derive(Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub image: Option<Option<String>>,
    /// Username plugin columns (the username already normalized).
    pub username: Option<Option<String>>,
    pub display_username: Option<Option<String>>,
}

impl UserChanges {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.image.is_none()
            && self.username.is_none()
            && self.display_username.is_none()
    }
}

pub async fn update(
    c: &impl ConnectionTrait,
    id: &str,
    changes: &UserChanges,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let b = backend_of(c);
    let mut stmt = Query::update();
    stmt.table(user::Entity)
        .value(user::Column::UpdatedAt, ts(b, now))
        .and_where(user::Column::Id.eq(id));
    if let Some(name) = &changes.name {
        stmt.value(user::Column::Name, name.clone());
    }
    if let Some(image) = &changes.image {
        stmt.value(user::Column::Image, image.clone());
    }
    if let Some(username) = &changes.username {
        stmt.value(user::Column::Username, username.clone());
    }
    if let Some(display_username) = &changes.display_username {
        stmt.value(user::Column::DisplayUsername, display_username.clone());
    }
    c.execute(&stmt).await?;
    Ok(())
}

/// Sets `twoFactorEnabled` (the two-factor plugin's user column) and returns the row as written,
/// without reading it back (the session cookie cache carries it).
pub async fn set_two_factor_enabled(
    c: &impl ConnectionTrait,
    u: &user::Model,
    enabled: bool,
    now: OffsetDateTime,
) -> Result<user::Model, DbErr> {
    let stmt = Query::update()
        .table(user::Entity)
        .value(user::Column::TwoFactorEnabled, enabled)
        .value(user::Column::UpdatedAt, ts(backend_of(c), now))
        .and_where(user::Column::Id.eq(&u.id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(user::Model {
        two_factor_enabled: Some(enabled),
        updated_at: now.into(),
        ..u.clone()
    })
}

/// Write-locks the user's row for the rest of the transaction with a no-op update, so changes to
/// one user's two-factor set-up run one after another (row lock on PostgreSQL/MySQL; SQLite
/// takes its database write lock). Used where the row to change may not exist yet.
pub async fn lock_row(c: &impl ConnectionTrait, user_id: &str) -> Result<(), DbErr> {
    let stmt = Query::update()
        .table(user::Entity)
        .value(
            user::Column::Id,
            sea_orm::sea_query::Expr::col(user::Column::Id),
        )
        .and_where(user::Column::Id.eq(user_id))
        .to_owned();
    c.execute(&stmt).await?;
    Ok(())
}
