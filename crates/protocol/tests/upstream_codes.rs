//! Every entry of the upstream error-code tables is in `ErrorCode` with the same text, and every
//! non-ad-hoc `ErrorCode` comes from one of those tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use portcullis_protocol::error::{ErrorCode, groups};

/// Parses `\tKEY: "message",` lines of a `defineErrorCodes({...})` file.
fn entries(source: &str) -> Vec<(String, String)> {
    source
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (key, rest) = line.split_once(": \"")?;
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return None;
            }
            let message = rest
                .strip_suffix("\",")
                .or_else(|| rest.strip_suffix('"'))?;
            assert!(!message.contains('\\'), "escape in upstream text: {line}");
            Some((key.to_owned(), message.to_owned()))
        })
        .collect()
}

fn check(source: &str, group: &[ErrorCode], expected_len: usize) {
    let entries = entries(source);
    assert_eq!(entries.len(), expected_len, "parser missed entries");
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
    check(
        include_str!("upstream/core-error-codes.mjs"),
        groups::BASE,
        49,
    );
}

#[test]
fn two_factor_error_codes_match_upstream() {
    check(
        include_str!("upstream/two-factor-error-code.mjs"),
        groups::TWO_FACTOR,
        13,
    );
}

#[test]
fn username_error_codes_match_upstream() {
    check(
        include_str!("upstream/username-error-codes.mjs"),
        groups::USERNAME,
        9,
    );
}
