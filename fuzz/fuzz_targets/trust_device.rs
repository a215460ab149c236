//! The trusted-device cookie value `<token>!<identifier>` (token = HMAC of
//! `<userId>!<identifier>`): the input is tried as a presented value, as the signed cookie that
//! carries it, and as an identifier to issue.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_protocol::{
    signed::verify_signed_value,
    trust_device::{cookie_value, identifier, verified_identifier},
};

/// The secret and user of the protocol test vector 5: its seeds verify.
const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const OTHER_SECRET: &[u8] = b"another-secret-0123456789-abcdefghijklmnopqrstuv";
const USER: &str = "uzJ1Vuq2ADDOhmuxFams9a6vYNtTsVxQ";
const OTHER_USER: &str = "uzJ1Vuq2ADDOhmuxFams9a6vYNtTsVxR";

fn check_presented(value: &str) {
    if let Some(id) = identifier(value) {
        assert!(!id.is_empty() && !id.contains('!'));
        assert!(value.contains(&format!("!{id}")));
    }
    if let Some(id) = verified_identifier(SECRET, USER, value) {
        // Only this user's token for exactly this identifier (further `!` parts are ignored,
        // as upstream's destructuring ignores them).
        let issued = cookie_value(SECRET, USER, id);
        assert!(value == issued || value.starts_with(&format!("{issued}!")));
        assert_eq!(identifier(value), Some(id));
        assert_eq!(verified_identifier(SECRET, OTHER_USER, value), None);
        assert_eq!(verified_identifier(OTHER_SECRET, USER, value), None);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    check_presented(input);
    // The cookie as the browser presents it: signed with the server secret around the value.
    if let Some(inner) = verify_signed_value(input, SECRET) {
        check_presented(&inner);
    }

    // Issued for this identifier: verifies for this user and secret only.
    if !input.is_empty() && !input.contains('!') {
        let issued = cookie_value(SECRET, USER, input);
        assert_eq!(verified_identifier(SECRET, USER, &issued), Some(input));
        assert_eq!(identifier(&issued), Some(input));
        assert_eq!(verified_identifier(SECRET, OTHER_USER, &issued), None);
        assert_eq!(verified_identifier(OTHER_SECRET, USER, &issued), None);
        // The token alone, or the identifier alone, is nothing.
        let token = &issued[..issued.len() - input.len() - 1];
        assert_eq!(verified_identifier(SECRET, USER, token), None);
        assert_eq!(
            verified_identifier(SECRET, USER, &format!("!{input}")),
            None
        );
    }
});
