//! The queue's rules, each pinned to exact dates. The queue is the one of `astana-education` for
//! children born in 2023; "now" is Monday 23 November 2026, 10:00 Astana time.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::application::submission::{self, Filer, Filing, NewIds};
use crate::calendar::BusinessCalendar;
use crate::catalog::Catalog;
use crate::identity::{make_iin, Sex};

fn astana(m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h - 5, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn child(born: (i32, u32, u32), serial: u16) -> String {
    make_iin(NaiveDate::from_ymd_opt(born.0, born.1, born.2).unwrap(), Sex::Female, serial).unwrap().as_str().into()
}

/// An application of the queue service's shape: a filing (of any service, for its dates) with the
/// queue form and the provider that keeps the queue.
fn application(form: serde_json::Value) -> Application {
    let cat = Catalog::builtin();
    let p = cat.service("free_school_meals").unwrap().in_force(today()).unwrap();
    let mut f = crate::form::example(&p.form);
    f["applicant"]["iin"] = json!("900101300123");
    let filing = Filing {
        service_key: "free_school_meals".into(),
        channel: "portal".into(),
        provider_id: "astana-education".into(),
        subtype: None,
        applicant_iin: None,
        representative: None,
        representative_json: None,
        form: f,
    };
    let filer = Filer { sub: "900101300123".into(), role: Actor::Applicant, org: None };
    let checked = submission::check(&filing, &filer, cat, today()).unwrap();
    let ids = NewIds { id: "app-1".into(), registration_number: "2026-000001".into() };
    let mut app =
        submission::new_application(&checked, &filing, &filer, BusinessCalendar::kazakhstan(), ids, astana(11, 23, 10))
            .unwrap()
            .application;
    app.form = form;
    app
}

fn entry(id: &str, number: i64, rank: i32, at: DateTime<Utc>, state: EntryState) -> QueueEntry {
    QueueEntry {
        id: id.into(),
        queue_id: "q".into(),
        queue: QueueKey { territory: "astana-education".into(), birth_year: 2023 },
        number,
        application_id: format!("app-{id}"),
        applicant_iin: "900101300123".into(),
        child_iin: child((2023, 5, 1), number as u16),
        category: None,
        rank,
        registered_at: at,
        state,
        position_at_issue: number,
        waiting_until: None,
        left_at: None,
        version: 1,
    }
}

fn system() -> Official {
    Official::system()
}

fn parent() -> Official {
    Official::new("900101300123", Actor::Applicant)
}

#[test]
fn the_2012_passport_runs_a_queue_and_its_result_is_the_slip() {
    // Resolution No 351 of 2012 (003:764-773): the notification (registration slip) is a result.
    let p = Catalog::builtin().service("preschool_queue_registration").unwrap();
    let v2012 = p.in_force(NaiveDate::from_ymd_opt(2013, 3, 1).unwrap()).expect("in force in March 2013");
    assert!(is_queue_service(v2012));
    assert!(p.in_force(today()).is_none(), "repealed in 2013: no version in force today");
    let meals = Catalog::builtin().service("free_school_meals").unwrap().in_force(today()).unwrap();
    assert!(!is_queue_service(meals));
    assert_eq!(approval_result(None).unwrap(), SLIP_RESULT);
    let e = approval_result(Some(REFERRAL_RESULT)).unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "referral_through_places"));
}

#[test]
fn the_queue_is_the_providers_territory_and_the_year_of_birth() {
    let app = application(json!({"child_iin": child((2023, 5, 1), 7)}));
    let facts = RegistrationFacts { categories: &[], already_in_queue: None };
    let e = registration(&app, facts, today(), astana(11, 23, 10)).unwrap();
    assert_eq!(e.queue, QueueKey { territory: "astana-education".into(), birth_year: 2023 });
    assert_eq!((e.rank, e.category), (GENERAL_RANK, None));
}

#[test]
fn a_child_holds_one_place_per_queue() {
    let app = application(json!({"child_iin": child((2023, 5, 1), 7)}));
    let facts = RegistrationFacts { categories: &[], already_in_queue: Some(4) };
    let e = registration(&app, facts, today(), astana(11, 23, 10)).unwrap_err();
    let Violation::Invalid { fields, basis } = e else { panic!("{e:?}") };
    assert_eq!((fields[0].field.as_str(), fields[0].rule.as_str()), ("form.child_iin", "already_in_queue"));
    assert!(fields[0].message.contains("No 4"));
    assert_eq!(basis, Some(basis::ONE_PER_QUEUE));
}

#[test]
fn only_children_under_seven_and_a_named_child() {
    // 003 paragraph 1: children of preschool age (under 7). Born 2019-11-23: 7 on 2026-11-23.
    let seven = application(json!({"child_iin": child((2019, 11, 23), 1)}));
    let facts = RegistrationFacts { categories: &[], already_in_queue: None };
    let e = registration(&seven, facts, today(), astana(11, 23, 10)).unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "not_preschool_age"), "{e:?}");
    let six = application(json!({"child_iin": child((2019, 11, 24), 1)}));
    assert!(registration(&six, facts, today(), astana(11, 23, 10)).is_ok(), "one day short of 7");
    let none = application(json!({"iin": "900101300123"}));
    let e = registration(&none, facts, today(), astana(11, 23, 10)).unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "child_not_identified"), "{e:?}");
}

#[test]
fn priority_categories_are_data_with_their_source() {
    let cats = [PriorityCategory {
        code: "disability".into(),
        rank: 1,
        name: Text::new("мүгедек балалар", "дети с инвалидностью", "children with disabilities"),
        source: "outside source: order No 172 of 2020-05-19, the Rules (current wording)".into(),
    }];
    let facts = RegistrationFacts { categories: &cats, already_in_queue: None };
    let app = application(json!({"child_iin": child((2023, 5, 1), 7), "priority_category": "disability"}));
    let e = registration(&app, facts, today(), astana(11, 23, 10)).unwrap();
    assert_eq!((e.rank, e.category.as_deref()), (1, Some("disability")));
    let unknown = application(json!({"child_iin": child((2023, 5, 1), 7), "priority_category": "large_family"}));
    let v = registration(&unknown, facts, today(), astana(11, 23, 10)).unwrap_err();
    assert!(matches!(&v, Violation::Invalid { fields, .. } if fields[0].rule == "not_a_priority_category"));
}

#[test]
fn order_is_rank_then_registration_then_number() {
    let t = astana(11, 23, 10);
    let a = entry("a", 1, GENERAL_RANK, t, EntryState::Waiting);
    let b = entry("b", 2, GENERAL_RANK, t, EntryState::Waiting); // same instant: the number decides
    let c = entry("c", 3, 1, t + Duration::hours(1), EntryState::Waiting); // priority, registered later
    let d = entry("d", 4, GENERAL_RANK, t - Duration::hours(1), EntryState::Offered); // no longer waits
    let q = vec![a.clone(), b.clone(), c.clone(), d.clone()];
    assert_eq!(position(&c, &q), Some(1));
    assert_eq!(position(&a, &q), Some(2));
    assert_eq!(position(&b, &q), Some(3));
    assert_eq!(position(&d, &q), None);
}

#[test]
fn an_offer_goes_to_a_waiting_child_and_expires_after_its_term() {
    // 5 calendar days from Monday 23 November 2026 end on Saturday 28 November, a day off: the term
    // ends on the next working day, Monday 30 November, 18:30 Astana, as every day term does
    // (`deadline::due`).
    let term = ReferralTerm {
        effective_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        valid_days: 5,
        source: "outside source".into(),
    };
    let older =
        ReferralTerm { effective_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), valid_days: 10, ..term.clone() };
    let terms = [older, term.clone()];
    assert_eq!(term_in_force(&terms, today()).unwrap().valid_days, 5);
    assert_eq!(term_in_force(&terms, NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()).unwrap().valid_days, 10);
    assert!(term_in_force(&terms, NaiveDate::from_ymd_opt(2019, 6, 1).unwrap()).is_none());
    let until = referral_valid_until(BusinessCalendar::kazakhstan(), astana(11, 23, 10), &term);
    assert_eq!(until, Utc.with_ymd_and_hms(2026, 11, 30, 13, 30, 0).unwrap());

    let e = entry("a", 1, GENERAL_RANK, astana(11, 2, 10), EntryState::Waiting);
    let offer = Move::Offer { place_id: "p1".into(), preschool_id: "kg-1".into(), valid_until: until };
    let c = apply(&e, offer, &system(), astana(11, 23, 10)).unwrap();
    assert_eq!((c.entry.state, c.entry.version), (EntryState::Offered, 2));
    assert_eq!(c.entry.waiting_until, Some(astana(11, 23, 10)));
    assert_eq!((c.action.as_str(), c.event_kind.as_str()), ("queue.offered", "queue_entry.offered"));
    assert!(c.notice.texts.iter().all(|t| t.contains("kg-1")));

    // Still valid at 18:30 on the last day; expired a minute later.
    let v = apply(&c.entry, Move::Expire { valid_until: until }, &system(), until).unwrap_err();
    assert!(matches!(v, Violation::NotNow { rule: "referral_still_valid", .. }));
    let x = apply(&c.entry, Move::Expire { valid_until: until }, &system(), until + Duration::minutes(1)).unwrap();
    assert_eq!((x.entry.state, x.entry.left_at), (EntryState::Expired, Some(until + Duration::minutes(1))));
    // Nor can it be used after its term.
    let staff = Official::new("kg-head", Actor::Head);
    let v = apply(&c.entry, Move::Enrol { valid_until: until }, &staff, until + Duration::minutes(1)).unwrap_err();
    assert!(matches!(v, Violation::NotNow { rule: "referral_expired", .. }));
    assert_eq!(
        apply(&c.entry, Move::Enrol { valid_until: until }, &staff, until).unwrap().entry.state,
        EntryState::Enrolled
    );
}

#[test]
fn who_moves_what_and_from_where() {
    let e = entry("a", 1, GENERAL_RANK, astana(11, 2, 10), EntryState::Waiting);
    // A waiting child has no referral to decline.
    let v = apply(&e, Move::Decline { reason: None }, &parent(), astana(11, 23, 10)).unwrap_err();
    let Violation::NotNow { rule, allowed, .. } = v else { panic!() };
    assert_eq!((rule, allowed), ("queue_move_not_allowed", vec!["offer".to_string(), "withdraw".to_string()]));
    // Only the applicant withdraws or declines; only the preschool's staff record an enrolment.
    let staff = Official::new("emp-1", Actor::Employee);
    assert!(matches!(
        apply(&e, Move::Withdraw { reason: None }, &staff, astana(11, 23, 10)),
        Err(Violation::NotForThisActor { .. })
    ));
    let w = apply(&e, Move::Withdraw { reason: Some("moved".into()) }, &parent(), astana(11, 23, 10)).unwrap();
    assert_eq!((w.entry.state, w.reason.as_deref()), (EntryState::Withdrawn, Some("moved")));
    assert!(w.entry.state.is_final() && !w.entry.state.holds_place());
    // A final state moves no more.
    assert!(apply(&w.entry, Move::Withdraw { reason: None }, &parent(), astana(11, 24, 10)).is_err());
}
