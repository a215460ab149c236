//! Replays every recorded Better Auth fixture (`compat-fixtures/scenarios/*.json`) against a fresh
//! in-process Portcullis and checks its answers: status, relevant headers, every Set-Cookie line
//! (names, attributes and order, value shapes and signatures) and the body (JSON structure and
//! values modulo placeholders, null vs absent, exact key sets). Differences pass only when
//! `compat-fixtures/allowlist.json` names them exactly; an entry that excuses nothing fails its
//! fixture. Each fixture runs on SQLite, and on PostgreSQL / MariaDB when
//! `PORTCULLIS_TEST_POSTGRES_URL` / `PORTCULLIS_TEST_MYSQL_URL` are set (as the other tests).
//!
//! A plain binary (`harness = false` in Cargo.toml), so its report is printed even when it
//! passes: one line per fixture and backend, then `N passed, M failed`.
//!
//!   cargo test --test compat_replay                    # everything
//!   cargo test --test compat_replay -- two-factor otp  # fixtures whose name contains a filter
//!
//! `COMPAT_REPLAY_JOBS` sets how many fixtures replay at once (default 4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod compat;

use std::{process::ExitCode, time::Instant};

use common::Backend;
use compat::{
    allowlist::{self, AllowList},
    fixture::{self, Fixture, Step},
    replay::{self, Difference, Outcome},
    template::{Tx, Vars, cookie_signature, form_encode},
};
use futures_util::{StreamExt, stream};
use serde_json::json;

const BACKENDS: [(Backend, &str, Option<&str>); 3] = [
    (Backend::Sqlite, "sqlite", None),
    (
        Backend::Postgres,
        "postgres",
        Some("PORTCULLIS_TEST_POSTGRES_URL"),
    ),
    (Backend::Mysql, "mysql", Some("PORTCULLIS_TEST_MYSQL_URL")),
];

struct Report {
    backend: &'static str,
    fixture: usize,
    outcome: Option<Outcome>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // libtest conventions other tools rely on: one "test" to list, none of it ignored.
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("compat_replay: test");
        }
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--ignored") {
        return ExitCode::SUCCESS;
    }
    self_check();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let fixtures: Vec<Fixture> = fixture::load_all(&fixture::scenarios_dir())
        .into_iter()
        .filter(|f| filters.is_empty() || filters.iter().any(|x| f.scenario.contains(x.as_str())))
        .collect();
    let allow = allowlist::load(&allowlist::path());
    check_allow_list(&allow, &fixture::load_all(&fixture::scenarios_dir()));
    let backends: Vec<(Backend, &'static str)> = BACKENDS
        .iter()
        .filter(|(_, _, var)| var.is_none_or(|v| std::env::var(v).is_ok_and(|u| !u.is_empty())))
        .map(|(b, name, _)| (*b, *name))
        .collect();
    let exchanges: usize = fixtures.iter().map(exchange_count).sum();
    let jobs = std::env::var("COMPAT_REPLAY_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(4usize);
    let recorded: Vec<String> = fixtures
        .iter()
        .map(|f| {
            format!(
                "better-auth {}",
                f.recorded_with["betterAuth"].as_str().unwrap_or("?")
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!(
        "compat replay: {} fixtures ({exchanges} exchanges, recorded with {}) on {}; {} allow-list entries",
        fixtures.len(),
        recorded.join(", "),
        backends
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(", "),
        allow.replay.len()
    );

    let started = Instant::now();
    let mut reports: Vec<Report> = actix_web::rt::System::new().block_on(async {
        let work: Vec<(Backend, &'static str, usize)> = backends
            .iter()
            .flat_map(|(b, name)| (0..fixtures.len()).map(move |i| (*b, *name, i)))
            .collect();
        stream::iter(work)
            .map(|(backend, name, i)| {
                let f = &fixtures[i];
                async move {
                    Report {
                        backend: name,
                        fixture: i,
                        outcome: replay::replay(f, backend).await,
                    }
                }
            })
            .buffer_unordered(jobs.max(1))
            .collect()
            .await
    });
    let order = |r: &Report| {
        (
            BACKENDS.iter().position(|(_, n, _)| *n == r.backend),
            r.fixture,
        )
    };
    reports.sort_by_key(order);

    let (mut passed, mut failed) = (0, 0);
    for r in &reports {
        let f = &fixtures[r.fixture];
        let Some(outcome) = &r.outcome else {
            println!(
                "skipped {:<8} {} (backend not configured)",
                r.backend, f.scenario
            );
            continue;
        };
        if report(r.backend, f, outcome, &allow) {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!(
        "compat replay finished in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn exchange_count(f: &Fixture) -> usize {
    f.steps
        .iter()
        .filter(|s| matches!(s, Step::Exchange(_)))
        .count()
}

/// Prints the summary line (and the details of a failure); true when the fixture passed.
fn report(backend: &str, f: &Fixture, outcome: &Outcome, allow: &AllowList) -> bool {
    let entries: Vec<&allowlist::Entry> = allow
        .replay
        .iter()
        .filter(|e| e.fixture == f.scenario && e.applies_to(backend))
        .collect();
    let mut used = vec![false; entries.len()];
    let mut unexplained: Vec<&Difference> = Vec::new();
    for d in &outcome.differences {
        match entries.iter().position(|e| e.excuses(&f.scenario, d)) {
            Some(i) => used[i] = true,
            None => unexplained.push(d),
        }
    }
    let allowed = used.iter().filter(|u| **u).count();
    let unused: Vec<&&allowlist::Entry> = entries
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(e, _)| e)
        .collect();
    let ok = unexplained.is_empty() && unused.is_empty() && outcome.fatal.is_none();
    let mut notes = vec![format!("{} exchanges", outcome.exchanges)];
    if allowed > 0 {
        notes.push(format!("{allowed} allowed"));
    }
    if !unexplained.is_empty() {
        notes.push(format!("{} unexplained", unexplained.len()));
    }
    if !unused.is_empty() {
        notes.push(format!("{} unused allow-list entries", unused.len()));
    }
    println!(
        "{} {backend:<8} {} ({})",
        if ok { "ok     " } else { "FAILED " },
        f.scenario,
        notes.join(", ")
    );
    if !ok {
        println!("    ({})", f.title);
    }
    if let Some(e) = &outcome.fatal {
        println!("    stopped at {e}");
    }
    for d in unexplained {
        println!(
            "    #{} {} — {}: {}",
            d.exchange, d.title, d.aspect, d.detail
        );
        let entry = json!({
            "fixture": f.scenario,
            "exchange": d.exchange,
            "aspect": d.aspect,
            "expected": allowlist::shown(&d.expected),
            "portcullis": allowlist::shown(&d.actual),
            "reason": "",
        });
        println!("      allow-list entry: {entry}");
    }
    for e in unused {
        println!("    allow-list entry {} excused nothing", e.label());
    }
    ok
}

/// Every entry names an existing fixture and exchange and gives a reason.
fn check_allow_list(allow: &AllowList, all: &[Fixture]) {
    for e in &allow.replay {
        let f = all
            .iter()
            .find(|f| f.scenario == e.fixture)
            .unwrap_or_else(|| panic!("allow-list entry {}: no such fixture", e.label()));
        assert!(
            f.steps
                .iter()
                .any(|s| matches!(s, Step::Exchange(x) if x.n == e.exchange)),
            "allow-list entry {}: no such exchange",
            e.label()
        );
        assert!(
            !e.reason.trim().is_empty(),
            "allow-list entry {}: no reason",
            e.label()
        );
    }
}

/// The matcher's own invariants, checked before any replay.
fn self_check() {
    // Protocol notes §13 vector 1: a session token signed with the test secret.
    assert_eq!(
        cookie_signature("LYXaA7WnSBk5KjqWqiw4xAXrfV0eYQuS"),
        "ky97YzG3zyWq+7Wm9hZXEhyQd+UI8aZIDX5dOJrqaB4="
    );
    assert_eq!(
        form_encode(&[("e mail".into(), "a+b@c.d/é".into())]),
        "e+mail=a%2Bb%40c.d%2F%C3%A9"
    );
    let mut vars = Vars::new("http://127.0.0.1:4000");
    let mut tx = Tx::default();
    let token = "abcdefghijABCDEFGHIJ0123456789ab";
    vars.match_str("<token:1>", token, &mut tx).unwrap();
    vars.commit(tx);
    let mut tx = Tx::default();
    assert!(vars.match_str("<token:1>", "x", &mut tx).is_err());
    // A new placeholder cannot take a value another placeholder already holds.
    assert!(vars.match_str("<token:2>", token, &mut tx).is_err());
    vars.match_str(
        "<origin>/a?<date>",
        "http://127.0.0.1:4000/a?2026-01-02T03:04:05.678Z",
        &mut tx,
    )
    .unwrap();
    // null is not absent, and key sets must be equal.
    let tx = &mut Tx::default();
    assert!(
        vars.match_json(&json!({"a": null}), &json!({}), "$", tx)
            .is_err()
    );
    assert!(
        vars.match_json(&json!({"a": 1}), &json!({"a": 1, "b": 2}), "$", tx)
            .is_err()
    );
    assert!(
        vars.match_json(
            &json!({"a": [1, "<token:1>"]}),
            &json!({"a": [1, token]}),
            "$",
            tx
        )
        .is_ok()
    );
    assert_eq!(vars.normalize_json(&json!([token])), json!(["<token:1>"]));
}
