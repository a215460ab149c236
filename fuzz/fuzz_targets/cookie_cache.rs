//! The `session_data` cookie cache value (strategy `compact`): base64url JSON with an HMAC over
//! the payload. Whatever the bytes, decoding never panics; what verifies re-encodes to a value
//! that verifies to the same payload, and never under another secret; the date reviver and the
//! chunker hold their properties.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_protocol::cookie_cache::{chunk, decode, encode, iso_millis, parse_payload};

/// The seeds in corpus/cookie_cache are signed with this secret.
const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const OTHER_SECRET: &[u8] = b"another-secret-0123456789-abcdefghijklmnopqrstuv";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(d) = decode(input, &[SECRET]) {
        assert!(decode(input, &[OTHER_SECRET]).is_none());
        assert!(decode(input, &[OTHER_SECRET, SECRET]).is_some());
        let _ = parse_payload(&d);
        if d.expires_at.fract() == 0.0 && d.expires_at.abs() < 9e15 {
            let again = encode(&d.payload, d.expires_at as i64, SECRET);
            let back = decode(&again, &[SECRET]).expect("a re-encoded payload verifies");
            assert_eq!(back.payload, d.payload);
        }
    }
    if let Some(ms) = iso_millis(input) {
        assert!(input.ends_with('Z') && input.len() >= 20);
        assert!(
            (-62_167_219_200_000..=253_402_387_200_000).contains(&ms),
            "{ms}"
        );
    }
    let overhead = data.first().map_or(60, |b| usize::from(*b) * 8);
    if let Some(parts) = chunk(input, overhead)
        && input.is_ascii()
    {
        assert_eq!(parts.concat(), input);
        assert!(parts.len() <= 100);
    }
});
