//! Test-only package: the cross-crate integration tests live in `tests/`.
