//! The fixture files in `compat-fixtures/scenarios/` (written by
//! `compat-fixtures/recorder/record.mjs`; format in `compat-fixtures/README.md`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fixture {
    pub format: u32,
    pub scenario: String,
    pub title: String,
    pub recorded_with: Value,
    pub server: ServerSpec,
    pub steps: Vec<Step>,
}

/// How the reference server was configured; the replay server gets the same.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerSpec {
    pub plugins: Vec<String>,
    pub app_name: String,
    /// An OTP sender was configured (Portcullis: `PORTCULLIS_OTP_WEBHOOK_URL`).
    pub otp_sender: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Step {
    Exchange(Box<Exchange>),
    Db(DbStep),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    pub n: usize,
    pub title: String,
    pub request: Request,
    pub response: Response,
    /// capture name → source (`{"setCookie": NAME}` or `{"otpSentTo": "<email:N>"}`).
    #[serde(default)]
    pub capture: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbStep {
    pub n: usize,
    pub title: String,
    pub db: String,
    pub args: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// `[name, value template]`, sent as one `Cookie` header in this order.
    #[serde(default)]
    pub cookies: Vec<(String, String)>,
    /// `{"json": …}`, `{"form": [[k, v], …]}` or `{"raw": "…"}`.
    pub body: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Response {
    pub status: u16,
    pub headers: Map<String, Value>,
    pub set_cookies: Vec<Value>,
    /// `{"json": …}`, `{"text": "…"}` or `{"empty": true}`.
    pub body: Value,
}

/// The fixture directory, relative to the workspace root.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compat-fixtures/scenarios")
}

/// Every fixture, in file-name order.
pub fn load_all(dir: &Path) -> Vec<Fixture> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let f: Fixture = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not a fixture: {e}", p.display()));
            assert_eq!(f.format, 1, "{}: unknown fixture format", p.display());
            f
        })
        .collect()
}
