//! Issue 14, items 2 and 7: the access journal (append-only, an applicant sees who read their data,
//! administrators filter and page it) and the staff directory of each organisation.

use api::access::{journal_with, AccessKind, Reader};
use api::auth::Role;
use chrono::Duration;
use domain::clock::Clock;
use e2e::e2e;
use serde_json::{json, Value};

const IIN: &str = "900101300116";
const OTHER: &str = "900101300126";

fn reader(sub: &str, role: &'static str, org: Option<&str>) -> Reader {
    Reader { sub: sub.into(), role, org: org.map(Into::into), request_id: Some(format!("req-{sub}")) }
}

e2e!(the_journal_shows_each_person_who_read_their_data, |app| {
    let db = app.database();
    let t0 = app.clock.now();
    let emp = reader("emp-1", "employee", Some("astana-education"));
    let op = reader("op-1", "operator", Some("gfc-astana-1"));
    let own = reader(IIN, "applicant", None);
    let app_id = "0190a000-0000-7000-8000-000000000001";
    journal_with(&db, &op, AccessKind::Application, app_id, Some(app_id), Some(IIN), t0).unwrap();
    journal_with(&db, &emp, AccessKind::RegistryRecord, "rec-1", Some(app_id), Some(IIN), t0 + Duration::minutes(1))
        .unwrap();
    journal_with(&db, &own, AccessKind::Application, app_id, Some(app_id), Some(IIN), t0 + Duration::minutes(2))
        .unwrap();
    journal_with(&db, &emp, AccessKind::Document, "doc-9", None, Some(OTHER), t0 + Duration::minutes(3)).unwrap();

    // The applicant: staff reads of their data, newest first, their own reads left out, others' data absent.
    let (s, page) = app.get("/api/v1/me/access-log", Some(&app.applicant(IIN))).await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let who: Vec<(&str, &str)> =
        items.iter().map(|e| (e["actor_sub"].as_str().unwrap(), e["kind"].as_str().unwrap())).collect();
    assert_eq!(who, vec![("emp-1", "registry_record"), ("op-1", "application")], "{page}");
    assert_eq!(items[0]["actor_org"], "astana-education");
    assert_eq!(items[0]["application_id"], app_id);
    assert_eq!(items[0]["request_id"], "req-emp-1");
    assert_eq!(page["next_cursor"], Value::Null);

    // Only applicants have a "me" journal; only administrators read the whole one.
    let emp_token = app.token(Role::Employee, "emp-1", Some("astana-education"));
    assert_eq!(app.get("/api/v1/me/access-log", Some(&emp_token)).await.0, 403);
    assert_eq!(app.get("/api/v1/access-log", Some(&emp_token)).await.0, 403);
    assert_eq!(app.get("/api/v1/access-log", Some(&app.applicant(IIN))).await.0, 403);
    assert_eq!(app.get("/api/v1/access-log", None).await.0, 401);

    // Administrators: filters and keyset pages.
    let admin = app.token(Role::Admin, "admin-1", None);
    let (s, all) = app.get("/api/v1/access-log?limit=3", Some(&admin)).await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert_eq!(all["items"][0]["resource_id"], "doc-9", "newest first");
    let cursor = all["next_cursor"].as_str().expect("a further page").to_string();
    let (_, rest) = app.get(&format!("/api/v1/access-log?limit=3&cursor={cursor}"), Some(&admin)).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(rest["items"][0]["actor_sub"], "op-1");
    assert_eq!(rest["next_cursor"], Value::Null);
    let (_, by_actor) = app.get("/api/v1/access-log?actor_sub=emp-1", Some(&admin)).await;
    assert_eq!(by_actor["items"].as_array().unwrap().len(), 2, "{by_actor}");
    let (_, by_subject) = app.get(&format!("/api/v1/access-log?subject_iin={OTHER}"), Some(&admin)).await;
    assert_eq!(by_subject["items"].as_array().unwrap().len(), 1, "{by_subject}");
    let (_, by_kind) = app.get("/api/v1/access-log?kind=application&actor_org=gfc-astana-1", Some(&admin)).await;
    assert_eq!(by_kind["items"].as_array().unwrap().len(), 1, "{by_kind}");
    let from = (t0 + Duration::seconds(90)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, later) = app.get(&format!("/api/v1/access-log?from={from}"), Some(&admin)).await;
    assert_eq!(later["items"].as_array().unwrap().len(), 2, "{later}");
    let (s, p) = app.get("/api/v1/access-log?kind=gossip", Some(&admin)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("query.kind")), "{p}");
    let (s, p) = app.get("/api/v1/access-log?cursor=abc", Some(&admin)).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("query.cursor")), "{p}");
    // Exactly the spec's `^[1-9][0-9]{0,17}$`: no position 0, no leading zero.
    for bad in ["0", "01"] {
        let (s, p) = app.get(&format!("/api/v1/access-log?cursor={bad}"), Some(&admin)).await;
        assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("query.cursor")), "{bad}: {p}");
    }

    // Append-only, by the database itself.
    let tamper = db.write(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("UPDATE access_log SET actor_sub = 'nobody'").execute(c)?;
        Ok(())
    });
    assert!(tamper.is_err(), "an UPDATE of the journal is refused");
    let erase = db.write(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("DELETE FROM access_log").execute(c)?;
        Ok(())
    });
    assert!(erase.is_err(), "a DELETE of the journal is refused");
    let (_, again) = app.get("/api/v1/access-log", Some(&admin)).await;
    assert_eq!(again["items"].as_array().unwrap().len(), 4);
});

e2e!(administrators_keep_each_organisations_staff_directory, |app| {
    let admin = app.token(Role::Admin, "admin-1", None);
    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let foreign_head = app.token(Role::Head, "head-9", Some("almaty-education"));
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let put = |sub: &str, body: Value, token: String| {
        let req = app
            .client
            .put(app.url(&format!("/api/v1/organizations/astana-education/staff/{sub}")))
            .bearer_auth(token)
            .json(&body);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, m) = put("emp-1", json!({"role": "employee", "full_name": "Aigerim Sadykova"}), admin.clone()).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!((m["active"].as_bool(), m["role"].as_str()), (Some(true), Some("employee")), "{m}");
    let (s, _) = put("head-1", json!({"role": "head", "full_name": "Serik Akhmetov"}), admin.clone()).await;
    assert_eq!(s, 200);
    let (s, p) = put("op-1", json!({"role": "operator", "full_name": "X"}), admin.clone()).await;
    assert_eq!((s, p["errors"][0]["rule"].as_str()), (422, Some("role_for_organisation")), "{p}");
    let (s, p) = put("emp-2", json!({"role": "employee", "full_name": "Bad\u{0}Name"}), admin.clone()).await;
    assert_eq!((s, p["errors"][0]["field"].as_str()), (422, Some("full_name")), "{p}");
    let (s, _) = put("emp-2", json!({"role": "employee", "full_name": "Someone"}), head.clone()).await;
    assert_eq!(s, 403, "heads read the directory, administrators keep it");

    {
        let db = app.database();
        let yes = db.read(|c| persistence::staff::is_active_employee(c, "astana-education", "emp-1")).unwrap();
        let head_is_no_employee =
            db.read(|c| persistence::staff::is_active_employee(c, "astana-education", "head-1")).unwrap();
        let elsewhere = db.read(|c| persistence::staff::is_active_employee(c, "almaty-education", "emp-1")).unwrap();
        assert_eq!((yes, head_is_no_employee, elsewhere), (true, false, false));
    }

    app.enrol("almaty-education", "emp-2", Role::Employee).await;
    assert!(app.database().read(|c| persistence::staff::is_active_employee(c, "almaty-education", "emp-2")).unwrap());

    let (s, list) = app.get("/api/v1/organizations/astana-education/staff", Some(&head)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(app.get("/api/v1/organizations/astana-education/staff", Some(&foreign_head)).await.0, 404);
    assert_eq!(app.get("/api/v1/organizations/astana-education/staff", Some(&emp)).await.0, 403);
    assert_eq!(app.get("/api/v1/organizations/nowhere/staff", Some(&admin)).await.0, 404);

    let res = app
        .client
        .delete(app.url("/api/v1/organizations/astana-education/staff/emp-1"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let db = app.database();
    assert!(!db.read(|c| persistence::staff::is_active_employee(c, "astana-education", "emp-1")).unwrap());
    let (_, active) = app.get("/api/v1/organizations/astana-education/staff", Some(&admin)).await;
    assert_eq!(active.as_array().unwrap().len(), 1, "{active}");
    let (_, all) = app.get("/api/v1/organizations/astana-education/staff?include_inactive=true", Some(&admin)).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "deactivated staff stay listed: {all}");
    let res = app
        .client
        .delete(app.url("/api/v1/organizations/astana-education/staff/nobody"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
});

e2e!(every_read_of_an_application_lands_in_the_applicants_journal, |app| {
    let form = e2e::form_for("free_school_meals", chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), IIN);
    let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education", "form": form});
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(IIN)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    let emp = app.token(Role::Employee, "emp-1", Some("astana-education"));
    for path in [
        format!("/api/v1/applications/{id}"),
        format!("/api/v1/applications/{id}/history"),
        format!("/api/v1/applications/{id}/documents"),
        format!("/api/v1/applications/{id}/intake-check"),
        "/api/v1/applications?limit=5".to_string(),
    ] {
        let (s, b) = app.get(&path, Some(&emp)).await;
        assert_eq!(s, 200, "{path}: {b}");
    }
    // A provider that may not see it reads nothing and leaves nothing.
    let other = app.token(Role::Employee, "emp-9", Some("almaty-education"));
    assert_eq!(app.get(&format!("/api/v1/applications/{id}"), Some(&other)).await.0, 404);
    // The applicant's own read is not listed to them.
    assert_eq!(app.get(&format!("/api/v1/applications/{id}"), Some(&app.applicant(IIN))).await.0, 200);

    let (s, page) = app.get("/api/v1/me/access-log", Some(&app.applicant(IIN))).await;
    assert_eq!(s, 200, "{page}");
    let mut kinds: Vec<&str> = page["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    kinds.sort();
    assert_eq!(kinds, ["application", "application", "application_history", "document_list", "intake_check"], "{page}");
    assert!(
        page["items"].as_array().unwrap().iter().all(|e| e["actor_sub"] == "emp-1" && e["application_id"] == id),
        "{page}"
    );
});

// A page's entries go in as one statement (on PostgreSQL one array per column, `unnest`ed): each
// comes back as it went in, in its order, NULLs as NULLs, whatever the page's size.
e2e!(a_page_of_reads_is_journalled_entry_by_entry, |app| {
    use persistence::access_log::{query, AccessFilter};
    let db = app.database();
    let t0 = app.clock.now();
    let anonymous = Reader { sub: "svc-1".into(), role: "admin", org: None, request_id: None };
    for (reader, size) in [(reader("emp-1", "employee", Some("astana-education")), 3), (anonymous, 2)] {
        let items: Vec<(String, Option<String>, Option<String>)> = (0..size)
            .map(|i| {
                let id = format!("{}-{i}", reader.sub);
                (id.clone(), (i % 2 == 0).then(|| id.clone()), (i != 1).then(|| format!("90010130011{i}")))
            })
            .collect();
        let refs = items.iter().map(|(id, app, iin)| (id.as_str(), app.as_deref(), iin.as_deref()));
        db.write(|c| api::access::journal_page(c, &reader, AccessKind::Application, refs, t0)).unwrap();
    }
    db.write(|c| api::access::journal_page(c, &reader("x", "employee", None), AccessKind::Application, [], t0))
        .unwrap();

    let mut rows = db.read(|c| query(c, &AccessFilter::default(), None, 50)).unwrap();
    rows.reverse();
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.actor_sub.as_str(),
                r.actor_org.as_deref(),
                r.resource_id.as_str(),
                r.application_id.as_deref(),
                r.subject_iin.as_deref(),
                r.request_id.as_deref(),
            )
        })
        .collect();
    let (emp, org, req) = ("emp-1", Some("astana-education"), Some("req-emp-1"));
    assert_eq!(
        got,
        vec![
            (emp, org, "emp-1-0", Some("emp-1-0"), Some("900101300110"), req),
            (emp, org, "emp-1-1", None, None, req),
            (emp, org, "emp-1-2", Some("emp-1-2"), Some("900101300112"), req),
            ("svc-1", None, "svc-1-0", Some("svc-1-0"), Some("900101300110"), None),
            ("svc-1", None, "svc-1-1", None, None, None),
        ]
    );
    assert!(rows.iter().all(|r| r.at == t0.naive_utc() && r.kind == "application" && !r.actor_role.is_empty()));
    assert_eq!(rows[3].actor_role, "admin");
});

// On PostgreSQL a read and its journal entries are one statement (`access_log::Journaled`): a page
// journals exactly the applications it shows (not the one more it reads to tell whether more
// follow), with the row's applicant, and a read by id journals only a row the caller may see,
// whichever scope decides it (provider, intake centre, applicant).
e2e!(a_read_journals_exactly_what_it_shows, |app| {
    use persistence::access_log::{query, AccessFilter};
    let on = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut filed = Vec::new();
    for iin in [IIN, OTHER, IIN] {
        let body = json!({"service_key": "free_school_meals", "channel": "portal", "provider_id": "astana-education",
            "form": e2e::form_for("free_school_meals", on, iin)});
        let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(iin)), &body, None).await;
        assert_eq!(s, 201, "{a}");
        filed.push((a["id"].as_str().unwrap().to_string(), iin));
    }
    let db = app.database();
    let entries_of = |sub: &str| {
        let filter = AccessFilter { actor_sub: Some(sub.into()), ..AccessFilter::default() };
        let mut rows = db.read(|c| query(c, &filter, None, 50)).unwrap();
        rows.reverse();
        rows.into_iter()
            .map(|r| (r.kind, r.resource_id.clone(), r.application_id, r.subject_iin, r.actor_org))
            .collect::<Vec<_>>()
    };
    let entry = |kind: &str, (id, iin): &(String, &str), org: Option<&str>| {
        (kind.to_string(), id.clone(), Some(id.clone()), Some(iin.to_string()), org.map(str::to_string))
    };
    let org = Some("astana-education");

    // Pages of two: the newest two, then the oldest; three entries in all, in page order.
    let emp = app.token(Role::Employee, "emp-1", org);
    let (s, p1) = app.get("/api/v1/applications?limit=2", Some(&emp)).await;
    assert_eq!((s, p1["items"].as_array().unwrap().len()), (200, 2), "{p1}");
    assert_eq!(entries_of("emp-1"), vec![entry("application", &filed[2], org), entry("application", &filed[1], org)]);
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let (_, p2) = app.get(&format!("/api/v1/applications?limit=2&cursor={cursor}"), Some(&emp)).await;
    assert_eq!(p2["items"][0]["id"], filed[0].0.as_str(), "{p2}");
    assert_eq!(entries_of("emp-1").len(), 3);

    // By id: the provider's staff, yes; another provider's or a centre that took none of them, no.
    assert_eq!(app.get(&format!("/api/v1/applications/{}/history", filed[1].0), Some(&emp)).await.0, 200);
    assert_eq!(entries_of("emp-1")[3], entry("application_history", &filed[1], org));
    let foreign = app.token(Role::Employee, "emp-9", Some("almaty-education"));
    let centre = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    for token in [&foreign, &centre] {
        assert_eq!(app.get(&format!("/api/v1/applications/{}", filed[1].0), Some(token)).await.0, 404);
    }
    assert_eq!((entries_of("emp-9"), entries_of("op-1")), (vec![], vec![]));
    // The applicant: their own, journaled; another's, not.
    let own = app.applicant(OTHER);
    assert_eq!(app.get(&format!("/api/v1/applications/{}", filed[1].0), Some(&own)).await.0, 200);
    assert_eq!(app.get(&format!("/api/v1/applications/{}", filed[0].0), Some(&own)).await.0, 404);
    assert_eq!(entries_of(OTHER), vec![entry("application", &filed[1], None)]);
});
