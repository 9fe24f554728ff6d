//! Issue 14, item 3: no input gives a 5xx. Every operation of the served spec is called with NUL and
//! with over-long values in each path parameter, query parameter, header parameter and JSON string
//! field (the spec's own request examples are the base), with every role's token and without one, on
//! SQLite and on PostgreSQL (which refuses NUL in text outright). Every answer must be below 500, and
//! every 4xx a problem document.

use api::auth::Role;
use e2e::{monday_morning, Backend, TestApp};
use serde_json::{json, Value};

const OWNER: &str = "900101300126";
const RECORD: &str = "00000000-0000-7000-8000-000000000001";

struct Case {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Body,
    what: String,
}

#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Multipart { requirement_code: String, file_name: String },
}

fn schema_example(spec: &Value, content: &Value) -> Option<Value> {
    if let Some(e) = content.get("example") {
        return Some(e.clone());
    }
    let r = content.pointer("/schema/$ref")?.as_str()?;
    let name = r.rsplit('/').next()?;
    spec.pointer(&format!("/components/schemas/{name}/example")).cloned()
}

/// Every string leaf of `v`, as JSON pointers.
fn string_leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::String(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                string_leaves(item, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        _ => {}
    }
}

fn path_value(template: &str, name: &str, application: &str) -> String {
    match name {
        "key" => "free_school_meals".into(),
        "version" => "1".into(),
        "year" => "2026".into(),
        "registry" => "persons".into(),
        "org_id" => "astana-education".into(),
        "sub" => "emp-1".into(),
        "id" if template.starts_with("/api/v1/applications/") => application.into(),
        "id" if template.starts_with("/api/v1/registries/") => RECORD.into(),
        _ => "0190a000-0000-7000-8000-000000000001".into(),
    }
}

fn query_value(param: &Value) -> String {
    let schema = &param["schema"];
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()).and_then(|v| v.as_str()) {
        return first.into();
    }
    match param["name"].as_str().unwrap_or_default() {
        "lang" => "kk".into(),
        "scope" => "all".into(),
        "format" => "jws".into(),
        "kind" => "provider".into(),
        "subject_iin" => OWNER.into(),
        "at" => "2026-11-23".into(),
        _ => match schema["type"].as_str() {
            Some("integer") => "1".into(),
            Some("boolean") => "true".into(),
            _ => "x".into(),
        },
    }
}

const NUL: &str = "a\u{0}b";

fn long(n: usize) -> String {
    "a".repeat(n)
}

fn cases(spec: &Value, application: &str) -> Vec<Case> {
    let mut out = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params: Vec<Value> = op["parameters"].as_array().cloned().unwrap_or_default();
            let path_params: Vec<&Value> = params.iter().filter(|p| p["in"] == "path").collect();
            let query_params: Vec<&Value> = params.iter().filter(|p| p["in"] == "query").collect();
            let header_params: Vec<&Value> = params.iter().filter(|p| p["in"] == "header").collect();
            let content = &op["requestBody"]["content"];
            let body = if let Some(c) = content.get("application/json") {
                Body::Json(schema_example(spec, c).unwrap_or(json!({})))
            } else if content.get("multipart/form-data").is_some() {
                Body::Multipart { requirement_code: "birth_certificate".into(), file_name: "scan.pdf".into() }
            } else {
                Body::None
            };
            let path_with = |name: &str, value: &str| {
                let mut p = template.clone();
                for pp in &path_params {
                    let n = pp["name"].as_str().unwrap();
                    let v = if n == name { value.to_string() } else { path_value(template, n, application) };
                    p = p.replace(&format!("{{{n}}}"), &percent(&v));
                }
                p
            };
            let base_query: Vec<(String, String)> = query_params
                .iter()
                .filter(|p| p["schema"]["type"] != "object")
                .map(|p| (p["name"].as_str().unwrap().to_string(), query_value(p)))
                .collect();
            let case = |path: String, query: Vec<(String, String)>, headers, body: Body, what: String| Case {
                method: method.to_uppercase(),
                path,
                query,
                headers,
                body,
                what: format!("{} {template}: {what}", method.to_uppercase()),
            };
            // The base request itself.
            out.push(case(path_with("", ""), base_query.clone(), vec![], body.clone(), "base".into()));
            for pp in &path_params {
                let n = pp["name"].as_str().unwrap();
                for (label, v) in [("NUL", NUL.to_string()), ("300 chars", long(300))] {
                    out.push(case(
                        path_with(n, &v),
                        base_query.clone(),
                        vec![],
                        body.clone(),
                        format!("path.{n} {label}"),
                    ));
                }
            }
            for qp in &query_params {
                let n = qp["name"].as_str().unwrap();
                for (label, v) in [("NUL", NUL.to_string()), ("300 chars", long(300))] {
                    let mut q: Vec<(String, String)> = base_query.iter().filter(|(k, _)| k != n).cloned().collect();
                    q.push((n.to_string(), v));
                    out.push(case(path_with("", ""), q, vec![], body.clone(), format!("query.{n} {label}")));
                }
            }
            for hp in &header_params {
                let n = hp["name"].as_str().unwrap();
                out.push(case(
                    path_with("", ""),
                    base_query.clone(),
                    vec![(n.to_string(), long(300))],
                    body.clone(),
                    format!("header.{n} 300 chars"),
                ));
            }
            match &body {
                Body::Json(example) => {
                    let mut leaves = Vec::new();
                    string_leaves(example, String::new(), &mut leaves);
                    for leaf in leaves {
                        for (label, v) in [("NUL", NUL.to_string()), ("10000 chars", long(10_000))] {
                            let mut b = example.clone();
                            *b.pointer_mut(&leaf).unwrap() = Value::String(v);
                            out.push(case(
                                path_with("", ""),
                                base_query.clone(),
                                vec![],
                                Body::Json(b),
                                format!("body{leaf} {label}"),
                            ));
                        }
                    }
                    // A key with NUL (forms keep free keys).
                    if let Value::Object(map) = example {
                        let mut b = map.clone();
                        b.insert(NUL.into(), json!("x"));
                        out.push(case(
                            path_with("", ""),
                            base_query.clone(),
                            vec![],
                            Body::Json(Value::Object(b)),
                            "body key NUL".into(),
                        ));
                    }
                }
                Body::Multipart { .. } => {
                    for (label, rc, file) in [
                        ("requirement_code NUL", NUL.to_string(), "scan.pdf".to_string()),
                        ("requirement_code 300 chars", long(300), "scan.pdf".to_string()),
                        ("file name NUL", "birth_certificate".to_string(), format!("{NUL}.pdf")),
                        ("file name 300 chars", "birth_certificate".to_string(), format!("{}.pdf", long(300))),
                    ] {
                        out.push(case(
                            path_with("", ""),
                            base_query.clone(),
                            vec![],
                            Body::Multipart { requirement_code: rc, file_name: file },
                            format!("multipart {label}"),
                        ));
                    }
                }
                Body::None => {}
            }
        }
    }
    out
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn send(app: &TestApp, c: &Case, token: Option<&str>) -> (u16, String, String) {
    let mut url = app.url(&c.path);
    if !c.query.is_empty() {
        let q: Vec<String> = c.query.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect();
        url = format!("{url}?{}", q.join("&"));
    }
    let mut r = app.client.request(reqwest::Method::from_bytes(c.method.as_bytes()).unwrap(), url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    for (k, v) in &c.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    r = match &c.body {
        Body::None => r,
        Body::Json(v) => r.header("content-type", "application/json").body(v.to_string()),
        Body::Multipart { requirement_code, file_name } => {
            let boundary = "hostile-boundary-7f3a";
            let mut body = Vec::new();
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"requirement_code\"\r\n\r\n{requirement_code}\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/pdf\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(b"%PDF-1.4\n%hostile\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n\r\n");
            body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            r.header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body)
        }
    };
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = res.text().await.unwrap_or_default();
    (status, ct, text)
}

async fn sweep(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, monday_morning(), |s| {
        // Thousands of requests in seconds from one address: the limits are tested elsewhere.
        s.guard.per_address_per_minute = 0;
        s.guard.per_principal_per_minute = 0;
    })
    .await
    else {
        return;
    };
    let (_, spec) = app.get("/api/v1/openapi.json", None).await;
    let owner = app.applicant(OWNER);
    // An application of the owner's, so that commands on it reach the database.
    let submit = spec.pointer("/components/schemas/SubmitApplication/example").cloned().expect("submit example");
    let (s, filed) = app.post("/api/v1/applications", Some(&owner), &submit, None).await;
    assert_eq!(s, 201, "the spec's example files: {filed}");
    let application = filed["id"].as_str().unwrap().to_string();
    let tokens: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        ("applicant", Some(owner.clone())),
        ("operator", Some(app.token(Role::Operator, "op-1", Some("gfc-astana-1")))),
        ("employee", Some(app.token(Role::Employee, "emp-1", Some("astana-education")))),
        ("head", Some(app.token(Role::Head, "head-1", Some("astana-education")))),
        ("reviewer", Some(app.token(Role::Reviewer, "rev-1", Some("quality-agency")))),
        ("admin", Some(app.token(Role::Admin, "admin-1", None))),
    ];
    let all = cases(&spec, &application);
    assert!(all.len() > 300, "the sweep covers every operation: {} cases", all.len());
    let mut failures = Vec::new();
    let mut sent = 0;
    for c in &all {
        for (role, token) in &tokens {
            let (status, ct, text) = send(&app, c, token.as_deref()).await;
            sent += 1;
            if status >= 500 {
                failures.push(format!("{status} {} as {role}: {}", c.what, text.chars().take(200).collect::<String>()));
            } else if status >= 400 && ct != "application/problem+json" {
                failures.push(format!("{status} without problem+json ({ct}) {} as {role}", c.what));
            } else if c.what.ends_with("NUL") && status < 400 {
                failures.push(format!("{status} accepted NUL: {} as {role}", c.what));
            }
        }
    }
    assert!(failures.is_empty(), "{backend:?}: {} of {sent} requests failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_no_input_gives_a_5xx() {
    sweep(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_no_input_gives_a_5xx() {
    sweep(Backend::Postgres).await;
}
