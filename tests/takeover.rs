//! Taking over a Better Auth deployment from a database dump.
//!
//! `tests/fixtures/takeover/better-auth-1.7.25-<backend>.sql` was produced by the real Better
//! Auth 1.7.25 (`tests/js/make-takeover-dump.mjs`: its own migrations, its own routes: users with
//! and without 2FA, sessions, TOTP, backup codes, a trusted device, OTP 2FA, a pending enrolment)
//! and dumped with sqlite3-`.dump`-style SQL / `pg_dump --inserts` / `mysqldump`; the `.json`
//! beside it holds the plaintext facts (passwords, TOTP secret, unused and spent backup codes,
//! cookies), valid only with the fixture's own secret.
//!
//! Each test loads a dump into a fresh database, starts Portcullis on it with that secret, checks
//! that the migrations adopted Better Auth's schema without touching it (same tables, columns,
//! types and rows; only Portcullis's own table and columns added), then signs in with everything
//! Better Auth issued.
//!
//! Dates: Better Auth stamps rows with the wall clock (sessions expire 7 days, trusted devices 30
//! days after the dump), so the dump's timestamps are shifted by (now − `dumpedAt`) in the SQL
//! text before loading — as if the dump had just been taken. Only the date-time part moves (whole
//! seconds); fractions and zone suffixes stay as Better Auth's database wrote them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Backend, TestClient, TestDatabase, TestServer, webhook::OtpWebhook};
use portcullis_server::{auth::totp, store::accounts};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use serde_json::{Value, json};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Better Auth's tables (core + twoFactor), as its migration tool creates them.
const BETTER_AUTH_TABLES: &[&str] = &["user", "session", "account", "verification", "twoFactor"];
/// What Portcullis's migrations may add to them: (table, column).
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("twoFactor", "lastUsedStep"),
    ("user", "username"),
    ("user", "displayUsername"),
];
/// Tables Portcullis adds: its own table, Better Auth's `rateLimit` (created whatever the
/// rate-limit storage) and sea-orm-migration's bookkeeping.
const ADDED_TABLES: &[&str] = &["twoFactorBackupCode", "rateLimit", "seaql_migrations"];

fn fixture(backend: Backend) -> (String, Value) {
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::Mysql => "mysql",
    };
    let base = format!(
        "{}/tests/fixtures/takeover/better-auth-1.7.25-{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let sql = std::fs::read_to_string(format!("{base}.sql")).unwrap();
    let facts =
        serde_json::from_str(&std::fs::read_to_string(format!("{base}.json")).unwrap()).unwrap();
    (sql, facts)
}

// ---------------------------------------------------------------- dump text

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD[T ]HH:MM:SS` at the start of `b`.
fn date_time_at(b: &[u8]) -> Option<(PrimitiveDateTime, u8)> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let sep = b[10];
    if sep != b'T' && sep != b' ' {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(digits(&b[0..4])?).ok()?,
        Month::try_from(u8::try_from(digits(&b[5..7])?).ok()?).ok()?,
        u8::try_from(digits(&b[8..10])?).ok()?,
    )
    .ok()?;
    let t = Time::from_hms(
        u8::try_from(digits(&b[11..13])?).ok()?,
        u8::try_from(digits(&b[14..16])?).ok()?,
        u8::try_from(digits(&b[17..19])?).ok()?,
    )
    .ok()?;
    Some((PrimitiveDateTime::new(date, t), sep))
}

/// Moves every `YYYY-MM-DD[T ]HH:MM:SS` in `sql` by `by` (whole seconds), keeping the separator;
/// whatever follows (fraction, `Z`, `+00`) is untouched.
fn shift_dates(sql: &str, by: time::Duration) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_digit();
        if boundary && let Some((dt, sep)) = date_time_at(&b[i..]) {
            let t = dt + by;
            out.push_str(&sql[copied..i]);
            out.push_str(&format!(
                "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                sep as char,
                t.hour(),
                t.minute(),
                t.second()
            ));
            i += 19;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// Splits a dump into statements at `;` outside quotes and comments. `--` comments and psql
/// meta-command lines (`\…`) are dropped; `/* … */` is kept (MySQL's `/*!40101 … */` are
/// executable). `backslash_escapes`: MySQL string literals escape with `\`.
fn split_statements(sql: &str, backslash_escapes: bool) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let (mut out, mut cur, mut i) = (Vec::new(), String::new(), 0);
    let skip_line = |i: &mut usize| {
        while *i < chars.len() && chars[*i] != '\n' {
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                cur.push(c);
                i += 1;
                while i < chars.len() {
                    let d = chars[i];
                    cur.push(d);
                    i += 1;
                    if backslash_escapes && d == '\\' && i < chars.len() {
                        cur.push(chars[i]);
                        i += 1;
                    } else if d == c {
                        if chars.get(i) == Some(&c) {
                            cur.push(c);
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if next == Some('-') => skip_line(&mut i),
            '\\' if cur.trim().is_empty() => skip_line(&mut i),
            '/' if next == Some('*') => {
                let start = i;
                i += 2;
                while i < chars.len() && !(chars[i - 1] == '*' && chars[i] == '/' && i > start + 2)
                {
                    i += 1;
                }
                i += 1;
                cur.extend(&chars[start..i.min(chars.len())]);
            }
            ';' => {
                if !cur.trim().is_empty() {
                    out.push(cur.trim().to_string());
                }
                cur.clear();
                i += 1;
            }
            _ => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Loads the (date-shifted) dump over one connection, so session settings made by the dump
/// (`search_path`, `FOREIGN_KEY_CHECKS`, …) apply to the statements after them.
async fn load_dump(url: &str, backend: Backend, sql: &str) {
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    let conn = Database::connect(opts).await.unwrap();
    for stmt in split_statements(sql, backend == Backend::Mysql) {
        conn.execute_unprepared(&stmt)
            .await
            .unwrap_or_else(|e| panic!("loading the dump failed at {stmt:?}: {e}"));
    }
    conn.close().await.unwrap();
}

// ---------------------------------------------------------------- schema and data snapshot

/// A column as the database describes it: name, type, nullability, default.
type Column = (String, String, String, String);

#[derive(Debug, PartialEq)]
struct Snapshot {
    tables: BTreeSet<String>,
    columns: BTreeMap<String, Vec<Column>>,
    /// Every row of every Better Auth table, each column cast to text, ordered by id.
    rows: BTreeMap<String, Vec<Vec<Option<String>>>>,
}

async fn strings(c: &DatabaseConnection, sql: &str, width: usize) -> Vec<Vec<Option<String>>> {
    let b = c.get_database_backend();
    c.query_all_raw(Statement::from_string(b, sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| {
            (0..width)
                .map(|i| r.try_get_by_index::<Option<String>>(i).unwrap())
                .collect()
        })
        .collect()
}

async fn snapshot(c: &DatabaseConnection, columns_of: &[&str]) -> Snapshot {
    let b = c.get_database_backend();
    let tables_sql = match b {
        DbBackend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
        }
        _ => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE()"
        }
    };
    let tables = strings(c, tables_sql, 1)
        .await
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    let mut columns = BTreeMap::new();
    let mut rows = BTreeMap::new();
    for &t in columns_of {
        let cols_sql = match b {
            DbBackend::Sqlite => format!(
                "SELECT name, type, CAST(\"notnull\" AS TEXT), COALESCE(dflt_value, '') \
                 FROM pragma_table_info('{t}') ORDER BY cid"
            ),
            DbBackend::Postgres => format!(
                "SELECT column_name::text, data_type::text, is_nullable::text, \
                 COALESCE(column_default::text, '') FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = '{t}' ORDER BY ordinal_position"
            ),
            _ => format!(
                "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), \
                 CAST(is_nullable AS CHAR), CAST(COALESCE(column_default, '') AS CHAR) \
                 FROM information_schema.columns WHERE table_schema = DATABASE() \
                 AND table_name = '{t}' ORDER BY ordinal_position"
            ),
        };
        let cols: Vec<Column> = strings(c, &cols_sql, 4)
            .await
            .into_iter()
            .map(|r| {
                let [n, ty, null, default] = <[Option<String>; 4]>::try_from(r).unwrap();
                (
                    n.unwrap(),
                    ty.unwrap_or_default(),
                    null.unwrap_or_default(),
                    default.unwrap_or_default(),
                )
            })
            .collect();
        let (q, text) = match b {
            DbBackend::MySql => ('`', "CHAR"),
            _ => ('"', "TEXT"),
        };
        let select = cols
            .iter()
            .map(|(n, ..)| format!("CAST({q}{n}{q} AS {text})"))
            .collect::<Vec<_>>()
            .join(", ");
        let data = strings(
            c,
            &format!("SELECT {select} FROM {q}{t}{q} ORDER BY {q}id{q}"),
            cols.len(),
        )
        .await;
        columns.insert(t.to_string(), cols);
        rows.insert(t.to_string(), data);
    }
    Snapshot {
        tables,
        columns,
        rows,
    }
}

/// The Better Auth part of `after` (its tables, their original columns) must equal `before`;
/// anything else must be one of Portcullis's known additions.
fn assert_adopted_untouched(before: &Snapshot, after: &Snapshot) {
    let added_tables: BTreeSet<_> = after.tables.difference(&before.tables).cloned().collect();
    let expected: BTreeSet<_> = ADDED_TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(added_tables, expected, "tables added by the migrations");
    assert!(
        before.tables.is_subset(&after.tables),
        "a table disappeared"
    );
    for t in BETTER_AUTH_TABLES {
        let (old, new) = (&before.columns[*t], &after.columns[*t]);
        let kept: Vec<_> = new
            .iter()
            .filter(|c| old.iter().any(|o| o.0 == c.0))
            .cloned()
            .collect();
        assert_eq!(&kept, old, "{t}: Better Auth's columns changed");
        for c in new.iter().filter(|c| !old.iter().any(|o| o.0 == c.0)) {
            assert!(
                ADDED_COLUMNS.contains(&(*t, c.0.as_str())),
                "{t}: unexpected new column {c:?}"
            );
            // Nullable ("YES", or SQLite's notnull 0): Better Auth's inserts never name it.
            assert!(
                matches!(c.2.as_str(), "YES" | "0"),
                "{t}: {c:?} must be nullable"
            );
        }
        // Same rows, same values, in Better Auth's columns.
        let width = old.len();
        let new_rows: Vec<Vec<Option<String>>> = after.rows[*t]
            .iter()
            .map(|r| {
                new.iter()
                    .zip(r)
                    .filter(|(c, _)| old.iter().any(|o| o.0 == c.0))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .collect();
        assert!(new_rows.iter().all(|r| r.len() == width));
        assert_eq!(new_rows, before.rows[*t], "{t}: rows changed");
    }
}

// ---------------------------------------------------------------- the takeover

fn str_of<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_str()
        .unwrap_or_else(|| panic!("fixture lacks {path:?}"))
}

fn with_cookie(s: &TestServer, name: &str, value: &str) -> TestClient {
    let mut c = s.client();
    c.jar.push((name.to_string(), value.to_string()));
    c
}

const SESSION: &str = "better-auth.session_token";
const TRUST: &str = "better-auth.trust_device";

fn totp_now(secret_base32: &str) -> String {
    let key = totp::base32_decode(secret_base32).unwrap();
    let step = OffsetDateTime::now_utc().unix_timestamp() as u64 / 30;
    totp::code_at(&key, step, 6)
}

async fn take_over(backend: Backend) {
    let Some(database) = TestDatabase::create(backend).await else {
        eprintln!("{backend:?} not configured; skipped");
        return;
    };
    let (sql, facts) = fixture(backend);
    let dumped_at = OffsetDateTime::parse(
        str_of(&facts, &["dumpedAt"]),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let shift = time::Duration::seconds((OffsetDateTime::now_utc() - dumped_at).whole_seconds());
    load_dump(&database.url, backend, &shift_dates(&sql, shift)).await;

    let before = {
        let c = Database::connect(database.url.as_str()).await.unwrap();
        let s = snapshot(&c, BETTER_AUTH_TABLES).await;
        c.close().await.unwrap();
        s
    };
    assert!(
        !before.tables.contains("twoFactorBackupCode"),
        "the dump is Better Auth's alone"
    );
    // The snapshot really sees Better Auth's schema and data on this backend.
    assert_eq!(before.rows["user"].len(), 4);
    assert_eq!(
        before.columns["user"].len(),
        8,
        "{:?}",
        before.columns["user"]
    );
    assert_eq!(before.columns["twoFactor"].len(), 7);
    for t in BETTER_AUTH_TABLES {
        assert!(!before.rows[*t].is_empty(), "{t} is empty in the dump");
    }

    let webhook = OtpWebhook::start().await;
    let secret = str_of(&facts, &["secret"]).to_string();
    let s = TestServer::start_on(
        database,
        &[
            ("BETTER_AUTH_SECRET", secret.as_str()),
            ("PORTCULLIS_OTP_WEBHOOK_URL", webhook.url.as_str()),
        ],
    )
    .await;
    let after = snapshot(&s.state.db.conn, BETTER_AUTH_TABLES).await;
    assert_adopted_untouched(&before, &after);
    assert_eq!(
        after.columns["user"].len(),
        10,
        "username, displayUsername added"
    );

    let users = &facts["users"];
    // A user without 2FA: the original password; the dumped session cookie.
    let plain = &users["plain"];
    let mut c = with_cookie(&s, SESSION, str_of(plain, &["sessionCookie"]));
    let got = c.get("/get-session").await.json();
    assert_eq!(
        got["user"]["email"],
        json!(str_of(plain, &["email"])),
        "{got}"
    );
    assert_eq!(got["user"]["twoFactorEnabled"], json!(false));
    let listed = c.get("/list-sessions").await.json();
    assert_eq!(
        listed.as_array().unwrap().len() as u64,
        plain["sessions"].as_u64().unwrap()
    );
    let res = s
        .client()
        .sign_in(str_of(plain, &["email"]), str_of(plain, &["password"]))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.json()["token"].is_string(), "{}", res.text);
    // The first sign-in upgraded Better Auth's scrypt hash to argon2id (the default).
    let user_id = res.json()["user"]["id"].as_str().unwrap().to_string();
    let hash = accounts::find_credential(&s.state.db.conn, &user_id)
        .await
        .unwrap()
        .unwrap()
        .password
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(
        s.client()
            .sign_in(str_of(plain, &["email"]), str_of(plain, &["password"]))
            .await
            .status,
        200
    );

    // TOTP user: challenged; the dumped secret's code passes.
    let t = &users["totp"];
    let (email, password) = (str_of(t, &["email"]), str_of(t, &["password"]));
    let mut c = s.client();
    let res = c.sign_in(email, password).await;
    assert_eq!(
        res.json(),
        json!({"twoFactorRedirect": true, "twoFactorMethods": ["totp", "otp"]})
    );
    let res = c
        .post(
            "/two-factor/verify-totp",
            json!({"code": totp_now(str_of(t, &["totpSecret"]))}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(
        c.get("/get-session").await.json()["user"]["twoFactorEnabled"],
        json!(true)
    );
    // Its dumped session cookie.
    let got = with_cookie(&s, SESSION, str_of(t, &["sessionCookie"]))
        .get("/get-session")
        .await
        .json();
    assert_eq!(got["user"]["email"], json!(email), "{got}");
    // An unused backup code works once; the one Better Auth saw spent never does.
    let unused = t["unusedBackupCodes"][0].as_str().unwrap();
    for (code, status) in [
        (unused, 200),
        (unused, 401),
        (str_of(t, &["spentBackupCode"]), 401),
    ] {
        let mut c = s.client();
        assert_eq!(
            c.sign_in(email, password).await.json()["twoFactorRedirect"],
            json!(true)
        );
        let res = c
            .post("/two-factor/verify-backup-code", json!({"code": code}))
            .await;
        assert_eq!(res.status.as_u16(), status, "{code}: {}", res.text);
    }
    // The dumped trust-device cookie skips the challenge (and is rotated).
    let trust = str_of(t, &["trustDeviceCookie"]);
    let mut c = with_cookie(&s, TRUST, trust);
    let res = c.sign_in(email, password).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(
        res.json()["token"].is_string(),
        "trusted device challenged: {}",
        res.text
    );
    assert_ne!(c.cookie(TRUST), Some(trust), "trust cookie rotated");

    // OTP user: challenged with OTP only; the code from the webhook passes.
    let o = &users["otp"];
    let mut c = s.client();
    let res = c
        .sign_in(str_of(o, &["email"]), str_of(o, &["password"]))
        .await;
    assert_eq!(
        res.json(),
        json!({"twoFactorRedirect": true, "twoFactorMethods": ["otp"]})
    );
    assert_eq!(c.post("/two-factor/send-otp", json!({})).await.status, 200);
    let otp = webhook.latest_otp(str_of(o, &["email"])).await;
    let res = c.post("/two-factor/verify-otp", json!({"code": otp})).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let got = with_cookie(&s, SESSION, str_of(o, &["sessionCookie"]))
        .get("/get-session")
        .await
        .json();
    assert_eq!(got["user"]["twoFactorEnabled"], json!(true), "{got}");

    // A pending TOTP enrolment (never verified) does not gate sign-in.
    let p = &users["pending"];
    let res = s
        .client()
        .sign_in(str_of(p, &["email"]), str_of(p, &["password"]))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.json()["token"].is_string(), "{}", res.text);

    s.stop().await;
    webhook.stop().await;
}

#[actix_web::test]
async fn sqlite() {
    take_over(Backend::Sqlite).await;
}

#[actix_web::test]
async fn postgres() {
    take_over(Backend::Postgres).await;
}

#[actix_web::test]
async fn mysql() {
    take_over(Backend::Mysql).await;
}

#[test]
fn shifts_every_timestamp_format() {
    let by = time::Duration::days(1) + time::Duration::seconds(3);
    assert_eq!(
        shift_dates(
            "('2026-11-24T14:42:10.778Z','2026-11-24 14:42:16.99+00','2026-12-31 23:59:59.001',\
             12026-11-24 14:42:16, 2026-01-01)",
            by
        ),
        "('2026-11-25T14:42:13.778Z','2026-11-25 14:42:19.99+00','2027-01-02 00:00:02.001',\
         12026-11-24 14:42:16, 2026-01-01)"
    );
}

#[test]
fn splits_dump_statements() {
    let sql = "-- c;\n/*!40101 SET NAMES utf8mb4 */;\nINSERT INTO `t` VALUES ('a;b', 'it''s', 'x\\';y');\n\\restrict k\nSELECT 1";
    assert_eq!(
        split_statements(sql, true),
        vec![
            "/*!40101 SET NAMES utf8mb4 */",
            "INSERT INTO `t` VALUES ('a;b', 'it''s', 'x\\';y')",
            "SELECT 1"
        ]
    );
}
