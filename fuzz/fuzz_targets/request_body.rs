//! Request bodies: the body parser (`Content-Type` dispatch, JSON with or without a BOM,
//! form-encoded) and the validation of the result against every route schema, as body and as
//! query. Input: `<Content-Type>\n<body bytes>`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis_protocol::{
    body::{BodyError, media_type, parse_body},
    validate::{Field, Location, Rule, Schema, schemas, validate, validate_body},
};
use serde_json::Value;

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// `validate_body`'s spelling of `z.record(z.string(), z.any())`.
const RECORD: &[Field] = &[Field::root(Rule::Record)];

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    // The server reads the header with `HeaderValue::to_str`: visible ASCII or nothing.
    let content_type = std::str::from_utf8(content_type)
        .ok()
        .filter(|ct| ct.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
        .unwrap_or("");

    for form_allowed in [false, true] {
        let parsed = parse_body(content_type, form_allowed, body);
        check_parse(content_type, form_allowed, body, &parsed);
        // Media types are case-insensitive.
        assert_eq!(
            parse_body(&content_type.to_ascii_uppercase(), form_allowed, body),
            parsed
        );
        if let Ok(value) = &parsed {
            check_validation(value.as_ref());
        }
    }
});

fn check_parse(
    content_type: &str,
    form_allowed: bool,
    body: &[u8],
    parsed: &Result<Option<Value>, BodyError>,
) {
    let media = media_type(content_type);
    if body.is_empty() || media.as_deref().is_none_or(str::is_empty) {
        assert_eq!(parsed, &Ok(None));
        return;
    }
    match media.as_deref() {
        Some("application/json") => {
            let json = body.strip_prefix(BOM).unwrap_or(body);
            let direct = serde_json::from_slice::<Value>(json);
            assert_eq!(parsed.is_ok(), direct.is_ok());
            match parsed {
                Ok(Some(value)) => {
                    // Exactly what JSON.parse sees, and it serializes back to itself.
                    assert_eq!(Some(value), direct.ok().as_ref());
                    let text = serde_json::to_vec(value).unwrap_or_default();
                    assert_eq!(
                        serde_json::from_slice::<Value>(&text).ok().as_ref(),
                        Some(value)
                    );
                }
                Ok(None) => panic!("JSON body read as no body"),
                Err(e) => assert_eq!(*e, BodyError::InvalidJson),
            }
            // One leading BOM is dropped, and only one.
            if !body.starts_with(BOM) {
                let with_bom = [BOM, body].concat();
                assert_eq!(&parse_body(content_type, form_allowed, &with_bom), parsed);
            }
        }
        Some("application/x-www-form-urlencoded") if form_allowed => match parsed {
            Ok(Some(Value::Object(map))) => {
                assert!(map.values().all(Value::is_string));
            }
            other => panic!("form body read as {other:?}"),
        },
        _ => assert_eq!(parsed, &Err(BodyError::UnsupportedMediaType)),
    }
}

/// Every route schema, as body and as query: a verdict with zod-shaped issues, and "valid"
/// only when the required fields are there.
fn check_validation(value: Option<&Value>) {
    for (name, schema) in schemas::ALL {
        for location in [Location::Body, Location::Query] {
            let prefix = match location {
                Location::Body => "[body",
                Location::Query => "[query",
            };
            match validate(value, schema, location) {
                Err(message) => {
                    for issue in message.split("; ") {
                        assert!(issue.starts_with(prefix), "{name}: {issue:?}");
                    }
                }
                Ok(()) => check_valid(name, schema, value),
            }
        }
        // The field-list entry point agrees with the schema it stands for.
        let with_root: Vec<Field>;
        let fields: &[Field] = match schema {
            Schema::Object(fields) => fields,
            Schema::OptionalObject(fields) if value.is_some() => fields,
            Schema::OptionalObject(_) => continue,
            Schema::Record => RECORD,
            Schema::ObjectAndRecord(fields) => {
                with_root = fields
                    .iter()
                    .copied()
                    .chain(RECORD.iter().copied())
                    .collect();
                &with_root
            }
        };
        assert_eq!(
            validate_body(value, fields),
            validate(value, schema, Location::Body),
            "{name}"
        );
    }
}

fn check_valid(name: &str, schema: &Schema<'_>, value: Option<&Value>) {
    let fields = match schema {
        Schema::OptionalObject(_) if value.is_none() => return,
        Schema::Record => &[][..],
        Schema::Object(fields)
        | Schema::OptionalObject(fields)
        | Schema::ObjectAndRecord(fields) => fields,
    };
    let Some(Value::Object(map)) = value else {
        panic!("{name} accepted a non-object {value:?}");
    };
    for field in fields.iter().filter(|f| !f.optional) {
        assert!(
            map.contains_key(field.name),
            "{name} accepted without {}",
            field.name
        );
    }
    for field in fields {
        let Some(v) = map.get(field.name) else {
            continue;
        };
        let ok = match field.rule {
            Rule::String | Rule::NonEmptyString | Rule::Email | Rule::Enum(_) => v.is_string(),
            Rule::Bool => v.is_boolean(),
            Rule::Number => v.is_number(),
            Rule::Record => v.is_object(),
            Rule::Any => true,
        };
        assert!(ok, "{name} accepted {}: {v}", field.name);
    }
}
