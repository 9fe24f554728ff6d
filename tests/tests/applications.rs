//! Filing and reading applications: the first vertical slice, on both databases.

use api::auth::Role;
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";
const OTHER_APPLICANT: &str = "850505400127";
const SERVICE: &str = "free_school_meals";

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn body(channel: &str) -> Value {
    json!({"service_key": SERVICE, "channel": channel, "provider_id": "astana-education", "form": form_for(SERVICE, today(), APPLICANT)})
}

async fn submit(app: &TestApp, token: &str, body: &Value, key: Option<&str>) -> Value {
    let (s, b) = app.post("/api/v1/applications", Some(token), body, key).await;
    assert_eq!(s, 201, "{b}");
    b
}

e2e!(submit_read_list_and_history, |app| {
    let t = app.applicant(APPLICANT);
    let a = submit(&app, &t, &body("portal"), None).await;
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["applicant_iin"], APPLICANT);
    assert_eq!(a["channel"], "portal");
    assert_eq!(a["passport_version"], "order-414-2022");
    assert_eq!(a["registration_number"], "2026-000001");
    // Filed Monday 23 November 2026 at 10:00 in Astana; 5 working days: Monday 30 November, 18:30 local.
    assert_eq!(a["submitted_at"], "2026-11-23T05:00:00Z");
    assert_eq!(a["counted_from"], "2026-11-23T05:00:00Z");
    assert_eq!(a["due_date"], "2026-11-30");
    assert_eq!(a["due_at"], "2026-11-30T13:30:00Z");

    let id = a["id"].as_str().unwrap();
    let res = app.client.get(app.url(&format!("/api/v1/applications/{id}"))).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let read: Value = res.json().await.unwrap();
    assert_eq!(read, a);

    let second = submit(&app, &t, &body("portal"), None).await;
    assert_eq!(second["registration_number"], "2026-000002");
    let (s, page) = app.get("/api/v1/applications", Some(&t)).await;
    assert_eq!(s, 200);
    let ids: Vec<&str> = page["items"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![second["id"].as_str().unwrap(), id], "newest first");
    assert!(page["next_cursor"].is_null());

    // Keyset pagination: one per page.
    let (_, p1) = app.get("/api/v1/applications?limit=1", Some(&t)).await;
    assert_eq!(p1["items"].as_array().unwrap().len(), 1);
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let (_, p2) = app.get(&format!("/api/v1/applications?limit=1&cursor={cursor}"), Some(&t)).await;
    assert_eq!(p2["items"][0]["id"], id);
    assert!(p2["next_cursor"].is_null());

    // The provider's staff page the same way (their unfiltered list is a query of its own), and
    // another provider's staff see none of it.
    let staff = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let (_, p1) = app.get("/api/v1/applications?limit=1", Some(&staff)).await;
    assert_eq!(p1["items"][0]["id"], second["id"], "{p1}");
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let (_, p2) = app.get(&format!("/api/v1/applications?limit=1&cursor={cursor}"), Some(&staff)).await;
    assert_eq!((p2["items"][0]["id"].as_str(), p2["next_cursor"].is_null()), (Some(id), true), "{p2}");
    let foreign = app.token(Role::Employee, "emp-2", Some("almaty-education"));
    let (_, none) = app.get("/api/v1/applications", Some(&foreign)).await;
    assert_eq!(none["items"], json!([]), "{none}");

    let (s, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&t)).await;
    assert_eq!(s, 200);
    let h = h.as_array().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["seq"], 1);
    assert_eq!(h[0]["action"], "submit");
    assert_eq!(h[0]["actor"], json!({"sub": APPLICANT, "role": "applicant"}));
    assert_eq!(h[0]["to_status"], "submitted");
    assert!(h[0]["from_status"].is_null());
    assert_eq!(h[0]["changes"]["status"], json!({"old": null, "new": "submitted"}));
    assert_eq!(h[0]["changes"]["due_date"]["new"], "2026-11-30");
});

e2e!(others_get_404_not_a_leak, |app| {
    let a = submit(&app, &app.applicant(APPLICANT), &body("portal"), None).await;
    let id = a["id"].as_str().unwrap();
    let other = app.applicant(OTHER_APPLICANT);
    for path in [format!("/api/v1/applications/{id}"), format!("/api/v1/applications/{id}/history")] {
        let (s, b) = app.get(&path, Some(&other)).await;
        assert_eq!(s, 404, "{path}: {b}");
        assert_eq!(b["code"], "not_found");
    }
    let (_, page) = app.get("/api/v1/applications", Some(&other)).await;
    assert_eq!(page["items"], json!([]));

    // Staff of the provider see it; staff of another provider do not.
    let own = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&own)).await;
    assert_eq!(s, 200);
    let foreign = app.token(Role::Employee, "emp-2", Some("almaty-education"));
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&foreign)).await;
    assert_eq!(s, 404);
    let (_, page) = app.get("/api/v1/applications", Some(&foreign)).await;
    assert_eq!(page["items"], json!([]));
    // A State Corporation operator sees only what was filed at their centre.
    let operator = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&operator)).await;
    assert_eq!(s, 404);
});

e2e!(same_idempotency_key_and_body_yield_one_application, |app| {
    let t = app.applicant(APPLICANT);
    let first = submit(&app, &t, &body("portal"), Some("retry-123")).await;
    let res = app
        .client
        .post(app.url("/api/v1/applications"))
        .bearer_auth(&t)
        .header("Idempotency-Key", "retry-123")
        .json(&body("portal"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    // The same key with another body is refused, naming the header.
    let mut changed = body("portal");
    changed["provider_id"] = json!("almaty-education");
    let (s, b) = app.post("/api/v1/applications", Some(&t), &changed, Some("retry-123")).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["code"], "idempotency_key_reused");
    assert_eq!(b["errors"][0]["field"], "header.Idempotency-Key");

    // Ten concurrent retries of a new key still make one application.
    let burst = body("portal");
    let futures = (0..10).map(|_| app.post("/api/v1/applications", Some(&t), &burst, Some("burst-1")));
    let results = futures::future::join_all(futures).await;
    let ids: std::collections::BTreeSet<String> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    let (_, page) = app.get("/api/v1/applications", Some(&t)).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "one for retry-123, one for burst-1");
});

e2e!(operator_files_for_a_person_at_a_centre, |app| {
    // The State Corporation channel is offered by school camp referrals, not by meals.
    let operator = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    let mut b = json!({"service_key": "school_camp_referral", "channel": "state_corporation", "provider_id": "astana-education",
        "form": form_for("school_camp_referral", today(), "900101300126"),
        "applicant_iin": APPLICANT,
        "representative": {"iin": "880315300123", "full_name": "Сейткали Асель", "power_of_attorney": {"number": "2026-1", "issued_on": "2026-01-10", "notary": "Нотариус Ахметова Д.С."}}});
    // A wrong IIN is refused with the rule it broke.
    b["applicant_iin"] = json!("900101300124");
    let (s, p) = app.post("/api/v1/applications", Some(&operator), &b, None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "applicant_iin");
    assert_eq!(p["errors"][0]["rule"], "iin_checksum");
    b["applicant_iin"] = json!("900101300126");
    let a = submit(&app, &operator, &b, None).await;
    assert_eq!(a["channel"], "state_corporation");
    assert_eq!(a["intake_org_id"], "gfc-astana-1");
    assert_eq!(a["representative"]["power_of_attorney"]["number"], "2026-1");
    let id = a["id"].as_str().unwrap();
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&operator)).await;
    assert_eq!(s, 200);
    // The person it was filed for sees it too.
    let (s, _) = app.get(&format!("/api/v1/applications/{id}"), Some(&app.applicant("900101300126"))).await;
    assert_eq!(s, 200);

    // Meals are not offered at State Corporation centres.
    let (s, p) = app.post("/api/v1/applications", Some(&operator), &json!({"service_key": SERVICE, "channel": "state_corporation", "provider_id": "astana-education", "form": form_for(SERVICE, today(), "900101300126"), "applicant_iin": "900101300126"}), None).await;
    assert_eq!(s, 422);
    assert_eq!(p["errors"][0]["rule"], "channel_not_offered");
});

e2e!(forms_are_checked_against_the_passport_schema, |app| {
    let t = app.applicant(APPLICANT);
    let mut b = body("portal");
    b["form"]["children"][0]["iin"] = json!("150321650011");
    b["form"].as_object_mut().unwrap().remove("personal_data_consent");
    let (s, p) = app.post("/api/v1/applications", Some(&t), &b, None).await;
    assert_eq!(s, 422, "{p}");
    let fields: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["rule"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("form.children[0].iin", "format")), "{p}");
    assert!(fields.contains(&("form.personal_data_consent", "required")), "{p}");

    // The form's applicant must be the person filing.
    let mut b = body("portal");
    b["form"]["applicant"]["iin"] = json!("150321650010");
    let (s, p) = app.post("/api/v1/applications", Some(&t), &b, None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "form.applicant.iin");
    assert_eq!(p["errors"][0]["rule"], "must_match_applicant");

    // Nothing was stored by the refused submissions.
    let (_, page) = app.get("/api/v1/applications", Some(&t)).await;
    assert_eq!(page["items"], json!([]));
});

e2e!(services_not_in_force_refuse_new_applications, |app| {
    // The Shal akyn 2012 regulation was repealed in 2013; nothing replaced it.
    let t = app.applicant(APPLICANT);
    let (s, p) = app
        .post("/api/v1/applications", Some(&t), &json!({"service_key": "unemployed_citizen_certificate", "channel": "portal", "provider_id": "astana-education", "form": {}}), None)
        .await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "service_key");
    assert_eq!(p["errors"][0]["rule"], "service_not_in_force");
});

// Registration numbers restart each year: the sequences of this year and the next exist from the
// start, and a year beyond them (a server left running into 2028) opens its own on its first filing.
e2e!(each_year_numbers_from_one_also_a_year_not_prepared_at_start, |app| {
    use chrono::TimeZone;
    let t = app.applicant(APPLICANT);
    let a = submit(&app, &t, &body("portal"), None).await;
    assert_eq!(a["registration_number"], "2026-000001");
    for (at, first, second) in [
        // 2027 was prepared at start (the year after the clock's), 2028 was not.
        (chrono::Utc.with_ymd_and_hms(2027, 2, 3, 5, 0, 0).unwrap(), "2027-000001", "2027-000002"),
        (chrono::Utc.with_ymd_and_hms(2028, 2, 2, 5, 0, 0).unwrap(), "2028-000001", "2028-000002"),
    ] {
        app.clock.set(at);
        let on = at.date_naive();
        let body = json!({"service_key": SERVICE, "channel": "portal", "provider_id": "astana-education", "form": form_for(SERVICE, on, APPLICANT)});
        let t = app.applicant(APPLICANT);
        let a = submit(&app, &t, &body, None).await;
        let b = submit(&app, &t, &body, None).await;
        assert_eq!((a["registration_number"].as_str(), b["registration_number"].as_str()), (Some(first), Some(second)));
    }
});

// Numbers loaded or imported with their counter (`counters`, `registration:<year>`) are never handed
// out again: a restarted server raises its sequence past the counter.
e2e!(a_restart_numbers_after_the_counter_of_loaded_applications, |app| {
    use diesel::RunQueryDsl;
    let t = app.applicant(APPLICANT);
    let a = submit(&app, &t, &body("portal"), None).await;
    assert_eq!(a["registration_number"], "2026-000001");
    app.database()
        .write(|c| {
            diesel::sql_query("UPDATE counters SET value = 41 WHERE name = 'registration:2026'").execute(c)?;
            diesel::sql_query(
                "INSERT INTO counters (name, value) SELECT 'registration:2026', 41 \
                 WHERE NOT EXISTS (SELECT 1 FROM counters WHERE name = 'registration:2026')",
            )
            .execute(c)?;
            Ok(())
        })
        .unwrap();
    let restarted = app.restarted();
    let t = restarted.applicant(APPLICANT);
    let b = submit(&restarted, &t, &body("portal"), None).await;
    assert_eq!(b["registration_number"], "2026-000042", "{b}");
});
