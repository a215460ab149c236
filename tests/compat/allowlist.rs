//! `compat-fixtures/allowlist.json`: the deliberate divergences. An entry excuses exactly one
//! difference — same fixture, exchange and aspect, the reference's value exactly as recorded and
//! Portcullis's value exactly as the replay normalizes it. Entries that excuse nothing fail the
//! run, so the list cannot go stale.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::replay::Difference;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowList {
    /// Documentation for people.
    #[serde(default, rename = "about")]
    _about: Value,
    /// Differences of the fixture replay (tests/compat_replay.rs).
    pub replay: Vec<Entry>,
    /// Differences of the side-by-side client run (tests/js/side-by-side.mjs); not read here.
    #[serde(default, rename = "client")]
    _client: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fixture: String,
    pub exchange: usize,
    pub aspect: String,
    /// What the reference answered (the fixture's expectation for the aspect), or
    /// `{"$sha256": HEX}` of it when it is long.
    pub expected: Value,
    /// What Portcullis answers instead, normalized as the replay report prints it.
    pub portcullis: Value,
    pub reason: String,
    /// Only on these backends (sqlite, postgres, mysql); all when absent.
    #[serde(default)]
    pub backends: Option<Vec<String>>,
}

impl Entry {
    pub fn applies_to(&self, backend: &str) -> bool {
        self.backends
            .as_ref()
            .is_none_or(|b| b.iter().any(|x| x == backend))
    }

    pub fn excuses(&self, fixture: &str, d: &Difference) -> bool {
        self.fixture == fixture
            && self.exchange == d.exchange
            && self.aspect == d.aspect
            && same(&self.expected, &d.expected)
            && same(&self.portcullis, &d.actual)
    }

    pub fn label(&self) -> String {
        format!("{} #{} {}", self.fixture, self.exchange, self.aspect)
    }
}

/// `{"$sha256": HEX}` stands for a long value: the SHA-256 of its compact JSON.
pub fn digest(v: &Value) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(serde_json::to_string(v).unwrap().as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// An entry's value equals the difference's value (or its digest).
fn same(entry: &Value, value: &Value) -> bool {
    match entry.as_object().and_then(|o| o.get("$sha256")) {
        Some(Value::String(hex)) if entry.as_object().is_some_and(|o| o.len() == 1) => {
            *hex == digest(value)
        }
        _ => entry == value,
    }
}

/// How a value is written in an entry: as is, or as its digest when it is long.
pub fn shown(v: &Value) -> Value {
    if serde_json::to_string(v).unwrap().len() > 600 {
        serde_json::json!({ "$sha256": digest(v) })
    } else {
        v.clone()
    }
}

pub fn path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat-fixtures/allowlist.json")
}

pub fn load(path: &Path) -> AllowList {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
