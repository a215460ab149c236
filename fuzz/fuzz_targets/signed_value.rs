//! Signed cookie values (`value.base64(HMAC-SHA256)`): the input is tried as a presented cookie
//! value and as a value to sign.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_protocol::{
    cookies::{encode_uri_component, get_signed_cookie, parse_cookie_header},
    signed::{SIGNATURE_LEN, sign_value, verify_signed_value},
};

/// The secret of the protocol test vectors: seeds holding real signed values verify.
const SECRET: &[u8] = b"test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const OTHER_SECRET: &[u8] = b"another-secret-0123456789-abcdefghijklmnopqrstuv";
const NAME: &str = "better-auth.session_token";

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    // Presented: accepted only in the one canonical form signing produces.
    for secret in [SECRET, OTHER_SECRET] {
        if let Some(value) = verify_signed_value(input, secret) {
            assert_eq!(sign_value(&value, secret), input);
        }
    }

    // Signed: round trip (upstream refuses an empty value: its signature starts at index 0).
    let signed = sign_value(input, SECRET);
    let expected = (!input.is_empty()).then(|| input.to_owned());
    assert_eq!(verify_signed_value(&signed, SECRET), expected);
    assert_eq!(verify_signed_value(&signed, OTHER_SECRET), None);
    // ...also through a Cookie header, encoded as Set-Cookie writes it.
    let header = format!("{NAME}={}", encode_uri_component(&signed));
    assert_eq!(
        get_signed_cookie(&parse_cookie_header(&header), NAME, SECRET),
        expected
    );
    if input.is_empty() {
        return;
    }

    // Any one character altered, in the signature, the separator or the value's ends: refused.
    let chars: Vec<(usize, char)> = signed.char_indices().collect();
    let n = chars.len();
    let positions = (n - SIGNATURE_LEN - 1..n).chain([0, n - SIGNATURE_LEN - 2]);
    // A replacement chosen by the input too, so the fuzzer varies it.
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=.";
    let extra = alphabet
        .chars()
        .nth(data.len() % alphabet.len())
        .unwrap_or('A');
    for i in positions {
        let (at, c) = chars[i];
        for replacement in ['A', 'B', extra] {
            if replacement == c {
                continue;
            }
            let mut tampered = signed.clone();
            tampered.replace_range(at..at + c.len_utf8(), replacement.encode_utf8(&mut [0; 4]));
            assert_eq!(verify_signed_value(&tampered, SECRET), None, "{tampered:?}");
        }
    }
    // Truncated or extended: refused.
    assert_eq!(
        verify_signed_value(&signed[..signed.len() - 1], SECRET),
        None
    );
    assert_eq!(verify_signed_value(&format!("{signed}="), SECRET), None);
    assert_eq!(
        verify_signed_value(&format!("{signed}.{signed}"), SECRET),
        None
    );
});
