//! Any number of instances on one database behave as one (issue 11): an administrator's change made
//! through one instance (a new decree, a published passport version) takes effect on the other within
//! a second, and changes serialise through the database, not through a process.

use std::time::{Duration, Instant};

use api::auth::Role;
use e2e::{e2e, e2e_with, TestApp};
use serde_json::{json, Value};

/// Asks `probe` until it answers `want`, for at most `within`; returns how long it took.
async fn eventually(within: Duration, mut probe: impl AsyncFnMut() -> Value, want: Value) -> Duration {
    let started = Instant::now();
    loop {
        let got = probe().await;
        if got == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "still {got} after {within:?}, want {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The 2026 data with one new decree: Wednesday 25 November 2026 becomes a day off, Saturday 19 December
/// a working day.
fn decree_moving_25_november() -> Value {
    json!({
        "reason": "order No 77 of 20 November 2026",
        "kurban_ait": {"date": "2026-05-27", "confidence": "confirmed"},
        "decrees": [{"id": "mlsp-2026-11", "kind": "ministry_order", "number": "77", "date": "2026-11-20", "confidence": "confirmed"}],
        "transfers": [{"day_off": "2026-11-25", "working_day": "2026-12-19", "decree": "mlsp-2026-11"}],
    })
}

e2e!(a_change_through_one_instance_takes_effect_on_the_other_within_a_second, |app| {
    let second = app.restarted();
    let admin = app.token(Role::Admin, "admin-1", None);
    let five_days = json!({"start": "2026-11-23T10:00:00+05:00", "value": 5, "unit": "working_days"});
    let due_on = |instance: &TestApp| {
        let (client, url, body) =
            (instance.client.clone(), instance.url("/api/v1/calendar/deadline"), five_days.clone());
        async move {
            let res = client.post(url).json(&body).send().await.unwrap();
            res.json::<Value>().await.unwrap()["due_date"].clone()
        }
    };
    assert_eq!(due_on(&second).await, json!("2026-11-30"));

    // A new decree, recorded through the first instance.
    let res = app
        .client
        .put(app.url("/api/v1/calendar/2026"))
        .bearer_auth(&admin)
        .json(&decree_moving_25_november())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert_eq!(status, 200, "{}", res.text().await.unwrap());
    assert_eq!(due_on(&app).await, json!("2026-12-01"), "at once on the instance that made it");
    let took = eventually(Duration::from_secs(1), || due_on(&second), json!("2026-12-01")).await;
    eprintln!("the second instance counted on the new decree after {took:?}");

    // A passport version published through the second instance is served by the first.
    let catalog = domain::catalog::Catalog::builtin();
    let current = catalog.service("free_school_meals").unwrap().versions.last().unwrap();
    let mut doc = serde_json::to_value(current).unwrap();
    doc["version"] = json!("order-999-2027");
    doc["effective_from"] = json!("2027-01-01");
    doc["act"]["number"] = json!("999");
    let (s, p) = second.post("/api/v1/services/free_school_meals/versions", Some(&admin), &doc, None).await;
    assert_eq!(s, 201, "{p}");
    let versions_on = |instance: &TestApp| {
        let (client, url) = (instance.client.clone(), instance.url("/api/v1/services/free_school_meals/versions"));
        async move {
            let v = client.get(url).send().await.unwrap().json::<Value>().await.unwrap();
            json!(v["versions"].as_array().unwrap().iter().any(|x| x["version"] == "order-999-2027"))
        }
    };
    eventually(Duration::from_secs(1), || versions_on(&app), json!(true)).await;
    // Publishing the same version through the first instance now is a conflict: it builds on the
    // database, not on what it had in memory.
    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&admin), &doc, None).await;
    assert_eq!((s, p["code"].as_str()), (409, Some("version_exists")), "{p}");
});

// A filing through the second instance right after a decree recorded through the first, before the
// second's watcher could have polled: the filing pins the law in its own transaction and finds the
// new generation, so its due date counts the new day off (the 400 ms window of the watcher is closed
// for every write that depends on the law).
e2e!(a_filing_right_after_a_change_through_another_instance_counts_on_the_change, |app| {
    let second = app.restarted();
    let admin = app.token(Role::Admin, "admin-1", None);
    let applicant = "900101300116";
    let body = json!({
        "service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education",
        "form": e2e::form_for("free_school_meals", chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), applicant),
    });
    let t = second.applicant(applicant);
    let (s, before) = second.post("/api/v1/applications", Some(&t), &body, None).await;
    assert_eq!((s, before["due_date"].as_str()), (201, Some("2026-11-30")), "{before}");

    let res = app
        .client
        .put(app.url("/api/v1/calendar/2026"))
        .bearer_auth(&admin)
        .json(&decree_moving_25_november())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (s, after) = second.post("/api/v1/applications", Some(&t), &body, None).await;
    assert_eq!((s, after["due_date"].as_str()), (201, Some("2026-12-01")), "{after}");
    // And the change recomputed the one filed before it.
    let id = before["id"].as_str().unwrap();
    let (s, moved) = second.get(&format!("/api/v1/applications/{id}"), Some(&t)).await;
    assert_eq!((s, moved["due_date"].as_str()), (200, Some("2026-12-01")), "{moved}");
});

/// What an instance that crashed right after recording the decree of 25 November leaves behind: the
/// year changed and in force (the generation bumped), its walk over the open applications started
/// and never driven, leased to `lease` if given.
fn record_without_walking(app: &TestApp, lease: Option<(&str, chrono::NaiveDateTime)>) -> String {
    use domain::calendar::{BusinessCalendar, Confidence, Decree, DecreeKind, Transfer};
    use domain::clock::Clock;
    let day = |m, d| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
    let mut data = BusinessCalendar::kazakhstan().year_data(2026).cloned().expect("2026 is shipped");
    data.decrees = vec![Decree {
        id: "mlsp-2026-11".into(),
        kind: DecreeKind::MinistryOrder,
        number: Some("77".into()),
        date: Some(day(11, 20)),
        year: None,
        adilet: None,
        confidence: Confidence::Confirmed,
        note: None,
    }];
    data.transfers = vec![Transfer { day_off: day(11, 25), working_day: day(12, 19), decree: "mlsp-2026-11".into() }];
    let id = uuid::Uuid::now_v7().to_string();
    let at = app.clock.now().naive_utc();
    let change = persistence::calendar::CalendarChange {
        id: id.clone(),
        year: 2026,
        data: serde_json::to_string(&data).unwrap(),
        reason: "order No 77 of 20 November 2026".into(),
        changed_at: at,
        changed_by: "admin-1".into(),
    };
    app.database()
        .write(|c| {
            persistence::law::begin_change(c)?;
            persistence::calendar::insert(c, &change)?;
            persistence::calendar::start_recompute(c, &persistence::calendar::Recompute::start(&id, lease, at))
        })
        .unwrap();
    id
}

fn walk_of(app: &TestApp, change_id: &str) -> persistence::calendar::Recompute {
    app.database().read(|c| persistence::calendar::recompute_of(c, change_id)).unwrap().expect("the change's walk")
}

async fn file_meals(app: &TestApp) -> Value {
    let applicant = "900101300116";
    let body = json!({
        "service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education",
        "form": e2e::form_for("free_school_meals", chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), applicant),
    });
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(applicant)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn application(app: &TestApp, id: &Value) -> Value {
    let t = app.applicant("900101300116");
    let (s, a) = app.get(&format!("/api/v1/applications/{}", id.as_str().unwrap()), Some(&t)).await;
    assert_eq!(s, 200, "{a}");
    a
}

// A decree's walk over the open applications runs after the decree's own short transaction: a filing
// made before the walk reached anything counts on the new decree at once, and a walk cut off by a
// crash of the instance that recorded it is finished by another instance, each moved application
// with its history entry naming the change.
e2e_with!(a_walk_cut_off_by_a_crash_is_finished_by_another_instance, |s| s.resume_recomputes = false, |first| {
    let before = file_meals(&first).await;
    assert_eq!(before["due_date"], "2026-11-30");
    let change_id = record_without_walking(&first, None);

    // The decree is in force for filings while its walk has not moved anything yet.
    let meanwhile = file_meals(&first).await;
    assert_eq!(meanwhile["due_date"], "2026-12-01", "{meanwhile}");
    let waiting = application(&first, &before["id"]).await;
    assert_eq!((waiting["due_date"].as_str(), waiting["version"].as_i64()), (Some("2026-11-30"), Some(1)));
    assert_eq!(walk_of(&first, &change_id).finished_at, None);

    // Another instance takes the walk over (no driver holds it) and finishes it.
    let second = first.restarted();
    let took = eventually(
        Duration::from_secs(10),
        || {
            let second = &second;
            let id = before["id"].clone();
            async move { application(second, &id).await["due_date"].clone() }
        },
        json!("2026-12-01"),
    )
    .await;
    eprintln!("the second instance finished the walk after {took:?}");
    let walk = walk_of(&first, &change_id);
    assert!(walk.finished_at.is_some(), "{walk:?}");
    assert_eq!(walk.moved_count, 1, "only the one filed before the decree moved");
    let t = first.applicant("900101300116");
    let (s, h) =
        second.get(&format!("/api/v1/applications/{}/history", before["id"].as_str().unwrap()), Some(&t)).await;
    assert_eq!(s, 200, "{h}");
    let entry = h.as_array().unwrap().last().unwrap();
    assert_eq!(entry["action"], "calendar_changed");
    assert_eq!(entry["actor"], json!({"sub": "admin-1", "role": "admin"}));
    assert_eq!(entry["changes"]["calendar"]["change_id"], change_id.as_str());
    assert_eq!(entry["changes"]["calendar"]["days"][0]["date"], "2026-11-25");
    assert!(entry["reason"].as_str().unwrap().contains("No 77"), "{entry}");
    assert_eq!(application(&first, &meanwhile["id"]).await["version"], 1, "filed on the decree: nothing to move");
});

// A new calendar change builds on the calendar an unfinished walk's change made: while another
// driver's lease on that walk runs, it is refused (409, nothing recorded); once the lease ran out,
// it finishes that walk first, then records itself.
e2e_with!(a_new_change_waits_for_an_unfinished_walk_then_finishes_it, |s| s.resume_recomputes = false, |app| {
    let admin = app.token(Role::Admin, "admin-1", None);
    let before = file_meals(&app).await;
    let lease = chrono::Utc::now().naive_utc() + chrono::Duration::seconds(300);
    let change_id = record_without_walking(&app, Some(("an-instance-still-walking", lease)));
    let put = || async {
        let res = app
            .client
            .put(app.url("/api/v1/calendar/2026"))
            .bearer_auth(&admin)
            .json(&decree_moving_25_november())
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    };
    let generation = app.database().read(persistence::law::generation).unwrap();
    let (s, p) = put().await;
    assert_eq!((s, p["code"].as_str()), (409, Some("calendar_change_in_progress")), "{p}");

    // The driver went silent: its lease ran out.
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    app.database()
        .write(|c| {
            persistence::calendar::claim_recompute(c, &change_id, "an-instance-still-walking", past, past).map(drop)
        })
        .unwrap();
    let (s, r) = put().await;
    assert_eq!(s, 200, "{r}");
    // The same year again moves no day, so nothing of its own; the earlier walk moved the one filed.
    assert_eq!(r["recomputed_count"], 0, "{r}");
    assert!(walk_of(&app, &change_id).finished_at.is_some());
    assert_eq!(walk_of(&app, &change_id).moved_count, 1);
    assert_eq!(application(&app, &before["id"]).await["due_date"], "2026-12-01");
    assert_eq!(
        app.database().read(persistence::law::generation).unwrap(),
        generation + 1,
        "the refused attempt recorded nothing; the second one did"
    );
});
