//! Application forms (өтініш нысаны): each passport carries its form as JSON Schema (draft 2020-12);
//! front ends render it, and the server checks every submission against it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::identity::{Bin, Iin};

/// One problem with submitted form data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// Where, as a path below the form: `children[0].iin` (empty for the form itself).
    pub path: String,
    /// The JSON Schema keyword that failed (`required`, `type`, `format`, `pattern`, `enum`, ...).
    pub rule: String,
    pub message: String,
}

/// Compiles a form schema, with the formats this domain defines: `iin` and `bin` check the check digit
/// (a typo in a child's IIN is caught at filing, not weeks later by a registry).
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_format("iin", |s: &str| Iin::parse(s).is_ok())
        .with_format("bin", |s: &str| Bin::parse(s).is_ok())
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Turns a JSON pointer (`/children/0/iin`) into the path style of API errors (`children[0].iin`).
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

fn validator_for(key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    // The key includes the schema text, so a republished form never reuses a stale validator.
    let cache_key = format!("{key}\u{0}{schema}");
    if let Some(v) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&cache_key) {
        return Ok(v.clone());
    }
    let v = Arc::new(compile(schema)?);
    cache.lock().unwrap_or_else(|p| p.into_inner()).insert(cache_key, v.clone());
    Ok(v)
}

/// Checks form data against a passport's form schema; empty when valid. `key` names the schema for
/// caching (e.g. `service/version`).
pub fn validate(key: &str, schema: &Value, data: &Value) -> Result<Vec<FormError>, String> {
    let validator = validator_for(key, schema)?;
    let mut errors: Vec<FormError> = validator
        .iter_errors(data)
        .map(|e| {
            let mut path = pointer_to_path(&e.instance_path().to_string());
            let rule = e.kind().keyword().to_string();
            if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind() {
                let name = property.as_str().map(String::from).unwrap_or_else(|| property.to_string());
                path = if path.is_empty() { name } else { format!("{path}.{name}") };
            }
            FormError { path, rule, message: e.to_string() }
        })
        .collect();
    errors.sort_by(|a, b| a.path.cmp(&b.path).then(a.rule.cmp(&b.rule)));
    errors.dedup();
    Ok(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "required": ["applicant", "children"],
            "additionalProperties": false,
            "properties": {
                "applicant": {"type": "object", "required": ["full_name"], "properties": {"full_name": {"type": "string", "minLength": 1}}},
                "children": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["iin"],
                    "properties": {"iin": {"type": "string", "pattern": "^[0-9]{12}$", "format": "iin"}, "birth_date": {"type": "string", "format": "date"}}
                }}
            }
        })
    }

    #[test]
    fn valid_data_passes() {
        let data = json!({"applicant": {"full_name": "Әлия"}, "children": [{"iin": "900101300126", "birth_date": "2015-03-21"}]});
        assert_eq!(validate("t", &schema(), &data).unwrap(), vec![]);
    }

    #[test]
    fn errors_name_the_field_and_rule() {
        let data = json!({"applicant": {}, "children": [{"iin": "900101300123", "birth_date": "21.03.2015"}], "extra": 1});
        let errors = validate("t", &schema(), &data).unwrap();
        let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.rule.as_str())).collect();
        assert!(got.contains(&("applicant.full_name", "required")), "{got:?}");
        assert!(got.contains(&("children[0].iin", "format")), "{got:?}");
        assert!(got.contains(&("children[0].birth_date", "format")), "{got:?}");
        assert!(got.contains(&("", "additionalProperties")), "{got:?}");
    }

    #[test]
    fn pointers_become_paths() {
        assert_eq!(pointer_to_path(""), "");
        assert_eq!(pointer_to_path("/children/0/iin"), "children[0].iin");
        assert_eq!(pointer_to_path("/a~1b"), "a/b");
    }
}
