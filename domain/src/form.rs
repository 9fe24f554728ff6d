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

/// Keywords whose values are data, not subschemas: never rewritten by [`localize`].
const DATA_KEYWORDS: [&str; 6] = ["const", "enum", "examples", "default", "x-title", "x-enum-titles"];

/// The form schema with a standard `title` in one language on every node that carries `x-title`
/// (labels in kk/ru/en), so that any JSON Schema form renderer shows that language's labels. Only
/// annotations change: the schema accepts exactly what the original accepts.
pub fn localize(schema: &Value, lang: crate::text::Lang) -> Value {
    let ordered = serde_yaml::to_value(schema).unwrap_or_default();
    serde_json::to_value(localize_ordered(&ordered, lang)).unwrap_or_default()
}

/// [`localize`] over a value whose mappings keep their order.
fn localize_ordered(schema: &serde_yaml::Value, lang: crate::text::Lang) -> serde_yaml::Value {
    use serde_yaml::Value as Y;
    match schema {
        Y::Mapping(obj) => {
            let mut out = serde_yaml::Mapping::new();
            for (k, v) in obj {
                let name = k.as_str().unwrap_or_default();
                let v = if DATA_KEYWORDS.contains(&name) {
                    v.clone()
                } else if matches!(name, "properties" | "$defs" | "patternProperties" | "dependentSchemas") {
                    // A map of names to subschemas.
                    match v {
                        Y::Mapping(m) => {
                            Y::Mapping(m.iter().map(|(n, s)| (n.clone(), localize_ordered(s, lang))).collect())
                        }
                        other => other.clone(),
                    }
                } else {
                    localize_ordered(v, lang)
                };
                out.insert(k.clone(), v);
            }
            if let Some(title) = obj.get("x-title").and_then(|t| t.get(lang.code())).and_then(|t| t.as_str()) {
                out.insert(Y::from("title"), Y::from(title));
            }
            Y::Mapping(out)
        }
        Y::Sequence(items) => Y::Sequence(items.iter().map(|s| localize_ordered(s, lang)).collect()),
        other => other.clone(),
    }
}

/// Labels for the values of enum properties that answer one of the passport's questions (the form has
/// a property per question, the catalog checks it): `x-enum-titles` from the options' own texts, which
/// cite the law, when the form gives none and every value has an option with all three languages.
pub fn question_enum_titles(p: &crate::passport::Passport) -> Vec<(String, Value)> {
    use crate::text::Lang;
    let Some(props) = p.form.get("properties").and_then(|v| v.as_object()) else { return Vec::new() };
    let mut out = Vec::new();
    for q in p.questions.iter().filter(|q| !q.options.is_empty()) {
        let Some(prop) = props.get(&q.code) else { continue };
        let Some(values) = prop.get("enum").and_then(|e| e.as_array()) else { continue };
        if prop.get("x-enum-titles").is_some() {
            continue;
        }
        let titles: Option<serde_json::Map<String, Value>> = values
            .iter()
            .map(|v| {
                let code = v.as_str()?;
                let option = q.options.iter().find(|o| o.code == code)?;
                let label: Option<serde_json::Map<String, Value>> = Lang::ALL
                    .iter()
                    .map(|l| option.text.get(*l).map(|t| (l.code().to_string(), Value::String(t.to_string()))))
                    .collect();
                Some((code.to_string(), Value::Object(label?)))
            })
            .collect();
        if let Some(titles) = titles {
            out.push((q.code.clone(), Value::Object(titles)));
        }
    }
    out
}

/// A passport's form as the API serves it (JSON text): its keys in the catalog file's order (the order
/// of the paper form, which renderers follow), the labels of answers to its questions
/// ([`question_enum_titles`]), with `title` in `lang` when one is asked for ([`localize`]), and a
/// complete valid instance ([`example`]) as the standard `examples` annotation of the root unless the
/// form gives its own.
pub fn served(p: &crate::passport::Passport, lang: Option<crate::text::Lang>) -> String {
    let mut ordered = match &p.form_order.0 {
        // Only when it is the very form (a passport built in code may carry none, or a stale one).
        Some(o) if serde_json::to_value(o).ok().as_ref() == Some(&p.form) => o.clone(),
        _ => serde_yaml::to_value(&p.form).unwrap_or_default(),
    };
    for (name, titles) in question_enum_titles(p) {
        if let Some(serde_yaml::Value::Mapping(prop)) = ordered.get_mut("properties").and_then(|ps| ps.get_mut(&name)) {
            prop.insert(serde_yaml::Value::from("x-enum-titles"), serde_yaml::to_value(titles).unwrap_or_default());
        }
    }
    let mut form = match lang {
        Some(lang) => localize_ordered(&ordered, lang),
        None => ordered,
    };
    if let serde_yaml::Value::Mapping(root) = &mut form {
        if !root.contains_key("examples") {
            let example = serde_yaml::to_value(vec![example(&p.form)]).unwrap_or_default();
            root.insert(serde_yaml::Value::from("examples"), example);
        }
    }
    serde_json::to_string(&form).unwrap_or_default()
}

/// Problems with a form's labels, as (JSON pointer, message): every `x-title` must give a non-empty
/// label in exactly kk, ru and en, and `x-enum-titles` such a label for each value of the `enum` beside
/// it and no other. (A YAML flow mapping with an unquoted comma, `{kk: тегі, аты, ru: ...}`, silently
/// becomes extra keys: this catches it.)
pub fn label_errors(schema: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    labels_of(schema, "", &mut out);
    out
}

fn check_label(label: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let ok = label.as_object().is_some_and(|m| {
        m.len() == 3
            && crate::text::Lang::ALL
                .iter()
                .all(|l| m.get(l.code()).and_then(|t| t.as_str()).is_some_and(|t| !t.trim().is_empty()))
    });
    if !ok {
        out.push((at.to_string(), format!("a label needs exactly kk, ru and en, each a non-empty text; got {label}")));
    }
}

fn labels_of(schema: &Value, at: &str, out: &mut Vec<(String, String)>) {
    let Some(obj) = schema.as_object() else { return };
    if let Some(t) = obj.get("x-title") {
        check_label(t, &format!("{at}/x-title"), out);
    }
    if let Some(titles) = obj.get("x-enum-titles") {
        let values: Vec<String> = obj
            .get("enum")
            .and_then(|e| e.as_array())
            .map(|a| a.iter().map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).collect())
            .unwrap_or_default();
        match titles.as_object() {
            Some(m) => {
                for (v, label) in m {
                    check_label(label, &format!("{at}/x-enum-titles/{v}"), out);
                }
                let mut keys: Vec<&String> = m.keys().collect();
                let mut want: Vec<&String> = values.iter().collect();
                keys.sort();
                want.sort();
                if keys != want {
                    out.push((format!("{at}/x-enum-titles"), format!("labels for {keys:?}, the enum is {want:?}")));
                }
            }
            None => out.push((format!("{at}/x-enum-titles"), "must map each enum value to its label".into())),
        }
    }
    for (k, v) in obj {
        if DATA_KEYWORDS.contains(&k.as_str()) {
            continue;
        }
        match (k.as_str(), v) {
            ("properties" | "$defs" | "patternProperties" | "dependentSchemas", Value::Object(m)) => {
                for (name, sub) in m {
                    labels_of(sub, &format!("{at}/{k}/{name}"), out);
                }
            }
            (_, Value::Array(items)) => {
                for (i, sub) in items.iter().enumerate() {
                    labels_of(sub, &format!("{at}/{k}/{i}"), out);
                }
            }
            (_, sub @ Value::Object(_)) => labels_of(sub, &format!("{at}/{k}"), out),
            _ => {}
        }
    }
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
    fn localize_adds_titles_in_one_language_and_keeps_what_is_valid() {
        use crate::text::Lang;
        for service in crate::catalog::Catalog::builtin().services() {
            for p in &service.versions {
                let ex = example(&p.form);
                for lang in Lang::ALL {
                    let localized = localize(&p.form, lang);
                    let key = format!("{}/{}/{}", p.key, p.version, lang.code());
                    assert_eq!(validate(&key, &localized, &ex).unwrap(), vec![], "{key}");
                    // The same data is refused by both: only annotations were added.
                    let bad = json!({"unexpected": 1});
                    assert_eq!(
                        validate(&key, &localized, &bad).unwrap().len(),
                        validate(&format!("{}/{}", p.key, p.version), &p.form, &bad).unwrap().len(),
                        "{key}"
                    );
                }
            }
        }
        let schema = json!({
            "type": "object",
            "x-title": {"kk": "Өтініш", "ru": "Заявление", "en": "Application"},
            "properties": {
                "x-title": {"type": "string", "x-title": {"kk": "Атауы", "ru": "Название", "en": "Name"}},
                "kids": {"type": "array", "items": {"type": "object", "properties": {
                    "iin": {"type": "string", "x-title": {"kk": "ЖСН", "ru": "ИИН", "en": "IIN"}}}}},
                "kind": {"enum": ["a"], "default": {"x-title": {"en": "data, untouched"}}}
            },
            "allOf": [{"if": {"properties": {"kind": {"const": "a"}}},
                       "then": {"properties": {"more": {"x-title": {"kk": "Қосымша", "ru": "Ещё", "en": "More"}}}}}]
        });
        let ru = localize(&schema, Lang::Ru);
        assert_eq!(ru["title"], "Заявление");
        assert_eq!(ru["properties"]["x-title"]["title"], "Название");
        assert_eq!(ru["properties"]["kids"]["items"]["properties"]["iin"]["title"], "ИИН");
        assert_eq!(ru["allOf"][0]["then"]["properties"]["more"]["title"], "Ещё");
        assert_eq!(ru["properties"]["kind"]["default"], json!({"x-title": {"en": "data, untouched"}}));
        assert_eq!(ru["x-title"], schema["x-title"], "x-title stays for clients that switch language");
    }

    #[test]
    fn served_forms_keep_the_files_order_and_are_the_same_schema() {
        use crate::text::Lang;
        for service in crate::catalog::Catalog::builtin().services() {
            for p in &service.versions {
                assert!(p.form_order.0.is_some(), "{}/{}: the catalog keeps the order", p.key, p.version);
                let text = served(p, Some(Lang::Ru));
                let mut v: Value = serde_json::from_str(&text).unwrap();
                let ex = v.as_object_mut().unwrap().remove("examples").unwrap();
                assert_eq!(ex, json!([example(&p.form)]));
                let mut annotated = p.form.clone();
                for (name, titles) in question_enum_titles(p) {
                    annotated["properties"][&name]["x-enum-titles"] = titles;
                }
                assert_eq!(v, localize(&annotated, Lang::Ru), "{}/{}", p.key, p.version);
                assert!(label_errors(&v).is_empty(), "{}/{}: {:?}", p.key, p.version, label_errors(&v));
                let errors = validate(&format!("{}/{}/served", p.key, p.version), &v, &ex[0]).unwrap();
                assert!(errors.is_empty(), "{}/{}: {errors:?}", p.key, p.version);
            }
        }
        let meals = crate::catalog::Catalog::builtin().service("free_school_meals").unwrap().versions[0].clone();
        let text = served(&meals, None);
        let pos = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
        // The file writes the applicant's IIN, surname, first name, then the rest; JSON maps would sort them.
        assert!(pos("iin") < pos("last_name") && pos("last_name") < pos("first_name"), "{text}");
        assert!(pos("applicant") < pos("children"), "{text}");
        // The child's category is a question of the passport: its answers' texts label the enum.
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v["properties"]["child_category"]["x-enum-titles"]["targeted_social_assistance"]["ru"],
            "дети из семей, имеющих право на получение государственной адресной социальной помощи"
        );
    }

    #[test]
    fn broken_labels_are_named() {
        let schema = json!({"type": "object", "x-title": {"kk": "Өтініш", "ru": "Заявление", "en": "Application"},
        "properties": {
            "full_name": {"type": "string", "x-title": {"kk": "тегі", "аты": null, "ru": "ФИО", "en": "full name"}},
            "to": {"enum": ["bank", "fund"], "x-title": {"kk": "Қайда", "ru": "Куда", "en": "Where"},
                   "x-enum-titles": {"bank": {"kk": "Банк", "ru": "Банк", "en": "Bank"}}},
            "kids": {"type": "array", "items": {"properties": {"iin": {"x-title": {"kk": "ЖСН", "ru": "", "en": "IIN"}}}}}
        }});
        let got: Vec<String> = label_errors(&schema).into_iter().map(|(at, _)| at).collect();
        assert_eq!(
            got,
            [
                "/properties/full_name/x-title",
                "/properties/kids/items/properties/iin/x-title",
                "/properties/to/x-enum-titles"
            ]
        );
    }

    #[test]
    fn pointers_become_paths() {
        assert_eq!(pointer_to_path(""), "");
        assert_eq!(pointer_to_path("/children/0/iin"), "children[0].iin");
        assert_eq!(pointer_to_path("/a~1b"), "a/b");
    }
}
