//! The business calendar over HTTP, on both databases: a year's days off with their reasons, deadlines
//! computed by hand from the calendar data, and an administrator's new decree moving an open
//! application's due date in its history.

use api::auth::Role;
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";

fn days<'a>(year: &'a Value, list: &str) -> Vec<&'a Value> {
    year[list].as_array().unwrap_or_else(|| panic!("{list} in {year}")).iter().collect()
}

fn day<'a>(year: &'a Value, list: &str, date: &str) -> &'a Value {
    days(year, list).into_iter().find(|d| d["date"] == date).unwrap_or_else(|| panic!("{date} not in {list}"))
}

fn dates(year: &Value, list: &str) -> Vec<String> {
    days(year, list).iter().map(|d| d["date"].as_str().unwrap().to_string()).collect()
}

async fn deadline(app: &TestApp, lang: &str, body: Value) -> Value {
    let (s, d) = app.post(&format!("/api/v1/calendar/deadline?lang={lang}"), None, &body, None).await;
    assert_eq!(s, 200, "{d}");
    d
}

async fn put_year(app: &TestApp, year: i32, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut r = app.client.put(app.url(&format!("/api/v1/calendar/{year}"))).json(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    if status >= 400 {
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    (status, res.json().await.unwrap_or(Value::Null))
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

e2e!(year_2026_lists_nauryz_observed_days_and_16_december, |app| {
    let (s, y) = app.get("/api/v1/calendar/2026?lang=en", None).await;
    assert_eq!(s, 200, "{y}");
    assert_eq!(y["year"], 2026);
    assert_eq!(y["coverage"], "data");
    assert_eq!(y["zone"], "Asia/Almaty");
    assert_eq!(y["utc_offsets"], json!([{"from": "2026-01-01", "utc_offset": "+05:00"}]));
    assert_eq!(y["working_hours"]["start"], "09:00");
    assert_eq!(y["working_hours"]["end"], "18:30");
    assert_eq!(y["working_hours"]["lunch_start"], "13:00");
    assert_eq!(y["working_hours"]["lunch_end"], "14:30");
    assert_eq!(y["kurban_ait"]["date"], "2026-05-27");

    // Nauryz 21-23 March (Saturday to Monday); 21 and 22 March fell on a weekend, so Tuesday 24 and
    // Wednesday 25 March are days off in their place (Labour Code art. 85 p. 2).
    for date in ["2026-03-21", "2026-03-22", "2026-03-23"] {
        let d = day(&y, "days_off", date);
        assert_eq!(d["kind"], "holiday", "{d}");
        assert_eq!(d["holiday_id"], "nauryz");
        assert_eq!(d["holiday_name"], "Nauryz");
        assert_eq!(d["working"], false);
        assert_eq!(d["reason"], "public holiday: Nauryz");
    }
    assert_eq!(day(&y, "days_off", "2026-03-21")["weekday"], "sat");
    for (date, holiday) in [("2026-03-24", "2026-03-21"), ("2026-03-25", "2026-03-22")] {
        let d = day(&y, "days_off", date);
        assert_eq!(d["kind"], "observed_holiday", "{d}");
        assert_eq!(d["holiday_date"], holiday);
        assert_eq!(d["holiday_id"], "nauryz");
    }
    let independence = day(&y, "days_off", "2026-12-16");
    assert_eq!(independence["kind"], "holiday");
    assert_eq!(independence["holiday_id"], "independence_day");
    let listed = dates(&y, "days_off");
    // First President Day (1 December) and the second Independence Day (17 December) ended in 2021.
    assert!(!listed.contains(&"2026-12-01".to_string()), "{listed:?}");
    assert!(!listed.contains(&"2026-12-17".to_string()), "{listed:?}");
    assert!(!listed.contains(&"2026-03-26".to_string()), "{listed:?}");
    assert_eq!(
        listed,
        [
            "2026-01-01",
            "2026-01-02",
            "2026-01-07",
            "2026-03-08",
            "2026-03-09",
            "2026-03-21",
            "2026-03-22",
            "2026-03-23",
            "2026-03-24",
            "2026-03-25",
            "2026-05-01",
            "2026-05-07",
            "2026-05-09",
            "2026-05-11",
            "2026-05-27",
            "2026-07-06",
            "2026-10-25",
            "2026-10-26",
            "2026-12-16",
        ]
    );
    assert_eq!(y["working_weekend_days"], json!([]));

    // The same day in Russian, asked with Accept-Language.
    let res = app.client.get(app.url("/api/v1/calendar/2026")).header("Accept-Language", "ru-KZ").send().await.unwrap();
    assert_eq!(res.headers()["content-language"], "ru");
    let ru: Value = res.json().await.unwrap();
    assert_eq!(day(&ru, "days_off", "2026-03-21")["holiday_name"], "Наурыз мейрамы");
    assert_eq!(day(&ru, "days_off", "2026-03-21")["reason"], "праздничный день: Наурыз мейрамы");
});

e2e!(year_2024_moves_8_may_to_a_worked_4_may, |app| {
    let (s, y) = app.get("/api/v1/calendar/2024?lang=en", None).await;
    assert_eq!(s, 200, "{y}");
    let moved = day(&y, "days_off", "2024-05-08");
    assert_eq!(moved["kind"], "transferred_day_off", "{moved}");
    assert_eq!(moved["weekday"], "wed");
    assert_eq!(moved["moved_from"], "2024-05-04");
    assert_eq!(moved["decree"]["id"], "mlsp-2024-05");
    assert_eq!(moved["decree"]["kind"], "ministry_order");
    assert_eq!(moved["decree"]["date"], "2024-04-17");
    assert_eq!(moved["decree"]["citation"], "order of the Minister of Labour and Social Protection of 2024-04-17");
    assert_eq!(
        moved["reason"],
        "day off moved from 2024-05-04 (order of the Minister of Labour and Social Protection of 2024-04-17)"
    );
    assert_eq!(dates(&y, "working_weekend_days"), ["2024-05-04"]);
    let worked = day(&y, "working_weekend_days", "2024-05-04");
    assert_eq!(worked["kind"], "working_by_decree");
    assert_eq!(worked["weekday"], "sat");
    assert_eq!(worked["working"], true);
    assert_eq!(worked["day_off_moved_to"], "2024-05-08");
    assert_eq!(y["decrees"][0]["id"], "mlsp-2024-05");
    assert_eq!(
        y["transfers"],
        json!([{"day_off": "2024-05-08", "working_day": "2024-05-04", "decree": "mlsp-2024-05"}])
    );
    // The single time zone: +06:00 until 29 February, +05:00 from 1 March 2024.
    assert_eq!(
        y["utc_offsets"],
        json!([{"from": "2024-01-01", "utc_offset": "+06:00"}, {"from": "2024-03-01", "utc_offset": "+05:00"}])
    );
});

e2e!(year_far_outside_any_sense_is_422, |app| {
    for path in ["/api/v1/calendar/1990", "/api/v1/calendar/2101"] {
        let (s, b) = app.get(path, None).await;
        assert_eq!(s, 422, "{path}: {b}");
        assert_eq!(b["errors"][0]["field"], "year", "{b}");
    }
    // Not a year at all: no such resource (the route takes digits only).
    let (s, b) = app.get("/api/v1/calendar/twenty", None).await;
    assert_eq!((s, b["code"].as_str()), (404, Some("not_found")), "{b}");
    // PUT on the deadline calculator is a wrong method, not an attempt to change a year.
    let res = app.client.put(app.url("/api/v1/calendar/deadline")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    // A year without data is answered from the rules and says so.
    let (s, y) = app.get("/api/v1/calendar/2030?lang=en", None).await;
    assert_eq!(s, 200);
    assert_eq!(y["coverage"], "rules_only");
    assert!(y["kurban_ait"].is_null());
});

e2e!(deadline_from_friday_18_31_on_nauryz, |app| {
    // Friday 21 March 2025, 18:31 in Astana, is Nauryz (a holiday, and after hours anyway). 22-23 March
    // is the weekend, Monday 24 and Tuesday 25 March are the days off for the 22nd and 23rd, which fell
    // on a weekend. So the filing counts from Wednesday 26 March 09:00, and five working days are
    // 27, 28, 31 March, 1 and 2 April: due Wednesday 2 April 2025, 18:30 local (13:30 UTC).
    let d =
        deadline(&app, "en", json!({"start": "2025-03-21T18:31:00+05:00", "value": 5, "unit": "working_days"})).await;
    assert_eq!(d["start"], "2025-03-21T13:31:00Z");
    assert_eq!(d["counted_from_local"], "2025-03-26T09:00:00+05:00");
    assert_eq!(d["counted_from"], "2025-03-26T04:00:00Z");
    assert_eq!(d["due_date"], "2025-04-02");
    assert_eq!(d["due_local"], "2025-04-02T18:30:00+05:00");
    assert_eq!(d["due_at"], "2025-04-02T13:30:00Z");
    assert_eq!(d["coverage"], "data");
    assert_eq!(d["unit"], "working_days");
    let counted: Vec<&str> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "day_counted")
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(counted, ["2025-03-27", "2025-03-28", "2025-03-31", "2025-04-01", "2025-04-02"]);
    let explanation: Vec<&str> = d["explanation"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(explanation[0], "Filed at 2025-03-21 18:31 local time (Asia/Almaty, UTC+05:00)");
    assert!(explanation[1].starts_with("Filed on a day off (public holiday: Nauryz)"), "{explanation:?}");
    assert!(explanation[1].ends_with("2025-03-26 09:00"), "{explanation:?}");
    assert_eq!(*explanation.last().unwrap(), "Due 2025-04-02 18:30 local time (2025-04-02 13:30 UTC)");

    // A plain Friday a week earlier: 14 March 2025 at 18:31 is after hours, so it counts from Monday
    // 17 March; 18, 19, 20 March, then Nauryz (21-25 March) is skipped: 26 and 27 March. Due 27 March.
    let d =
        deadline(&app, "ru", json!({"start": "2025-03-14T18:31:00+05:00", "value": 5, "unit": "working_days"})).await;
    assert_eq!(d["counted_from_local"], "2025-03-17T09:00:00+05:00");
    assert_eq!(d["due_date"], "2025-03-27");
    assert_eq!(d["due_at"], "2025-03-27T13:30:00Z");
    let skipped: Vec<&str> = d["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "day_skipped")
        .map(|s| s["date"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["2025-03-21", "2025-03-22", "2025-03-23", "2025-03-24", "2025-03-25"]);
    assert_eq!(d["lang"], "ru");
    assert!(d["explanation"][1].as_str().unwrap().starts_with("Подано после окончания рабочего времени"), "{d}");
});

e2e!(deadline_across_the_2024_time_zone_change, |app| {
    // Thursday 29 February 2024, 10:00 in Almaty was UTC+6 (04:00 UTC). Two working days: Friday 1 and
    // Monday 4 March, when Almaty was already UTC+5: due 18:30 local = 13:30 UTC.
    let d = deadline(&app, "en", json!({"start": "2024-02-29T04:00:00Z", "value": 2, "unit": "working_days"})).await;
    assert_eq!(d["start_local"], "2024-02-29T10:00:00+06:00");
    assert_eq!(d["counted_from_local"], "2024-02-29T10:00:00+06:00");
    assert_eq!(d["due_date"], "2024-03-04");
    assert_eq!(d["due_local"], "2024-03-04T18:30:00+05:00");
    assert_eq!(d["due_at"], "2024-03-04T13:30:00Z");
    assert_eq!(d["explanation"][0], "Filed at 2024-02-29 10:00 local time (Asia/Almaty, UTC+06:00)");

    // 24 astronomical hours from 29 February 12:00 (+06:00, 06:00 UTC) end at 06:00 UTC on 1 March,
    // which is 11:00 local: the clocks went back an hour at midnight.
    let d = deadline(&app, "en", json!({"start": "2024-02-29T12:00:00+06:00", "value": 24, "unit": "hours"})).await;
    assert_eq!(d["due_at"], "2024-03-01T06:00:00Z");
    assert_eq!(d["due_local"], "2024-03-01T11:00:00+05:00");
    assert_eq!(d["due_date"], "2024-03-01");
});

// Due dates per channel (order No 414, row 7 of each service), computed by hand from the texts. In November
// 2026 no weekday is a holiday; 16 December 2026 (Wednesday) is Independence Day.

e2e!(deadline_at_the_state_corporation_on_a_saturday_counts_from_that_saturday, |app| {
    // Permission to meet the child: 5 working days from filing (004:3620-3626); the State Corporation works
    // Monday to Saturday 09:00-20:00 without lunch (004:3687-3693). Filed Saturday 21 November 2026 at
    // 10:00: the Saturday is the filing day (not counted), Monday 23 to Friday 27 November the 5 days.
    let d = deadline(
        &app,
        "en",
        json!({"start": "2026-11-21T10:00:00+05:00", "channel": "state_corporation", "service_key": "deprived_parent_meeting_permission"}),
    )
    .await;
    assert_eq!(d["version"], "order-414-2022");
    assert_eq!(d["term"], "service_term");
    assert_eq!((d["value"].as_u64(), d["unit"].as_str()), (Some(5), Some("working_days")));
    assert_eq!(d["channel"], "state_corporation");
    assert_eq!(d["counted_from_local"], "2026-11-21T10:00:00+05:00");
    assert_eq!(d["due_date"], "2026-11-27");
    assert_eq!(d["due_local"], "2026-11-27T18:30:00+05:00");
    let sch = &d["schedule"];
    assert_eq!(sch["origin"], "passport");
    assert_eq!(
        (sch["opens"].as_str(), sch["closes"].as_str(), sch["saturdays"].as_bool()),
        (Some("09:00"), Some("20:00"), Some(true))
    );
    assert!(sch["lunch"].is_null(), "{sch}");
    assert!(sch["source"].as_str().unwrap().starts_with("004:3687"), "{sch}");
    assert!(d["explanation"][1].as_str().unwrap().starts_with("Hours of intake – State Corporation"), "{d}");
    // The same filing on the portal is accepted on Monday: due Monday 30 November.
    let p = deadline(
        &app,
        "en",
        json!({"start": "2026-11-21T10:00:00+05:00", "channel": "state_corporation", "value": 5, "unit": "working_days"}),
    )
    .await;
    assert_eq!(p["due_date"], "2026-11-27", "the hours order No 414 gives the State Corporation in every service");
    assert_eq!(p["schedule"]["origin"], "calendar_rules");
    let portal = deadline(
        &app,
        "en",
        json!({"start": "2026-11-21T10:00:00+05:00", "channel": "portal", "value": 5, "unit": "working_days"}),
    )
    .await;
    assert_eq!(portal["counted_from_local"], "2026-11-23T09:00:00+05:00");
    assert_eq!(portal["due_date"], "2026-11-30");
});

e2e!(deadline_at_the_state_corporation_between_18_30_and_20_00_counts_from_that_day, |app| {
    // Wednesday 18 November 2026 at 19:00 at the State Corporation: open until 20:00, so it counts from
    // that day: 19, 20, 23, 24, 25 November, due Wednesday 25 November. The same moment at the provider's
    // office (Monday to Friday 09:00-18:30, 004:3680-3686) is after hours: Thursday 09:00, due 26 November.
    let body = |channel: &str| json!({"start": "2026-11-18T19:00:00+05:00", "channel": channel, "service_key": "deprived_parent_meeting_permission"});
    let sc = deadline(&app, "en", body("state_corporation")).await;
    assert_eq!(sc["counted_from_local"], "2026-11-18T19:00:00+05:00");
    assert_eq!(sc["due_date"], "2026-11-25");
    let office = deadline(&app, "en", body("provider_office")).await;
    assert_eq!(office["counted_from_local"], "2026-11-19T09:00:00+05:00");
    assert_eq!(office["due_date"], "2026-11-26");
    assert_eq!(office["schedule"]["lunch"], json!(["13:00", "14:30"]));
    assert!(
        office["explanation"][2].as_str().unwrap().starts_with("Recorded after the channel closed at 18:30"),
        "{office}"
    );
    // 20:30 at the State Corporation: closed; it next opens Saturday 21 November 09:00; due Friday 27th.
    let late = deadline(&app, "ru", json!({"start": "2026-11-20T20:30:00+05:00", "channel": "state_corporation", "service_key": "deprived_parent_meeting_permission"})).await;
    assert_eq!(late["counted_from_local"], "2026-11-21T09:00:00+05:00");
    assert_eq!(late["due_date"], "2026-11-27");
});

e2e!(deadline_on_the_portal_after_hours_counts_from_the_next_working_day, |app| {
    // Guardianship establishment: 19 working days (004:2425-2429); the portal accepts a filing made after
    // working hours on the next working day (004:2511-2523). Filed Wednesday 18 November 2026 at 18:45:
    // counted from Thursday 19 November 09:00; the 19th working day after it is Thursday 17 December
    // (16 December, Independence Day, skipped).
    let d = deadline(
        &app,
        "en",
        json!({"start": "2026-11-18T18:45:00+05:00", "channel": "portal", "service_key": "guardianship_establishment"}),
    )
    .await;
    assert_eq!(d["counted_from_local"], "2026-11-19T09:00:00+05:00");
    assert_eq!(d["due_date"], "2026-12-17");
    assert_eq!(d["schedule"]["around_the_clock"], true);
    assert_eq!(d["schedule"]["after_hours_next_working_day"], true);
    // At the State Corporation the same service filed on Saturday 21 November: due Friday 18 December.
    let sc = deadline(&app, "en", json!({"start": "2026-11-21T12:00:00+05:00", "channel": "state_corporation", "service_key": "guardianship_establishment"})).await;
    assert_eq!(sc["due_date"], "2026-12-18");
    // The unemployed certificate (Shal akyn 2012) through the CSC: 3 working days, excluding the days of
    // acceptance and issue (002:706-713). Filed Monday 11 February 2013: 12-14 February, issued Friday 15.
    let u = deadline(&app, "en", json!({"start": "2013-02-11T10:00:00+06:00", "channel": "state_corporation", "service_key": "unemployed_citizen_certificate"})).await;
    assert_eq!(u["version"], "shal-akyn-2012");
    assert_eq!(u["term"], "service_term_state_corporation");
    assert_eq!(u["schedule"]["origin"], "general", "the 2012 regulation states no hours");
    assert_eq!(u["due_date"], "2013-02-15");
    assert!(u["steps"].as_array().unwrap().iter().any(|s| s["step"] == "issue_day_excluded"), "{u}");
});

e2e!(deadline_for_a_service_needs_a_channel_it_offers, |app| {
    let cases = [
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "service_key": "no_such_service", "channel": "portal"}),
            "service_key",
        ),
        (json!({"start": "2026-11-21T10:00:00+05:00", "service_key": "guardianship_establishment"}), "channel"),
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "service_key": "guardianship_establishment", "channel": "provider_office"}),
            "channel",
        ),
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "channel": "teleport", "value": 1, "unit": "working_days"}),
            "channel",
        ),
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "subtype": "accreditation", "value": 1, "unit": "working_days"}),
            "subtype",
        ),
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "service_key": "adoption_agency_accreditation", "channel": "portal"}),
            "subtype",
        ),
        (
            json!({"start": "2026-11-21T10:00:00+05:00", "service_key": "adoption_agency_accreditation", "channel": "portal", "subtype": "nope"}),
            "subtype",
        ),
        (json!({"start": "2026-11-21T10:00:00+05:00", "channel": "portal", "value": 3}), "unit"),
    ];
    for (body, field) in cases {
        let (s, b) = app.post("/api/v1/calendar/deadline", None, &body, None).await;
        assert_eq!(s, 422, "{body}: {b}");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    // A subtype's own term: accreditation 30 calendar days (004:934-942) from Monday 23 November 2026 at
    // the provider's office: 23 December (Wednesday).
    let d = deadline(&app, "en", json!({"start": "2026-11-23T10:00:00+05:00", "service_key": "adoption_agency_accreditation", "channel": "provider_office", "subtype": "accreditation"})).await;
    assert_eq!((d["value"].as_u64(), d["unit"].as_str()), (Some(30), Some("calendar_days")));
    assert_eq!(d["due_date"], "2026-12-23");
});

e2e!(deadline_input_is_checked_field_by_field, |app| {
    let cases = [
        (json!({"start": "2025-03-21 18:31", "value": 5, "unit": "working_days"}), "start"),
        (json!({"start": "2025-03-21T18:31:00+05:00", "value": 5, "unit": "fortnights"}), "unit"),
        (json!({"start": "2025-03-21T18:31:00+05:00", "value": -1, "unit": "working_days"}), "value"),
        (json!({"start": "2025-03-21T18:31:00+05:00", "value": 1_000_000, "unit": "working_days"}), "value"),
        (json!({"start": "2025-03-21T18:31:00+05:00", "unit": "working_days"}), "value"),
        (json!({"start": "1900-01-01T00:00:00+05:00", "value": 1, "unit": "working_days"}), "start"),
        (json!({"start": "2025-03-21T18:31:00+05:00", "value": 5.5, "unit": "working_days"}), "value"),
    ];
    for (body, field) in cases {
        let (s, b) = app.post("/api/v1/calendar/deadline", None, &body, None).await;
        assert_eq!(s, 422, "{body}: {b}");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    // JSON Schema's `integer` (the spec) admits 5.0: so does the server, as 5.
    let body = json!({"start": "2025-03-21T18:31:00+05:00", "value": 5.0, "unit": "working_days"});
    let (s, b) = app.post("/api/v1/calendar/deadline", None, &body, None).await;
    assert_eq!(s, 200, "{b}");
    let five = json!({"start": "2025-03-21T18:31:00+05:00", "value": 5, "unit": "working_days"});
    assert_eq!(b, app.post("/api/v1/calendar/deadline", None, &five, None).await.1);
});

e2e!(only_an_admin_changes_the_calendar, |app| {
    let (s, b) = put_year(&app, 2026, None, &decree_moving_25_november()).await;
    assert_eq!(s, 401, "{b}");
    for role in [Role::Applicant, Role::Employee] {
        let org = (role == Role::Employee).then_some("astana-education");
        let token = app.token(role, "900101300116", org);
        let (s, b) = put_year(&app, 2026, Some(&token), &decree_moving_25_november()).await;
        assert_eq!(s, 403, "{b}");
        assert_eq!(b["code"], "forbidden");
        assert_eq!(b["type"], "urn:kz-family-services:problem:forbidden");
    }
    // Nothing changed.
    let (_, y) = app.get("/api/v1/calendar/2026", None).await;
    assert!(!dates(&y, "days_off").contains(&"2026-11-25".to_string()));
});

e2e!(a_new_decree_moves_an_open_applications_due_date, |app| {
    // Filed Monday 23 November 2026 at 10:00: five working days end Monday 30 November.
    let t = app.applicant(APPLICANT);
    let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education", "form": form_for("free_school_meals", on, APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&t), &body, None).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["due_date"], "2026-11-30");
    let id = a["id"].as_str().unwrap();

    // The decree makes Wednesday 25 November a day off: 24 (1), 26 (2), 27 (3), 30 November (4),
    // 1 December (5). The due date moves by one working day, to Tuesday 1 December.
    let admin = app.token(Role::Admin, "admin-1", None);
    let (s, r) = put_year(&app, 2026, Some(&admin), &decree_moving_25_november()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["recomputed"],
        json!([{"id": id, "registration_number": a["registration_number"], "old_due_date": "2026-11-30", "new_due_date": "2026-12-01",
                "old_due_at": "2026-11-30T13:30:00Z", "new_due_at": "2026-12-01T13:30:00Z"}])
    );
    assert_eq!(r["recomputed_count"], 1);
    let new_day_off = day(&r["calendar"], "days_off", "2026-11-25");
    assert_eq!(new_day_off["kind"], "transferred_day_off");
    assert_eq!(new_day_off["moved_from"], "2026-12-19");
    assert_eq!(day(&r["calendar"], "working_weekend_days", "2026-12-19")["day_off_moved_to"], "2026-11-25");

    let (_, a2) = app.get(&format!("/api/v1/applications/{id}"), Some(&t)).await;
    assert_eq!(a2["due_date"], "2026-12-01");
    assert_eq!(a2["due_at"], "2026-12-01T13:30:00Z");
    assert_eq!(a2["version"], 2);
    assert_eq!(a2["status"], "submitted");

    let (s, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&t)).await;
    assert_eq!(s, 200, "{h}");
    let entry = h.as_array().unwrap().last().unwrap();
    assert_eq!(entry["action"], "calendar_changed");
    assert_eq!(entry["actor"], json!({"sub": "admin-1", "role": "admin"}));
    assert_eq!(entry["changes"]["due_date"], json!({"old": "2026-11-30", "new": "2026-12-01"}));
    assert_eq!(entry["changes"]["due_at"], json!({"old": "2026-11-30T13:30:00Z", "new": "2026-12-01T13:30:00Z"}));
    let reason = entry["reason"].as_str().unwrap();
    assert!(
        reason.contains("2026") && reason.contains("No 77") && reason.contains("order No 77 of 20 November 2026"),
        "{reason}"
    );
    // Which rule moved it: 25 November, from a working day to the decree's day off.
    let moved_by = &entry["changes"]["calendar"]["days"];
    assert_eq!(moved_by.as_array().unwrap().len(), 1, "{moved_by}");
    assert_eq!(moved_by[0]["date"], "2026-11-25");
    assert_eq!(moved_by[0]["old"]["kind"], "working");
    assert_eq!(moved_by[0]["new"]["kind"], "transferred_day_off");
    assert_eq!(moved_by[0]["new"]["decree"]["id"], "mlsp-2026-11");

    // The feed tells integrators.
    let (s, feed) = app.get("/api/v1/events", Some(&admin)).await;
    assert_eq!(s, 200, "{feed}");
    let feed = feed.get("items").unwrap_or(&feed).as_array().cloned().unwrap_or_default();
    assert!(feed.iter().any(|e| e["kind"] == "application.due_date_changed" && e["application_id"] == id), "{feed:?}");

    // The deadline endpoint counts on the new calendar at once.
    let d =
        deadline(&app, "en", json!({"start": "2026-11-23T10:00:00+05:00", "value": 5, "unit": "working_days"})).await;
    assert_eq!(d["due_date"], "2026-12-01");

    // The same data again moves nothing.
    let (s, again) = put_year(&app, 2026, Some(&admin), &decree_moving_25_november()).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["recomputed"], json!([]));
    assert_eq!(again["recomputed_count"], 0);

    // A restarted server replays the change from the database.
    let restarted = app.restarted();
    let d =
        deadline(&restarted, "en", json!({"start": "2026-11-23T10:00:00+05:00", "value": 5, "unit": "working_days"}))
            .await;
    assert_eq!(d["due_date"], "2026-12-01");
});

fn astana(m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, m, d, h, 0, 0).unwrap() - chrono::Duration::hours(5)
}

async fn file_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> Value {
    app.clock.set(at);
    let t = app.applicant(APPLICANT);
    let on = at.date_naive();
    let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education", "form": form_for("free_school_meals", on, APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(&t), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a
}

e2e!(a_calendar_change_recomputes_only_the_applications_its_days_count_in, |app| {
    // The decree changes Wednesday 25 November (a day off) and Saturday 19 December (a working day).
    // Five working days from: Monday 2 November (due 9 November) and Monday 16 November (due 23
    // November) end before the first; Monday 21 December (due 28 December) starts after the last.
    // Friday 20 November (due 27 November) and Monday 23 November (due 30 November) count 25
    // November and move by a day.
    let early = file_at(&app, astana(11, 2, 10)).await;
    let before = file_at(&app, astana(11, 16, 10)).await;
    let friday = file_at(&app, astana(11, 20, 10)).await;
    let monday = file_at(&app, astana(11, 23, 10)).await;
    let late = file_at(&app, astana(12, 21, 10)).await;
    assert_eq!(late["due_date"], "2026-12-28");
    let admin = app.token(Role::Admin, "admin-1", None);
    let (s, r) = put_year(&app, 2026, Some(&admin), &decree_moving_25_november()).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["recomputed_count"], 2);
    let moved: Vec<(&str, &str)> = r["recomputed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["new_due_date"].as_str().unwrap()))
        .collect();
    assert_eq!(
        moved,
        vec![(friday["id"].as_str().unwrap(), "2026-11-30"), (monday["id"].as_str().unwrap(), "2026-12-01")]
    );
    // The others were not written: their version is the filing's.
    let t = app.applicant(APPLICANT);
    for a in [&early, &before, &late] {
        let (_, now) = app.get(&format!("/api/v1/applications/{}", a["id"].as_str().unwrap()), Some(&t)).await;
        assert_eq!((&now["version"], &now["due_date"]), (&json!(1), &a["due_date"]), "{now}");
    }
});

e2e!(the_walks_a_calendar_change_reads_by_are_its_reach_in_sql, |app| {
    use domain::application::{Reach, Status};
    use persistence::applications::{self as repo, Along};
    let filed = file_at(&app, astana(11, 23, 10)).await;
    let db = app.database();
    let template = db.write_with(|c| repo::find(c, filed["id"].as_str().unwrap())).unwrap().unwrap();
    // Applications around a reach of 25 November to 19 December (local days), each edge on both
    // sides: filed, due and, after a hearing, answer due; open and decided.
    let reach = Reach { from: astana(11, 25, 0), until: astana(12, 20, 0) };
    let second = chrono::Duration::seconds(1);
    let mut all = vec![template.clone()];
    let cases = [
        (astana(11, 2, 10), astana(11, 9, 18), None),
        (astana(11, 16, 10), reach.from - second, None),
        (astana(11, 16, 10), reach.from, None),
        (astana(11, 16, 10), reach.from, None),
        (astana(11, 16, 10), astana(11, 20, 18), Some(reach.from - second)),
        (astana(11, 16, 10), astana(11, 20, 18), Some(reach.from)),
        (astana(11, 16, 10), astana(11, 20, 18), Some(astana(11, 26, 18))),
        (astana(11, 16, 10), astana(11, 20, 18), Some(astana(11, 26, 18))),
        (reach.until - second, astana(12, 28, 18), None),
        (reach.until, astana(12, 28, 18), None),
        (astana(12, 1, 10), astana(12, 8, 18), Some(astana(12, 4, 18))),
        (astana(12, 1, 10), astana(12, 8, 18), Some(astana(12, 4, 18))),
    ];
    for (n, (submitted_at, due_at, stage_due_at)) in cases.into_iter().enumerate() {
        for status in [Status::InProgress, Status::Approved] {
            let mut a = template.clone();
            a.id = uuid::Uuid::now_v7().to_string();
            a.registration_number = format!("2026-T{n:02}{}", status.is_final() as u8);
            (a.submitted_at, a.due_at, a.stage_due_at, a.status) = (submitted_at, due_at, stage_due_at, status);
            db.write_with(|c| repo::insert(c, &a)).unwrap();
            all.push(a);
        }
    }
    let mut expected: Vec<String> =
        all.iter().filter(|a| !a.status.is_final() && reach.may_move(a)).map(|a| a.id.clone()).collect();
    expected.sort();
    // The template and cases 2, 3, 5, 6, 7, 8, 10 and 11, open.
    assert_eq!(expected.len(), 9, "{expected:?}");
    // Pages of two, so that the cursor runs over equal deadlines.
    let mut walked = Vec::new();
    for along in [Along::Due, Along::Stage] {
        let mut after = None;
        for pages in 1.. {
            // A cursor that does not move on would walk for ever.
            assert!(pages <= all.len(), "{along:?} walked more pages than there are applications");
            let page = db.write_with(|c| repo::open_within(c, &reach, along, after.as_ref(), 2)).unwrap();
            let Some(last) = page.last() else { break };
            after = Some(along.cursor_after(last));
            walked.extend(page.iter().map(|a| a.id.clone()));
        }
    }
    let mut sorted = walked.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), walked.len(), "each once: {walked:?}");
    assert_eq!(sorted, expected);
});

e2e!(invalid_calendar_changes_name_the_field, |app| {
    let admin = app.token(Role::Admin, "admin-1", None);
    let mut missing_reason = decree_moving_25_november();
    missing_reason.as_object_mut().unwrap().remove("reason");
    let mut blank_reason = decree_moving_25_november();
    blank_reason["reason"] = json!("  ");
    let mut saturday_off = decree_moving_25_november();
    saturday_off["transfers"][0]["day_off"] = json!("2026-11-28");
    let mut weekday_worked = decree_moving_25_november();
    weekday_worked["transfers"][0]["working_day"] = json!("2026-12-18");
    let mut unknown_decree = decree_moving_25_november();
    unknown_decree["transfers"][0]["decree"] = json!("no-such-act");
    let mut kurban_elsewhere = decree_moving_25_november();
    kurban_elsewhere["kurban_ait"]["date"] = json!("2027-05-16");
    let mut bad_kind = decree_moving_25_november();
    bad_kind["decrees"][0]["kind"] = json!("presidential_tweet");
    let mut no_kurban = decree_moving_25_november();
    no_kurban.as_object_mut().unwrap().remove("kurban_ait");
    let cases = [
        (missing_reason, "reason"),
        (blank_reason, "reason"),
        (saturday_off, "transfers[0].day_off"),
        (weekday_worked, "transfers[0].working_day"),
        (unknown_decree, "transfers[0].decree"),
        (kurban_elsewhere, "kurban_ait.date"),
        (bad_kind, "decrees[0].kind"),
        (no_kurban, "kurban_ait"),
    ];
    for (body, field) in cases {
        let (s, b) = put_year(&app, 2026, Some(&admin), &body).await;
        assert_eq!(s, 422, "{body}: {b}");
        assert_eq!(b["errors"][0]["field"], field, "{body}: {b}");
    }
    let (s, b) = put_year(&app, 1800, Some(&admin), &decree_moving_25_november()).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "year");
    // Nothing was recorded.
    let (_, y) = app.get("/api/v1/calendar/2026", None).await;
    assert!(!dates(&y, "days_off").contains(&"2026-11-25".to_string()));
});
