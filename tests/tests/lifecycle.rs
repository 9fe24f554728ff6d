//! The application lifecycle through HTTP, as a front end drives it, with the clock pinned to the
//! exact moments the law's terms turn on.

use api::auth::Role;
use chrono::{TimeZone, Utc};
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Astana local time (UTC+5 since March 2024) on a day of November 2026.
fn astana(day: u32, h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h - 5, m, 0).unwrap()
}

async fn file_meals(app: &TestApp) -> Value {
    let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education",
                      "form": form_for("free_school_meals", today(), APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(APPLICANT)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    app.post(&format!("/api/v1/applications/{id}/{action}"), Some(token), &body, None).await
}

e2e!(office_service_with_preliminary_refusal_hearing_and_refusal, |app| {
    // Filed Monday 23 November 2026, 10:00: 5 working days end Monday 30 November, 18:30.
    let a = file_meals(&app).await;
    let id = a["id"].as_str().unwrap();
    assert_eq!(a["due_date"], "2026-11-30");
    let applicant = app.applicant(APPLICANT);
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let emp2 = app.token(Role::Employee, "emp-2", Some("astana-education"));
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let foreign = app.token(Role::Head, "head-9", Some("almaty-education"));

    let (s, p) = act(&app, &applicant, id, "accept", json!({})).await;
    assert_eq!((s, p["code"].as_str()), (403, Some("forbidden")), "{p}");
    let (s, _) = act(&app, &foreign, id, "accept", json!({})).await;
    assert_eq!(s, 404, "another provider's head does not see it");
    let (s, a) = act(&app, &emp, id, "accept", json!({})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("accepted")), "{a}");

    let (s, _) = act(&app, &emp, id, "assign", json!({"assignee": "emp-1"})).await;
    assert_eq!(s, 403, "only the head assigns");
    // Only an active employee of the provider's staff directory may be assigned (issue 14).
    let (s, p) = act(&app, &head, id, "assign", json!({"assignee": "emp-1"})).await;
    assert_eq!((s, p["errors"][0]["rule"].as_str()), (422, Some("not_an_employee")), "{p}");
    app.enrol("astana-education", "emp-1", Role::Employee).await;
    let (s, a) = act(&app, &head, id, "assign", json!({"assignee": "emp-1"})).await;
    assert_eq!((s, a["status"].as_str(), a["assignee"].as_str()), (200, Some("in_progress"), Some("emp-1")), "{a}");

    let (s, p) = act(&app, &emp2, id, "approve", json!({})).await;
    assert_eq!(s, 403, "not the assignee: {p}");
    let (s, p) = act(
        &app,
        &emp,
        id,
        "refuse",
        json!({"grounds": ["unreliable_documents"], "motivation": "no hearing was held yet"}),
    )
    .await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["code"], "action_not_allowed_in_state");
    assert_eq!(p["state"], "in_progress");
    assert_eq!(p["allowed_actions"], json!(["approve", "preliminary_refusal"]));

    let (_, actions) = app.get(&format!("/api/v1/applications/{id}/actions"), Some(&emp)).await;
    // Term ends Monday 30 November: 3 working days before it (Thu 26, Fri 27, Mon 30) leaves Wednesday 25.
    assert_eq!(actions["preliminary_refusal_cutoff"], "2026-11-25", "{actions}");
    assert_eq!(actions["working_days_remaining"], 5);
    // Every time limit of the passport, anchored on this application's events.
    let stages = actions["stage_deadlines"].as_array().unwrap();
    let by_code = |c: &str| stages.iter().find(|s| s["code"] == c).unwrap_or_else(|| panic!("{c}: {actions}")).clone();
    assert_eq!(by_code("service_term")["due_at"], "2026-11-30T13:30:00Z");
    assert_eq!(by_code("service_term")["state"], "pending");
    assert_eq!(by_code("preliminary_refusal_notice")["state"], "counted_back");
    assert_eq!(by_code("result_after_hearing")["state"], "awaiting_start");
    assert!(by_code("service_term")["source"].as_str().unwrap().starts_with("004:"));

    let notice = json!({"grounds": ["unreliable_documents"], "hearing_at": astana(26, 11, 0), "hearing_place": "Astana, Mangilik El 8, room 204"});
    // Thursday 26 November is one day too late.
    app.clock.set(astana(26, 9, 30));
    let (s, p) = act(&app, &emp, id, "preliminary-refusal", notice.clone()).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("preliminary_refusal_too_late")), "{p}");
    // Wednesday 25 November, the last day allowed.
    app.clock.set(astana(25, 17, 0));
    let mut bad = notice.clone();
    bad["grounds"] = json!(["no_such_ground"]);
    let (s, p) = act(&app, &emp, id, "preliminary-refusal", bad).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("grounds[0]")), "{p}");
    let (s, a) = act(&app, &emp, id, "preliminary-refusal", notice).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("preliminary_refusal")), "{a}");

    app.clock.set(astana(26, 11, 40));
    let (s, a) = act(
        &app,
        &emp,
        id,
        "hearing",
        json!({"applicant_position": "I disagree; the certificate is genuine.", "held_at": astana(26, 11, 0)}),
    )
    .await;
    assert_eq!((s, a["status"].as_str()), (200, Some("hearing_held")), "{a}");
    // The answer after the hearing is due within 1 working day: Friday 27 November, 18:30 local.
    assert_eq!(a["stage_due_at"], "2026-11-27T13:30:00Z", "{a}");

    let (s, p) = act(
        &app,
        &emp,
        id,
        "refuse",
        json!({"grounds": ["court_ban_on_activity"], "motivation": "a ground never put to the applicant"}),
    )
    .await;
    assert_eq!((s, p["errors"][0]["rule"].as_str()), (422, Some("not_heard")), "{p}");
    let (s, a) = act(&app, &emp, id, "refuse", json!({"grounds": ["unreliable_documents"], "motivation": "The certificate contradicts the registry; no new evidence at the hearing."})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("refused")), "{a}");
    assert_eq!(a["decided_at"], "2026-11-26T06:40:00Z");

    let (s, p) = act(&app, &applicant, id, "withdraw", json!({})).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("action_not_allowed_in_state")), "{p}");

    let (_, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&applicant)).await;
    let actions: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "accept", "assign", "preliminary_refusal", "record_hearing", "refuse"]);
    let last = h.as_array().unwrap().last().unwrap();
    assert_eq!(last["actor"], json!({"sub": "emp-1", "role": "employee"}));
    assert_eq!(last["changes"]["status"], json!({"old": "hearing_held", "new": "refused"}));
    assert_eq!(last["changes"]["decision"]["new"]["grounds"][0]["code"], "unreliable_documents");
    assert!(last["changes"]["decision"]["new"]["grounds"][0]["source"].as_str().unwrap().starts_with("004:"));

    // The motivated refusal is a signed document that anyone can verify; so is the notice before it.
    let doc = last["changes"]["document"]["new"]["id"].as_str().expect("the refusal is a document");
    assert_eq!(last["changes"]["document"]["new"]["kind"], "motivated_refusal");
    let (s, v) = app.get(&format!("/api/v1/documents/{doc}/verify"), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["registration_number"], a["registration_number"]);
    let (_, docs) = app.get(&format!("/api/v1/applications/{id}/documents"), Some(&applicant)).await;
    let kinds: Vec<&str> = docs
        .as_array()
        .or(docs["items"].as_array())
        .unwrap()
        .iter()
        .filter_map(|d| d["result_kind"].as_str())
        .collect();
    assert!(kinds.contains(&"preliminary_refusal_notice") && kinds.contains(&"motivated_refusal"), "{docs}");
    // A tampered copy fails verification.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/documents/{doc}?format=jws")))
        .bearer_auth(&applicant)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let jws = res.text().await.unwrap();
    assert_eq!(jws.split('.').count(), 3, "{jws}");
    let (s, v) = app.post("/api/v1/documents/verify", None, &json!({"jws": jws}), None).await;
    assert_eq!((s, v["valid"].as_bool()), (200, Some(true)), "{v}");
    let mut parts: Vec<String> = jws.split('.').map(String::from).collect();
    let flipped = if parts[1].ends_with('A') { 'B' } else { 'A' };
    parts[1].pop();
    parts[1].push(flipped);
    let (s, v) = app.post("/api/v1/documents/verify", None, &json!({"jws": parts.join(".")}), None).await;
    assert_eq!((s, v["valid"].as_bool()), (200, Some(false)), "{v}");
});

e2e!(two_concurrent_decisions_one_wins, |app| {
    let a = file_meals(&app).await;
    let id = a["id"].as_str().unwrap();
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    act(&app, &head, id, "accept", json!({})).await;
    app.enrol("astana-education", "head-1", Role::Head).await;
    let (_, a) = act(&app, &head, id, "assign", json!({"assignee": "head-1"})).await;
    let etag = format!("\"{}\"", a["version"]);
    let send = |comment: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/applications/{id}/approve")))
            .bearer_auth(&head)
            .header("If-Match", etag.clone())
            .json(&json!({"comment": comment}))
            .send()
    };
    let (r1, r2) = futures::join!(send("first"), send("second"));
    let mut answers = Vec::new();
    for r in [r1.unwrap(), r2.unwrap()] {
        answers.push((r.status().as_u16(), r.json::<Value>().await.unwrap()));
    }
    answers.sort_by_key(|(s, _)| *s);
    let codes: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert!(codes == vec![200, 409] || codes == vec![200, 412], "{answers:?}");
    // The loser is told what happened in the API's words, whichever write noticed the race first
    // (on PostgreSQL the update and the history entry go in one statement).
    let (_, lost) = &answers[1];
    if codes[1] == 409 {
        assert_eq!(lost["code"], "concurrent_change", "{lost}");
        assert!(lost["detail"].as_str().unwrap().contains("changed since it was read"), "{lost}");
    }
    // A stale ETag is refused outright.
    let (_, now) = app.get(&format!("/api/v1/applications/{id}"), Some(&head)).await;
    assert_eq!(now["status"], "approved");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/applications/{id}/withdraw")))
        .bearer_auth(app.applicant(APPLICANT))
        .header("If-Match", "\"1\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 412);
});

e2e!(applicant_withdraws_before_a_decision, |app| {
    let a = file_meals(&app).await;
    let id = a["id"].as_str().unwrap();
    let (s, _) = act(&app, &app.applicant("850505400127"), id, "withdraw", json!({})).await;
    assert_eq!(s, 404, "not their application");
    let (s, a) = act(&app, &app.applicant(APPLICANT), id, "withdraw", json!({"reason": "filed twice"})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("withdrawn")), "{a}");
    assert!(a["decided_at"].is_string());
    let (_, actions) = app.get(&format!("/api/v1/applications/{id}/actions"), Some(&app.applicant(APPLICANT))).await;
    assert_eq!(actions["allowed_actions"], json!([]));
});

e2e!(state_corporation_intake_refused_for_a_missing_document, |app| {
    let operator = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    let body = json!({"service_key": "school_camp_referral", "channel": "state_corporation", "provider_id": "astana-education",
                      "applicant_iin": "900101300126", "form": form_for("school_camp_referral", today(), "900101300126")});
    let (s, a) = app.post("/api/v1/applications", Some(&operator), &body, None).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    let (s, p) = act(&app, &operator, id, "refuse-intake", json!({"missing_documents": ["passport_of_mars"]})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("missing_documents[0]")), "{p}");
    let (s, p) = act(&app, &operator, id, "refuse-intake", json!({})).await;
    assert_eq!(s, 422, "{p}");
    let (s, a) = act(
        &app,
        &operator,
        id,
        "refuse-intake",
        json!({"missing_documents": ["medical_certificate"], "comment": "no form 079/у"}),
    )
    .await;
    assert_eq!((s, a["status"].as_str()), (200, Some("refused_at_intake")), "{a}");
    let receipt = &a["decision"];
    assert_eq!(receipt["missing_documents"][0]["code"], "medical_certificate", "{a}");
    assert_eq!(receipt["grounds"][0]["code"], "incomplete_document_set", "{a}");
    // The applicant was told, in three languages.
    let (s, n) = app.get("/api/v1/me/notifications?lang=ru", Some(&app.applicant("900101300126"))).await;
    assert_eq!(s, 200, "{n}");
    let kinds: Vec<&str> = n["items"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["status.refused_at_intake", "status.submitted"], "newest first: {n}");
    assert!(n["items"][0]["text"].as_str().unwrap().contains("отказано"), "{n}");
    let (_, en) = app.get("/api/v1/me/notifications?lang=en", Some(&app.applicant("900101300126"))).await;
    assert!(en["items"][0]["text"].as_str().unwrap().starts_with("Application No"), "{en}");
    // Staff have no notifications of their own here.
    let (s, _) = app.get("/api/v1/me/notifications", Some(&operator)).await;
    assert_eq!(s, 403);
});

e2e!(integrators_follow_the_event_feed_in_order, |app| {
    let a = file_meals(&app).await;
    let id = a["id"].as_str().unwrap();
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    act(&app, &head, id, "accept", json!({})).await;
    let (s, feed) = app.get("/api/v1/events", Some(&head)).await;
    assert_eq!(s, 200, "{feed}");
    let kinds: Vec<&str> = feed["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["application.submit", "application.accept"]);
    let after = feed["next_after"].as_i64().unwrap();
    let (_, rest) = app.get(&format!("/api/v1/events?after={after}"), Some(&head)).await;
    assert_eq!(rest["items"], json!([]));
    assert_eq!(rest["next_after"], after);
    // Another provider sees none of it; applicants do not read the feed.
    let (_, other) = app.get("/api/v1/events", Some(&app.token(Role::Head, "h", Some("almaty-education")))).await;
    assert_eq!(other["items"], json!([]));
    let (s, _) = app.get("/api/v1/events", Some(&app.applicant(APPLICANT))).await;
    assert_eq!(s, 403);
});

e2e!(automated_certificate_is_decided_by_the_system_from_the_registry, |app| {
    async fn file(app: &TestApp, iin: &str) -> (u16, Value) {
        let body = json!({"service_key": "guardianship_certificate", "channel": "portal", "provider_id": "astana-education",
                          "form": form_for("guardianship_certificate", today(), iin)});
        app.post("/api/v1/applications", Some(&app.applicant(iin)), &body, None).await
    }
    // 900101300126 is registered as the guardian of 150321650010.
    let (s, a) = file(&app, "900101300126").await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["status"], "approved", "{a}");
    // The term is 30 minutes; decided at once, on time.
    assert_eq!(a["due_at"], "2026-11-23T05:30:00Z");
    assert_eq!(a["decided_at"], "2026-11-23T05:00:00Z");
    assert_eq!(a["decision"]["on_time"], true);
    assert_eq!(a["decision"]["facts"]["wards"][0]["ward_iin"], "150321650010", "{a}");
    let id = a["id"].as_str().unwrap();
    let (_, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&app.applicant("900101300126"))).await;
    let steps: Vec<(&str, &str, &str)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["action"].as_str().unwrap(), e["actor"]["sub"].as_str().unwrap(), e["actor"]["role"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("submit", "900101300126", "applicant"),
            ("accept", "system", "system"),
            ("assign", "system", "system"),
            ("approve", "system", "system")
        ]
    );
    let doc = h.as_array().unwrap().last().unwrap()["changes"]["document"]["new"]["id"].as_str().unwrap().to_string();
    let (_, v) = app.get(&format!("/api/v1/documents/{doc}/verify"), None).await;
    assert_eq!(v["valid"], true, "{v}");

    // 900101300116 has no guardianship record: a motivated refusal citing a ground of the passport.
    let (s, r) = file(&app, "900101300116").await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["decision"]["grounds"][0]["code"], "non_compliance_with_requirements");
    assert!(r["decision"]["grounds"][0]["source"].as_str().unwrap().starts_with("004:"));
});

e2e!(internal_stages_are_tracked_against_their_own_terms, |app| {
    // Agency accreditation: send the documents to state bodies within 2 calendar days of filing,
    // their conclusion within 10 working days of the request.
    let body = json!({"service_key": "adoption_agency_accreditation", "channel": "portal", "provider_id": "children-rights-committee",
                      "subtype": "accreditation", "form": form_for("adoption_agency_accreditation", today(), APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(APPLICANT)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["due_date"], "2026-12-23", "30 calendar days from 23 November");
    let id = a["id"].as_str().unwrap();
    let head = app.token(Role::Head, "head-1", Some("children-rights-committee"));
    act(&app, &head, id, "accept", json!({})).await;
    let stage = |actions: &Value, code: &str| {
        actions["stage_deadlines"].as_array().unwrap().iter().find(|s| s["code"] == code).cloned().unwrap()
    };

    let (_, actions) = app.get(&format!("/api/v1/applications/{id}/actions"), Some(&head)).await;
    assert_eq!(stage(&actions, "send_to_state_bodies")["due_at"], "2026-11-25T13:30:00Z");
    assert_eq!(stage(&actions, "state_bodies_conclusion")["state"], "awaiting_start");

    app.clock.set(astana(25, 11, 0));
    let (s, _) = act(
        &app,
        &head,
        id,
        "stage-events",
        json!({"term": "send_to_state_bodies", "event": "completed", "at": astana(24, 16, 0)}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) =
        act(&app, &head, id, "stage-events", json!({"term": "state_bodies_conclusion", "event": "started"})).await;
    assert_eq!(s, 200);
    let (s, p) = act(&app, &head, id, "stage-events", json!({"term": "no_such_term", "event": "started"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("term")), "{p}");
    let (s, p) = act(&app, &head, id, "stage-events", json!({"term": "send_to_state_bodies", "event": "paused"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("event")), "{p}");
    let (s, _) = act(
        &app,
        &app.applicant(APPLICANT),
        id,
        "stage-events",
        json!({"term": "send_to_state_bodies", "event": "started"}),
    )
    .await;
    assert_eq!(s, 403);

    let (_, actions) = app.get(&format!("/api/v1/applications/{id}/actions"), Some(&head)).await;
    assert_eq!(stage(&actions, "send_to_state_bodies")["state"], "met", "{actions}");
    let conclusion = stage(&actions, "state_bodies_conclusion");
    // Requested Wednesday 25 November: 10 working days end Wednesday 9 December, 18:30.
    assert_eq!(conclusion["due_at"], "2026-12-09T13:30:00Z", "{conclusion}");
    assert_eq!(conclusion["state"], "pending");
    app.clock.set(astana(30, 10, 0) + chrono::Duration::days(10));
    let (_, actions) = app.get(&format!("/api/v1/applications/{id}/actions"), Some(&head)).await;
    assert_eq!(stage(&actions, "state_bodies_conclusion")["state"], "overdue");
});

// `If-Match` is `*`, `"N"` or `W/"N"` and nothing else (the spec's pattern); anything else is 422 before
// the application is looked at, a syntactically fine but stale one 412. Schema checks (a body that is
// no object, no grounds) come before the precondition: 422, never 412.
e2e!(if_match_is_an_etag_or_a_star, |app| {
    let a = file_meals(&app).await;
    let id = a["id"].as_str().unwrap();
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let send = |action: &'static str, if_match: &'static str, body: Value| {
        app.client
            .post(app.url(&format!("/api/v1/applications/{id}/{action}")))
            .bearer_auth(&emp)
            .header("If-Match", if_match)
            .json(&body)
            .send()
    };
    for bad in ["1", "\"1\", \"2\"", "\"\"", "\"-1\"", "W/1", "\"1234567890123456789\"", "null", "**"] {
        let res = send("accept", bad, json!({})).await.unwrap();
        let status = res.status().as_u16();
        let p: Value = res.json().await.unwrap();
        assert_eq!((status, p["errors"][0]["field"].as_str()), (422, Some("header.If-Match")), "{bad}: {p}");
    }
    let res = send("accept", "\"7\"", json!({})).await.unwrap();
    assert_eq!(res.status().as_u16(), 412, "a stale version");
    // A body that is not an object is refused as such (serde would read the struct from an array).
    let res = send("accept", "\"1\"", json!([null])).await.unwrap();
    let status = res.status().as_u16();
    let p: Value = res.json().await.unwrap();
    assert_eq!((status, p["errors"][0]["rule"].as_str()), (422, Some("type")), "{p}");
    let res = send("accept", "W/\"1\"", json!({})).await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "a weak tag of the current version");
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    app.enrol("astana-education", "emp-1", Role::Employee).await;
    let (s, _) = act(&app, &head, id, "assign", json!({"assignee": "emp-1"})).await;
    assert_eq!(s, 200);
    // No grounds: refused by the request's own rules even with a stale If-Match.
    let notice = json!({"grounds": [], "hearing_at": "2026-11-26T06:00:00Z", "hearing_place": "Astana, room 204"});
    let res = send("preliminary-refusal", "\"1\"", notice).await.unwrap();
    let status = res.status().as_u16();
    let p: Value = res.json().await.unwrap();
    assert_eq!((status, p["errors"][0]["field"].as_str()), (422, Some("grounds")), "{p}");
    let res = send("stage-events", "*", json!({"term": "service_term", "event": "finished"})).await.unwrap();
    assert_eq!(res.status().as_u16(), 422, "`event` is `started` or `completed`");
});
