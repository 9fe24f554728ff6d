//! The spec's `PLAIN_TEXT` pattern refuses exactly the characters the server refuses
//! (`extract::is_bad_control`), and `plain_text` puts it on every request string of the spec.

use api::extract::is_bad_control;
use api::openapi::{document_json, plain_json, spec, PLAIN_TEXT};
use regex::Regex;
use serde_json::Value;

#[test]
fn the_pattern_refuses_what_the_server_refuses() {
    let plain = Regex::new(PLAIN_TEXT).unwrap();
    for c in (0u32..0x3000).chain([0xFEFF, 0x1_F600, 0x10_FFFF]).filter_map(char::from_u32) {
        let text = format!("a{c}b");
        assert_eq!(plain.is_match(&text), !is_bad_control(c), "U+{:04X}", c as u32);
    }
}

/// Every string schema reached from a parameter or a JSON request body, with the components it names.
fn request_strings(doc: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, at: String, doc: &Value, seen: &mut Vec<String>, out: &mut Vec<(String, Value)>) {
        let Some(obj) = v.as_object() else { return };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/components/schemas/").to_string();
            if !seen.contains(&name) {
                seen.push(name.clone());
                walk(&doc["components"]["schemas"][&name], name, doc, seen, out);
            }
        }
        let is_string = match obj.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            _ => false,
        };
        if is_string {
            out.push((at.clone(), v.clone()));
        }
        for (k, child) in obj {
            match k.as_str() {
                "properties" => {
                    for (name, p) in child.as_object().into_iter().flatten() {
                        walk(p, format!("{at}.{name}"), doc, seen, out);
                    }
                }
                "items" | "additionalProperties" | "propertyNames" | "unevaluatedProperties" | "unevaluatedItems" => {
                    walk(child, format!("{at}/{k}"), doc, seen, out)
                }
                "oneOf" | "anyOf" | "allOf" => {
                    for (i, c) in child.as_array().into_iter().flatten().enumerate() {
                        walk(c, format!("{at}/{k}/{i}"), doc, seen, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if matches!(p["in"].as_str(), Some("path" | "query")) {
                    walk(&p["schema"], format!("{method} {path} {}", p["name"]), doc, &mut seen, &mut out);
                }
            }
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            walk(body, format!("{method} {path} body"), doc, &mut seen, &mut out);
        }
    }
    out
}

#[test]
fn every_request_string_says_it() {
    let doc = document_json(&spec());
    let strings = request_strings(&doc);
    assert!(strings.len() > 100, "the walk finds the request strings: {}", strings.len());
    for (at, schema) in strings {
        // Its own enum, pattern or format says more (an IIN, a code, a date); otherwise the plain-text pattern.
        let own = ["enum", "const", "pattern", "format"].iter().any(|k| schema.get(*k).is_some());
        assert!(own, "{at}: {schema}");
    }
    let submit = &doc["components"]["schemas"]["SubmitApplication"]["properties"];
    assert_eq!(submit["service_key"]["pattern"], PLAIN_TEXT);
    assert_eq!(submit["form"]["propertyNames"]["pattern"], PLAIN_TEXT);
    assert_eq!(submit["form"]["additionalProperties"]["$ref"], "#/components/schemas/PlainJson");
    let any = &doc["components"]["schemas"]["PlainJson"];
    assert_eq!(any["pattern"], PLAIN_TEXT);
    assert_eq!(any["propertyNames"]["pattern"], PLAIN_TEXT);
    // Applying it again changes nothing: the served document (which applies it) is the committed one.
    assert_eq!(plain_json(&doc), doc);
}
