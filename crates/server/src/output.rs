//! Rows → the JSON objects Better Auth returns (better-auth: dist/db/schema.mjs parseUserOutput,
//! parseSessionOutput): every column not marked `returned: false`, nulls kept as SQL adapters do.

use portcullis_entity::{session, user};

use crate::config::Plugins;
use portcullis_protocol::model::{Session, User};
use serde_json::{Map, Value};

/// The user object; plugin columns appear only when their plugin is on, as upstream.
pub fn user(plugins: &Plugins, u: &user::Model) -> User {
    let mut extra = Map::new();
    if plugins.two_factor {
        // better-auth: dist/plugins/two-factor/schema.mjs
        extra.insert(
            "twoFactorEnabled".into(),
            u.two_factor_enabled.map_or(Value::Null, Value::Bool),
        );
    }
    if plugins.username {
        // better-auth: dist/plugins/username/schema.mjs (both returned; null when unset, as
        // the SQL adapters return it).
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        extra.insert("username".into(), text(&u.username));
        extra.insert("displayUsername".into(), text(&u.display_username));
    }
    User {
        id: u.id.clone(),
        name: u.name.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        image: u.image.clone(),
        created_at: u.created_at.0,
        updated_at: u.updated_at.0,
        extra,
    }
}

pub fn session(s: &session::Model) -> Session {
    Session {
        id: s.id.clone(),
        expires_at: s.expires_at.0,
        token: s.token.clone(),
        created_at: s.created_at.0,
        updated_at: s.updated_at.0,
        ip_address: s.ip_address.clone(),
        user_agent: s.user_agent.clone(),
        user_id: s.user_id.clone(),
    }
}
