//! The foundation's contract: health, errors in one problem+json shape, authentication.

use api::auth::Role;
use e2e::{e2e, SECRET};
use serde_json::{json, Value};

fn assert_problem(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:kz-family-services:problem:{code}"), "{body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

e2e!(ready_and_catalog_served, |app| {
    let (s, b) = app.get("/health/live", None).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
    let (s, b) = app.get("/health/ready", None).await;
    assert_eq!(s, 200, "{b}");
    let expected = match app.backend {
        e2e::Backend::Sqlite => "sqlite",
        e2e::Backend::Postgres => "postgres",
    };
    assert_eq!(b["database"], expected);
    let (s, b) = app.get("/api/v1/services", None).await;
    assert_eq!(s, 200);
    assert!(!b["items"].as_array().unwrap().is_empty(), "{b}");
});

e2e!(unknown_routes_and_methods_are_problems, |app| {
    let res = app.client.get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let (s, b) = (res.status().as_u16(), res.json::<Value>().await.unwrap());
    assert_problem(s, &b, 404, "not_found");

    let res = app.client.delete(app.url("/api/v1/applications")).send().await.unwrap();
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST", "HEAD is answered wherever GET is");
    let (s, b) = (res.status().as_u16(), res.json::<Value>().await.unwrap());
    assert_problem(s, &b, 405, "method_not_allowed");
});

e2e!(missing_forged_expired_and_unsigned_tokens_get_401, |app| {
    let (s, b) = app.get("/api/v1/applications", None).await;
    assert_problem(s, &b, 401, "unauthorized");

    let forged = api::auth::mint_hs256(
        "another-secret-0123456789",
        "900101300116",
        Role::Applicant,
        None,
        3600,
        chrono::Utc::now().timestamp(),
    );
    let (s, b) = app.get("/api/v1/applications", Some(&forged)).await;
    assert_problem(s, &b, 401, "unauthorized");

    // Expired an hour ago by the server's own (pinned) clock and by the wall clock alike.
    let expired = api::auth::mint_hs256(SECRET, "900101300116", Role::Applicant, None, -7200, 0);
    let (s, b) = app.get("/api/v1/applications", Some(&expired)).await;
    assert_problem(s, &b, 401, "unauthorized");

    // alg: none, unsigned.
    use base64_url as b64;
    let header = b64::encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims =
        b64::encode(json!({"sub": "900101300116", "role": "applicant", "exp": 4102444800i64}).to_string().as_bytes());
    let unsigned = format!("{header}.{claims}.");
    let (s, b) = app.get("/api/v1/applications", Some(&unsigned)).await;
    assert_problem(s, &b, 401, "unauthorized");

    let (s, b) = app.get("/api/v1/applications", Some("not.a.jwt")).await;
    assert_problem(s, &b, 401, "unauthorized");

    // A staff token without `org` is refused too.
    let no_org = api::auth::mint_hs256(SECRET, "emp-1", Role::Employee, None, 3600, chrono::Utc::now().timestamp());
    let (s, b) = app.get("/api/v1/applications", Some(&no_org)).await;
    assert_problem(s, &b, 401, "unauthorized");
});

e2e!(bad_bodies_name_the_field_and_rule, |app| {
    let t = app.applicant("900101300116");
    // Malformed JSON: 400.
    let res = app
        .client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"service_key\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let (s, b) = (res.status().as_u16(), res.json::<Value>().await.unwrap());
    assert_problem(s, &b, 400, "malformed_json");

    // A missing field: 422 naming it.
    let (s, b) = app
        .post(
            "/api/v1/applications",
            Some(&t),
            &json!({"channel": "portal", "provider_id": "astana-education", "form": {}}),
            None,
        )
        .await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "service_key");
    assert_eq!(b["errors"][0]["rule"], "required");

    // A wrong type deep inside: the path names it.
    let (s, b) = app
        .post(
            "/api/v1/applications",
            Some(&t),
            &json!({"service_key": "foster_family_placement", "channel": "portal", "provider_id": "astana-education", "form": {},
                    "representative": {"iin": "880315300123", "full_name": "X", "power_of_attorney": {"number": 5, "issued_on": "2026-01-01", "notary": "N"}}}),
            None,
        )
        .await;
    assert_problem(s, &b, 422, "validation_failed");
    assert_eq!(b["errors"][0]["field"], "representative.power_of_attorney.number", "{b}");

    // Unknown service and a channel the role does not file through: both listed.
    let (s, b) = app
        .post("/api/v1/applications", Some(&t), &json!({"service_key": "no_such_service", "channel": "state_corporation", "provider_id": "astana-education", "form": {}}), None)
        .await;
    assert_problem(s, &b, 422, "validation_failed");
    let fields: Vec<(&str, &str)> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["rule"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("service_key", "unknown_service")), "{b}");
    assert!(fields.contains(&("channel", "channel_not_allowed_for_role")), "{b}");

    // Wrong content type: 415. Oversized body: 413.
    let res =
        app.client.post(app.url("/api/v1/applications")).bearer_auth(&t).body("service_key=x").send().await.unwrap();
    let (s, b) = (res.status().as_u16(), res.json::<Value>().await.unwrap());
    assert_problem(s, &b, 415, "unsupported_media_type");
    let huge = json!({"service_key": "foster_family_placement", "channel": "portal", "provider_id": "astana-education", "form": {"notes": "x".repeat(70 * 1024)}});
    let (s, b) = app.post("/api/v1/applications", Some(&t), &huge, None).await;
    assert_problem(s, &b, 413, "payload_too_large");

    // A bad query parameter: 400 naming it.
    let (s, b) = app.get("/api/v1/services?at=yesterday", None).await;
    assert_problem(s, &b, 400, "invalid_query");
    assert_eq!(b["errors"][0]["field"], "query.at");
});

e2e!(roles_that_do_not_file_get_403, |app| {
    let t = app.token(Role::Reviewer, "rev-1", Some("quality-agency"));
    let (s, b) = app
        .post("/api/v1/applications", Some(&t), &json!({"service_key": "foster_family_placement", "channel": "portal", "provider_id": "astana-education", "form": {}}), None)
        .await;
    assert_problem(s, &b, 403, "forbidden");
});
