//! Request bodies as better-call reads them before validation (`better-call: dist/router.mjs`,
//! allowedMediaTypes check, and `dist/utils.mjs` body parsing), from the raw `Content-Type`
//! header and bytes. The server maps [`BodyError`] to its 400/415 replies.

use serde_json::{Map, Value};

/// Why a body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// A media type the route does not accept (415).
    UnsupportedMediaType,
    /// `application/json` that `JSON.parse` refuses (400 "Invalid JSON in request body").
    InvalidJson,
}

/// The media type of a `Content-Type` value: before the first `;`, trimmed, ASCII-lowercased.
/// `None` for an empty header.
pub fn media_type(content_type: &str) -> Option<String> {
    Some(content_type).filter(|ct| !ct.is_empty()).map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// Parses a request body (`content_type` is the raw header, `""` when absent). `Ok(None)` means
/// no body: empty bytes, or no media type (Node's adapter, better-auth `toNodeHandler`, drops a
/// body sent without `Content-Type`). JSON may start with a UTF-8 BOM (`TextDecoder` drops it
/// before `JSON.parse`). `application/x-www-form-urlencoded` is accepted only with
/// `form_allowed` (`/sign-in/email` and `/sign-up/email` upstream): lossy UTF-8, then
/// `URLSearchParams` pairs into an object of strings where the first occurrence of a key wins.
pub fn parse_body(
    content_type: &str,
    form_allowed: bool,
    bytes: &[u8],
) -> Result<Option<Value>, BodyError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    match media_type(content_type).as_deref() {
        None | Some("") => Ok(None),
        Some("application/json") => {
            serde_json::from_slice(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
                .map(Some)
                .map_err(|_| BodyError::InvalidJson)
        }
        Some("application/x-www-form-urlencoded") if form_allowed => {
            let text = String::from_utf8_lossy(bytes);
            let mut map = Map::new();
            for (k, v) in form_urlencoded::parse(text.as_bytes()) {
                map.entry(k.into_owned())
                    .or_insert_with(|| Value::String(v.into_owned()));
            }
            Ok(Some(Value::Object(map)))
        }
        Some(_) => Err(BodyError::UnsupportedMediaType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const JSON: &str = "application/json";
    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn json_with_or_without_bom_and_parameters() {
        let expected = Ok(Some(json!({"a": 1})));
        assert_eq!(parse_body(JSON, false, br#"{"a":1}"#), expected);
        assert_eq!(parse_body(JSON, false, b"\xEF\xBB\xBF{\"a\":1}"), expected);
        assert_eq!(
            parse_body(" Application/JSON ; charset=utf-8", false, br#"{"a":1}"#),
            expected
        );
        assert_eq!(
            parse_body(JSON, false, b"\xEF\xBB\xBF\xEF\xBB\xBF{}"),
            Err(BodyError::InvalidJson)
        );
        assert_eq!(parse_body(JSON, false, b"{"), Err(BodyError::InvalidJson));
    }

    #[test]
    fn numbers_parse_as_json_parse_does() {
        // Correctly rounded, as JS's JSON.parse (serde_json's `float_roundtrip`); the default
        // parser read this as 7.774440000000001e61 (found by fuzz/fuzz_targets/request_body.rs,
        // seed fuzz/corpus/request_body/long-float-rounding).
        let long = b"77744400000000000000000000000000000000000001810769984612757956";
        assert_eq!(parse_body(JSON, false, long), Ok(Some(json!(7.77444e61))));
        let text = serde_json::to_string(&parse_body(JSON, false, long).unwrap()).unwrap();
        assert_eq!(text, "7.77444e+61", "as JSON.stringify writes it");
    }

    #[test]
    fn no_body_without_bytes_or_media_type() {
        assert_eq!(parse_body(JSON, false, b""), Ok(None));
        assert_eq!(parse_body("", false, b"{not json"), Ok(None));
        assert_eq!(parse_body(";charset=utf-8", false, b"x"), Ok(None));
    }

    #[test]
    fn form_only_where_allowed_first_key_wins() {
        assert_eq!(
            parse_body(FORM, true, b"email=a%40b.co&password=p+w&email=x"),
            Ok(Some(json!({"email": "a@b.co", "password": "p w"})))
        );
        // Invalid UTF-8 is replaced before decoding, as TextDecoder does.
        assert_eq!(
            parse_body(FORM, true, b"k=\xE2%82%AC"),
            Ok(Some(json!({"k": "\u{FFFD}\u{FFFD}\u{FFFD}"})))
        );
        assert_eq!(
            parse_body(FORM, false, b"a=1"),
            Err(BodyError::UnsupportedMediaType)
        );
        assert_eq!(
            parse_body("text/plain", true, b"{}"),
            Err(BodyError::UnsupportedMediaType)
        );
    }
}
