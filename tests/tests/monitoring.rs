//! The monitoring view through HTTP, with the clock pinned: at risk, then overdue after the term's end;
//! each provider sees only its own; the review body sees all.

use api::auth::Role;
use chrono::{DateTime, TimeZone, Utc};
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";

/// Astana local time (UTC+5) on a day of 2026.
fn astana(month: u32, day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, h - 5, m, 0).unwrap()
}

async fn file_meals(app: &TestApp, provider: &str) -> Value {
    let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": provider,
                      "form": form_for("free_school_meals", on, APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(APPLICANT)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn act(app: &TestApp, token: &str, id: &str, action: &str, body: Value) -> (u16, Value) {
    let (s, v) = app.post(&format!("/api/v1/applications/{id}/{action}"), Some(token), &body, None).await;
    assert_eq!(s, 200, "{action}: {v}");
    (s, v)
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect()
}

e2e!(overdue_and_at_risk_per_provider, |app| {
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let almaty_head = app.token(Role::Head, "head-9", Some("almaty-education"));
    let reviewer = app.token(Role::Reviewer, "rev-1", Some("quality-agency"));

    // Monday 23 November 2026, 10:00 Astana: three applications, each due Monday 30 November 18:30.
    let late = file_meals(&app, "astana-education").await;
    let late_id = late["id"].as_str().unwrap().to_string();
    assert_eq!(late["due_date"], "2026-11-30");
    let done = file_meals(&app, "astana-education").await;
    let done_id = done["id"].as_str().unwrap().to_string();
    let almaty = file_meals(&app, "almaty-education").await;
    let almaty_id = almaty["id"].as_str().unwrap().to_string();
    act(&app, &emp, &late_id, "accept", json!({})).await;
    act(&app, &emp, &done_id, "accept", json!({})).await;
    // Tuesday 24 November 11:30: assigned; Wednesday 25 November 12:00: approved (on time).
    app.clock.set(astana(11, 24, 11, 30));
    app.enrol("astana-education", "emp-1", Role::Employee).await;
    act(&app, &head, &late_id, "assign", json!({"assignee": "emp-1"})).await;
    act(&app, &head, &done_id, "assign", json!({"assignee": "emp-1"})).await;
    app.clock.set(astana(11, 25, 12, 0));
    act(&app, &emp, &done_id, "approve", json!({})).await;

    // Thursday 26 November: Friday 27 and Monday 30 remain, 2 working days: at risk, not overdue.
    app.clock.set(astana(11, 26, 10, 0));
    let (s, m) = app.get("/api/v1/monitoring/applications", Some(&head)).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["provider_id"], "astana-education");
    assert_eq!(m["total"], 2, "the other provider's application is not counted: {m}");
    assert_eq!(ids(&m["at_risk"]), [late_id.as_str()], "{m}");
    assert_eq!(m["at_risk"][0]["working_days_remaining"], 2);
    assert_eq!(m["overdue"], json!([]));
    let (_, m1) = app.get("/api/v1/monitoring/applications?at_risk_days=1", Some(&head)).await;
    assert_eq!(m1["at_risk"], json!([]), "{m1}");

    // Tuesday 1 December 10:00: the term ended Monday 30 November 18:30.
    app.clock.set(astana(12, 1, 10, 0));
    let (s, m) = app.get("/api/v1/monitoring/applications", Some(&emp)).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(ids(&m["overdue"]), [late_id.as_str()], "{m}");
    // The lists are pages of an SQL query; the totals count them all.
    assert_eq!(
        (m["overdue_total"].as_i64(), m["at_risk_total"].as_i64(), m["list_limit"].as_i64()),
        (Some(1), Some(0), Some(100))
    );
    let o = &m["overdue"][0];
    assert_eq!(o["registration_number"], late["registration_number"]);
    assert_eq!(o["service_key"], "free_school_meals");
    assert_eq!(o["due_date"], "2026-11-30");
    assert_eq!(o["due_at"], "2026-11-30T13:30:00Z");
    assert_eq!(o["working_days_remaining"], -1);
    assert_eq!(m["at_risk"], json!([]));
    assert_eq!(m["by_status"]["in_progress"], 1, "{m}");
    assert_eq!(m["by_status"]["approved"], 1);
    assert_eq!(m["by_status"]["submitted"], 0);
    let svc = &m["services"][0];
    assert_eq!(svc["service_key"], "free_school_meals");
    assert_eq!(
        (svc["applications"].as_i64(), svc["open"].as_i64(), svc["decided"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "{svc}"
    );
    assert_eq!(svc["decided_on_time"], 1);
    assert_eq!(svc["on_time_share"], 1.0);
    // Filed Monday 23, decided Wednesday 25: 2 working days, against a term of 5.
    assert_eq!(svc["average_working_days_to_decision"], 2.0, "{svc}");
    assert_eq!(svc["average_term_working_days"], 5.0, "{svc}");
    assert_eq!(svc["terms"][0]["value"], 5, "{svc}");
    assert!(svc["terms"][0]["source"].as_str().unwrap().starts_with("004:"), "{svc}");
    let stage = |code: &str| m["stages"].as_array().unwrap().iter().find(|s| s["stage"] == code).cloned().unwrap();
    assert_eq!(stage("submit_to_accept")["samples"], 2);
    assert_eq!(stage("submit_to_accept")["average_minutes"], 0.0);
    // Accepted Monday 10:00, assigned Tuesday 11:30: 1 working day, 1530 minutes.
    assert_eq!(stage("accept_to_assign")["average_working_days"], 1.0);
    assert_eq!(stage("accept_to_assign")["average_minutes"], 1530.0);
    assert_eq!(stage("assign_to_decision")["samples"], 1);
    assert_eq!(stage("hearing_to_final")["samples"], 0);

    // Another provider's head does not see it; the review body sees both providers.
    let (_, other) = app.get("/api/v1/monitoring/applications", Some(&almaty_head)).await;
    assert_eq!(other["total"], 1, "{other}");
    assert_eq!(ids(&other["overdue"]), [almaty_id.as_str()], "{other}");
    let (s, p) = app.get("/api/v1/monitoring/applications?provider_id=astana-education", Some(&almaty_head)).await;
    assert_eq!(s, 403, "{p}");
    let (_, all) = app.get("/api/v1/monitoring/applications", Some(&reviewer)).await;
    assert_eq!(all["total"], 3, "{all}");
    let mut overdue = ids(&all["overdue"]);
    overdue.sort();
    let mut expected = vec![late_id.as_str(), almaty_id.as_str()];
    expected.sort();
    assert_eq!(overdue, expected);
    let (_, one) = app.get("/api/v1/monitoring/applications?provider_id=almaty-education", Some(&reviewer)).await;
    assert_eq!(one["total"], 1);
    // Filters: the filing date and the service.
    let (_, none) = app.get("/api/v1/monitoring/applications?from=2026-11-24", Some(&reviewer)).await;
    assert_eq!(none["total"], 0, "{none}");
    let (_, day) = app
        .get(
            "/api/v1/monitoring/applications?from=2026-11-23&to=2026-11-23&service_key=free_school_meals",
            Some(&reviewer),
        )
        .await;
    assert_eq!(day["total"], 3);
    let (s, p) = app.get("/api/v1/monitoring/applications?from=2026-11-31", Some(&reviewer)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (400, Some("query.from")), "{p}");
    let (s, _) = app.get("/api/v1/monitoring/applications", Some(&app.applicant(APPLICANT))).await;
    assert_eq!(s, 403);

    // Complaints per service, from the complaints table.
    let (s, c) = app
        .post(
            &format!("/api/v1/applications/{late_id}/complaints"),
            Some(&app.applicant(APPLICANT)),
            &json!({"subject": "inaction", "text": "The term has ended."}),
            None,
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (_, m) = app.get("/api/v1/monitoring/applications", Some(&head)).await;
    assert_eq!(
        m["complaints"],
        json!([{"service_key": "free_school_meals", "total": 1,
        "by_status": {"forwarded": 0, "registered": 1, "rejected": 0, "satisfied": 0, "upheld": 0}}]),
        "{m}"
    );
    let (_, other) = app.get("/api/v1/monitoring/applications", Some(&almaty_head)).await;
    assert_eq!(other["complaints"], json!([]));
});
