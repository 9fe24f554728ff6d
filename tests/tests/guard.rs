//! Issue 14, tokens and transport: every token case the attack suite tried is 401; trailing JSON is
//! 400; a body that never arrives is 408; rate limits answer 429 with `Retry-After`; CORS only for
//! configured origins; security headers; HEAD on GET routes; request ids echoed.

use api::auth::{Claims, Role};
use e2e::{e2e, monday_morning, Backend, TestApp, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const IIN: &str = "900101300116";

fn claims(app_now: i64, sub: &str, role: Role, org: Option<&str>) -> Claims {
    Claims {
        sub: sub.into(),
        role,
        org: org.map(Into::into),
        exp: app_now + 3600,
        iat: Some(app_now),
        nbf: None,
        iss: None,
        aud: None,
    }
}

fn sign(c: &Claims) -> String {
    encode(&Header::new(Algorithm::HS256), c, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn now(app: &TestApp) -> i64 {
    use domain::clock::Clock;
    app.clock.now().timestamp()
}

async fn status_of(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app.client.get(app.url("/api/v1/applications")).bearer_auth(token).send().await.unwrap();
    let s = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if s >= 400 {
        assert_eq!(ct, "application/problem+json", "{body}");
    }
    (s, body)
}

e2e!(tokens_are_trusted_only_as_far_as_they_go, |app| {
    let t = now(&app);
    let ok = |c: &Claims| sign(c);
    // The baseline passes, so each refusal below is about the one thing changed.
    let (s, b) = status_of(&app, &ok(&claims(t, IIN, Role::Applicant, None))).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = status_of(&app, &ok(&claims(t, "op-1", Role::Operator, Some("gfc-astana-1")))).await;
    assert_eq!(s, 200, "{b}");

    let mut cases: Vec<(&str, String)> = Vec::new();
    let mut c = claims(t, IIN, Role::Applicant, None);
    c.nbf = Some(t + 3600);
    cases.push(("nbf in the future", ok(&c)));
    let mut c = claims(t, IIN, Role::Applicant, None);
    c.iat = Some(t + 3600);
    c.exp = t + 7200;
    cases.push(("iat in the future", ok(&c)));
    let mut c = claims(t, IIN, Role::Applicant, None);
    c.exp = t + 100 * 365 * 24 * 3600;
    cases.push(("a lifetime of 100 years", ok(&c)));
    let mut c = claims(t, IIN, Role::Applicant, None);
    c.iat = None;
    c.exp = t + 100 * 365 * 24 * 3600;
    cases.push(("100 years without iat", ok(&c)));
    cases.push(("an unknown crit extension", crit_token(&claims(t, IIN, Role::Applicant, None))));
    cases.push(("an applicant sub with a bad check digit", ok(&claims(t, "900101300123", Role::Applicant, None))));
    cases.push(("an applicant sub that is no date", ok(&claims(t, "901301300126", Role::Applicant, None))));
    cases.push(("an empty sub", ok(&claims(t, "", Role::Admin, None))));
    cases.push(("a blank sub", ok(&claims(t, "   ", Role::Admin, None))));
    cases.push(("a sub of 65 characters", ok(&claims(t, &"e".repeat(65), Role::Employee, Some("astana-education")))));
    cases.push(("a sub with NUL", ok(&claims(t, "emp\u{0}1", Role::Employee, Some("astana-education")))));
    cases.push(("a blank org", ok(&claims(t, "emp-1", Role::Employee, Some(" ")))));
    cases.push(("an empty org", ok(&claims(t, "emp-1", Role::Employee, Some("")))));
    cases.push(("an unknown org", ok(&claims(t, "op-1", Role::Operator, Some("no-such-centre")))));
    cases.push(("an operator at a provider", ok(&claims(t, "op-1", Role::Operator, Some("astana-education")))));
    cases.push(("an employee at a centre", ok(&claims(t, "emp-1", Role::Employee, Some("gfc-astana-1")))));
    cases.push(("a head at the review body", ok(&claims(t, "head-1", Role::Head, Some("quality-agency")))));
    cases.push(("a reviewer at a provider", ok(&claims(t, "rev-1", Role::Reviewer, Some("astana-education")))));
    cases.push(("an org of 65 characters", ok(&claims(t, "emp-1", Role::Employee, Some(&"o".repeat(65))))));
    for (what, token) in cases {
        let (s, b) = status_of(&app, &token).await;
        assert_eq!((s, b["code"].as_str()), (401, Some("unauthorized")), "{what}: {b}");
    }

    // The operator-with-a-provider's-id attack: reading that provider's office filings is refused.
    let forged = ok(&claims(t, "op-1", Role::Operator, Some("astana-education")));
    let (s, _) = app.get("/api/v1/applications?channel=provider_office", Some(&forged)).await;
    assert_eq!(s, 401);

    // An organisation added later is known at once (no restart).
    app.add_organization("gfc-aktobe-1", "state_corporation");
    let (s, b) = status_of(&app, &ok(&claims(t, "op-7", Role::Operator, Some("gfc-aktobe-1")))).await;
    assert_eq!(s, 200, "{b}");
});

/// A correctly signed token whose protected header carries `crit` (jsonwebtoken's `Header` has no
/// field for it, so it is put together by hand).
fn crit_token(c: &Claims) -> String {
    use base64_url as b64;
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT","crit":["exp-ext"],"exp-ext":true}"#);
    let body = b64::encode(serde_json::to_vec(c).unwrap().as_slice());
    let signing_input = format!("{header}.{body}");
    let sig = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{signing_input}.{sig}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_maximum_lifetime_refuses_longer_tokens() {
    let app = TestApp::spawn_with(Backend::Sqlite, monday_morning(), |s| s.jwt.max_lifetime_secs = 600).await.unwrap();
    let t = now(&app);
    let mut c = claims(t, IIN, Role::Applicant, None);
    c.exp = t + 600;
    assert_eq!(status_of(&app, &sign(&c)).await.0, 200);
    c.exp = t + 3600;
    assert_eq!(status_of(&app, &sign(&c)).await.0, 401, "an hour is over the configured 10 minutes");
}

e2e!(trailing_data_after_json_is_400_and_runs_nothing, |app| {
    let t = app.applicant(IIN);
    let body = json!({"service_key": "free_school_meals"}).to_string() + " {\"again\": true}";
    let res = app
        .client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["code"], "trailing_data", "{b}");
    let (_, page) = app.get("/api/v1/applications", Some(&t)).await;
    assert_eq!(page["items"], json!([]), "nothing was filed");
    // Trailing whitespace is still one JSON value.
    let res = app
        .client
        .post(app.url("/api/v1/calendar/deadline"))
        .header("content-type", "application/json")
        .body("{\"start\": \"2026-11-23T10:00:00+05:00\", \"value\": 1, \"unit\": \"working_days\"}\n\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
});

e2e!(nul_in_bodies_paths_and_queries_is_422_naming_the_field, |app| {
    let t = app.applicant(IIN);
    let (s, b) = app
        .post(
            "/api/v1/calendar/deadline",
            None,
            &json!({"start": "2026-11-23T10:00:00+05:00\u{0}", "value": 1, "unit": "working_days"}),
            None,
        )
        .await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("start")), "{b}");
    assert_eq!(b["errors"][0]["rule"], "control_character", "{b}");
    let (s, b) = app.get("/api/v1/documents/%00/verify", None).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("path.id")), "{b}");
    let (s, b) = app.get("/api/v1/applications?service_key=a%00b", Some(&t)).await;
    assert_eq!((s, b["errors"][0]["field"].as_str()), (422, Some("query.service_key")), "{b}");
    // An id longer than any id can be: no such resource.
    let (s, b) = app.get(&format!("/api/v1/applications/{}", "a".repeat(65)), Some(&t)).await;
    assert_eq!((s, b["code"].as_str()), (404, Some("not_found")), "{b}");
    // A query value over the declared bound.
    let (s, b) = app.get(&format!("/api/v1/applications?service_key={}", "a".repeat(257)), Some(&t)).await;
    assert_eq!((s, b["errors"][0]["rule"].as_str()), (422, Some("length")), "{b}");
});

e2e!(api_answers_carry_security_headers_and_request_ids, |app| {
    let res = app.client.get(app.url("/api/v1/services")).header("X-Request-Id", "trace-42").send().await.unwrap();
    let h = res.headers();
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-request-id"], "trace-42", "a sane caller id is echoed");
    let res =
        app.client.get(app.url("/api/v1/nowhere")).header("X-Request-Id", "bad id\twith tab").send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "an unusable id is replaced: {generated}");
    assert_eq!(res.headers()["cache-control"], "no-store");
    // The public signing key keeps its own caching.
    let res = app.client.get(app.url("/api/v1/documents/signing-key")).send().await.unwrap();
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("public"));
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
});

e2e!(head_is_answered_on_get_routes, |app| {
    let get = app.client.get(app.url("/api/v1/services")).send().await.unwrap();
    let get_len = get.headers()["content-length"].to_str().unwrap().to_string();
    let head = app.client.head(app.url("/api/v1/services")).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), get_len, "the same head as GET");
    assert_eq!(head.bytes().await.unwrap().len(), 0, "and no body");
    let res = app.client.head(app.url("/api/v1/documents/verify")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405, "no GET there, so no HEAD");
    assert_eq!(res.headers()["allow"], "POST");
});

e2e!(cors_is_off_unless_configured, |app| {
    let res =
        app.client.get(app.url("/api/v1/services")).header("Origin", "https://portal.example.kz").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allows_the_configured_origins_only() {
    let app = TestApp::spawn_with(Backend::Sqlite, monday_morning(), |s| {
        s.guard.cors_allowed_origins = vec!["https://portal.example.kz".into()]
    })
    .await
    .unwrap();
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/applications"))
        .header("Origin", "https://portal.example.kz")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "https://portal.example.kz");
    let res =
        app.client.get(app.url("/api/v1/services")).header("Origin", "https://portal.example.kz").send().await.unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "https://portal.example.kz");
    let other =
        app.client.get(app.url("/api/v1/services")).header("Origin", "https://evil.example").send().await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, monday_morning(), |s| {
        s.guard.per_principal_per_minute = 1;
        s.guard.burst = 3;
        s.guard.per_address_per_minute = 0;
    })
    .await
    .unwrap();
    let a = app.applicant(IIN);
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/applications", Some(&a)).await.0, 200);
    }
    let res = app.client.get(app.url("/api/v1/applications")).bearer_auth(&a).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["code"], "too_many_requests", "{b}");
    // Another caller has a quota of their own.
    let other = app.applicant("900101300126");
    assert_eq!(app.get("/api/v1/applications", Some(&other)).await.0, 200);

    let app = TestApp::spawn_with(Backend::Sqlite, monday_morning(), |s| {
        s.guard.per_address_per_minute = 1;
        s.guard.burst = 2;
    })
    .await
    .unwrap();
    assert_eq!(app.get("/api/v1/services", None).await.0, 200);
    assert_eq!(app.get("/api/v1/services", None).await.0, 200);
    let (s, b) = app.get("/api/v1/services", None).await;
    assert_eq!((s, b["code"].as_str()), (429, Some("too_many_requests")), "anonymous callers by address: {b}");
    assert_eq!(app.get("/health/live", None).await.0, 200, "probes are never throttled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Backend::Sqlite, monday_morning(), |s| s.guard.body_timeout_secs = 1).await.unwrap();
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/calendar/deadline HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"start\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buf))
        .await
        .expect("the server answers instead of holding the connection")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
