//! Any number of instances on one database behave as one (issue 11): an administrator's change made
//! through one instance (a new decree, a published passport version) takes effect on the other within
//! a second, and changes serialise through the database, not through a process.

use std::time::{Duration, Instant};

use api::auth::Role;
use e2e::{e2e, TestApp};
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
