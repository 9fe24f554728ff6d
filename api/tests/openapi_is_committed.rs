//! `openapi.yaml` is the committed copy of the spec the code produces; this fails when it is stale, and
//! when a YAML 1.1 reader (PyYAML, SnakeYAML inside swagger-parser and openapi-generator) would read it
//! as other data than the JSON the server serves.

use regex::Regex;
use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");

const STALE: &str = "openapi.yaml is stale: it differs from what the routes produce.\n\
     Regenerate it with:\n    cargo run -p api -- openapi > openapi.yaml\n\
     (or UPDATE_OPENAPI=1 cargo test -p api --test openapi_is_committed) and commit the result.";

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let generated = api::openapi::to_yaml(&api::openapi::spec()).expect("spec serialises");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(PATH, &generated).expect("openapi.yaml is writable");
        return;
    }
    let committed = std::fs::read_to_string(PATH).unwrap_or_default();
    let as_data = |s: &str| serde_yaml::from_str::<Value>(s).ok();
    assert!(as_data(&committed).is_some() && as_data(&committed) == as_data(&generated), "{STALE}");
}

/// The committed file read with the resolvers of YAML 1.1 is the served JSON, value for value.
#[test]
fn a_yaml_1_1_reader_reads_the_served_json() {
    let json = api::openapi::document_json(&api::openapi::spec());
    let committed = std::fs::read_to_string(PATH).expect("openapi.yaml exists");
    let read = yaml11_load(&committed);
    let mut diffs = Vec::new();
    diff("", &read, &json, &mut diffs);
    assert!(
        diffs.is_empty(),
        "a YAML 1.1 reader reads openapi.yaml differently from the JSON in {} places, e.g.:\n{}\n\n{STALE}",
        diffs.len(),
        diffs.iter().take(15).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// The loader itself resolves as YAML 1.1 does, or the test above proves nothing.
#[test]
fn the_yaml_1_1_loader_resolves_like_pyyaml() {
    let doc = "a: 18:30\nb: 2022-10-15\nc: yes\nd: off\ne: ~\nf: 012\ng: 0x1F\nh: 1.5\ni: 1e5\nj: '18:30'\nk: 42\n\
               l: -7\nm: <<\nnn: .inf\no: plain text\np: |-\n  x\n  y\nq: \"2022-10-15\"\nr: 1_000\n";
    let v = yaml11_load(doc);
    assert_eq!(v["a"], "!!int 18:30");
    assert_eq!(v["b"], "!!timestamp 2022-10-15");
    assert_eq!(v["c"], true);
    assert_eq!(v["d"], false);
    assert_eq!(v["e"], Value::Null);
    assert_eq!(v["f"], "!!int 012");
    assert_eq!(v["g"], "!!int 0x1F");
    assert_eq!(v["h"], 1.5);
    // Not a float in YAML 1.1 (its floats need a dot), a string.
    assert_eq!(v["i"], "1e5");
    assert_eq!(v["j"], "18:30");
    assert_eq!(v["k"], 42);
    assert_eq!(v["l"], -7);
    assert_eq!(v["m"], "!!merge <<");
    assert_eq!(v["nn"], "!!float .inf");
    // Keys are resolved too: `n` is false.
    assert_eq!(yaml11_load("n: 1\n")["false"], 1);
    assert_eq!(v["o"], "plain text");
    assert_eq!(v["p"], "x\ny");
    assert_eq!(v["q"], "2022-10-15");
    assert_eq!(v["r"], "!!int 1_000");
}

/// The implicit resolvers of YAML 1.1 (<https://yaml.org/type/>), as PyYAML and SnakeYAML apply them
/// to plain scalars.
struct Yaml11 {
    bool_true: Regex,
    bool_false: Regex,
    null: Regex,
    int: Regex,
    float: Regex,
    timestamp: Regex,
}

impl Yaml11 {
    fn new() -> Self {
        let r = |s: &str| Regex::new(&format!("^(?:{s})$")).unwrap();
        Yaml11 {
            bool_true: r("y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON"),
            bool_false: r("n|N|no|No|NO|false|False|FALSE|off|Off|OFF"),
            null: r("~|null|Null|NULL|"),
            int: r(
                r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+",
            ),
            float: r(
                r"[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
            ),
            timestamp: r(
                r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*Z|[-+][0-9]{1,2}(?::[0-9]{2})?)?",
            ),
        }
    }

    /// A plain scalar's value: JSON's own types where they exist; other YAML 1.1 types (sexagesimal,
    /// octal, hex or underscored ints, timestamps, merge keys) as a `!!type` marker no JSON string equals.
    fn resolve(&self, s: &str) -> Value {
        if self.bool_true.is_match(s) {
            Value::Bool(true)
        } else if self.bool_false.is_match(s) {
            Value::Bool(false)
        } else if self.null.is_match(s) {
            Value::Null
        } else if self.int.is_match(s) {
            match s.parse::<i64>() {
                Ok(i) if !s.starts_with(['0', '+']) || s == "0" => Value::from(i),
                _ => Value::String(format!("!!int {s}")),
            }
        } else if self.float.is_match(s) {
            match s.parse::<f64>() {
                Ok(f) if !s.contains('_') && f.is_finite() => Value::from(f),
                _ => Value::String(format!("!!float {s}")),
            }
        } else if self.timestamp.is_match(s) {
            Value::String(format!("!!timestamp {s}"))
        } else if s == "<<" {
            Value::String("!!merge <<".into())
        } else if s == "=" {
            Value::String("!!value =".into())
        } else {
            Value::String(s.to_string())
        }
    }
}

enum Frame {
    Seq(Vec<Value>),
    Map(Map<String, Value>, Option<String>),
}

struct Loader {
    resolver: Yaml11,
    stack: Vec<Frame>,
    root: Option<Value>,
}

impl Loader {
    fn push_value(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => self.root = Some(v),
            Some(Frame::Seq(items)) => items.push(v),
            Some(Frame::Map(map, key)) => match key.take() {
                None => {
                    let k = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    *key = Some(k);
                }
                Some(k) => {
                    map.insert(k, v);
                }
            },
        }
    }
}

impl EventReceiver for Loader {
    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Scalar(s, style, _, tag) => {
                assert!(tag.is_none(), "openapi.yaml has a tag ({tag:?}): JSON has none");
                let v = if style == TScalarStyle::Plain { self.resolver.resolve(&s) } else { Value::String(s) };
                self.push_value(v);
            }
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new())),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Map::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                let v = match self.stack.pop() {
                    Some(Frame::Seq(items)) => Value::Array(items),
                    Some(Frame::Map(map, _)) => Value::Object(map),
                    None => panic!("unbalanced YAML events"),
                };
                self.push_value(v);
            }
            Event::Alias(_) => panic!("openapi.yaml has an alias: readers disagree on their limits"),
            _ => {}
        }
    }
}

fn yaml11_load(text: &str) -> Value {
    let mut loader = Loader { resolver: Yaml11::new(), stack: Vec::new(), root: None };
    Parser::new_from_str(text).load(&mut loader, false).expect("openapi.yaml parses");
    loader.root.unwrap_or(Value::Null)
}

fn diff(path: &str, read: &Value, json: &Value, out: &mut Vec<String>) {
    match (read, json) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get(k) {
                    Some(r) => diff(&format!("{path}/{k}"), r, v, out),
                    None => out.push(format!("{path}/{k}: missing")),
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{path}/{k}: not in the JSON"));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (r, v)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}/{i}"), r, v, out);
            }
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: YAML 1.1 reads {a}, the JSON is {b}")),
    }
}
