//! Property tests of every protocol parser that sees attacker-controlled bytes: the Cookie
//! header (both of Better Auth's parsers and the chunk reader), signed cookie values, the
//! trust-device HMAC token and the request validators. Properties: no input panics, and no
//! value is accepted as signed unless it was signed with this secret.

use portcullis_protocol::{
    cookies::{
        decode_uri_component, encode_uri_component, get_chunked_cookie, get_signed_cookie,
        parse_cookie_header, parse_cookie_header_strict,
    },
    signed::{hmac_base64url, sign_value, verify_hmac_base64url, verify_signed_value},
    validate::{Location, schemas, validate},
};
use proptest::prelude::*;
use serde_json::Value;

const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const OTHER: &[u8] = b"another-secret-0123456789-abcdefghijklmnopqrstuv";

/// Cookie-header-ish strings: the separators and escapes parsers care about, plus any unicode.
fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![
                Just(";".to_string()),
                Just("=".to_string()),
                Just("\"".to_string()),
                Just("%".to_string()),
                Just("%zz".to_string()),
                Just("%E2%82".to_string()),
                Just(" ".to_string()),
                Just("better-auth.session_data.0".to_string()),
                Just("better-auth.session_token".to_string()),
                "[a-z0-9.]{0,8}",
                any::<String>(),
            ],
            0..16
        )
        .prop_map(|parts| parts.concat()),
        any::<String>(),
    ]
}

/// JSON values of any shape, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        Just(Value::String("a@b.co".into())),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("email".to_string()),
                    Just("password".to_string()),
                    Just("code".to_string()),
                    Just("token".to_string()),
                    Just("trustDevice".to_string()),
                    Just("__proto__".to_string()),
                    any::<String>(),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn cookie_parsers_never_panic(h in header()) {
        let loose = parse_cookie_header(&h);
        let strict = parse_cookie_header_strict(&h);
        // Names are unique in both parses (first wins / last wins).
        for parsed in [&loose, &strict] {
            let mut names: Vec<&str> = parsed.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            prop_assert_eq!(names.len(), parsed.len());
        }
        let _ = get_chunked_cookie(&h, "better-auth.session_data");
        let _ = get_signed_cookie(&loose, "better-auth.session_token", SECRET);
    }

    #[test]
    fn uri_component_round_trips(s in any::<String>()) {
        prop_assert_eq!(decode_uri_component(&encode_uri_component(&s)), Some(s));
    }

    #[test]
    fn uri_decoding_never_panics(s in "[%0-9a-fA-FzZ\\u{80}-\\u{10FFFF}]{0,24}") {
        let _ = decode_uri_component(&s);
    }

    #[test]
    fn signed_values_verify_only_with_their_secret(value in any::<String>().prop_filter("upstream refuses an empty value", |v| !v.is_empty())) {
        let signed = sign_value(&value, SECRET);
        prop_assert_eq!(verify_signed_value(&signed, SECRET), Some(value.clone()));
        prop_assert_eq!(verify_signed_value(&signed, OTHER), None);
        // Truncated anywhere (on a char boundary), it is refused.
        for cut in (0..signed.len()).filter(|i| signed.is_char_boundary(*i)) {
            prop_assert_eq!(verify_signed_value(&signed[..cut], SECRET), None);
        }
    }

    #[test]
    fn tampered_signatures_are_refused(value in "[a-zA-Z0-9_-]{1,40}", at in 0usize..44, to in "[A-Za-z0-9+/]") {
        let signed = sign_value(&value, SECRET);
        let sig_start = signed.len() - 44;
        let mut bytes = signed.clone().into_bytes();
        // Never touch the final '=' (it must stay for the format check to reach the HMAC).
        let i = sig_start + at.min(42);
        let replacement = to.as_bytes()[0];
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let tampered = String::from_utf8(bytes).unwrap_or_default();
        prop_assert_eq!(verify_signed_value(&tampered, SECRET), None);
        // The value half tampered: also refused.
        let moved = format!("x{signed}");
        prop_assert_eq!(verify_signed_value(&moved, SECRET), None);
    }

    #[test]
    fn arbitrary_signed_looking_values_are_refused(s in any::<String>()) {
        // Without the secret, nothing verifies (an accidental forgery would be a 2^-256 event).
        prop_assert_eq!(verify_signed_value(&s, SECRET), None);
    }

    #[test]
    fn trust_device_tokens_verify_only_for_their_message(msg in any::<String>(), other in any::<String>()) {
        let token = hmac_base64url(SECRET, &msg);
        prop_assert!(verify_hmac_base64url(SECRET, &msg, &token));
        prop_assert!(!verify_hmac_base64url(OTHER, &msg, &token));
        if other != msg {
            prop_assert!(!verify_hmac_base64url(SECRET, &other, &token));
        }
        prop_assert!(!verify_hmac_base64url(SECRET, &msg, &token[..token.len() - 1]));
    }

    #[test]
    fn validators_never_panic_on_any_json(body in proptest::option::of(json())) {
        for (_, schema) in schemas::ALL {
            for location in [Location::Body, Location::Query] {
                if let Err(message) = validate(body.as_ref(), schema, location) {
                    prop_assert!(!message.is_empty());
                }
            }
        }
    }
}
