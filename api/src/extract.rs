//! Request extractors that turn every malformed input into a problem naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, http::header, web, FromRequest, HttpRequest};
use domain::text::Lang;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// A JSON body, parsed with the path of any bad field and checked with `validator`.
///
/// Syntax errors give 400, a wrong content type 415, a body over `MAX_BODY_BYTES` 413, and wrong or
/// missing fields 422 with the field's path (`form.children[0].iin`) and the rule.
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|m| m == "application/json" || m.ends_with("+json"));
        let limit = req.app_data::<web::Data<AppState>>().map_or(1024 * 1024, |s| s.max_body_bytes);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType("send the body as `Content-Type: application/json`".into()));
            }
            if declared_len.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(format!("the body may be at most {limit} bytes")));
            }
            let bytes = body.await.map_err(|e| {
                if crate::guard::is_body_timeout(&e) {
                    return ApiError::RequestTimeout("the body did not arrive in time".into());
                }
                match e.as_response_error().status_code().as_u16() {
                    413 => ApiError::PayloadTooLarge(format!("the body may be at most {limit} bytes")),
                    _ => ApiError::BadRequest { code: "unreadable_body", detail: e.to_string(), errors: vec![] },
                }
            })?;
            if bytes.len() > limit {
                return Err(ApiError::PayloadTooLarge(format!("the body may be at most {limit} bytes")));
            }
            // Every request body of this API is a JSON object (the spec says `type: object`); serde would
            // also read a struct from an array (`[null, null]` as its fields in order).
            if bytes.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) != Some(&b'{')
                && serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok()
            {
                return Err(ApiError::field(".", "type", "the body must be a JSON object"));
            }
            let value: T = parse_json(&bytes)?;
            value.validate().map_err(|e| ApiError::validation(flatten(&e, "")))?;
            Ok(ValidJson(value))
        })
    }
}

/// Parses JSON, reporting syntax errors and data after the JSON value as 400, data errors as 422 with
/// the field's path, and control characters in any string or key (NUL first of all: PostgreSQL cannot
/// store it) as 422 naming the field.
///
/// A number with a zero fraction (`34.0`) is an integer to JSON Schema, so the spec's `type: integer`
/// admits it, while serde's integer types refuse it: when that is the only trouble, the body is read
/// again with such numbers as integers (`34.0` as `34`; `34.5` stays refused).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    use serde::Deserialize;
    // First the shape of the text alone: one JSON value and nothing after it (a syntax error is left
    // to the typed pass below, which reports it with its position).
    let mut syntax = serde_json::Deserializer::from_slice(bytes);
    if serde::de::IgnoredAny::deserialize(&mut syntax).is_ok() && syntax.end().is_err() {
        return Err(ApiError::BadRequest {
            code: "trailing_data",
            detail: "the body continues after the JSON value; send exactly one JSON value".into(),
            errors: vec![],
        });
    }
    // Raw control characters are a syntax error in JSON strings, so only escapes (`\u0000`) and the
    // raw DEL can carry one: walk the document only when one of those appears.
    if bytes.windows(2).any(|w| w == b"\\u") || bytes.contains(&0x7f) {
        if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let mut errors = Vec::new();
            control_characters(&doc, "", &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::validation(errors));
            }
        }
    }
    parse_typed(bytes)
}

/// A control character that makes no sense in a submitted text: C0 except tab, line feed and carriage
/// return, and DEL.
pub fn is_bad_control(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// The problem for a text holding a control character, naming the field.
pub fn control_error(field: impl Into<String>, text: &str) -> FieldError {
    let message = if text.contains('\0') {
        "must not contain NUL (U+0000)".to_string()
    } else {
        "must not contain control characters (U+0000-U+001F other than tab and line breaks, U+007F)".to_string()
    };
    FieldError::new(field, "control_character", message)
}

fn control_characters(v: &serde_json::Value, path: &str, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.chars().any(is_bad_control) => {
            out.push(control_error(if path.is_empty() { "." } else { path }, s))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                control_characters(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                if k.chars().any(is_bad_control) {
                    out.push(control_error(p.clone(), k));
                }
                control_characters(item, &p, out);
            }
        }
        _ => {}
    }
}

/// The typed reading of a body already known to be one JSON value without control characters.
fn parse_typed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let first = serde_path_to_error::deserialize(de);
    let err = match first {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    if err.inner().to_string().starts_with("invalid type: floating point") {
        if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if integral_floats_as_integers(&mut value) {
                return serde_path_to_error::deserialize(value).map_err(json_data_error);
            }
        }
    }
    Err(json_data_error(err))
}

/// Rewrites every float with a zero fraction that fits an integer type as that integer; true when
/// anything changed.
fn integral_floats_as_integers(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let as_int = if f.fract() != 0.0 || !f.is_finite() {
                None
            } else if f >= 0.0 && f < u64::MAX as f64 {
                Some(Value::from(f as u64))
            } else if f < 0.0 && f >= i64::MIN as f64 {
                Some(Value::from(f as i64))
            } else {
                None
            };
            match as_int {
                Some(i) => {
                    *v = i;
                    true
                }
                None => false,
            }
        }
        // Every element is visited (no short circuit): all of them are rewritten.
        Value::Array(items) => items.iter_mut().map(integral_floats_as_integers).filter(|c| *c).count() > 0,
        Value::Object(map) => map.values_mut().map(integral_floats_as_integers).filter(|c| *c).count() > 0,
        _ => false,
    }
}

fn json_data_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::BadRequest {
            code: "malformed_json",
            detail: format!("the body is not valid JSON: {inner}"),
            errors: vec![],
        };
    }
    let msg = inner.to_string();
    // serde reports a missing field at its parent; name the field itself.
    let (field, rule) = match msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        Some(name) if path == "." => (name.to_string(), "required"),
        Some(name) => (format!("{path}.{name}"), "required"),
        None if msg.starts_with("unknown field") => (path.clone(), "unknown_field"),
        None if msg.starts_with("unknown variant") => (path.clone(), "enum"),
        None => (path.clone(), "type"),
    };
    let message = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    ApiError::validation(vec![FieldError::new(field, rule, message)])
}

/// Flattens validator's nested errors into field paths.
pub fn flatten(errors: &ValidationErrors, prefix: &str) -> Vec<FieldError> {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(errs) => {
                for e in errs {
                    let message = e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| match e.code.as_ref() {
                        "length" => "has the wrong length".into(),
                        "range" => "is out of range".into(),
                        "regex" => "has the wrong format".into(),
                        other => format!("breaks rule `{other}`"),
                    });
                    out.push(FieldError::new(path.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => out.extend(flatten(inner, &path)),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    out.extend(flatten(inner, &format!("{path}[{i}]")));
                }
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// The language to answer in: `?lang=`, else `Accept-Language`, else Kazakh (the state language).
pub fn request_lang(req: &HttpRequest, explicit: Option<&str>) -> Result<Lang, ApiError> {
    if let Some(code) = explicit {
        return Lang::parse(code)
            .filter(|l| l.code() == code)
            .ok_or_else(|| ApiError::field("lang", "enum", "must be one of kk, ru, en"));
    }
    Ok(req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::Kk))
}

/// A query string, parsed with the path of any bad parameter (400 naming it, instead of actix's
/// plain-text error).
pub struct ValidQuery<T>(pub T);

impl<T> std::ops::Deref for ValidQuery<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
        std::future::ready(serde_path_to_error::deserialize(de).map(ValidQuery).map_err(|e| {
            let path = e.path().to_string();
            let msg = e.into_inner().to_string();
            let field = match msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
                Some(name) => name.to_string(),
                None => path,
            };
            ApiError::BadRequest {
                code: "invalid_query",
                detail: format!("query parameter `{field}`: {msg}"),
                errors: vec![FieldError::new(format!("query.{field}"), "type", msg)],
            }
        }))
    }
}

#[cfg(test)]
mod integral_tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct T {
        n: u32,
        m: Option<i64>,
        x: f64,
        v: serde_json::Value,
    }

    #[test]
    fn integral_floats_are_integers_as_json_schema_says() {
        let t: T = parse_json(br#"{"n": 34.0, "m": -2.0, "x": 1.5, "v": {"a": 3.0}}"#).unwrap();
        assert_eq!(t, T { n: 34, m: Some(-2), x: 1.5, v: serde_json::json!({"a": 3}) });
        let t: T = parse_json(br#"{"n": 34, "m": null, "x": 2, "v": 2.5}"#).unwrap();
        assert_eq!(t, T { n: 34, m: None, x: 2.0, v: serde_json::json!(2.5) });
        for bad in [
            &br#"{"n": 34.5, "x": 1, "v": 0}"#[..],
            br#"{"n": -1.0, "x": 1, "v": 0}"#,
            br#"{"n": 1e20, "x": 1, "v": 0}"#,
        ] {
            match parse_json::<T>(bad) {
                Err(ApiError::Validation { errors, .. }) => {
                    assert_eq!((errors[0].field.as_str(), errors[0].rule.as_str()), ("n", "type"))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(parse_json::<T>(b"{\"n\": 3,"), Err(ApiError::BadRequest { .. })));
    }
}
