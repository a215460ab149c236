//! The compat-fixture replayer (see tests/compat_replay.rs and compat-fixtures/README.md).

pub mod allowlist;
pub mod db;
pub mod fixture;
pub mod replay;
pub mod template;
