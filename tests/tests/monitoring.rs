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

/// Every scope the view reads, for the caller kinds the counts serve.
fn scopes() -> Vec<(persistence::applications::Visibility, persistence::monitoring::Scope)> {
    use persistence::applications::Visibility;
    use persistence::monitoring::Scope;
    // Local midnights in Astana (UTC+5) are 19:00 UTC the day before.
    let midnight = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 0, 0, 0).unwrap() - chrono::Duration::hours(5);
    let periods = [
        (None, None),
        (Some(midnight(11, 1)), None),
        (None, Some(midnight(11, 1))),
        (Some(midnight(10, 1)), Some(midnight(12, 31))),
        (Some(midnight(10, 20)), Some(midnight(11, 24))),
        (Some(midnight(11, 23)), Some(midnight(11, 24))),
    ];
    let mut out = Vec::new();
    for who in [Visibility::All, Visibility::Provider("astana-education".into())] {
        for (filed_from, filed_before) in periods {
            for service_key in [None, Some("free_school_meals".to_string()), Some("camp_referral".to_string())] {
                out.push((who.clone(), Scope { provider_id: None, service_key, filed_from, filed_before }));
            }
        }
        out.push((who.clone(), Scope { provider_id: Some("almaty-education".into()), ..Scope::default() }));
    }
    out
}

/// The view's figures read through the counts (whole months) equal the aggregates over the rows,
/// whatever the scope and however much of the changes is folded.
fn assert_counts_equal_rows(app: &TestApp, when: &str) -> i64 {
    use persistence::monitoring as figures;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let mut filed = 0;
    app.database()
        .read(|c| {
            for (who, scope) in scopes() {
                let counted = sorted(figures::groups(c, &who, &scope)?.iter().map(|g| format!("{g:?}")).collect());
                let rows = sorted(figures::groups_of_rows(c, &who, &scope)?.iter().map(|g| format!("{g:?}")).collect());
                assert_eq!(counted, rows, "{when}: groups of {who:?} {scope:?}");
                let counted = sorted(figures::stages(c, &who, &scope)?.iter().map(|s| format!("{s:?}")).collect());
                let rows = sorted(figures::stages_of_rows(c, &who, &scope)?.iter().map(|s| format!("{s:?}")).collect());
                assert_eq!(counted, rows, "{when}: stages of {who:?} {scope:?}");
            }
            let all = persistence::monitoring::Scope::default();
            filed =
                figures::groups(c, &persistence::applications::Visibility::All, &all)?.iter().map(|g| g.count).sum();
            Ok(())
        })
        .unwrap();
    filed
}

/// Without the instance's own fold thread (`MONITORING_FOLD=false`), so that the test decides when
/// changes are folded.
async fn counts_and_rows(backend: e2e::Backend) {
    let Some(app) = TestApp::spawn_with(backend, e2e::monday_morning(), |s| s.fold_monitoring_counts = false).await
    else {
        return;
    };
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    app.enrol("astana-education", "emp-1", Role::Employee).await;
    let fold = |limit: i64| app.database().write(|c| persistence::monitoring::fold(c, limit)).unwrap();

    // Saturday 31 October 23:30 and Sunday 1 November 02:00 in Astana: both in October in UTC (the
    // counts' months), the second in November locally (an edge of a period in local dates).
    app.clock.set(Utc.with_ymd_and_hms(2026, 10, 31, 18, 30, 0).unwrap());
    let october = file_meals(&app, "astana-education").await;
    app.clock.set(Utc.with_ymd_and_hms(2026, 10, 31, 21, 0, 0).unwrap());
    let night = file_meals(&app, "astana-education").await;
    // Monday 23 November: two more, one at another provider.
    app.clock.set(astana(11, 23, 10, 0));
    let november = file_meals(&app, "astana-education").await;
    file_meals(&app, "almaty-education").await;
    assert_eq!(assert_counts_equal_rows(&app, "filed, nothing folded"), 4);

    for a in [&october, &night, &november] {
        act(&app, &emp, a["id"].as_str().unwrap(), "accept", json!({})).await;
    }
    app.clock.set(astana(11, 24, 11, 30));
    act(&app, &head, october["id"].as_str().unwrap(), "assign", json!({"assignee": "emp-1"})).await;
    assert_counts_equal_rows(&app, "moved, nothing folded");
    assert!(fold(1_000) > 0, "the filings and moves left changes to fold");
    assert_eq!(fold(1_000), 0, "one fold takes them all");
    assert_eq!(assert_counts_equal_rows(&app, "all folded"), 4);

    // More moves over folded totals, then folded one change at a time.
    act(&app, &head, night["id"].as_str().unwrap(), "assign", json!({"assignee": "emp-1"})).await;
    app.clock.set(astana(11, 25, 12, 0));
    act(&app, &emp, october["id"].as_str().unwrap(), "approve", json!({})).await;
    assert_counts_equal_rows(&app, "totals and pending changes");
    while fold(1) > 0 {
        assert_counts_equal_rows(&app, "folded in part");
    }
    assert_eq!(assert_counts_equal_rows(&app, "folded again"), 4);
}

mod monitoring_counts_equal_the_rows_before_and_after_folding {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::counts_and_rows(e2e::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::counts_and_rows(e2e::Backend::Postgres).await;
    }
}

e2e!(an_application_is_overdue_when_a_stage_term_ends_before_the_service_term, |app| {
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    app.enrol("astana-education", "emp-1", Role::Employee).await;
    // Filed Monday 23 November 10:00: the service term ends Monday 30 November 18:30.
    let a = file_meals(&app, "astana-education").await;
    let id = a["id"].as_str().unwrap();
    act(&app, &emp, id, "accept", json!({})).await;
    act(&app, &head, id, "assign", json!({"assignee": "emp-1"})).await;
    app.clock.set(astana(11, 25, 17, 0));
    let notice = json!({"grounds": ["unreliable_documents"], "hearing_at": astana(11, 26, 11, 0),
                        "hearing_place": "Astana, Mangilik El 8, room 204"});
    act(&app, &emp, id, "preliminary-refusal", notice).await;
    app.clock.set(astana(11, 26, 11, 40));
    let (_, heard) =
        act(&app, &emp, id, "hearing", json!({"applicant_position": "I disagree.", "held_at": astana(11, 26, 11, 0)}))
            .await;
    // The answer after the hearing is due Friday 27 November 18:30, before the service term.
    assert_eq!(heard["stage_due_at"], "2026-11-27T13:30:00Z", "{heard}");

    // Friday 17:00: neither has ended; the service term's due date is 1 working day away (at risk).
    app.clock.set(astana(11, 27, 17, 0));
    let (_, m) = app.get("/api/v1/monitoring/applications?at_risk_days=1", Some(&head)).await;
    assert_eq!((m["overdue_total"].as_i64(), m["at_risk_total"].as_i64()), (Some(0), Some(1)), "{m}");
    // Saturday: the stage's term ended, the service term has not: overdue, counted once, and no
    // longer at risk.
    app.clock.set(astana(11, 28, 10, 0));
    let (_, m) = app.get("/api/v1/monitoring/applications", Some(&head)).await;
    assert_eq!((m["overdue_total"].as_i64(), m["at_risk_total"].as_i64()), (Some(1), Some(0)), "{m}");
    assert_eq!(ids(&m["overdue"]), [id], "{m}");
    // Tuesday 1 December: both ended; still one overdue application.
    app.clock.set(astana(12, 1, 10, 0));
    let (_, m) = app.get("/api/v1/monitoring/applications", Some(&head)).await;
    assert_eq!(m["overdue_total"], 1, "{m}");
    let (_, list) = app.get("/api/v1/applications?overdue=true", Some(&head)).await;
    assert_eq!(ids(&list["items"]), [id], "{list}");
});
