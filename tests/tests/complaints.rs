//! Complaints through HTTP (the Law on public services, art. 25; for the accreditation, paragraph 38 of its rules, 004:169-192), with the clock pinned to the days
//! the terms turn on. Calendar (domain/catalog/calendar/2026.yaml): 16 December 2026 (Independence Day)
//! is the only day off in the weeks used here besides weekends.

use api::auth::Role;
use chrono::{DateTime, TimeZone, Utc};
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";
const PROVIDER: &str = "astana-education";

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

async fn act(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    app.post(path, Some(token), &body, None).await
}

/// Filed Monday 23 November 2026 10:00, accepted, assigned to emp-1, preliminarily refused on
/// Wednesday 25 November, heard and refused on Thursday 26 November.
async fn refused_application(app: &TestApp) -> String {
    let a = file_meals(app, PROVIDER).await;
    let id = a["id"].as_str().unwrap().to_string();
    let emp = app.token(Role::Employee, "emp-1", Some(PROVIDER));
    let head = app.token(Role::Head, "head-1", Some(PROVIDER));
    let base = format!("/api/v1/applications/{id}");
    let (s, a) = act(app, &emp, &format!("{base}/accept"), json!({})).await;
    assert_eq!(s, 200, "{a}");
    app.enrol(PROVIDER, "emp-1", Role::Employee).await;
    let (s, a) = act(app, &head, &format!("{base}/assign"), json!({"assignee": "emp-1"})).await;
    assert_eq!(s, 200, "{a}");
    app.clock.set(astana(11, 25, 17, 0));
    let notice = json!({"grounds": ["unreliable_documents"], "hearing_at": astana(11, 26, 11, 0), "hearing_place": "Astana, Mangilik El 8, room 204"});
    let (s, a) = act(app, &emp, &format!("{base}/preliminary-refusal"), notice).await;
    assert_eq!(s, 200, "{a}");
    app.clock.set(astana(11, 26, 11, 40));
    let (s, a) = act(
        app,
        &emp,
        &format!("{base}/hearing"),
        json!({"applicant_position": "The certificate is genuine.", "held_at": astana(11, 26, 11, 0)}),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    let (s, a) = act(app, &emp, &format!("{base}/refuse"), json!({"grounds": ["unreliable_documents"], "motivation": "The certificate contradicts the registry; no new evidence at the hearing."})).await;
    assert_eq!((s, a["status"].as_str()), (200, Some("refused")), "{a}");
    id
}

fn term<'a>(c: &'a Value, code: &str) -> &'a Value {
    c["terms"].as_array().unwrap().iter().find(|t| t["code"] == code).unwrap_or_else(|| panic!("no term {code}: {c}"))
}

e2e!(complaint_upheld_by_the_review_body_and_re_decided, |app| {
    let id = refused_application(&app).await;
    let applicant = app.applicant(APPLICANT);
    let emp = app.token(Role::Employee, "emp-1", Some(PROVIDER));
    let head = app.token(Role::Head, "head-1", Some(PROVIDER));
    let foreign_head = app.token(Role::Head, "head-9", Some("almaty-education"));
    let reviewer = app.token(Role::Reviewer, "rev-1", Some("quality-agency"));
    app.add_organization("other-agency", "review_body");
    let other_reviewer = app.token(Role::Reviewer, "rev-9", Some("other-agency"));

    // Monday 30 November 2026, 10:00 Astana: the applicant complains about the refusal.
    app.clock.set(astana(11, 30, 10, 0));
    let body = json!({"subject": "decision", "text": "The refusal ignores the certificate I brought to the hearing."});
    let path = format!("/api/v1/applications/{id}/complaints");
    let (s, p) = act(&app, &emp, &path, body.clone()).await;
    assert_eq!(s, 403, "staff do not file complaints: {p}");
    let (s, p) = act(&app, &app.applicant("850505400127"), &path, body.clone()).await;
    assert_eq!(s, 404, "not their application: {p}");
    let (s, p) = act(&app, &applicant, &path, json!({"subject": "mood", "text": "x"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("subject")), "{p}");
    let (s, c) = app.post(&path, Some(&applicant), &body, Some("complaint-1")).await;
    assert_eq!((s, c["status"].as_str()), (201, Some("registered")), "{c}");
    // Satisfy or forward within 3 working days (Tue 1, Wed 2, Thu 3 December); review within 5
    // (... Fri 4, Mon 7 December); both end at 18:30 local (13:30 UTC).
    assert_eq!(c["forward_due_date"], "2026-12-03", "{c}");
    assert_eq!(c["forward_due_at"], "2026-12-03T13:30:00Z", "{c}");
    assert_eq!(c["provider_due_date"], "2026-12-07", "{c}");
    assert_eq!(c["provider_due_at"], "2026-12-07T13:30:00Z", "{c}");
    assert_eq!(c["application_status"], "refused");
    // The seeds state complaint terms only for the accreditation (004:169-192); free_school_meals takes
    // them from the Law on public services, art. 25, cited as an act outside the seeds.
    for code in ["satisfaction", "forwarding", "provider_review", "review_body_review"] {
        let source = term(&c, code)["source"].as_str().unwrap().to_string();
        assert!(
            source.starts_with("outside the seeds: ") && source.contains("No 88-V") && source.contains("article 25"),
            "{code}: {source}"
        );
        assert!(!source.contains("004:"), "{code}: {source}");
    }
    assert!(c["filing_source"].as_str().unwrap().contains("article 25"), "{c}");
    assert_eq!(term(&c, "forwarding")["state"], "pending");
    assert_eq!(c["allowed_actions"], json!([]), "the applicant has no commands");
    let cid = c["id"].as_str().unwrap().to_string();
    // The same Idempotency-Key and body replay the first complaint; another body is refused.
    let (s, again) = app.post(&path, Some(&applicant), &body, Some("complaint-1")).await;
    assert_eq!((s, again["id"].as_str()), (201, Some(cid.as_str())), "{again}");
    let (s, p) =
        app.post(&path, Some(&applicant), &json!({"subject": "action", "text": "other"}), Some("complaint-1")).await;
    assert_eq!((s, p["code"].as_str()), (422, Some("idempotency_key_reused")), "{p}");

    // Who sees it.
    let (s, got) = app.get(&format!("/api/v1/complaints/{cid}"), Some(&head)).await;
    assert_eq!((s, got["allowed_actions"].clone()), (200, json!(["satisfy", "forward"])), "{got}");
    let (s, _) = app.get(&format!("/api/v1/complaints/{cid}"), Some(&foreign_head)).await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&format!("/api/v1/complaints/{cid}"), Some(&reviewer)).await;
    assert_eq!(s, 404, "not forwarded yet");
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&reviewer)).await;
    assert_eq!(s, 404, "the review body sees no file before a complaint reaches it");
    let (s, _) = app.get(&format!("/api/v1/complaints/{cid}"), Some(&app.applicant("850505400127"))).await;
    assert_eq!(s, 404);

    let complaint = |action: &str| format!("/api/v1/complaints/{cid}/{action}");
    let (s, p) = act(&app, &emp, &complaint("forward"), json!({})).await;
    assert_eq!((s, p["code"].as_str()), (403, Some("forbidden")), "only the head: {p}");
    let (s, _) = act(&app, &foreign_head, &complaint("forward"), json!({})).await;
    assert_eq!(s, 404);
    let (s, _) = act(&app, &reviewer, &complaint("decide"), json!({"outcome": "upheld", "reason": "x"})).await;
    assert_eq!(s, 404, "the review body sees only what was forwarded to it");

    // Wednesday 2 December 15:00: forwarded, on time; the review body has 15 working days from
    // registration there: 3 December ... 15 December, (16 December is Independence Day), 17 ... 24 December.
    app.clock.set(astana(12, 2, 15, 0));
    let (s, c) = act(&app, &head, &complaint("forward"), json!({"comment": "we stand by the refusal"})).await;
    assert_eq!((s, c["status"].as_str()), (200, Some("forwarded")), "{c}");
    assert_eq!(c["reviewer_org"], "quality-agency");
    assert_eq!(c["forwarded_on_time"], true);
    // Now the review body reads the application's file and history; another review body does not.
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&reviewer)).await;
    assert_eq!(s, 200);
    let (s, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&reviewer)).await;
    assert_eq!(s, 200, "{h}");
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&other_reviewer)).await;
    assert_eq!(s, 404);
    let (_, page) = app.get("/api/v1/applications", Some(&reviewer)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(c["review_due_date"], "2026-12-24", "{c}");
    assert_eq!(c["review_due_at"], "2026-12-24T13:30:00Z", "{c}");
    assert_eq!(term(&c, "forwarding")["state"], "met");
    assert_eq!(term(&c, "satisfaction")["state"], "not_applicable");
    assert_eq!(term(&c, "provider_review")["met"], true);

    let (s, p) = act(&app, &head, &complaint("forward"), json!({})).await;
    assert_eq!(
        (s, p["code"].as_str(), p["state"].as_str()),
        (409, Some("complaint_action_not_allowed_in_state"), Some("forwarded")),
        "{p}"
    );
    assert_eq!(p["allowed_actions"], json!([]));
    let (s, p) = act(&app, &head, &complaint("satisfy"), json!({"reason": "too late"})).await;
    assert_eq!((s, p["state"].as_str()), (409, Some("forwarded")), "{p}");
    let (s, p) = act(&app, &head, &complaint("decide"), json!({"outcome": "upheld", "reason": "x"})).await;
    assert_eq!(s, 403, "{p}");
    let (s, _) = act(&app, &other_reviewer, &complaint("decide"), json!({"outcome": "upheld", "reason": "x"})).await;
    assert_eq!(s, 404, "another review body");
    let (s, p) = act(&app, &reviewer, &complaint("decide"), json!({"outcome": "maybe", "reason": "x"})).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("outcome")), "{p}");
    let (_, listed) = app.get("/api/v1/complaints", Some(&reviewer)).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["allowed_actions"], json!(["decide"]));

    // Thursday 10 December: upheld; the application goes back in progress in the same transaction.
    app.clock.set(astana(12, 10, 11, 0));
    let (s, c) = act(
        &app,
        &reviewer,
        &complaint("decide"),
        json!({"outcome": "upheld", "reason": "The hearing's evidence was not weighed."}),
    )
    .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("upheld")), "{c}");
    assert_eq!(c["reopened"], true);
    assert_eq!(c["resolved_on_time"], true);
    assert_eq!(c["resolved_by"], json!({"sub": "rev-1", "role": "reviewer"}));
    assert_eq!(term(&c, "review_body_review")["state"], "met");
    let (s, p) = act(&app, &reviewer, &complaint("decide"), json!({"outcome": "rejected", "reason": "again"})).await;
    assert_eq!((s, p["state"].as_str()), (409, Some("upheld")), "{p}");

    let (_, a) = app.get(&format!("/api/v1/applications/{id}"), Some(&emp)).await;
    assert_eq!(a["status"], "in_progress", "{a}");
    // Reopened for a new decision: the quashed refusal is no longer the application's decision.
    assert!(a["decision"].is_null() && a["decided_at"].is_null(), "{a}");
    // The employee decides again and approves.
    let (s, a) = act(
        &app,
        &emp,
        &format!("/api/v1/applications/{id}/approve"),
        json!({"comment": "re-decided after the complaint"}),
    )
    .await;
    assert_eq!((s, a["status"].as_str()), (200, Some("approved")), "{a}");

    let (_, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&applicant)).await;
    let actions: Vec<&str> = h.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "submit",
            "accept",
            "assign",
            "preliminary_refusal",
            "record_hearing",
            "refuse",
            "complaint_filed",
            "complaint_forwarded",
            "complaint_upheld",
            "reopen",
            "approve"
        ]
    );
    let filed = &h[6];
    assert_eq!((filed["from_status"].as_str(), filed["to_status"].as_str()), (Some("refused"), Some("refused")));
    assert_eq!(filed["at"], "2026-11-30T05:00:00Z");
    assert_eq!(h[9]["changes"]["status"], json!({"old": "refused", "new": "in_progress"}));
    assert_eq!(h[9]["actor"], json!({"sub": "rev-1", "role": "reviewer"}));

    let (_, n) = app.get("/api/v1/me/notifications?lang=en&limit=200", Some(&applicant)).await;
    let kinds: Vec<&str> = n["items"].as_array().unwrap().iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(
        &kinds[..5],
        ["status.approved", "status.in_progress", "complaint.upheld", "complaint.forwarded", "complaint.registered"],
        "{n}"
    );
    assert!(n["items"][4]["text"].as_str().unwrap().contains("07.12.2026"), "{n}");
    let (_, ru) = app.get("/api/v1/me/notifications?lang=ru", Some(&applicant)).await;
    assert!(ru["items"][2]["text"].as_str().unwrap().contains("удовлетворена"), "{ru}");

    // Lists and filters.
    let (_, mine) = app.get("/api/v1/complaints", Some(&applicant)).await;
    assert_eq!(mine["items"][0]["id"], cid.as_str());
    let (_, upheld) = app.get("/api/v1/complaints?status=upheld&service_key=free_school_meals", Some(&head)).await;
    assert_eq!(upheld["items"].as_array().unwrap().len(), 1, "{upheld}");
    let (_, none) = app.get("/api/v1/complaints?status=registered", Some(&head)).await;
    assert_eq!(none["items"], json!([]));
    let (_, other) = app.get("/api/v1/complaints", Some(&foreign_head)).await;
    assert_eq!(other["items"], json!([]));
    let (s, p) = app.get("/api/v1/complaints?status=lost", Some(&head)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("query.status")), "{p}");
});

e2e!(provider_satisfies_a_complaint_and_forwards_another_late, |app| {
    let id = refused_application(&app).await;
    let applicant = app.applicant(APPLICANT);
    let head = app.token(Role::Head, "head-1", Some(PROVIDER));
    app.clock.set(astana(11, 30, 10, 0));
    let (s, c) = act(
        &app,
        &applicant,
        &format!("/api/v1/applications/{id}/complaints"),
        json!({"subject": "decision", "text": "Refused wrongly."}),
    )
    .await;
    assert_eq!(s, 201, "{c}");
    let cid = c["id"].as_str().unwrap();
    // Thursday 3 December 18:00, the last day of the 3: satisfied on time, the refusal reopened.
    app.clock.set(astana(12, 3, 18, 0));
    let (s, c) = act(
        &app,
        &head,
        &format!("/api/v1/complaints/{cid}/satisfy"),
        json!({"reason": "The certificate is genuine after all."}),
    )
    .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("satisfied")), "{c}");
    assert_eq!((c["resolved_on_time"].as_bool(), c["reopened"].as_bool()), (Some(true), Some(true)), "{c}");
    assert_eq!(term(&c, "satisfaction")["state"], "met");
    assert_eq!(term(&c, "forwarding")["state"], "not_applicable");
    let (_, a) = app.get(&format!("/api/v1/applications/{id}"), Some(&head)).await;
    assert_eq!(a["status"], "in_progress");
    let (s, p) = act(&app, &head, &format!("/api/v1/complaints/{cid}/forward"), json!({})).await;
    assert_eq!((s, p["state"].as_str()), (409, Some("satisfied")), "{p}");

    // Ten minutes later, a complaint about inaction while in progress: satisfy or forward by Tuesday
    // 8 December (Fri 4, Mon 7, Tue 8), review by Thursday 10 December; forwarded on Wednesday
    // 9 December, one working day late.
    app.clock.set(astana(12, 3, 18, 10));
    let (s, c) = act(
        &app,
        &applicant,
        &format!("/api/v1/applications/{id}/complaints"),
        json!({"subject": "inaction", "text": "Nothing happens."}),
    )
    .await;
    assert_eq!((s, c["application_status"].as_str()), (201, Some("in_progress")), "{c}");
    assert_eq!(
        (c["forward_due_date"].as_str(), c["provider_due_date"].as_str()),
        (Some("2026-12-08"), Some("2026-12-10")),
        "{c}"
    );
    let cid = c["id"].as_str().unwrap();
    app.clock.set(astana(12, 9, 10, 0));
    let (_, c) = app.get(&format!("/api/v1/complaints/{cid}"), Some(&head)).await;
    assert_eq!(term(&c, "forwarding")["state"], "overdue", "{c}");
    let (s, c) = act(&app, &head, &format!("/api/v1/complaints/{cid}/forward"), json!({})).await;
    assert_eq!((s, c["forwarded_on_time"].as_bool()), (200, Some(false)), "{c}");
    assert_eq!(term(&c, "forwarding")["state"], "missed");
    assert_eq!(term(&c, "provider_review")["state"], "met", "within the 5 days to 10 December");
    // Wednesday 9 December + 15 working days, skipping 16 December (Independence Day): Thursday 31 December.
    assert_eq!(c["review_due_date"], "2026-12-31", "{c}");
    // Rejected: the application stays as it is.
    let reviewer = app.token(Role::Reviewer, "rev-1", Some("quality-agency"));
    let (s, c) = act(
        &app,
        &reviewer,
        &format!("/api/v1/complaints/{cid}/decide"),
        json!({"outcome": "rejected", "reason": "The term had not ended."}),
    )
    .await;
    assert_eq!((s, c["status"].as_str(), c["reopened"].as_bool()), (200, Some("rejected"), Some(false)), "{c}");
    let (_, a) = app.get(&format!("/api/v1/applications/{id}"), Some(&head)).await;
    assert_eq!(a["status"], "in_progress");
    let (_, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&head)).await;
    let actions: Vec<&str> = h.as_array().unwrap().iter().skip(6).map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "complaint_filed",
            "complaint_satisfied",
            "reopen",
            "complaint_filed",
            "complaint_forwarded",
            "complaint_rejected"
        ]
    );

    // Keyset pagination over the applicant's two complaints.
    let (_, p1) = app.get("/api/v1/complaints?limit=1", Some(&applicant)).await;
    assert_eq!(p1["items"][0]["id"], cid);
    let cursor = p1["next_cursor"].as_str().unwrap().to_string();
    let (_, p2) = app.get(&format!("/api/v1/complaints?limit=1&cursor={cursor}"), Some(&applicant)).await;
    assert_eq!(p2["items"][0]["status"], "satisfied", "{p2}");
    assert!(p2["next_cursor"].is_null());
});

// A complaint filed while a command holds its application waits for that command, and is refused as
// a lost race when the command changed the application: the filing was decided on what it had read.
// `record` takes the application's row before its history position, in the order a command's update
// does, so the two cannot each hold what the other needs. SQLite serialises writes in the process.
e2e!(a_complaint_filed_while_a_command_changes_its_application_waits_and_is_refused, |app| {
    if app.backend != e2e::Backend::Postgres {
        return;
    }
    let id = refused_application(&app).await;
    let db = app.database();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let row = id.clone();
    // Stands in for a command in flight: holds the row until the filing waits for it, then changes it.
    let command = std::thread::spawn(move || {
        db.write(|c| {
            use diesel::sql_types::Text;
            use diesel::RunQueryDsl;
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT id FROM applications WHERE id = $1 FOR UPDATE")
                .bind::<Text, _>(&row)
                .execute(c)?;
            locked.send(()).unwrap();
            let waiting = "SELECT count(*) AS n FROM pg_stat_activity \
                           WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'";
            let mut waited = false;
            for _ in 0..500 {
                // pg_stat_activity is a snapshot per transaction unless cleared.
                diesel::sql_query("SELECT pg_stat_clear_snapshot()").execute(c)?;
                if diesel::sql_query(waiting).get_result::<Count>(c)?.n > 0 {
                    waited = true;
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            diesel::sql_query("UPDATE applications SET row_version = row_version + 1 WHERE id = $1")
                .bind::<Text, _>(&row)
                .execute(c)?;
            Ok(waited)
        })
    });
    tokio::task::spawn_blocking(move || is_locked.recv().unwrap()).await.unwrap();
    let (s, p) = act(
        &app,
        &app.applicant(APPLICANT),
        &format!("/api/v1/applications/{id}/complaints"),
        json!({"subject": "decision", "text": "Refused wrongly."}),
    )
    .await;
    let waited = tokio::task::spawn_blocking(move || command.join().unwrap().unwrap()).await.unwrap();
    assert!(waited, "the filing waited for the command holding its application");
    assert_eq!((s, p["code"].as_str()), (409, Some("concurrent_change")), "{p}");
    let (_, none) = app.get("/api/v1/complaints", Some(&app.applicant(APPLICANT))).await;
    assert_eq!(none["items"], json!([]), "nothing of the refused filing was kept");
});
