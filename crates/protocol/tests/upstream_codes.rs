//! Every entry of Better Auth's error-code tables is in `ErrorCode` with the same text, and every
//! non-ad-hoc `ErrorCode` comes from one of those tables. The tables are dumped from the pinned
//! npm package by `tests/js/dump-error-codes.mjs` into `compat-fixtures/error-codes.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_protocol::error::{ErrorCode, groups};
use serde_json::Value;

fn table(name: &str) -> Vec<(String, String)> {
    let all: Value =
        serde_json::from_str(include_str!("../../../compat-fixtures/error-codes.json")).unwrap();
    assert_eq!(all["betterAuthVersion"], "1.7.25");
    all[name]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn check(name: &str, group: &[ErrorCode], expected_len: usize) {
    let entries = table(name);
    assert_eq!(entries.len(), expected_len, "{name} table size changed");
    for (key, message) in &entries {
        let code = ErrorCode::from_code(key).unwrap_or_else(|| panic!("missing ErrorCode {key}"));
        assert_eq!(code.message(), message, "text of {key}");
    }
    for code in group {
        assert!(
            entries.iter().any(|(k, _)| k == code.code()),
            "{} is not in the upstream table",
            code.code()
        );
    }
}

#[test]
fn base_error_codes_match_upstream() {
    check("core", groups::BASE, 49);
}

#[test]
fn two_factor_error_codes_match_upstream() {
    check("twoFactor", groups::TWO_FACTOR, 13);
}

#[test]
fn username_error_codes_match_upstream() {
    check("username", groups::USERNAME, 9);
}
