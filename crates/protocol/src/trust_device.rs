//! The two-factor plugin's trusted-device cookie value, `<token>!<identifier>` (before cookie
//! signing): `identifier` names a verification row (`trust-device-<32>` → user id) and `token` is
//! `hmac_base64url(secret, "<userId>!<identifier>")`, binding the row to the user.
//! `better-auth: dist/plugins/two-factor/index.mjs` (`getSignInTwoFactorState`, disable) and
//! `dist/plugins/two-factor/verify-two-factor.mjs`.

use crate::signed::{hmac_base64url, verify_hmac_base64url};

/// The cookie value for a new trust record of `user_id`.
pub fn cookie_value(secret: &[u8], user_id: &str, identifier: &str) -> String {
    let token = hmac_base64url(secret, &format!("{user_id}!{identifier}"));
    format!("{token}!{identifier}")
}

/// JS `const [token, identifier] = value.split("!")`: the first two `!`-separated parts (any
/// further parts are ignored, as destructuring does).
fn split(value: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = value.split('!');
    (parts.next(), parts.next())
}

/// The identifier named by `value`, if both parts are non-empty and the token is `user_id`'s HMAC
/// for it (constant-time; upstream compares with `!==`). The caller still checks the record.
pub fn verified_identifier<'a>(secret: &[u8], user_id: &str, value: &'a str) -> Option<&'a str> {
    let (Some(token), Some(identifier)) = split(value) else {
        return None;
    };
    if token.is_empty() || identifier.is_empty() {
        return None;
    }
    verify_hmac_base64url(secret, &format!("{user_id}!{identifier}"), token).then_some(identifier)
}

/// The identifier part alone, unverified (`const [, trustId] = value.split("!")`), as
/// `/two-factor/disable` uses it to revoke the presented record; `None` when empty or absent.
pub fn identifier(value: &str) -> Option<&str> {
    split(value).1.filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
    const USER: &str = "uzJ1Vuq2ADDOhmuxFams9a6vYNtTsVxQ";
    const ID: &str = "trust-device-dxbxXG88E01ppN7KYkI4gb33cK41yJuN";

    #[test]
    fn vector_5_trust_device() {
        let value = cookie_value(SECRET, USER, ID);
        assert_eq!(
            value,
            format!("0AHsVCnzegpPoeJzvOBMmfh7nIrGNhI0kCF4yFH3eI8!{ID}")
        );
        assert_eq!(verified_identifier(SECRET, USER, &value), Some(ID));
        assert_eq!(identifier(&value), Some(ID));
        // Extra parts are ignored, as JS destructuring does.
        assert_eq!(
            verified_identifier(SECRET, USER, &format!("{value}!x")),
            Some(ID)
        );
    }

    #[test]
    fn refuses_other_users_secrets_and_shapes() {
        let value = cookie_value(SECRET, USER, ID);
        assert_eq!(verified_identifier(SECRET, "someone-else", &value), None);
        assert_eq!(verified_identifier(b"other-secret", USER, &value), None);
        for bad in ["", "!", "token", "token!", &format!("!{ID}"), &value[1..]] {
            assert_eq!(verified_identifier(SECRET, USER, bad), None, "{bad:?}");
        }
        assert_eq!(identifier("token"), None);
        assert_eq!(identifier("token!"), None);
        assert_eq!(identifier("!id!x"), Some("id"));
    }
}
