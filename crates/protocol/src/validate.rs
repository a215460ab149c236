//! A tiny declarative stand-in for the zod 4 schemas Better Auth validates requests with.
//!
//! better-call runs the endpoint's zod schema on `body` and `query` before any middleware or
//! handler and answers 400 `{"message": <issues>, "code": "VALIDATION_ERROR"}`
//! (`better-call: dist/endpoint.mjs`). Each issue is rendered as `[<body|query>.<path>] <zod
//! message>` (`[body]` / `[query]` for root issues) and issues are joined by `"; "`
//! (`better-call: dist/validator.mjs` `fromError`). Messages are zod 4.6.7's English locale
//! (`zod: v4/locales/en.js`). Every message in this module's tests was produced by running the
//! real schemas under node 20 with the installed zod.
//!
//! zod behaviour reproduced here:
//! * object fields are checked in **schema order** (not input order), all issues are reported;
//! * unknown keys are accepted (and stripped by `z.object`; kept by the sign-up intersection);
//! * `null` is *not* "missing": an optional string given `null` fails with `received null`;
//! * an enum reports `Invalid option: …` for every bad value, including missing and `null`;
//! * `z.email()` on a non-string reports the type error, on a bad string `Invalid email address`.

use serde_json::Value;

/// What a field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// `z.string()`.
    String,
    /// `z.string().nonempty()` (a.k.a. `.min(1)`).
    NonEmptyString,
    /// `z.email()`.
    Email,
    /// `z.boolean()`.
    Bool,
    /// `z.number()`.
    Number,
    /// `z.enum([...])`.
    Enum(&'static [&'static str]),
    /// `z.record(z.string(), z.any())`: any JSON object. On a [`Field::root`] it describes the
    /// whole body (`update-user`), or with named fields the sign-up intersection.
    Record,
    /// `z.any()` / `z.coerce.boolean()` / `z.coerce.string()` — never fails.
    Any,
}

/// One object key. `optional` also covers zod `.default(…)` (only `undefined` is replaced).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub rule: Rule,
    pub optional: bool,
}

impl Field {
    pub const fn required(name: &'static str, rule: Rule) -> Self {
        Field {
            name,
            rule,
            optional: false,
        }
    }

    pub const fn optional(name: &'static str, rule: Rule) -> Self {
        Field {
            name,
            rule,
            optional: true,
        }
    }

    /// A rule on the whole body rather than a key (name `""`). Only [`Rule::Record`] is
    /// meaningful here; see [`validate_body`].
    pub const fn root(rule: Rule) -> Self {
        Field {
            name: "",
            rule,
            optional: false,
        }
    }

    const fn is_root(&self) -> bool {
        self.name.is_empty()
    }
}

/// The shape of the whole body or query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema<'a> {
    /// `z.object({...})`.
    Object(&'a [Field]),
    /// `z.object({...}).optional()` — an absent body/query passes.
    OptionalObject(&'a [Field]),
    /// `z.record(z.string(), z.any())`.
    Record,
    /// `z.object({...}).and(z.record(z.string(), z.any()))` (sign-up).
    ObjectAndRecord(&'a [Field]),
}

/// Which part of the request is validated (the issue path prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Body,
    Query,
}

impl Location {
    const fn as_str(self) -> &'static str {
        match self {
            Location::Body => "body",
            Location::Query => "query",
        }
    }
}

/// zod's `parsedType` name for a JSON value (`None` = `undefined`). `zod: v4/core/util.js`.
pub fn js_type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn invalid_type(expected: &str, value: Option<&Value>) -> String {
    format!(
        "Invalid input: expected {expected}, received {}",
        js_type_name(value)
    )
}

/// `z.email()`'s default pattern (zod 4.6.7):
/// `^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'+' | b'-');
    let local_ok = local
        .split('.')
        .all(|seg| !seg.is_empty() && seg.bytes().all(local_byte))
        && local
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'));
    if !local_ok {
        return false;
    }
    let mut labels = domain.split('.');
    let Some(tld) = labels.next_back() else {
        return false;
    };
    let mut count = 0;
    for label in labels {
        count += 1;
        let mut bytes = label.bytes();
        if !bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
            || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
    }
    count >= 1 && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
}

/// zod quirk: `.nonempty()` (`$ZodCheckMinLength`, `zod: v4/core/checks.js`) runs even after the
/// type check failed, whenever the input is non-nullish and has a `length` property — so `[]`
/// and objects with a falsy-ish `length` key get a second issue on the same path. `origin` is
/// `array` for arrays and `unknown` otherwise (`getLengthableOrigin`, `zod: v4/core/util.js`).
fn min_length_on_non_string(value: Option<&Value>) -> Option<&'static str> {
    match value? {
        Value::Array(a) if a.is_empty() => Some("Too small: expected array to have >=1 items"),
        Value::Object(m) => {
            let length = m.get("length")?;
            let n = js_to_number(length);
            (n.is_nan() || n < 1.0).then_some("Too small: expected unknown to be >=1")
        }
        _ => None,
    }
}

/// JS `ToNumber` for JSON values (enough for the relational comparison above).
fn js_to_number(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => js_string_to_number(s),
        // ToPrimitive(array) = elements joined by ","; only 0 or 1 element can be numeric.
        Value::Array(a) => match a.as_slice() {
            [] => 0.0,
            [single] => match single {
                Value::Null => 0.0,
                Value::Bool(_) | Value::Object(_) => f64::NAN,
                other => js_to_number(other),
            },
            _ => f64::NAN,
        },
        Value::Object(_) => f64::NAN, // "[object Object]"
    }
}

/// JS `StringToNumber`: trimmed; empty → 0; decimal, `Infinity`, `0x`/`0o`/`0b` literals.
fn js_string_to_number(s: &str) -> f64 {
    let s = s.trim_matches(crate::cookies::is_js_whitespace);
    if s.is_empty() {
        return 0.0;
    }
    let radix = |digits: &str, radix: u32| {
        if digits.is_empty() {
            return f64::NAN;
        }
        digits
            .chars()
            .try_fold(0.0_f64, |acc, c| {
                c.to_digit(radix)
                    .map(|d| acc * f64::from(radix) + f64::from(d))
            })
            .unwrap_or(f64::NAN)
    };
    let lower = s.get(..2).map(str::to_ascii_lowercase);
    match lower.as_deref() {
        Some("0x") => return radix(&s[2..], 16),
        Some("0o") => return radix(&s[2..], 8),
        Some("0b") => return radix(&s[2..], 2),
        _ => {}
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned == "Infinity" {
        return if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    // Rust also accepts "inf"/"nan" spellings; JS only the digit forms checked here.
    if !unsigned
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        || !unsigned.bytes().any(|b| b.is_ascii_digit())
    {
        return f64::NAN;
    }
    s.parse().unwrap_or(f64::NAN)
}

/// The zod message for one field value, or `None` if it passes.
fn check_field(field: &Field, value: Option<&Value>) -> Option<String> {
    if value.is_none() && field.optional {
        return None;
    }
    match field.rule {
        Rule::Any => None,
        Rule::String => match value {
            Some(Value::String(_)) => None,
            v => Some(invalid_type("string", v)),
        },
        Rule::NonEmptyString => match value {
            Some(Value::String(s)) if s.is_empty() => {
                Some("Too small: expected string to have >=1 characters".to_owned())
            }
            Some(Value::String(_)) => None,
            v => Some(invalid_type("string", v)),
        },
        Rule::Email => match value {
            Some(Value::String(s)) if is_email(s) => None,
            Some(Value::String(_)) => Some("Invalid email address".to_owned()),
            v => Some(invalid_type("string", v)),
        },
        Rule::Bool => match value {
            Some(Value::Bool(_)) => None,
            v => Some(invalid_type("boolean", v)),
        },
        Rule::Number => match value {
            Some(Value::Number(_)) => None,
            v => Some(invalid_type("number", v)),
        },
        Rule::Record => match value {
            Some(Value::Object(_)) => None,
            v => Some(invalid_type("record", v)),
        },
        Rule::Enum(options) => match value {
            Some(Value::String(s)) if options.contains(&s.as_str()) => None,
            _ => {
                let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
                Some(if quoted.len() == 1 {
                    format!("Invalid input: expected {}", quoted.join(""))
                } else {
                    format!("Invalid option: expected one of {}", quoted.join("|"))
                })
            }
        },
    }
}

/// Validates `input` (`None` = no body / no query) against `schema`; on failure returns the full
/// VALIDATION_ERROR message (use with [`crate::error::ErrorBody::validation`]).
pub fn validate(
    input: Option<&Value>,
    schema: &Schema<'_>,
    location: Location,
) -> Result<(), String> {
    let loc = location.as_str();
    let mut issues: Vec<String> = Vec::new();
    let fields = match schema {
        Schema::OptionalObject(_) if input.is_none() => return Ok(()),
        Schema::Record => {
            return match input {
                Some(Value::Object(_)) => Ok(()),
                v => Err(format!("[{loc}] {}", invalid_type("record", v))),
            };
        }
        Schema::Object(fields)
        | Schema::OptionalObject(fields)
        | Schema::ObjectAndRecord(fields) => fields,
    };
    match input {
        Some(Value::Object(map)) => {
            for field in fields.iter() {
                let value = map.get(field.name);
                if let Some(message) = check_field(field, value) {
                    issues.push(format!("[{loc}.{}] {message}", field.name));
                    if field.rule == Rule::NonEmptyString
                        && let Some(too_small) = min_length_on_non_string(value)
                    {
                        issues.push(format!("[{loc}.{}] {too_small}", field.name));
                    }
                }
            }
        }
        v => {
            issues.push(format!("[{loc}] {}", invalid_type("object", v)));
            if matches!(schema, Schema::ObjectAndRecord(_)) {
                // Both sides of the intersection report.
                issues.push(format!("[{loc}] {}", invalid_type("record", v)));
            }
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues.join("; "))
    }
}

/// Validates a JSON body (`None` = no body) against a field list:
/// * only named fields → `z.object(fields)`;
/// * only `Field::root(Rule::Record)` → `z.record(z.string(), z.any())`;
/// * named fields plus a root record → `z.object(fields).and(z.record(…))` (sign-up).
pub fn validate_body(body: Option<&Value>, fields: &[Field]) -> Result<(), String> {
    let named: Vec<Field> = fields.iter().copied().filter(|f| !f.is_root()).collect();
    let root_record = fields.iter().any(|f| f.is_root() && f.rule == Rule::Record);
    let schema = match (root_record, named.is_empty()) {
        (true, true) => Schema::Record,
        (true, false) => Schema::ObjectAndRecord(&named),
        (false, _) => Schema::Object(&named),
    };
    validate(body, &schema, Location::Body)
}

/// The schemas of the routes in scope, transcribed from the 1.7.25 dist files named on each.
pub mod schemas {
    use super::{Field, Rule, Schema};

    const fn req(name: &'static str, rule: Rule) -> Field {
        Field::required(name, rule)
    }
    const fn opt(name: &'static str, rule: Rule) -> Field {
        Field::optional(name, rule)
    }

    /// `better-auth: dist/api/routes/sign-in.mjs` (`rememberMe` defaults to true).
    pub const SIGN_IN_EMAIL: Schema<'static> = Schema::Object(&[
        req("email", Rule::String),
        req("password", Rule::String),
        opt("callbackURL", Rule::String),
        opt("rememberMe", Rule::Bool),
    ]);
    /// `better-auth: dist/api/routes/sign-up.mjs` (object **and** record: extra keys kept).
    pub const SIGN_UP_EMAIL: Schema<'static> = Schema::ObjectAndRecord(&[
        req("name", Rule::String),
        req("email", Rule::Email),
        req("password", Rule::NonEmptyString),
        opt("image", Rule::String),
        opt("callbackURL", Rule::String),
        opt("rememberMe", Rule::Bool),
    ]);
    /// Query of GET `/get-session`: both keys are `z.coerce.boolean()` (never fail).
    /// `better-auth: dist/cookies/session-store.mjs` `getSessionQuerySchema`.
    pub const GET_SESSION_QUERY: Schema<'static> = Schema::OptionalObject(&[
        opt("disableCookieCache", Rule::Any),
        opt("disableRefresh", Rule::Any),
    ]);
    /// `better-auth: dist/api/routes/sign-out.mjs`.
    pub const SIGN_OUT: Schema<'static> = Schema::OptionalObject(&[
        opt("callbackURL", Rule::String),
        opt("disableRedirect", Rule::Bool),
        opt("state", Rule::String),
    ]);
    /// `better-auth: dist/api/routes/session.mjs`.
    pub const REVOKE_SESSION: Schema<'static> = Schema::Object(&[req("token", Rule::String)]);
    /// `better-auth: dist/api/routes/update-user.mjs` (record; fields are not type-checked).
    pub const UPDATE_USER: Schema<'static> = Schema::Record;
    /// `better-auth: dist/api/routes/update-session.mjs`.
    pub const UPDATE_SESSION: Schema<'static> = Schema::Record;
    /// `better-auth: dist/api/routes/update-user.mjs`.
    pub const CHANGE_PASSWORD: Schema<'static> = Schema::Object(&[
        req("newPassword", Rule::String),
        req("currentPassword", Rule::String),
        opt("revokeOtherSessions", Rule::Bool),
    ]);
    /// `better-auth: dist/api/routes/update-user.mjs`.
    pub const CHANGE_EMAIL: Schema<'static> = Schema::Object(&[
        req("newEmail", Rule::Email),
        opt("callbackURL", Rule::String),
    ]);
    /// `better-auth: dist/api/routes/update-user.mjs`.
    pub const DELETE_USER: Schema<'static> = Schema::Object(&[
        opt("callbackURL", Rule::String),
        opt("password", Rule::String),
        opt("token", Rule::String),
    ]);
    /// Query of GET `/delete-user/callback`. `better-auth: dist/api/routes/update-user.mjs`.
    pub const DELETE_USER_CALLBACK_QUERY: Schema<'static> =
        Schema::Object(&[req("token", Rule::String), opt("callbackURL", Rule::String)]);
    /// `better-auth: dist/api/routes/password.mjs`.
    pub const REQUEST_PASSWORD_RESET: Schema<'static> =
        Schema::Object(&[req("email", Rule::Email), opt("redirectTo", Rule::String)]);
    /// Query of GET `/reset-password/:token`. `better-auth: dist/api/routes/password.mjs`.
    pub const RESET_PASSWORD_CALLBACK_QUERY: Schema<'static> =
        Schema::Object(&[req("callbackURL", Rule::String)]);
    /// `better-auth: dist/api/routes/password.mjs`.
    pub const RESET_PASSWORD: Schema<'static> =
        Schema::Object(&[req("newPassword", Rule::String), opt("token", Rule::String)]);
    /// Query of POST `/reset-password`. `better-auth: dist/api/routes/password.mjs`.
    pub const RESET_PASSWORD_QUERY: Schema<'static> =
        Schema::OptionalObject(&[opt("token", Rule::String)]);
    /// `better-auth: dist/api/routes/password.mjs`.
    pub const VERIFY_PASSWORD: Schema<'static> = Schema::Object(&[req("password", Rule::String)]);
    /// `better-auth: dist/api/routes/email-verification.mjs`.
    pub const SEND_VERIFICATION_EMAIL: Schema<'static> =
        Schema::Object(&[req("email", Rule::Email), opt("callbackURL", Rule::String)]);
    /// Query of GET `/verify-email`. `better-auth: dist/api/routes/email-verification.mjs`.
    pub const VERIFY_EMAIL_QUERY: Schema<'static> =
        Schema::Object(&[req("token", Rule::String), opt("callbackURL", Rule::String)]);

    /// `/two-factor/enable` (`method` defaults to `"totp"`). `better-auth: dist/plugins/two-factor/index.mjs`.
    pub const TWO_FACTOR_ENABLE: Schema<'static> = Schema::Object(&[
        req("password", Rule::String),
        opt("method", Rule::Enum(&["otp", "totp"])),
        opt("issuer", Rule::String),
    ]);
    /// `/two-factor/enable` with `allowPasswordless`.
    pub const TWO_FACTOR_ENABLE_PASSWORDLESS: Schema<'static> = Schema::Object(&[
        opt("password", Rule::String),
        opt("method", Rule::Enum(&["otp", "totp"])),
        opt("issuer", Rule::String),
    ]);
    /// `/two-factor/disable`, `/two-factor/get-totp-uri`, `/two-factor/generate-backup-codes`.
    /// `better-auth: dist/plugins/two-factor/{index,totp/index,backup-codes/index}.mjs`.
    pub const TWO_FACTOR_PASSWORD: Schema<'static> =
        Schema::Object(&[req("password", Rule::String)]);
    /// The same with `allowPasswordless`.
    pub const TWO_FACTOR_PASSWORD_OPTIONAL: Schema<'static> =
        Schema::Object(&[opt("password", Rule::String)]);
    /// `/two-factor/verify-totp`. `better-auth: dist/plugins/two-factor/totp/index.mjs`.
    pub const TWO_FACTOR_VERIFY_TOTP: Schema<'static> =
        Schema::Object(&[req("code", Rule::String), opt("trustDevice", Rule::Bool)]);
    /// `/two-factor/send-otp`. `better-auth: dist/plugins/two-factor/otp/index.mjs`.
    pub const TWO_FACTOR_SEND_OTP: Schema<'static> =
        Schema::OptionalObject(&[opt("trustDevice", Rule::Bool)]);
    /// `/two-factor/verify-otp`. `better-auth: dist/plugins/two-factor/otp/index.mjs`.
    pub const TWO_FACTOR_VERIFY_OTP: Schema<'static> =
        Schema::Object(&[req("code", Rule::String), opt("trustDevice", Rule::Bool)]);
    /// `/two-factor/verify-backup-code`. `better-auth: dist/plugins/two-factor/backup-codes/index.mjs`.
    pub const TWO_FACTOR_VERIFY_BACKUP_CODE: Schema<'static> = Schema::Object(&[
        req("code", Rule::String),
        opt("disableSession", Rule::Bool),
        opt("trustDevice", Rule::Bool),
    ]);

    /// `/sign-in/username`. `better-auth: dist/plugins/username/index.mjs`.
    pub const SIGN_IN_USERNAME: Schema<'static> = Schema::Object(&[
        req("username", Rule::String),
        req("password", Rule::String),
        opt("rememberMe", Rule::Bool),
        opt("callbackURL", Rule::String),
    ]);
    /// `/is-username-available`. `better-auth: dist/plugins/username/index.mjs`.
    pub const IS_USERNAME_AVAILABLE: Schema<'static> =
        Schema::Object(&[req("username", Rule::String)]);

    /// Every schema above, by name: what the property tests and fuzz targets run each input
    /// against. Add a new schema here too.
    pub const ALL: &[(&str, Schema<'static>)] = &[
        ("SIGN_IN_EMAIL", SIGN_IN_EMAIL),
        ("SIGN_UP_EMAIL", SIGN_UP_EMAIL),
        ("GET_SESSION_QUERY", GET_SESSION_QUERY),
        ("SIGN_OUT", SIGN_OUT),
        ("REVOKE_SESSION", REVOKE_SESSION),
        ("UPDATE_USER", UPDATE_USER),
        ("UPDATE_SESSION", UPDATE_SESSION),
        ("CHANGE_PASSWORD", CHANGE_PASSWORD),
        ("CHANGE_EMAIL", CHANGE_EMAIL),
        ("DELETE_USER", DELETE_USER),
        ("DELETE_USER_CALLBACK_QUERY", DELETE_USER_CALLBACK_QUERY),
        ("REQUEST_PASSWORD_RESET", REQUEST_PASSWORD_RESET),
        (
            "RESET_PASSWORD_CALLBACK_QUERY",
            RESET_PASSWORD_CALLBACK_QUERY,
        ),
        ("RESET_PASSWORD", RESET_PASSWORD),
        ("RESET_PASSWORD_QUERY", RESET_PASSWORD_QUERY),
        ("VERIFY_PASSWORD", VERIFY_PASSWORD),
        ("SEND_VERIFICATION_EMAIL", SEND_VERIFICATION_EMAIL),
        ("VERIFY_EMAIL_QUERY", VERIFY_EMAIL_QUERY),
        ("TWO_FACTOR_ENABLE", TWO_FACTOR_ENABLE),
        (
            "TWO_FACTOR_ENABLE_PASSWORDLESS",
            TWO_FACTOR_ENABLE_PASSWORDLESS,
        ),
        ("TWO_FACTOR_PASSWORD", TWO_FACTOR_PASSWORD),
        ("TWO_FACTOR_PASSWORD_OPTIONAL", TWO_FACTOR_PASSWORD_OPTIONAL),
        ("TWO_FACTOR_VERIFY_TOTP", TWO_FACTOR_VERIFY_TOTP),
        ("TWO_FACTOR_SEND_OTP", TWO_FACTOR_SEND_OTP),
        ("TWO_FACTOR_VERIFY_OTP", TWO_FACTOR_VERIFY_OTP),
        (
            "TWO_FACTOR_VERIFY_BACKUP_CODE",
            TWO_FACTOR_VERIFY_BACKUP_CODE,
        ),
        ("SIGN_IN_USERNAME", SIGN_IN_USERNAME),
        ("IS_USERNAME_AVAILABLE", IS_USERNAME_AVAILABLE),
    ];
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::schemas::*;
    use super::*;
    use serde_json::json;

    fn body(schema: Schema<'_>, v: Option<Value>) -> Result<(), String> {
        validate(v.as_ref(), &schema, Location::Body)
    }

    fn err(schema: Schema<'_>, v: Option<Value>) -> String {
        body(schema, v).unwrap_err()
    }

    #[test]
    fn all_lists_every_schema() {
        let declaration = [": Schema<'static>", " ="].concat();
        let declared = include_str!("validate.rs").matches(&declaration).count();
        assert_eq!(ALL.len(), declared);
        let mut names: Vec<&str> = ALL.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), declared);
    }

    // Every expected string below was printed by zod 4.6.7 + better-call's `fromError`.

    #[test]
    fn non_object_bodies() {
        let cases = [
            (None, "undefined"),
            (Some(json!(null)), "null"),
            (Some(json!([])), "array"),
            (Some(json!("str")), "string"),
            (Some(json!(1)), "number"),
            (Some(json!(1.5)), "number"),
            (Some(json!(true)), "boolean"),
        ];
        for (v, t) in cases {
            assert_eq!(
                err(SIGN_IN_EMAIL, v.clone()),
                format!("[body] Invalid input: expected object, received {t}")
            );
            assert_eq!(
                err(SIGN_UP_EMAIL, v.clone()),
                format!(
                    "[body] Invalid input: expected object, received {t}; [body] Invalid input: expected record, received {t}"
                )
            );
            assert_eq!(
                err(UPDATE_USER, v.clone()),
                format!("[body] Invalid input: expected record, received {t}")
            );
            if v.is_none() {
                assert_eq!(body(SIGN_OUT, v), Ok(()));
            } else {
                assert_eq!(
                    err(SIGN_OUT, v),
                    format!("[body] Invalid input: expected object, received {t}")
                );
            }
        }
        assert_eq!(body(UPDATE_USER, Some(json!({}))), Ok(()));
        assert_eq!(body(SIGN_OUT, Some(json!({}))), Ok(()));
    }

    #[test]
    fn missing_fields_in_schema_order() {
        assert_eq!(
            err(SIGN_IN_EMAIL, Some(json!({}))),
            "[body.email] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined"
        );
        assert_eq!(
            err(SIGN_UP_EMAIL, Some(json!({}))),
            "[body.name] Invalid input: expected string, received undefined; [body.email] Invalid input: expected string, received undefined; [body.password] Invalid input: expected string, received undefined"
        );
        assert_eq!(
            validate_body(
                Some(&json!({})),
                &[Field::required("password", Rule::String)]
            )
            .unwrap_err(),
            "[body.password] Invalid input: expected string, received undefined"
        );
        let ab = [
            Field::required("a", Rule::String),
            Field::required("b", Rule::String),
        ];
        assert_eq!(
            validate_body(Some(&json!({"b": 1, "a": 1})), &ab).unwrap_err(),
            "[body.a] Invalid input: expected string, received number; [body.b] Invalid input: expected string, received number"
        );
    }

    #[test]
    fn wrong_types_and_null_optionals() {
        assert_eq!(
            err(
                SIGN_IN_EMAIL,
                Some(
                    json!({"email": 1, "password": null, "callbackURL": null, "rememberMe": "yes", "extra": 5})
                )
            ),
            "[body.email] Invalid input: expected string, received number; [body.password] Invalid input: expected string, received null; [body.callbackURL] Invalid input: expected string, received null; [body.rememberMe] Invalid input: expected boolean, received string"
        );
        assert_eq!(
            err(
                SIGN_IN_EMAIL,
                Some(json!({"email": [], "password": {}, "callbackURL": 2, "rememberMe": null}))
            ),
            "[body.email] Invalid input: expected string, received array; [body.password] Invalid input: expected string, received object; [body.callbackURL] Invalid input: expected string, received number; [body.rememberMe] Invalid input: expected boolean, received null"
        );
        assert_eq!(
            body(
                SIGN_IN_EMAIL,
                Some(json!({"email": "a", "password": "b", "extra": 5}))
            ),
            Ok(())
        );
    }

    #[test]
    fn sign_up_rules() {
        assert_eq!(
            err(
                SIGN_UP_EMAIL,
                Some(
                    json!({"name": 1, "email": "nope", "password": "", "image": null, "rememberMe": 0})
                )
            ),
            "[body.name] Invalid input: expected string, received number; [body.email] Invalid email address; [body.password] Too small: expected string to have >=1 characters; [body.image] Invalid input: expected string, received null; [body.rememberMe] Invalid input: expected boolean, received number"
        );
        assert_eq!(
            err(
                SIGN_UP_EMAIL,
                Some(json!({"name": "n", "email": 5, "password": "p"}))
            ),
            "[body.email] Invalid input: expected string, received number"
        );
        assert_eq!(
            err(
                SIGN_UP_EMAIL,
                Some(json!({"name": "n", "email": "", "password": "p"}))
            ),
            "[body.email] Invalid email address"
        );
        assert_eq!(
            body(
                SIGN_UP_EMAIL,
                Some(json!({"name": "n", "email": "a@b.co", "password": "p", "x": 1}))
            ),
            Ok(())
        );
    }

    #[test]
    fn enums() {
        for method in [json!("x"), json!(null), json!(1)] {
            assert_eq!(
                err(
                    TWO_FACTOR_ENABLE,
                    Some(json!({"password": "p", "method": method}))
                ),
                r#"[body.method] Invalid option: expected one of "otp"|"totp""#
            );
        }
        assert_eq!(
            body(TWO_FACTOR_ENABLE, Some(json!({"password": "p"}))),
            Ok(())
        );
        let required = [Field::required("m", Rule::Enum(&["otp", "totp"]))];
        assert_eq!(
            validate_body(Some(&json!({})), &required).unwrap_err(),
            r#"[body.m] Invalid option: expected one of "otp"|"totp""#
        );
        let single = [Field::required("m", Rule::Enum(&["otp"]))];
        assert_eq!(
            validate_body(Some(&json!({"m": "x"})), &single).unwrap_err(),
            r#"[body.m] Invalid input: expected "otp""#
        );
    }

    #[test]
    fn numbers_and_optional_objects() {
        let fields = [
            Field::required("n", Rule::Number),
            Field::optional("o", Rule::Number),
        ];
        assert_eq!(
            validate_body(Some(&json!({"n": "1", "o": null})), &fields).unwrap_err(),
            "[body.n] Invalid input: expected number, received string; [body.o] Invalid input: expected number, received null"
        );
        assert_eq!(
            validate_body(Some(&json!({"n": true, "o": []})), &fields).unwrap_err(),
            "[body.n] Invalid input: expected number, received boolean; [body.o] Invalid input: expected number, received array"
        );
        assert_eq!(
            err(TWO_FACTOR_SEND_OTP, Some(json!(null))),
            "[body] Invalid input: expected object, received null"
        );
        assert_eq!(
            err(
                Schema::Object(&[Field::required("s", Rule::NonEmptyString)]),
                Some(json!({"s": 5}))
            ),
            "[body.s] Invalid input: expected string, received number"
        );
    }

    #[test]
    fn nonempty_length_quirk() {
        // zod 4.6.7 output for z.object({ p: z.string().nonempty() }).
        let f = [Field::required("p", Rule::NonEmptyString)];
        let cases = [
            (
                json!([]),
                "[body.p] Invalid input: expected string, received array; [body.p] Too small: expected array to have >=1 items",
            ),
            (
                json!([1]),
                "[body.p] Invalid input: expected string, received array",
            ),
            (
                json!({"length": 0}),
                "[body.p] Invalid input: expected string, received object; [body.p] Too small: expected unknown to be >=1",
            ),
            (
                json!({"length": "0"}),
                "[body.p] Invalid input: expected string, received object; [body.p] Too small: expected unknown to be >=1",
            ),
            (
                json!({"length": 2}),
                "[body.p] Invalid input: expected string, received object",
            ),
            (
                json!({"length": -1}),
                "[body.p] Invalid input: expected string, received object; [body.p] Too small: expected unknown to be >=1",
            ),
            (
                json!({"length": null}),
                "[body.p] Invalid input: expected string, received object; [body.p] Too small: expected unknown to be >=1",
            ),
            (
                json!({"length": 0.5}),
                "[body.p] Invalid input: expected string, received object; [body.p] Too small: expected unknown to be >=1",
            ),
            (
                json!(0),
                "[body.p] Invalid input: expected string, received number",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(
                validate_body(Some(&json!({ "p": v })), &f).unwrap_err(),
                want,
                "{v}"
            );
        }
        assert_eq!(js_string_to_number(" 0x1F "), 31.0);
        assert_eq!(js_string_to_number("-Infinity"), f64::NEG_INFINITY);
        assert!(js_string_to_number("inf").is_nan());
        assert_eq!(js_string_to_number(""), 0.0);
        assert_eq!(js_string_to_number(".5e1"), 5.0);
    }

    #[test]
    fn field_list_forms() {
        let record = [Field::root(Rule::Record)];
        assert_eq!(validate_body(Some(&json!({"x": 1})), &record), Ok(()));
        assert_eq!(
            validate_body(Some(&json!([])), &record).unwrap_err(),
            "[body] Invalid input: expected record, received array"
        );
        assert_eq!(
            validate_body(None, &record).unwrap_err(),
            "[body] Invalid input: expected record, received undefined"
        );
        let sign_up = [
            Field::required("name", Rule::String),
            Field::required("email", Rule::Email),
            Field::required("password", Rule::NonEmptyString),
            Field::optional("image", Rule::String),
            Field::optional("callbackURL", Rule::String),
            Field::optional("rememberMe", Rule::Bool),
            Field::root(Rule::Record),
        ];
        for v in [
            None,
            Some(json!(null)),
            Some(json!([])),
            Some(json!({})),
            Some(json!({"name": 1, "email": "x", "password": []})),
        ] {
            assert_eq!(
                validate_body(v.as_ref(), &sign_up),
                validate(v.as_ref(), &SIGN_UP_EMAIL, Location::Body)
            );
        }
        assert_eq!(
            validate_body(None, &[Field::required("a", Rule::String)]).unwrap_err(),
            "[body] Invalid input: expected object, received undefined"
        );
        assert_eq!(
            validate_body(
                Some(&json!({"r": 1})),
                &[Field::optional("r", Rule::Record)]
            )
            .unwrap_err(),
            "[body.r] Invalid input: expected record, received number"
        );
    }

    #[test]
    fn query_location() {
        assert_eq!(
            validate(
                Some(&json!({"token": ["a", "b"]})),
                &RESET_PASSWORD_QUERY,
                Location::Query
            )
            .unwrap_err(),
            "[query.token] Invalid input: expected string, received array"
        );
        assert_eq!(
            validate(None, &RESET_PASSWORD_QUERY, Location::Query),
            Ok(())
        );
        assert_eq!(
            validate(
                Some(&json!({"disableCookieCache": "false", "disableRefresh": ["", ""]})),
                &GET_SESSION_QUERY,
                Location::Query
            ),
            Ok(())
        );
    }

    #[test]
    fn email_pattern_matches_zod() {
        // (input, z.email().safeParse(input).success) from zod 4.6.7.
        let cases = [
            ("a@b.co", true),
            ("a@b", false),
            ("A@B.COM", true),
            ("a.b@c.d", false),
            ("a+b@example.com", true),
            ("ü@example.com", false),
            ("a@ü.com", false),
            ("a..b@x.com", false),
            (".a@x.com", false),
            ("a@x..com", false),
            ("a@-x.com", false),
            ("a@x-.com", true),
            ("a@x.c", false),
            ("a@x.123", false),
            (" a@b.co", false),
            ("a@b.co ", false),
            ("\"a\"@b.co", false),
            ("a@[1.2.3.4]", false),
            ("a_b@x.io", true),
            ("a'b@x.io", true),
            ("a@x_y.com", false),
            ("a@sub.x.com", true),
            ("a.@x.com", false),
            ("a@x.com.", false),
            ("test@localhost", false),
            ("a@1.2.3.4", false),
        ];
        for (input, ok) in cases {
            assert_eq!(is_email(input), ok, "{input:?}");
        }
    }
}
