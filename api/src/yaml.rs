//! A YAML emitter for JSON data that every YAML parser reads back as the same data.
//!
//! `serde_yaml` writes for YAML 1.2 readers: it leaves `18:30`, `2022-10-15`, `yes` or `1e5` unquoted,
//! and a YAML 1.1 reader (PyYAML; SnakeYAML inside swagger-parser and openapi-generator) resolves those to
//! the integer 1110, a date, `true` and so on. This emitter quotes every string scalar that any of the
//! resolvers of YAML 1.1 (<https://yaml.org/type/>: bool, int incl. sexagesimal/octal/hex/binary, float,
//! null, timestamp, merge `<<`, value `=`) or of YAML 1.2's core and JSON schemas could read as something
//! else, and writes numbers in the form both read as numbers (`1.0e+20`, never `1e20`). It is
//! deliberately conservative: a string that merely starts like a number (`1.0.0`, `2022 decree`) is
//! quoted too, which costs nothing and leaves no resolver to argue about.
//!
//! Layout follows `serde_yaml` (2-space indent, sequences under a key not indented, multi-line strings
//! as `|`/`|-` literal blocks) so the committed file stays readable and its diffs small.

use serde::Serialize;
use serde_yaml::Value;

/// Why a value has no YAML text here.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Serialize(#[from] serde_yaml::Error),
    #[error("a YAML tag (`!{0}`) has no JSON equivalent")]
    Tagged(String),
}

/// The YAML text of `value`, in the order its `Serialize` gives (`serde_yaml`'s mappings keep it).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let value = serde_yaml::to_value(value)?;
    check_untagged(&value)?;
    let mut out = String::new();
    match &value {
        Value::Mapping(m) if !m.is_empty() => block(&mut out, &value, 0, false),
        Value::Sequence(a) if !a.is_empty() => block(&mut out, &value, 0, false),
        // A document that is a single string is never a literal block (`---`/`...` at column 0).
        Value::String(s) => {
            out.push_str(&double_quoted(s));
            out.push('\n');
        }
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    Ok(out)
}

fn check_untagged(v: &Value) -> Result<(), Error> {
    match v {
        Value::Tagged(t) => Err(Error::Tagged(t.tag.to_string())),
        Value::Sequence(items) => items.iter().try_for_each(check_untagged),
        Value::Mapping(m) => m.iter().try_for_each(|(k, v)| check_untagged(k).and_then(|()| check_untagged(v))),
        _ => Ok(()),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.push_str(&" ".repeat(indent));
}

/// A non-empty mapping or sequence, one entry per line at `indent`; with `first_inline`, the first
/// line's indentation is already written (after `- `).
fn block(out: &mut String, value: &Value, indent: usize, first_inline: bool) {
    match value {
        Value::Mapping(map) => {
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 || !first_inline {
                    pad(out, indent);
                }
                out.push_str(&key(k));
                out.push(':');
                match v {
                    Value::Mapping(m) if !m.is_empty() => {
                        out.push('\n');
                        block(out, v, indent + 2, false);
                    }
                    Value::Sequence(a) if !a.is_empty() => {
                        out.push('\n');
                        block(out, v, indent, false);
                    }
                    _ => scalar_after(out, v, indent + 2),
                }
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                if i > 0 || !first_inline {
                    pad(out, indent);
                }
                out.push('-');
                match v {
                    Value::Mapping(m) if !m.is_empty() => {
                        out.push(' ');
                        block(out, v, indent + 2, true);
                    }
                    Value::Sequence(a) if !a.is_empty() => {
                        out.push(' ');
                        block(out, v, indent + 2, true);
                    }
                    _ => scalar_after(out, v, indent + 2),
                }
            }
        }
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// A scalar (or an empty collection) after `key:` or `-`; a multi-line string becomes a literal block
/// whose lines are at `indent`.
fn scalar_after(out: &mut String, v: &Value, indent: usize) {
    if let Value::String(s) = v {
        if let Some((header, lines)) = literal(s) {
            out.push(' ');
            out.push_str(header);
            out.push('\n');
            for line in lines {
                if !line.is_empty() {
                    pad(out, indent);
                    out.push_str(line);
                }
                out.push('\n');
            }
            return;
        }
    }
    out.push(' ');
    out.push_str(&inline(v));
    out.push('\n');
}

/// One-line form of a scalar or an empty collection (collections are written as blocks otherwise;
/// tags were refused before).
fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => string(s),
        Value::Sequence(_) => "[]".to_string(),
        Value::Mapping(_) | Value::Tagged(_) => "{}".to_string(),
    }
}

/// Integers as JSON writes them; floats always with a dot and a signed exponent, the only float
/// syntax YAML 1.1 knows (`[-+]?([0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)?`); JSON has no NaN or
/// infinity, which are written as YAML's `.nan`/`.inf`.
fn number(n: &serde_yaml::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    let Some(json) = serde_json::Number::from_f64(f) else {
        return if f.is_nan() {
            ".nan"
        } else if f > 0.0 {
            ".inf"
        } else {
            "-.inf"
        }
        .to_string();
    };
    let text = json.to_string();
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text.as_str(), None),
    };
    let mut out = mantissa.to_string();
    if !out.contains('.') {
        out.push_str(".0");
    }
    if let Some(e) = exponent {
        out.push('e');
        if !e.starts_with(['-', '+']) {
            out.push('+');
        }
        out.push_str(e);
    }
    out
}

/// Mapping keys are strings in JSON data; any other scalar key is written as that scalar.
fn key(k: &Value) -> String {
    match k {
        Value::String(s) => string(s),
        other => inline(other),
    }
}

/// A single-line string scalar: plain when no resolver of YAML 1.1 or 1.2 could read it as anything
/// but this string, else single-quoted, else (control characters, line breaks) double-quoted.
fn string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else if s.chars().all(printable) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

/// Characters written as they are: printable in YAML 1.1 and 1.2 and not a line break in either
/// (YAML 1.1 also breaks lines at U+0085, U+2028 and U+2029).
fn printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Words a YAML 1.1 or 1.2 resolver reads as a boolean or null (compared case-insensitively, which
/// covers more spellings than the resolvers do).
const RESERVED_WORDS: [&str; 11] = ["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<"];

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let last = s.chars().last().unwrap_or(first);
    // Anything that starts like a number, a date, a time or `.inf`/`.nan` is quoted: no YAML 1.1 or 1.2
    // resolver matches a scalar that starts otherwise (besides the reserved words below).
    if first.is_ascii_digit() || matches!(first, '+' | '.') {
        return false;
    }
    // Indicators that start a non-plain node (or a comment, anchor, alias, tag, directive).
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first == ' ' || last == ' ' || last == ':' {
        return false;
    }
    if RESERVED_WORDS.iter().any(|w| s.eq_ignore_ascii_case(w)) || s == "=" {
        return false;
    }
    s.chars().all(printable) && !s.contains(": ") && !s.contains(" #")
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A multi-line string as a literal block (`|` keeps one final line break, `|-` none), when its lines
/// read back exactly: printable characters only, no tab, no trailing spaces, the first line not
/// indented (it sets the block's indentation), at most one final line break.
fn literal(s: &str) -> Option<(&'static str, Vec<&str>)> {
    if !s.contains('\n') || s.ends_with("\n\n") {
        return None;
    }
    let (header, body) = match s.strip_suffix('\n') {
        Some(body) => ("|", body),
        None => ("|-", s),
    };
    let lines: Vec<&str> = body.split('\n').collect();
    let ok_line = |l: &&str| l.chars().all(printable) && !l.ends_with(' ');
    let first_content = lines.iter().find(|l| !l.is_empty())?;
    if first_content.starts_with(' ') || !lines.iter().all(ok_line) || lines.last().is_some_and(|l| l.is_empty()) {
        return None;
    }
    Some((header, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(v: &serde_json::Value) -> String {
        to_string(v).unwrap()
    }

    /// Scalars that a YAML 1.1 reader resolves to something other than a string when written plain.
    const YAML11_NON_STRINGS: &[&str] = &[
        "18:30",
        "190:20:30",
        "-1:30",
        "2022-10-15",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "1",
        "-12",
        "+12",
        "012",
        "0o14",
        "0x1F",
        "0b1010",
        "1_000",
        "1.5",
        "1e5",
        "6.8523015e+5",
        ".5",
        "1.",
        ".inf",
        "-.Inf",
        ".NaN",
        "y",
        "Y",
        "n",
        "N",
        "yes",
        "No",
        "ON",
        "off",
        "True",
        "FALSE",
        "null",
        "Null",
        "~",
        "",
        "<<",
        "=",
        "1.0.0",
    ];

    #[test]
    fn every_yaml11_non_string_is_quoted() {
        for s in YAML11_NON_STRINGS {
            let written = string(s);
            assert!(written.starts_with('\'') || written.starts_with('"'), "{s:?} written as {written}");
        }
    }

    #[test]
    fn ordinary_words_stay_plain() {
        for s in ["portal", "free_school_meals", "Application for free meals", "ru-RU", "a:b", "v1.0", "Жалпы"] {
            assert_eq!(string(s), s);
        }
        // Indicators, comments and `: ` need quotes.
        assert_eq!(string("- item"), "'- item'");
        assert_eq!(string("a: b"), "'a: b'");
        assert_eq!(string("a #b"), "'a #b'");
        assert_eq!(string("#/components/schemas/Problem"), "'#/components/schemas/Problem'");
        assert_eq!(string("it's"), "it's");
        assert_eq!(string("'q'"), "'''q'''");
    }

    #[test]
    fn layout_follows_serde_yaml() {
        let doc = json!({"a": [1, {"b": "x\ny", "c": []}, [2, 3]], "d": {"e": "18:30", "f": {}}});
        assert_eq!(yaml(&doc), "a:\n- 1\n- b: |-\n    x\n    y\n  c: []\n- - 2\n  - 3\nd:\n  e: '18:30'\n  f: {}\n");
    }

    #[test]
    fn floats_carry_a_dot_and_a_signed_exponent() {
        let f = |x: f64| number(&serde_yaml::Number::from(x));
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(1e20), "1.0e+20");
        assert_eq!(f(1.25e-7), "1.25e-7");
        assert_eq!(f(3.0), "3.0");
        assert_eq!(number(&serde_yaml::Number::from(-7)), "-7");
        assert_eq!(yaml(&json!([1e20])), "- 1.0e+20\n");
    }

    #[test]
    fn control_characters_and_line_breaks_are_escaped() {
        assert_eq!(string("a\u{85}b"), "\"a\\u0085b\"");
        assert_eq!(string("tab\there"), "\"tab\\there\"");
        assert_eq!(string("\u{2028}"), "\"\\u2028\"");
        assert_eq!(string("bom\u{FEFF}"), "\"bom\\uFEFF\"");
    }

    #[test]
    fn reads_back_as_the_same_data() {
        let mut tricky: Vec<serde_json::Value> = YAML11_NON_STRINGS.iter().map(|s| json!(s)).collect();
        tricky.extend([
            json!("line one\nline two"),
            json!("ends with a break\n"),
            json!("two breaks\n\n"),
            json!("\nstarts with a break"),
            json!("  indented\nsecond"),
            json!("trailing space \nx"),
            json!("tab\tinside\nx"),
            json!("quote \" and backslash \\"),
            json!(1e20),
            json!(-0.5),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(null),
            json!(true),
            json!([]),
            json!({}),
            json!([[1, [2, "18:30"]], {"a": {"b": []}}]),
            json!({"200": "ok", "yes": "no", "multi\nline key": 1, "": "empty key"}),
        ]);
        let doc = json!({"values": tricky, "nested": {"list": [{"k": "2022-10-15", "m": "x\ny"}], "deep": {"e": {}}}});
        let text = yaml(&doc);
        let back: serde_json::Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, doc, "\n{text}");
        for top in [json!("18:30"), json!(3), json!(null), json!([]), json!("a\nb")] {
            assert_eq!(serde_yaml::from_str::<serde_json::Value>(&yaml(&top)).unwrap(), top);
        }
    }
}
