//! State registries: staff look-ups, administrators' edits, and the intake check that spares the
//! applicant the documents a registry holds, on both databases.

use api::auth::Role;
use e2e::{e2e, form_for, TestApp};
use serde_json::{json, Value};

/// Married (the civil registry has the marriage), father of CHILD.
const MARRIED: &str = "900101300116";
/// No marriage record; guardian of CHILD.
const GUARDIAN: &str = "900101300126";
const CHILD: &str = "150321650010";
const SERVICE: &str = "guardianship_establishment";
const BOUNDARY: &str = "----e2e-registries-boundary";

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn employee(app: &TestApp) -> String {
    app.token(Role::Employee, "emp-1", Some("astana-education"))
}

fn admin(app: &TestApp) -> String {
    app.token(Role::Admin, "admin-1", None)
}

async fn send(app: &TestApp, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let mut r = match method {
        "PUT" => app.client.put(app.url(path)),
        "DELETE" => app.client.delete(app.url(path)),
        "POST" => app.client.post(app.url(path)),
        _ => app.client.get(app.url(path)),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(b);
    }
    let res = r.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["rule"].as_str().unwrap().to_string()))
        .collect()
}

e2e!(staff_look_up_people_in_the_registries_only_for_an_application_naming_them, |app| {
    // Purpose binding (issue 14): staff read a person's records only for an application they may
    // see that names that person; administrators read any.
    let filed = file_guardianship(&app, GUARDIAN).await;
    let births = |app_id: &str| {
        format!("/api/v1/registries/civil_registry_births/records?subject_iin={CHILD}&application_id={app_id}")
    };
    let (s, births_found) = app.get(&births(&filed), Some(&employee(&app))).await;
    assert_eq!(s, 200, "{births_found}");
    let births_found = births_found.as_array().unwrap();
    assert_eq!(births_found.len(), 1);
    assert_eq!(births_found[0]["registry"], "civil_registry_births");
    assert_eq!(births_found[0]["subject_iin"], CHILD);
    assert_eq!(births_found[0]["kind"], "birth");
    assert_eq!(births_found[0]["data"]["record_number"], "АР-2015-002154");
    assert_eq!(births_found[0]["data"]["parents"][0]["iin"], MARRIED);
    assert_eq!(births_found[0]["updated_by"], "seed");

    // No application: 422 naming the parameter. One that does not name the person, or that the
    // caller may not see: 404, as if there were no records.
    let (s, p) = app
        .get(&format!("/api/v1/registries/civil_registry_births/records?subject_iin={CHILD}"), Some(&employee(&app)))
        .await;
    assert_eq!((s, fields(&p)), (422, vec![("query.application_id".to_string(), "required".to_string())]), "{p}");
    let (s, _) = app
        .get(
            &format!("/api/v1/registries/persons/records?subject_iin={MARRIED}&application_id={filed}"),
            Some(&employee(&app)),
        )
        .await;
    assert_eq!(s, 404, "MARRIED is not named by GUARDIAN's application");
    let elsewhere = app.token(Role::Employee, "emp-9", Some("almaty-education"));
    let (s, _) = app.get(&births(&filed), Some(&elsewhere)).await;
    assert_eq!(s, 404, "another provider's employee does not see the application");

    // The guardianship the fully automated guardianship certificate is decided from, read by the
    // operator of the centre where the person filed.
    let operator = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    let mut form = form_for(SERVICE, today(), GUARDIAN);
    form["children"][0]["iin"] = json!(CHILD);
    let body = json!({"service_key": SERVICE, "channel": "state_corporation", "provider_id": "astana-education",
                      "applicant_iin": GUARDIAN, "form": form});
    let (s, at_centre) = app.post("/api/v1/applications", Some(&operator), &body, None).await;
    assert_eq!(s, 201, "{at_centre}");
    let centre_id = at_centre["id"].as_str().unwrap();
    let (s, g) = app
        .get(
            &format!("/api/v1/registries/family_registers/records?subject_iin={GUARDIAN}&application_id={centre_id}"),
            Some(&operator),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g.as_array().unwrap().len(), 1);
    assert_eq!(g[0]["kind"], "guardianship");
    assert_eq!(g[0]["data"]["role"], "guardian");
    assert_eq!(g[0]["data"]["ward_iin"], CHILD);
    assert_eq!(g[0]["valid_until"], "2033-03-21");
    // The operator does not see the portal filing.
    let (s, _) = app.get(&births(&filed), Some(&operator)).await;
    assert_eq!(s, 404);

    let head = app.token(Role::Head, "head-1", Some("astana-education"));
    let (s, p) = app
        .get(&format!("/api/v1/registries/persons/records?subject_iin={GUARDIAN}&application_id={filed}"), Some(&head))
        .await;
    assert_eq!(s, 200);
    assert_eq!(p[0]["kind"], "person");
    // Administrators keep the records and read them without an application; no record is an empty
    // list, not an error.
    let (s, none) = app
        .get(&format!("/api/v1/registries/civil_registry_marriages/records?subject_iin={GUARDIAN}"), Some(&admin(&app)))
        .await;
    assert_eq!((s, none), (200, json!([])));

    // Each record read is in the access journal, with the application it served.
    let (_, journal) =
        app.get(&format!("/api/v1/access-log?application_id={filed}&kind=registry_record"), Some(&admin(&app))).await;
    let items = journal["items"].as_array().unwrap_or_else(|| panic!("{journal}"));
    assert!(items.iter().any(|e| e["actor_sub"] == "emp-1" && e["subject_iin"] == CHILD), "{journal}");
    assert!(items.iter().any(|e| e["actor_sub"] == "head-1" && e["subject_iin"] == GUARDIAN), "{journal}");

    // Applicants do not read registries; nor does anyone unauthenticated.
    let (s, b) = app
        .get(&format!("/api/v1/registries/persons/records?subject_iin={GUARDIAN}"), Some(&app.applicant(GUARDIAN)))
        .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(b["code"], "forbidden");
    let (s, _) = app.get(&format!("/api/v1/registries/persons/records?subject_iin={GUARDIAN}"), None).await;
    assert_eq!(s, 401);
});

e2e!(bad_iins_and_registry_names_get_422_naming_the_field, |app| {
    let t = employee(&app);
    // 900101300124: twelve digits, wrong check digit.
    let (s, b) =
        app.get("/api/v1/registries/persons/records?subject_iin=900101300124&application_id=x", Some(&t)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(fields(&b), vec![("query.subject_iin".to_string(), "iin_checksum".to_string())]);
    let (s, b) = app.get("/api/v1/registries/births/records?subject_iin=12345&application_id=x", Some(&t)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        fields(&b),
        vec![("registry".to_string(), "enum".to_string()), ("query.subject_iin".to_string(), "iin_format".to_string())]
    );
    let (s, b) = app.get("/api/v1/registries/persons/records?application_id=x", Some(&t)).await;
    assert_eq!(s, 422);
    assert_eq!(fields(&b), vec![("query.subject_iin".to_string(), "required".to_string())]);

    let (s, b) = send(
        &app,
        "POST",
        "/api/v1/registries/persons/records",
        &admin(&app),
        Some(&json!({"subject_iin": "901301300126", "kind": "Person!", "data": []})),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        fields(&b),
        vec![
            ("subject_iin".to_string(), "iin_birth_date".to_string()),
            ("kind".to_string(), "format".to_string()),
            ("data".to_string(), "type".to_string())
        ]
    );
    let (s, b) = send(
        &app,
        "POST",
        "/api/v1/registries/persons/records",
        &admin(&app),
        Some(&json!({"subject_iin": GUARDIAN, "kind": "person"})),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(fields(&b), vec![("data".to_string(), "required".to_string())]);
});

e2e!(administrators_add_change_and_delete_records, |app| {
    let a = admin(&app);
    let record = json!({"subject_iin": GUARDIAN, "kind": "marriage", "data": {"record_number": "АЗ-2026-000101", "registered_on": "2026-10-10"}});
    // Only administrators edit.
    for who in [employee(&app), app.applicant(GUARDIAN)] {
        let (s, _) =
            send(&app, "POST", "/api/v1/registries/civil_registry_marriages/records", &who, Some(&record)).await;
        assert_eq!(s, 403);
    }
    let (s, created) =
        send(&app, "POST", "/api/v1/registries/civil_registry_marriages/records", &a, Some(&record)).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["updated_by"], "admin-1");
    assert_eq!(created["updated_at"], "2026-11-23T05:00:00Z");
    assert!(created["valid_until"].is_null());
    let id = created["id"].as_str().unwrap().to_string();
    let lookup = format!("/api/v1/registries/civil_registry_marriages/records?subject_iin={GUARDIAN}");
    let (_, found) = app.get(&lookup, Some(&a)).await;
    assert_eq!(found, json!([created]));
    // Staff see the new record too, for an application naming the person.
    let filed = file_guardianship(&app, GUARDIAN).await;
    let (_, found) = app.get(&format!("{lookup}&application_id={filed}"), Some(&employee(&app))).await;
    assert_eq!(found, json!([created]));

    let path = format!("/api/v1/registries/civil_registry_marriages/records/{id}");
    let mut changed = record.clone();
    changed["valid_until"] = json!("2026-12-31");
    changed["kind"] = json!("divorce");
    let (s, b) = send(&app, "PUT", &path, &employee(&app), Some(&changed)).await;
    assert_eq!(s, 403, "{b}");
    let (s, updated) = send(&app, "PUT", &path, &a, Some(&changed)).await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["kind"], "divorce");
    assert_eq!(updated["valid_until"], "2026-12-31");
    let (_, found) = app.get(&lookup, Some(&a)).await;
    assert_eq!(found, json!([updated]));
    // The id belongs to another registry: not found there.
    let (s, _) = send(&app, "PUT", &format!("/api/v1/registries/persons/records/{id}"), &a, Some(&changed)).await;
    assert_eq!(s, 404);

    let (s, _) = send(&app, "DELETE", &path, &employee(&app), None).await;
    assert_eq!(s, 403);
    let (s, _) = send(&app, "DELETE", &path, &a, None).await;
    assert_eq!(s, 204);
    let (_, found) = app.get(&lookup, Some(&a)).await;
    assert_eq!(found, json!([]));
    let (s, b) = send(&app, "DELETE", &path, &a, None).await;
    assert_eq!((s, b["code"].clone()), (404, json!("not_found")));
    let (s, _) = send(&app, "PUT", &path, &a, Some(&changed)).await;
    assert_eq!(s, 404);
});

/// A guardianship application filed on the portal by `applicant`: married, a close relative, owns a
/// home, the child (CHILD) lives in a family.
async fn file_guardianship(app: &TestApp, applicant: &str) -> String {
    let mut form = form_for(SERVICE, today(), applicant);
    form["married"] = json!(true);
    form["applicant_relation"] = json!("close_relative");
    form["owns_home"] = json!(true);
    form["child_in_orphan_institution"] = json!(false);
    form["children"][0]["iin"] = json!(CHILD);
    let body = json!({"service_key": SERVICE, "channel": "portal", "provider_id": "astana-education", "form": form});
    let (s, a) = app.post("/api/v1/applications", Some(&app.applicant(applicant)), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

fn codes(v: &Value) -> Vec<&str> {
    v.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

e2e!(intake_check_takes_registry_documents_off_the_applicants_list, |app| {
    let emp = employee(&app);
    let married = file_guardianship(&app, MARRIED).await;
    let (s, c) = app.get(&format!("/api/v1/applications/{married}/intake-check"), Some(&emp)).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["application_id"], married.as_str());
    assert_eq!(c["passport_version"], "order-414-2022");
    assert_eq!(c["channel"], "portal");
    assert_eq!(c["checked_on"], "2026-11-23");
    assert_eq!(
        c["answers"],
        json!({"applicant_relation": "close_relative", "child_in_orphan_institution": "false", "married": "true", "owns_home": "true"})
    );
    assert_eq!(c["subjects"]["applicant"], MARRIED);
    assert_eq!(c["subjects"]["children"], json!([CHILD]));
    // The civil registry holds the marriage and the child's birth: neither is asked for.
    assert_eq!(
        c["obtained_from_registry"],
        json!([
            {"code": "marriage_certificate_portal", "registry": "civil_registry_marriages",
             "records": [{"subject_iin": MARRIED, "kind": "marriage", "record_number": "АЗ-2014-000731", "valid_until": null}]},
            {"code": "child_birth_certificate_portal", "registry": "civil_registry_births",
             "records": [{"subject_iin": CHILD, "kind": "birth", "record_number": "АР-2015-002154", "valid_until": null}]}
        ])
    );
    let required = vec![
        "application_portal",
        "spouse_consent_portal",
        "health_certificates_portal",
        "income_documents_portal",
        "absence_of_parental_care_documents_portal",
        "kinship_documents_portal",
    ];
    assert_eq!(codes(&c["required_from_applicant"]), required);
    assert_eq!(codes(&c["missing"]), required);
    assert_eq!(c["provided"], json!([]));

    // The applicant attaches the application form: provided, no longer missing.
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
    let mut body = format!("--{B}\r\nContent-Disposition: form-data; name=\"requirement_code\"\r\n\r\napplication_portal\r\n--{B}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"application.pdf\"\r\nContent-Type: application/pdf\r\n\r\n", B = BOUNDARY).into_bytes();
    body.extend_from_slice(pdf);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url(&format!("/api/v1/applications/{married}/documents")))
        .bearer_auth(app.applicant(MARRIED))
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{}", res.text().await.unwrap());
    let (_, c) = app.get(&format!("/api/v1/applications/{married}/intake-check"), Some(&emp)).await;
    assert_eq!(c["provided"], json!(["application_portal"]));
    assert_eq!(codes(&c["required_from_applicant"]), required);
    assert_eq!(codes(&c["missing"]), required[1..].to_vec());
    assert_eq!(c["depends_on_answers"], json!([]));
    assert_eq!(c["unavailable_registries"], json!([]));
    assert_eq!(c["complete"], false);

    // No marriage record for the other applicant: the marriage certificate is theirs to bring.
    let unmarried_in_registry = file_guardianship(&app, GUARDIAN).await;
    let path = format!("/api/v1/applications/{unmarried_in_registry}/intake-check");
    let (s, c) = app.get(&path, Some(&emp)).await;
    assert_eq!(s, 200, "{c}");
    let obtained: Vec<&str> =
        c["obtained_from_registry"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
    assert_eq!(obtained, vec!["child_birth_certificate_portal"]);
    assert_eq!(
        codes(&c["required_from_applicant"]),
        vec![
            "application_portal",
            "spouse_consent_portal",
            "health_certificates_portal",
            "marriage_certificate_portal",
            "income_documents_portal",
            "absence_of_parental_care_documents_portal",
            "kinship_documents_portal",
        ]
    );
    assert!(codes(&c["missing"]).contains(&"marriage_certificate_portal"));

    // An administrator records the marriage: from then on the registry provides it.
    let a = admin(&app);
    let (s, rec) = send(&app, "POST", "/api/v1/registries/civil_registry_marriages/records", &a,
        Some(&json!({"subject_iin": GUARDIAN, "kind": "marriage", "data": {"record_number": "АЗ-2020-000555"}, "valid_until": "2026-11-23"}))).await;
    assert_eq!(s, 201, "{rec}");
    let (_, c) = app.get(&path, Some(&emp)).await;
    assert_eq!(c["obtained_from_registry"][0]["code"], "marriage_certificate_portal");
    assert_eq!(c["obtained_from_registry"][0]["records"][0]["record_number"], "АЗ-2020-000555");
    assert!(!codes(&c["required_from_applicant"]).contains(&"marriage_certificate_portal"));
    // Valid through its last day only: the next day it no longer counts.
    app.clock.advance(chrono::Duration::days(1));
    let (_, c) = app.get(&path, Some(&emp)).await;
    assert_eq!(c["checked_on"], "2026-11-24");
    assert!(codes(&c["missing"]).contains(&"marriage_certificate_portal"), "{c}");

    // Who may see it: the provider's staff and administrators; 404 for other staff, 403 for applicants.
    let (s, _) = app.get(&path, Some(&a)).await;
    assert_eq!(s, 200);
    let foreign = app.token(Role::Employee, "emp-2", Some("almaty-education"));
    let (s, b) = app.get(&path, Some(&foreign)).await;
    assert_eq!((s, b["code"].clone()), (404, json!("not_found")));
    let operator = app.token(Role::Operator, "op-1", Some("gfc-astana-1"));
    let (s, _) = app.get(&path, Some(&operator)).await;
    assert_eq!(s, 404, "filed on the portal, not at this centre");
    let (s, _) = app.get(&path, Some(&app.applicant(GUARDIAN))).await;
    assert_eq!(s, 403);
    let (s, _) = app.get("/api/v1/applications/00000000-0000-7000-8000-00000000dead/intake-check", Some(&emp)).await;
    assert_eq!(s, 404);
});
