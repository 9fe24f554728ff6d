//! Paragraph 38 of the rules of order No 414 (004:169-192), pinned to dates: a complaint registered on
//! Monday 30 November 2026 at 10:00 Astana time.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;
use crate::application::Official;
use crate::catalog::Catalog;
use crate::passport::Channel;

fn astana(m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h - 5, mi, 0).unwrap()
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn cal() -> &'static BusinessCalendar {
    BusinessCalendar::kazakhstan()
}

fn application(status: Status) -> Application {
    let t = astana(11, 23, 10, 0);
    Application {
        id: "app-1".into(),
        registration_number: "2026-000001".into(),
        service_key: "free_school_meals".into(),
        passport_version: "order-414-2022".into(),
        subtype: None,
        channel: Channel::Portal,
        status,
        applicant_iin: "900101300123".into(),
        filed_by: Official::new("900101300123", Actor::Applicant),
        intake_org_id: None,
        provider_id: "astana-education".into(),
        assignee: Some("emp-1".into()),
        representative: None,
        form: serde_json::json!({}),
        submitted_at: t,
        counted_from: t,
        due_at: astana(11, 30, 18, 30),
        due_date: date(11, 30),
        decided_at: None,
        stage_due_at: None,
        hearing_at: None,
        hearing_place: None,
        decision: None,
        status_since: t,
        term_working_days: 5,
        working_days_to_decision: None,
        decided_on_time: None,
        version: 5,
        created_at: t,
        updated_at: t,
    }
}

fn applicant() -> Official {
    Official::new("900101300123", Actor::Applicant)
}

fn registered(app: &Application) -> Complaint {
    let p = Catalog::builtin().service("free_school_meals").and_then(|s| s.in_force(date(11, 23)));
    file(
        app,
        p,
        cal(),
        &applicant(),
        NewComplaint {
            id: "c-1".into(),
            subject: Subject::Decision,
            text: "the refusal ignores my certificate".into(),
        },
        astana(11, 30, 10, 0),
    )
    .unwrap()
    .complaint
}

fn head() -> Official {
    Official::new("head-1", Actor::Head)
}

fn reviewer() -> Official {
    Official::new("rev-1", Actor::Reviewer)
}

#[test]
fn terms_run_from_registration_para_38() {
    // Registered Monday 30 November: 3 working days end Thursday 3 December, 5 end Monday 7 December.
    let c = registered(&application(Status::Refused));
    assert_eq!(c.forward_due.date, date(12, 3));
    assert_eq!(c.provider_due.date, date(12, 7));
    assert_eq!(c.status, ComplaintStatus::Registered);
}

#[test]
fn only_the_applicant_files_about_their_own_application() {
    let app = application(Status::Refused);
    let other = Official::new("900101300124", Actor::Applicant);
    let e = file(
        &app,
        None,
        cal(),
        &other,
        NewComplaint { id: "c".into(), subject: Subject::Decision, text: "x".into() },
        astana(11, 30, 10, 0),
    )
    .unwrap_err();
    assert!(matches!(e, Violation::NotForThisActor { .. }));
}

#[test]
fn forwarding_sets_the_review_body_term_of_15_working_days_skipping_16_december() {
    let app = application(Status::Refused);
    let c = registered(&app);
    let who = ComplaintActor { official: &head(), org: "astana-education" };
    let ch = step(&c, &app, ComplaintCommand::Forward { comment: None }, &who, cal(), astana(12, 2, 12, 0)).unwrap();
    assert_eq!(ch.complaint.status, ComplaintStatus::Forwarded);
    assert_eq!(ch.complaint.forwarded_on_time, Some(true));
    // From Wednesday 2 December: 15 working days, 16 December (Independence Day) skipped, end 24 December.
    assert_eq!(ch.complaint.review_due.unwrap().date, date(12, 24));
    assert_eq!(ch.reopen, None);
    assert_eq!(ch.notice.kind, "complaint.forwarded");
}

#[test]
fn upheld_reopens_a_decided_application_and_rejected_does_not() {
    let app = application(Status::Refused);
    let c = registered(&app);
    let h = ComplaintActor { official: &head(), org: "astana-education" };
    let fwd =
        step(&c, &app, ComplaintCommand::Forward { comment: None }, &h, cal(), astana(12, 1, 12, 0)).unwrap().complaint;
    let r = ComplaintActor { official: &reviewer(), org: REVIEW_BODY };
    let up = step(
        &fwd,
        &app,
        ComplaintCommand::Decide { outcome: Outcome::Upheld, reason: "r".into() },
        &r,
        cal(),
        astana(12, 10, 9, 0),
    )
    .unwrap();
    assert_eq!(up.reopen.as_deref(), Some("r"));
    assert!(up.complaint.reopened);
    assert_eq!(up.complaint.resolved_on_time, Some(true));
    let rej = step(
        &fwd,
        &app,
        ComplaintCommand::Decide { outcome: Outcome::Rejected, reason: "r".into() },
        &r,
        cal(),
        astana(12, 10, 9, 0),
    )
    .unwrap();
    assert_eq!(rej.reopen, None);
    // A complaint about an application refused at intake is upheld without reopening it.
    let intake = application(Status::RefusedAtIntake);
    let up = step(
        &fwd,
        &intake,
        ComplaintCommand::Decide { outcome: Outcome::Upheld, reason: "r".into() },
        &r,
        cal(),
        astana(12, 10, 9, 0),
    )
    .unwrap();
    assert_eq!(up.reopen, None);
}

#[test]
fn the_provider_satisfies_within_three_working_days_004_182_185() {
    let app = application(Status::Approved);
    let c = registered(&app);
    let h = ComplaintActor { official: &head(), org: "astana-education" };
    let late =
        step(&c, &app, ComplaintCommand::Satisfy { reason: "ok".into() }, &h, cal(), astana(12, 4, 9, 0)).unwrap();
    assert_eq!(late.complaint.resolved_on_time, Some(false), "Friday 4 December is after Thursday 3");
    assert_eq!(late.reopen.as_deref(), Some("ok"));
    let terms = term_statuses(&late.complaint, astana(12, 4, 9, 0));
    let by = |code: &str| terms.iter().find(|t| t.code == code).unwrap();
    assert_eq!(by("satisfaction").state, TermState::Missed);
    assert_eq!(by("forwarding").state, TermState::NotApplicable);
    assert_eq!(by("provider_review").state, TermState::Met);
    assert_eq!(by("review_body_review").state, TermState::NotApplicable);
}

#[test]
fn roles_and_states_are_enforced() {
    let app = application(Status::Refused);
    let c = registered(&app);
    let r = ComplaintActor { official: &reviewer(), org: REVIEW_BODY };
    let e =
        step(&c, &app, ComplaintCommand::Satisfy { reason: "x".into() }, &r, cal(), astana(12, 1, 9, 0)).unwrap_err();
    assert!(matches!(e, Violation::NotForThisActor { .. }));
    let e = step(
        &c,
        &app,
        ComplaintCommand::Decide { outcome: Outcome::Upheld, reason: "x".into() },
        &r,
        cal(),
        astana(12, 1, 9, 0),
    )
    .unwrap_err();
    assert!(matches!(e, Violation::NotNow { rule: "complaint_action_not_allowed_in_state", .. }));
    let h = ComplaintActor { official: &head(), org: "astana-education" };
    assert_eq!(allowed_actions(&c, &h), vec![ComplaintAction::Satisfy, ComplaintAction::Forward]);
    let other = ComplaintActor { official: &head(), org: "almaty-education" };
    assert!(allowed_actions(&c, &other).is_empty());
}

#[test]
fn an_unanswered_complaint_becomes_overdue_after_its_term() {
    let c = registered(&application(Status::Refused));
    let terms = term_statuses(&c, astana(12, 3, 18, 31));
    assert_eq!(terms.iter().find(|t| t.code == "forwarding").unwrap().state, TermState::Overdue);
    let terms = term_statuses(&c, astana(12, 3, 18, 30));
    assert_eq!(terms.iter().find(|t| t.code == "forwarding").unwrap().state, TermState::Pending);
}

#[test]
fn only_the_accreditation_cites_paragraph_38_everyone_else_the_law() {
    let catalog = Catalog::builtin();
    let on = date(11, 23);
    let meals = catalog.service("free_school_meals").and_then(|s| s.in_force(on));
    for t in terms_for(meals, &application(Status::Refused)) {
        assert!(t.source.starts_with("outside the seeds: ") && t.source.contains("article 25"), "{t:?}");
    }
    let accreditation = catalog.service("adoption_agency_accreditation").and_then(|s| s.in_force(on)).unwrap();
    let mut app = application(Status::Refused);
    app.service_key = accreditation.key.clone();
    app.subtype = accreditation.subtypes.first().map(|s| s.code.clone());
    app.channel = accreditation.channels[0];
    let terms = terms_for(Some(accreditation), &app);
    assert!(terms.iter().all(|t| t.source.starts_with("004:1")), "{terms:?}");
    assert_eq!(terms.map(|t| t.value), [3, 5, 15]);
}
