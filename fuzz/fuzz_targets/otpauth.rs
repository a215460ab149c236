//! base32 (TOTP secrets, including imported `base32:` ones) and the `otpauth://` URI built from
//! a hostile issuer and account. Input: raw key bytes; as text, `<issuer>\n<account>`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use portcullis_protocol::otpauth::{base32_decode, base32_encode, key_bytes, totp_uri_for_key};

const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fuzz_target!(|data: &[u8]| {
    // Encoding: the alphabet only, unpadded length, and it decodes back.
    let encoded = base32_encode(data);
    assert!(encoded.chars().all(|c| ALPHABET.contains(c)));
    assert_eq!(encoded.len(), (data.len() * 8).div_ceil(5));
    assert_eq!(base32_decode(&encoded).as_deref(), Some(data));
    // An imported `base32:` secret is case-insensitive; an empty key is refused.
    let expected_key = (!data.is_empty()).then(|| data.to_vec());
    for imported in [
        encoded.clone(),
        encoded.to_lowercase(),
        format!("{encoded}===="),
    ] {
        assert_eq!(key_bytes(&format!("base32:{imported}")), expected_key);
    }

    // Decoding any text: refused iff a character before the first `=` is outside the alphabet;
    // otherwise 5 bits per character, leftover bits dropped.
    let text = String::from_utf8_lossy(data);
    let head = text.split('=').next().unwrap_or("");
    match base32_decode(&text) {
        Some(out) => {
            assert!(head.chars().all(|c| ALPHABET.contains(c)));
            assert_eq!(out.len(), head.len() * 5 / 8);
        }
        None => assert!(!head.chars().all(|c| ALPHABET.contains(c))),
    }
    // A stored secret without the prefix is its UTF-8 bytes.
    if !text.starts_with("base32:") {
        let expected = (!text.is_empty()).then(|| text.as_bytes().to_vec());
        assert_eq!(key_bytes(&text), expected);
    } else {
        let _ = key_bytes(&text);
    }

    // The URI with a hostile issuer and account: printable ASCII only (nothing to inject into a
    // QR code or a log line), one label separator, exactly the four parameters, and each part
    // decodes back to what went in.
    let (issuer, account) = text.split_once('\n').unwrap_or((&text, ""));
    let digits = if data.len().is_multiple_of(2) { 6 } else { 8 };
    let uri = totp_uri_for_key(data, issuer, account, digits, 30);
    assert!(uri.bytes().all(|b| b.is_ascii_graphic()), "{uri:?}");
    assert!(!uri.contains('#'));
    let rest = uri
        .strip_prefix("otpauth://totp/")
        .unwrap_or_else(|| panic!("{uri}"));
    let (label, query) = rest.split_once('?').unwrap_or_else(|| panic!("{uri}"));
    assert!(!query.contains('?'));
    let (label_issuer, label_account) = label.split_once(':').unwrap_or_else(|| panic!("{uri}"));
    assert!(!label_account.contains(':'));
    let decode = |s: &str| percent_decode_str(s).decode_utf8().map(|c| c.into_owned());
    assert_eq!(decode(label_issuer).ok().as_deref(), Some(issuer));
    assert_eq!(decode(label_account).ok().as_deref(), Some(account));
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let expected: Vec<(String, String)> = [
        ("secret", encoded.as_str()),
        ("issuer", issuer),
        ("digits", if digits == 6 { "6" } else { "8" }),
        ("period", "30"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(params, expected, "{uri}");
});
