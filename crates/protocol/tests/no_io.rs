//! The protocol crate stays a pure wire-contract crate: only the allowlisted dependencies.
//! (The lead's CI also runs `cargo tree -p portcullis-protocol -i actix-web` / `-i sea-orm`.)

const ALLOWED: &[&str] = &[
    "serde",
    "serde_json",
    "time",
    "hmac",
    "sha2",
    "subtle",
    "base64",
    "percent-encoding",
    "form_urlencoded",
    "thiserror",
    "unicode-normalization",
];

#[test]
fn dependencies_are_allowlisted() {
    let manifest = include_str!("../Cargo.toml");
    let mut section = "";
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if !(section == "[dependencies]" || section.starts_with("[target.")) {
            continue;
        }
        let Some((name, _)) = line.split_once(['=', '.']) else {
            continue;
        };
        let name = name.trim();
        if name.is_empty() || name.starts_with('#') {
            continue;
        }
        assert!(
            ALLOWED.contains(&name),
            "portcullis-protocol must not depend on {name:?} (no I/O, no actix/sea-orm)"
        );
    }
}
