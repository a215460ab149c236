//! The request `Cookie` header: better-call's parser (what every cookie read goes through),
//! Better Auth's strict parser and the chunked `session_data` reader, and signed cookie lookup.

#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use portcullis_protocol::{
    cookies::{
        encode_uri_component, existing_chunk_names, get_chunked_cookie, get_cookie,
        get_signed_cookie, parse_cookie_header, parse_cookie_header_strict,
    },
    signed::sign_value,
};

/// The secret of the protocol test vectors: seeds carrying real signed cookies verify.
const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const SESSION_DATA: &str = "better-auth.session_data";

fuzz_target!(|data: &[u8]| {
    // actix hands the parser `HeaderValue::to_str` output (visible ASCII); the parser takes any
    // `&str`, so it is fuzzed over all of UTF-8.
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let decodes = header.contains('%');

    let cookies = parse_cookie_header(header);
    let mut names = HashSet::new();
    for (name, value) in &cookies {
        assert!(names.insert(name.as_str()), "{name:?} twice");
        assert!(
            header.contains(name.as_str()),
            "name {name:?} not in the header"
        );
        assert!(!name.contains([';', '=']), "separator in name {name:?}");
        if !decodes {
            // Without escapes a value is a slice of the header (trimmed, maybe unquoted).
            assert!(
                header.contains(value.as_str()),
                "value {value:?} not in the header"
            );
            assert!(!value.contains(';'));
        }
        // Lookup sees the first occurrence, which is the one kept.
        assert_eq!(get_cookie(&cookies, name), Some(value.as_str()));
        // Read as signed only if it is byte for byte what signing its value gives.
        if let Some(inner) = get_signed_cookie(&cookies, name, SECRET) {
            assert_eq!(&sign_value(&inner, SECRET), value);
        }
    }

    // What a browser sends back for these cookies as the server set them (`Set-Cookie` encodes
    // each value once with encodeURIComponent) parses to exactly the same pairs.
    let resent = cookies
        .iter()
        .map(|(name, value)| format!("{name}={}", encode_uri_component(value)))
        .collect::<Vec<_>>()
        .join("; ");
    assert_eq!(
        parse_cookie_header(&resent),
        cookies,
        "resent as {resent:?}"
    );

    // Better Auth's strict parser: non-empty names without separators, last occurrence wins.
    let strict = parse_cookie_header_strict(header);
    let mut names = HashSet::new();
    for (name, value) in &strict {
        assert!(names.insert(name.as_str()), "{name:?} twice (strict)");
        assert!(!name.is_empty() && header.contains(name.as_str()));
        assert!(!name.contains([';', '=', ' ', '\t']));
        if !decodes {
            assert!(header.contains(value.as_str()));
        }
    }

    // Chunks: every name to expire is one the strict parser saw; the chunked value is the
    // plain cookie when that is present and non-empty.
    for name in existing_chunk_names(header, SESSION_DATA) {
        assert!(strict.iter().any(|(n, _)| *n == name));
    }
    let chunked = get_chunked_cookie(header, SESSION_DATA);
    if let Some(plain) = get_cookie(&cookies, SESSION_DATA).filter(|v| !v.is_empty()) {
        assert_eq!(chunked.as_deref(), Some(plain));
    }
});
