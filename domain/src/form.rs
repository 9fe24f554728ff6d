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

/// A minimal valid instance of a form schema: required properties only, the first allowed value of
/// enums, valid IINs for `format: iin`. Front ends and integrators get a working example for every
/// service, the spec's examples come from real passports, and tests prove every form can be filled.
pub fn example(schema: &Value) -> Value {
    example_of(schema, "")
}

fn example_of(schema: &Value, name: &str) -> Value {
    use serde_json::json;
    let Some(obj) = schema.as_object() else { return Value::Null };
    if let Some(c) = obj.get("const") {
        return c.clone();
    }
    if let Some(first) = obj.get("enum").and_then(|e| e.as_array()).and_then(|a| a.first()) {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(first) = obj.get(key).and_then(|e| e.as_array()).and_then(|a| a.first()) {
            return example_of(first, name);
        }
    }
    if let Some(ex) = obj.get("examples").and_then(|e| e.as_array()).and_then(|a| a.first()) {
        return ex.clone();
    }
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str()).find(|t| *t != "null").unwrap_or("null"),
        _ if obj.contains_key("properties") => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let props = obj.get("properties").and_then(|p| p.as_object());
            let mut out = serde_json::Map::new();
            for req in obj.get("required").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|r| r.as_str()) {
                let sub = props.and_then(|p| p.get(req)).cloned().unwrap_or(json!({}));
                out.insert(req.to_string(), example_of(&sub, req));
            }
            // Conditional requirements (`if married then spouse`): fill what the example triggers.
            let conditionals = std::iter::once(obj)
                .chain(obj.get("allOf").and_then(|a| a.as_array()).into_iter().flatten().filter_map(|x| x.as_object()));
            for cond in conditionals {
                let (Some(cond_if), Some(then)) = (cond.get("if"), cond.get("then")) else { continue };
                let triggered = compile(cond_if).map(|v| v.is_valid(&Value::Object(out.clone()))).unwrap_or(false);
                if !triggered {
                    continue;
                }
                let then_props = then.get("properties").and_then(|p| p.as_object());
                for req in
                    then.get("required").and_then(|r| r.as_array()).into_iter().flatten().filter_map(|r| r.as_str())
                {
                    if !out.contains_key(req) {
                        let sub = props
                            .and_then(|p| p.get(req))
                            .or_else(|| then_props.and_then(|p| p.get(req)))
                            .cloned()
                            .unwrap_or(json!({}));
                        out.insert(req.to_string(), example_of(&sub, req));
                    }
                }
            }
            Value::Object(out)
        }
        "array" => {
            let n = obj.get("minItems").and_then(|m| m.as_u64()).unwrap_or(1).max(1);
            let item = obj.get("items").cloned().unwrap_or(json!({}));
            Value::Array((0..n).map(|_| example_of(&item, name)).collect())
        }
        "boolean" => json!(true),
        "integer" | "number" => {
            let min = obj
                .get("minimum")
                .and_then(|m| m.as_f64())
                .unwrap_or(1.0)
                .max(obj.get("exclusiveMinimum").and_then(|m| m.as_f64()).map_or(f64::MIN, |m| m + 1.0));
            if ty == "integer" {
                json!(min.ceil() as i64)
            } else {
                json!(min)
            }
        }
        "null" => Value::Null,
        _ => {
            let format = obj.get("format").and_then(|f| f.as_str()).unwrap_or("");
            let pattern = obj.get("pattern").and_then(|f| f.as_str()).unwrap_or("");
            let text = match format {
                "iin" => "150321650010".to_string(),
                "bin" => "120340000123".to_string(),
                "date" => "2015-03-21".to_string(),
                "date-time" => "2026-11-23T10:00:00+05:00".to_string(),
                "email" => "applicant@example.kz".to_string(),
                "time" => "10:00:00+05:00".to_string(),
                _ if pattern == "^[0-9]{12}$" => "150321650010".to_string(),
                _ if !pattern.is_empty() => sample_for_pattern(pattern),
                _ => format!("{} example", if name.is_empty() { "text" } else { name }),
            };
            let min = obj.get("minLength").and_then(|m| m.as_u64()).unwrap_or(0) as usize;
            if text.chars().count() < min {
                Value::String(format!("{text}{}", "x".repeat(min - text.chars().count())))
            } else {
                Value::String(text)
            }
        }
    }
}

/// A string for simple digit patterns (`^[0-9]{N}$`, `^\d{N}$`); other patterns get a plain word
/// and the catalog test will show the form needs an `examples` entry.
fn sample_for_pattern(pattern: &str) -> String {
    let digits = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .strip_prefix("[0-9]{")
        .or_else(|| pattern.trim_start_matches('^').trim_end_matches('$').strip_prefix("\\d{"))
        .and_then(|r| r.strip_suffix('}'))
        .and_then(|n| n.split(',').next())
        .and_then(|n| n.parse::<usize>().ok());
    match digits {
        Some(n) => "1".repeat(n),
        None => "example".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_catalog_form_has_a_valid_example() {
        // Proves each passport's form can be filled in at all (no contradictory schema).
        for service in crate::catalog::Catalog::builtin().services() {
            for p in &service.versions {
                let ex = example(&p.form);
                let errors = validate(&format!("{}/{}", p.key, p.version), &p.form, &ex).unwrap();
                assert!(errors.is_empty(), "{}/{}: example {ex} fails: {errors:?}", p.key, p.version);
            }
        }
    }

    #[test]
    fn example_iin_is_valid() {
        assert!(Iin::parse("150321650010").is_ok());
        assert!(Bin::parse("120340000123").is_ok());
    }

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
        let data =
            json!({"applicant": {}, "children": [{"iin": "900101300123", "birth_date": "21.03.2015"}], "extra": 1});
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
