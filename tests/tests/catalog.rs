//! The catalog through the API: every service, its terms and grounds as order No 414 sets them,
//! versions in force on a date, sources on everything, checklists, and publishing a new version.

use api::auth::Role;
use e2e::e2e;
use serde_json::{json, Value};

const ALL_KEYS: [&str; 15] = [
    "adoption_agency_accreditation",
    "adoption_candidate_registration",
    "child_opinion_decision",
    "deprived_parent_meeting_permission",
    "disabled_children_home_schooling_support",
    "foster_family_placement",
    "free_school_meals",
    "free_school_transport",
    "guardianship_certificate",
    "guardianship_establishment",
    "minor_property_certificate",
    "minors_deposits_inheritance_certificate",
    "preschool_queue_registration",
    "school_camp_referral",
    "unemployed_citizen_certificate",
];

fn keys(list: &Value) -> Vec<String> {
    let mut k: Vec<String> =
        list["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap().to_string()).collect();
    k.sort();
    k
}

e2e!(all_fifteen_services_are_in_the_catalog, |app| {
    let (s, list) = app.get("/api/v1/services?scope=all&lang=en", None).await;
    assert_eq!(s, 200, "{list}");
    let got = keys(&list);
    for key in ALL_KEYS {
        assert!(got.contains(&key.to_string()), "{key} missing from {got:?}");
    }
    assert!(got.contains(&"targeted_social_assistance".to_string()) || got.len() == 15, "{got:?}");
});

/// The whole-service terms of order No 414 (2022), as its appendices set them: (key, subtype, value, unit).
const TERMS_2022: [(&str, Option<&str>, u64, &str); 12] = [
    ("guardianship_certificate", None, 30, "minutes"),
    ("minor_property_certificate", None, 3, "working_days"),
    ("guardianship_establishment", None, 19, "working_days"),
    ("foster_family_placement", None, 10, "working_days"),
    ("deprived_parent_meeting_permission", None, 5, "working_days"),
    ("free_school_transport", None, 5, "working_days"),
    ("free_school_meals", None, 5, "working_days"),
    ("school_camp_referral", None, 5, "working_days"),
    ("child_opinion_decision", None, 10, "working_days"),
    ("adoption_candidate_registration", None, 10, "working_days"),
    ("adoption_agency_accreditation", Some("accreditation"), 30, "calendar_days"),
    ("adoption_agency_accreditation", Some("accreditation_extension"), 15, "calendar_days"),
];

e2e!(current_versions_carry_the_terms_of_order_414, |app| {
    for (key, subtype, value, unit) in TERMS_2022 {
        let (s, p) = app.get(&format!("/api/v1/services/{key}?lang=en"), None).await;
        assert_eq!(s, 200, "{key}: {p}");
        assert_eq!(p["version"], "order-414-2022", "{key}");
        assert_eq!(p["act"]["number"], "414", "{key}");
        let service_terms: Vec<&Value> = p["terms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["stage"] == "service" && t["subtype"].as_str() == subtype)
            .collect();
        assert!(!service_terms.is_empty(), "{key} {subtype:?}: no service term");
        for t in service_terms {
            assert_eq!(
                (t["value"].as_u64().unwrap(), t["unit"].as_str().unwrap()),
                (value, unit),
                "{key} {subtype:?}: {t}"
            );
            assert_eq!(t["derived"], false, "{key}: a 2022 term is stated, not derived");
        }
    }
    let (_, p) = app.get("/api/v1/services/guardianship_establishment", None).await;
    assert_eq!(
        p["refusal_grounds"].as_array().unwrap().len(),
        20,
        "order 414 lists 20 grounds to refuse establishing guardianship"
    );
    let (_, p) = app.get("/api/v1/services/guardianship_certificate", None).await;
    assert_eq!(p["automation"]["level"], "fully_automated");
});

e2e!(versions_in_force_on_a_date, |app| {
    let (s, then) = app.get("/api/v1/services?at=2013-01-15&lang=ru", None).await;
    assert_eq!(s, 200);
    let items = then["items"].as_array().unwrap();
    assert!(!items.is_empty(), "regional 2012 versions were in force in January 2013");
    for i in items {
        assert!(i["version"].as_str().unwrap().ends_with("-2012"), "{i}");
        assert_ne!(i["jurisdiction"]["level"], "national", "{i}");
    }
    assert!(keys(&then).contains(&"unemployed_citizen_certificate".to_string()));

    let (_, now) = app.get("/api/v1/services", None).await;
    for i in now["items"].as_array().unwrap() {
        assert_eq!(i["version"], "order-414-2022", "{i}");
    }
    assert!(!keys(&now).contains(&"unemployed_citizen_certificate".to_string()), "repealed in 2013");

    // Versions of one service, each with its status on the date asked.
    let (_, v) = app.get("/api/v1/services/minor_property_certificate/versions?at=2013-03-01", None).await;
    let versions: Vec<(&str, &str, bool)> = v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["version"].as_str().unwrap(), x["status"].as_str().unwrap(), x["governing"].as_bool().unwrap()))
        .collect();
    assert!(versions.contains(&("order-414-2022", "not_yet_in_force", false)), "{versions:?}");
    assert!(versions.iter().any(|(id, st, _)| id.ends_with("2012") && *st == "in_force"), "{versions:?}");
    assert_eq!(versions.iter().filter(|x| x.2).count(), 1, "one version governs");

    // Russian texts on request, Kazakh by default, English by Accept-Language.
    let res = app
        .client
        .get(app.url("/api/v1/services/free_school_meals"))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let (_, kk) = app.get("/api/v1/services/free_school_meals", None).await;
    let (_, ru) = app.get("/api/v1/services/free_school_meals?lang=ru", None).await;
    assert_ne!(kk["title"], ru["title"]);
});

fn assert_sourced(v: &Value, what: &str) {
    let src = &v["source"];
    assert!(
        src["seed"].as_str().is_some_and(|s| s.len() == 3) && src["reference"].as_str().is_some_and(|r| !r.is_empty()),
        "{what} has no source: {v}"
    );
}

e2e!(every_term_document_and_ground_has_a_source, |app| {
    let (_, list) = app.get("/api/v1/services?scope=all", None).await;
    let mut checked = 0;
    for item in list["items"].as_array().unwrap() {
        let key = item["key"].as_str().unwrap();
        let (_, versions) = app.get(&format!("/api/v1/services/{key}/versions"), None).await;
        for v in versions["versions"].as_array().unwrap() {
            let id = v["version"].as_str().unwrap();
            let (s, p) = app.get(&format!("/api/v1/services/{key}/versions/{id}?lang=en"), None).await;
            assert_eq!(s, 200);
            for list in ["terms", "documents", "refusal_to_accept", "refusal_grounds", "results"] {
                for x in p[list].as_array().unwrap() {
                    assert_sourced(x, &format!("{key}/{id} {list}.{}", x["code"]));
                    checked += 1;
                }
            }
            assert_sourced(&p["act"], &format!("{key}/{id} act"));
        }
    }
    assert!(checked > 300, "only {checked} items checked");
});

e2e!(document_checklist_follows_the_answers, |app| {
    let base = "/api/v1/services/guardianship_establishment/documents?channel=portal&lang=en";
    let (s, unanswered) = app.get(base, None).await;
    assert_eq!(s, 200, "{unanswered}");
    let codes = |c: &Value, req: &str| -> Vec<String> {
        c["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["requirement"] == req)
            .map(|i| i["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(unanswered["unanswered_questions"].as_array().unwrap().iter().any(|q| q["code"] == "married"));
    let depends = codes(&unanswered, "depends_on_answers");
    assert!(!depends.is_empty());

    let (_, married) = app.get(&format!("{base}&married=true&applicant_relation=close_relative&owns_home=true&child_in_orphan_institution=false"), None).await;
    let (_, single) = app.get(&format!("{base}&married=false&applicant_relation=close_relative&owns_home=true&child_in_orphan_institution=false"), None).await;
    assert!(codes(&married, "depends_on_answers").is_empty(), "{married}");
    let all = |c: &Value| c["items"].as_array().unwrap().len();
    assert!(all(&married) > all(&single), "married applicants bring spouse documents: {married} vs {single}");

    let (s, p) = app.get(&format!("{base}&married=perhaps"), None).await;
    assert_eq!(s, 422);
    assert_eq!(p["errors"][0]["field"], "query.married");
    let (s, p) = app.get("/api/v1/services/guardianship_establishment/documents?channel=provider_office", None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["rule"], "channel_not_offered");

    let (s, form) = app.get("/api/v1/services/guardianship_establishment/form", None).await;
    assert_eq!(s, 200);
    assert_eq!(form["type"], "object");
    assert!(form["properties"]["married"].is_object());
});

e2e!(forms_are_served_per_version_with_labels_in_a_language, |app| {
    let catalog = domain::catalog::Catalog::builtin();
    for service in catalog.services() {
        for p in &service.versions {
            let path = format!("/api/v1/services/{}/versions/{}/form", p.key, p.version);
            // Without a language: the passport's form, plus its example; no `title` added below the root.
            let (s, raw) = app.get(&path, None).await;
            assert_eq!(s, 200, "{path}: {raw}");
            let mut bare = raw.clone();
            let example = bare.as_object_mut().unwrap().remove("examples").unwrap();
            // The answers of the passport's questions label their enums (from the questions' own texts).
            for (name, titles) in domain::form::question_enum_titles(p) {
                assert_eq!(bare["properties"][&name]["x-enum-titles"], titles, "{path}");
                bare["properties"][&name].as_object_mut().unwrap().remove("x-enum-titles");
            }
            assert_eq!(bare, p.form, "{path}");
            let errors = domain::form::validate(&path, &p.form, &example[0]).unwrap();
            assert!(errors.is_empty(), "{path}: the served example is refused: {errors:?}");
            for lang in ["kk", "ru", "en"] {
                let res = app.client.get(app.url(&format!("{path}?lang={lang}"))).send().await.unwrap();
                assert_eq!(res.status().as_u16(), 200);
                assert_eq!(res.headers()["content-language"], lang);
                assert_eq!(res.headers()["content-type"], "application/schema+json");
                assert_eq!(res.headers()["x-passport-version"], p.version.as_str());
                let form: Value = res.json().await.unwrap();
                for (name, prop) in form["properties"].as_object().unwrap() {
                    if let Some(label) = prop["x-title"].get(lang) {
                        assert_eq!(&prop["title"], label, "{path}?lang={lang}: {name}");
                    }
                }
            }
        }
    }
    // Accept-Language chooses the labels when `lang` is absent; `*` names none of ours.
    let path = "/api/v1/services/free_school_meals/form";
    let get = |al: &'static str| app.client.get(app.url(path)).header("Accept-Language", al).send();
    let ru: Value = get("ru-KZ, en;q=0.5").await.unwrap().json().await.unwrap();
    assert_eq!(ru["properties"]["applicant"]["properties"]["iin"]["title"], "ИИН");
    let any: Value = get("*").await.unwrap().json().await.unwrap();
    assert!(any["properties"]["applicant"]["properties"]["iin"].get("title").is_none(), "{any}");
    // Fields in the order of the paper form (the catalog file's), not sorted.
    let text = app.client.get(app.url(path)).send().await.unwrap().text().await.unwrap();
    let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
    assert!(at("iin") < at("last_name") && at("last_name") < at("first_name"), "{text}");

    let (s, p) = app.get("/api/v1/services/free_school_meals/versions/no-such-version/form", None).await;
    assert_eq!(s, 404, "{p}");
    let (s, p) = app.get("/api/v1/services/free_school_meals/versions/order-414-2022/form?lang=de", None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["errors"][0]["field"], "lang");
});

e2e!(administrators_publish_new_versions_append_only, |app| {
    // Take the current passport as shipped (the data file's shape) and publish it as a 2027 version.
    let catalog = domain::catalog::Catalog::builtin();
    let current = catalog.service("free_school_meals").unwrap().versions.last().unwrap();
    let mut doc = serde_json::to_value(current).unwrap();
    doc["version"] = json!("order-999-2027");
    doc["effective_from"] = json!("2027-01-01");
    doc["act"]["number"] = json!("999");
    doc["terms"][0]["value"] = json!(4);

    let admin = app.token(Role::Admin, "admin-1", None);
    let employee = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&employee), &doc, None).await;
    assert_eq!(s, 403, "{p}");

    let mut bad = doc.clone();
    bad["terms"][0]["unit"] = json!("fortnights");
    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&admin), &bad, None).await;
    assert_eq!(s, 422, "{p}");
    assert!(p["errors"][0]["field"].as_str().unwrap().starts_with("terms[0].unit"), "{p}");

    let mut unsourced = doc.clone();
    unsourced["terms"][0]["source"] = json!("004:1-99999 | nowhere");
    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&admin), &unsourced, None).await;
    assert_eq!(s, 422, "{p}");
    assert_eq!(p["code"], "invalid_passport");

    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&admin), &doc, None).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["version"], "order-999-2027");
    let (s, p) = app.post("/api/v1/services/free_school_meals/versions", Some(&admin), &doc, None).await;
    assert_eq!(s, 409, "{p}");
    assert_eq!(p["code"], "version_exists");

    let (_, in_2027) = app.get("/api/v1/services/free_school_meals?at=2027-02-01", None).await;
    assert_eq!(in_2027["version"], "order-999-2027");
    assert_eq!(in_2027["terms"][0]["value"], 4);
    let (_, today) = app.get("/api/v1/services/free_school_meals", None).await;
    assert_eq!(today["version"], "order-414-2022", "the 2022 version still governs today");

    // A restarted server replays the publication from the database.
    let again = app.restarted();
    let (_, v) = again.get("/api/v1/services/free_school_meals/versions", None).await;
    let ids: Vec<&str> = v["versions"].as_array().unwrap().iter().map(|x| x["version"].as_str().unwrap()).collect();
    assert_eq!(ids, ["order-414-2022", "order-999-2027"]);
});

e2e!(terms_start_at_the_events_their_texts_name, |app| {
    let term = |p: &Value, code: &str| -> Value {
        p["terms"].as_array().unwrap().iter().find(|t| t["code"] == code).cloned().unwrap_or_else(|| panic!("{code}"))
    };
    // 004:784-788: the decision within 4 working days after the interview with the child.
    let (_, p) = app.get("/api/v1/services/child_opinion_decision?lang=en", None).await;
    let t = term(&p, "decision_preparation");
    assert_eq!(
        (t["value"].as_u64(), t["unit"].as_str(), t["starts"].as_str()),
        (Some(4), Some("working_days"), Some("interview"))
    );
    // 004:2807-2810: training within one calendar year from taking the child into the family.
    let (_, p) = app.get("/api/v1/services/guardianship_establishment?lang=en", None).await;
    let t = term(&p, "relative_training_deadline");
    assert_eq!(
        (t["value"].as_u64(), t["unit"].as_str(), t["starts"].as_str()),
        (Some(1), Some("years"), Some("placement"))
    );
    // Paragraph 38 of the accreditation rules (004:169-192) is cited by no other service.
    let (_, list) = app.get("/api/v1/services?scope=all", None).await;
    for item in list["items"].as_array().unwrap() {
        let key = item["key"].as_str().unwrap();
        let (_, versions) = app.get(&format!("/api/v1/services/{key}/versions"), None).await;
        for v in versions["versions"].as_array().unwrap() {
            let (_, p) =
                app.get(&format!("/api/v1/services/{key}/versions/{}", v["version"].as_str().unwrap()), None).await;
            for t in p["terms"].as_array().unwrap() {
                let (seed, lines) = (t["source"]["seed"].as_str().unwrap(), t["source"]["lines"].as_str().unwrap());
                let from: u32 = lines.split('-').next().unwrap().parse().unwrap();
                let in_para_38 = seed == "004" && (169..=192).contains(&from);
                assert_eq!(
                    in_para_38,
                    key == "adoption_agency_accreditation" && t["stage"].as_str().unwrap().starts_with("complaint"),
                    "{key}: {t}"
                );
            }
        }
    }
});
