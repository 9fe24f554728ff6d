//! The procedure's rules, each pinned to exact dates. The application is free_school_meals (order
//! No 414, 2022 rules of order No 158), filed on the portal on Monday 23 November 2026 at 10:00 Astana
//! time: its 5 working days end on Monday 30 November at 18:30.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

use super::commands::{decide, Command, Context, StageEvent};
use super::decision::{Decision, DocumentKind, Official};
use super::states::{allowed_actions, Action, Actor, Status};
use super::submission::{self, Filer, Filing, NewIds};
use super::timing::{self, StageState, Timeline};
use super::Application;
use crate::calendar::BusinessCalendar;
use crate::catalog::Catalog;
use crate::passport::Passport;
use crate::violation::Violation;

const APPLICANT: &str = "900101300123";

fn cal() -> &'static BusinessCalendar {
    BusinessCalendar::kazakhstan()
}

fn catalog() -> &'static Catalog {
    Catalog::builtin()
}

/// Astana local time (UTC+5 since March 2024) in November/December 2026.
fn astana(m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, h - 5, mi, 0).unwrap()
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn passport() -> &'static Passport {
    catalog().service("free_school_meals").unwrap().in_force(date(11, 23)).unwrap()
}

fn applicant() -> Filer {
    Filer { sub: APPLICANT.into(), role: Actor::Applicant, org: None }
}

fn filing() -> Filing {
    let mut form = crate::form::example(&passport().form);
    form["applicant"]["iin"] = json!(APPLICANT);
    Filing {
        service_key: "free_school_meals".into(),
        channel: "portal".into(),
        provider_id: "astana-education".into(),
        subtype: None,
        applicant_iin: None,
        representative: None,
        representative_json: None,
        form,
    }
}

/// Filed on the portal on Monday 23 November 2026, 10:00.
fn filed() -> Application {
    let f = filing();
    let now = astana(11, 23, 10, 0);
    let checked = submission::check(&f, &applicant(), catalog(), date(11, 23)).expect("a valid filing");
    let ids = NewIds { id: "app-1".into(), registration_number: "2026-000001".into() };
    submission::new_application(&checked, &f, &applicant(), cal(), ids, now).unwrap().application
}

fn employee() -> Official {
    Official::new("emp-1", Actor::Employee)
}

fn head() -> Official {
    Official::new("head-1", Actor::Head)
}

fn run(app: &Application, who: &Official, now: DateTime<Utc>, cmd: Command) -> Result<Application, Violation> {
    decide(app, cmd, &Context { passport: passport(), calendar: cal(), actor: who, now }).map(|c| c.application)
}

/// Accepted Monday 10:30, assigned to emp-1 at 11:00.
fn in_progress() -> Application {
    let a = run(&filed(), &employee(), astana(11, 23, 10, 30), Command::Accept { comment: None }).unwrap();
    run(&a, &head(), astana(11, 23, 11, 0), Command::Assign { assignee: "emp-1".into(), on_staff: true }).unwrap()
}

fn preliminary(hearing_at: DateTime<Utc>, now: DateTime<Utc>) -> Command {
    let _ = now;
    Command::PreliminaryRefusal {
        grounds: vec!["unreliable_documents".into()],
        hearing_at,
        hearing_place: "Astana, Mangilik El 8, room 204".into(),
        comment: None,
    }
}

fn heard() -> Application {
    let a = run(
        &in_progress(),
        &employee(),
        astana(11, 24, 9, 0),
        preliminary(astana(11, 26, 11, 0), astana(11, 24, 9, 0)),
    )
    .unwrap();
    run(
        &a,
        &employee(),
        astana(11, 26, 11, 30),
        Command::RecordHearing { applicant_position: "the certificate is new".into(), evidence: vec![], held_at: None },
    )
    .unwrap()
}

#[test]
fn the_due_moment_is_the_fifth_working_day_at_18_30() {
    // Order No 414 (rules of order No 158), free_school_meals: 5 working days; the working day ends
    // at 18:30 Astana time, 13:30 UTC.
    let a = filed();
    assert_eq!(a.due_date, date(11, 30));
    assert_eq!(a.due_at, astana(11, 30, 18, 30));
    assert_eq!(a.counted_from, astana(11, 23, 10, 0));
    assert_eq!(a.status, Status::Submitted);
}

#[test]
fn recomputing_on_the_same_calendar_gives_the_same_due_moment() {
    let a = filed();
    let (_, d) = timing::due_recomputed(cal(), passport(), &a).unwrap();
    assert_eq!((d.due_at, d.due_date), (a.due_at, a.due_date));
}

#[test]
fn cutoff_is_three_working_days_before_the_term_ends_apc_73() {
    // Term ends Monday 30 November: Thu 26, Fri 27 and Mon 30 lie after Wednesday 25.
    let a = in_progress();
    assert_eq!(timing::preliminary_refusal_cutoff(cal(), passport(), &a), Some(date(11, 25)));
    let on_cutoff =
        run(&a, &employee(), astana(11, 25, 17, 0), preliminary(astana(11, 27, 10, 0), astana(11, 25, 17, 0)));
    assert_eq!(on_cutoff.unwrap().status, Status::PreliminaryRefusal);
    let late = run(&a, &employee(), astana(11, 26, 9, 0), preliminary(astana(11, 27, 10, 0), astana(11, 26, 9, 0)));
    match late {
        Err(Violation::NotNow { rule, allowed, basis, .. }) => {
            assert_eq!(rule, "preliminary_refusal_too_late");
            assert_eq!(allowed, vec!["approve".to_string()]);
            assert!(basis.unwrap().contains("APC art. 73"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_hearing_falls_after_now_and_within_the_term_apc_73() {
    let a = in_progress();
    let now = astana(11, 24, 9, 0);
    for at in [astana(11, 24, 8, 0), astana(11, 30, 18, 31)] {
        let e = run(&a, &employee(), now, preliminary(at, now)).unwrap_err();
        assert!(
            matches!(&e, Violation::Invalid { fields, .. } if fields[0].field == "hearing_at" && fields[0].rule == "within_term"),
            "{e:?}"
        );
    }
    assert!(run(&a, &employee(), now, preliminary(astana(11, 30, 18, 30), now)).is_ok());
}

#[test]
fn grounds_must_be_the_passports() {
    let a = in_progress();
    let now = astana(11, 24, 9, 0);
    let cmd = Command::PreliminaryRefusal {
        grounds: vec!["unreliable_documents".into(), "no_such_ground".into()],
        hearing_at: astana(11, 26, 11, 0),
        hearing_place: "room 204".into(),
        comment: None,
    };
    match run(&a, &employee(), now, cmd).unwrap_err() {
        Violation::Invalid { fields, .. } => {
            assert_eq!(
                (fields[0].field.as_str(), fields[0].rule.as_str()),
                ("grounds[1]", "not_a_ground_of_the_passport")
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_refusal_rests_only_on_grounds_put_to_the_applicant_at_the_hearing_apc_74() {
    let a = heard();
    let now = astana(11, 27, 10, 0);
    let e = run(
        &a,
        &employee(),
        now,
        Command::Refuse {
            grounds: vec!["unreliable_documents".into(), "no_consent".into()],
            motivation: "m".repeat(20),
        },
    )
    .unwrap_err();
    match e {
        Violation::Invalid { fields, basis } => {
            assert!(
                fields.iter().all(|f| f.rule == "not_heard" || f.rule == "not_a_ground_of_the_passport"),
                "{fields:?}"
            );
            assert!(
                basis.unwrap().contains("APC art. 73-74")
                    || fields.iter().any(|f| f.rule == "not_a_ground_of_the_passport")
            );
        }
        other => panic!("{other:?}"),
    }
    let refused = run(
        &a,
        &employee(),
        now,
        Command::Refuse { grounds: vec!["unreliable_documents".into()], motivation: "m".repeat(20) },
    )
    .unwrap();
    assert_eq!(refused.status, Status::Refused);
    let Some(Decision::Refused(r)) = &refused.decision else { panic!() };
    assert!(r.hearing.as_ref().is_some_and(|h| h.is_held()), "the refusal carries the hearing it follows");
    assert!(r.on_time);
}

#[test]
fn no_refusal_without_a_hearing_except_the_automated_decision() {
    let a = in_progress();
    let now = astana(11, 24, 9, 0);
    let e = run(
        &a,
        &employee(),
        now,
        Command::Refuse { grounds: vec!["unreliable_documents".into()], motivation: "x".repeat(20) },
    )
    .unwrap_err();
    assert!(matches!(e, Violation::NotNow { rule: "action_not_allowed_in_state", .. }), "{e:?}");
    let system = Official::system();
    let auto =
        Command::RefuseAutomatically { ground_code: "unreliable_documents".into(), motivation: "registry".into() };
    assert_eq!(run(&a, &system, now, auto.clone()).unwrap().status, Status::Refused);
    // Nobody but the system takes an automated decision.
    assert!(run(&a, &head(), now, auto.clone()).is_err());
    assert!(matches!(run(&heard(), &head(), now, auto).unwrap_err(), Violation::NotForThisActor { .. }));
}

#[test]
fn the_answer_after_the_hearing_is_due_within_the_passports_term() {
    // Hearing recorded Thursday 26 November 11:30: one working day (004:686-688) ends Friday 27 at 18:30.
    let a = heard();
    assert_eq!(a.status, Status::HearingHeld);
    assert_eq!(a.stage_due_at, Some(astana(11, 27, 18, 30)));
    assert_eq!(timing::decision_due_at(&a), astana(11, 27, 18, 30));
    // Approving on Monday 30 November is within the service term but after the answer was due.
    assert!(timing::is_overdue(&a, astana(11, 30, 9, 0)));
    let late = run(&a, &head(), astana(11, 30, 9, 0), Command::Approve { result_code: None, comment: None }).unwrap();
    let Some(Decision::Approved(ap)) = &late.decision else { panic!() };
    assert!(!ap.on_time, "one definition of on time for approvals and refusals alike");
}

#[test]
fn only_the_assignee_or_the_head_acts() {
    let a = in_progress();
    let other = Official::new("emp-2", Actor::Employee);
    let now = astana(11, 24, 9, 0);
    let e = run(&a, &other, now, Command::Approve { result_code: None, comment: None }).unwrap_err();
    assert!(matches!(e, Violation::NotForThisActor { .. }));
    let e = run(
        &a,
        &other,
        now,
        Command::RecordStage { term: "service_term".into(), event: StageEvent::Started, at: None, note: None },
    )
    .unwrap_err();
    assert!(matches!(e, Violation::NotForThisActor { .. }), "stage events too");
    assert!(run(&a, &head(), now, Command::Approve { result_code: None, comment: None }).is_ok());
}

#[test]
fn the_head_assigns_and_an_employee_may_not() {
    let a = run(&filed(), &employee(), astana(11, 23, 10, 30), Command::Accept { comment: None }).unwrap();
    let e = run(&a, &employee(), astana(11, 23, 11, 0), Command::Assign { assignee: "emp-1".into(), on_staff: true })
        .unwrap_err();
    assert!(matches!(e, Violation::NotForThisActor { .. }));
}

#[test]
fn an_intake_refusal_lists_passport_documents_and_issues_a_receipt() {
    let a = filed();
    let now = astana(11, 23, 10, 30);
    let e = run(
        &a,
        &employee(),
        now,
        Command::RefuseIntake { missing_documents: vec![], expired_documents: vec![], comment: None },
    )
    .unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "required"));
    let e = run(
        &a,
        &employee(),
        now,
        Command::RefuseIntake {
            missing_documents: vec!["passport_of_mars".into()],
            expired_documents: vec![],
            comment: None,
        },
    )
    .unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].field == "missing_documents[0]"));
    let code = passport().documents[0].code.clone();
    let change = decide(
        &a,
        Command::RefuseIntake { missing_documents: vec![code], expired_documents: vec![], comment: None },
        &Context { passport: passport(), calendar: cal(), actor: &employee(), now },
    )
    .unwrap();
    assert_eq!(change.application.status, Status::RefusedAtIntake);
    assert_eq!(change.application.decided_at, Some(now));
    assert_eq!(change.document.as_ref().map(|d| d.0), Some(DocumentKind::IntakeRefusalReceipt));
    assert_eq!(change.history.changes["status"], json!({"old": "submitted", "new": "refused_at_intake"}));
    assert_eq!(change.notice.unwrap().kind, "status.refused_at_intake");
    assert_eq!(change.event.kind, "application.refuse_intake");
}

#[test]
fn reopening_clears_the_decision_and_the_stage_term() {
    let a = heard();
    let refused = run(
        &a,
        &head(),
        astana(11, 27, 10, 0),
        Command::Refuse { grounds: vec!["unreliable_documents".into()], motivation: "x".repeat(20) },
    )
    .unwrap();
    let reviewer = Official::new("rev-1", Actor::Reviewer);
    let reopened = run(
        &refused,
        &reviewer,
        astana(12, 3, 10, 0),
        Command::Reopen { complaint_id: "c-1".into(), reason: "upheld".into() },
    )
    .unwrap();
    assert_eq!(reopened.status, Status::InProgress);
    assert_eq!((reopened.decision, reopened.stage_due_at, reopened.decided_at), (None, None, None));
}

#[test]
fn stage_events_are_recorded_after_the_fact_and_never_on_a_decided_application() {
    let a = in_progress();
    let now = astana(11, 24, 12, 0);
    let future = Command::RecordStage {
        term: "service_term".into(),
        event: StageEvent::Completed,
        at: Some(astana(11, 24, 13, 0)),
        note: None,
    };
    assert!(matches!(run(&a, &employee(), now, future).unwrap_err(), Violation::Invalid { .. }));
    let unknown =
        Command::RecordStage { term: "no_such_term".into(), event: StageEvent::Started, at: None, note: None };
    assert!(
        matches!(&run(&a, &employee(), now, unknown).unwrap_err(), Violation::Invalid { fields, .. } if fields[0].rule == "not_a_term_of_the_passport")
    );
    let approved = run(&a, &employee(), now, Command::Approve { result_code: None, comment: None }).unwrap();
    let again = Command::RecordStage { term: "service_term".into(), event: StageEvent::Started, at: None, note: None };
    assert!(matches!(
        run(&approved, &employee(), now, again).unwrap_err(),
        Violation::NotNow { rule: "application_decided", .. }
    ));
}

#[test]
fn days_elapsed_and_remaining_count_working_days_only() {
    let a = in_progress();
    // Friday 27 November: Tue, Wed, Thu, Fri elapsed; Mon 30 remains.
    assert_eq!(timing::working_days_elapsed(cal(), &a, date(11, 27)), 4);
    assert_eq!(timing::working_days_remaining(cal(), &a, date(11, 27)), 1);
    assert_eq!(timing::working_days_remaining(cal(), &a, date(12, 1)), -1);
    assert!(timing::is_at_risk(cal(), &a, astana(11, 27, 9, 0), 2));
    assert!(!timing::is_at_risk(cal(), &a, astana(11, 23, 12, 0), 2));
    assert!(!timing::is_overdue(&a, astana(11, 30, 18, 30)), "the last minute is within the term");
    assert!(timing::is_overdue(&a, astana(11, 30, 18, 31)));
}

#[test]
fn stage_deadlines_anchor_on_recorded_events() {
    let a = heard();
    let timeline = Timeline {
        accepted_at: Some(astana(11, 23, 10, 30)),
        hearing_recorded_at: Some(astana(11, 26, 11, 30)),
        stage_events: vec![],
    };
    let stages = timing::stage_deadlines(cal(), passport(), &a, &timeline, astana(11, 27, 9, 0));
    let by = |code: &str| stages.iter().find(|s| s.term.code == code).unwrap();
    assert_eq!(by("service_term").due_at, Some(astana(11, 30, 18, 30)));
    assert_eq!(by("service_term").state, StageState::Pending);
    assert_eq!(by("preliminary_refusal_notice").state, StageState::CountedBack);
    assert_eq!(by("result_after_hearing").due_at, Some(astana(11, 27, 18, 30)));
}

#[test]
fn submission_rules_are_reported_together() {
    let mut f = filing();
    f.channel = "state_corporation".into();
    f.subtype = Some("x".into());
    f.applicant_iin = Some("900101300124".into());
    let e = submission::check(&f, &applicant(), catalog(), date(11, 23)).unwrap_err();
    let Violation::Invalid { fields, .. } = e else { panic!() };
    let rules: Vec<(&str, &str)> = fields.iter().map(|f| (f.field.as_str(), f.rule.as_str())).collect();
    assert!(rules.contains(&("channel", "channel_not_allowed_for_role")), "{rules:?}");
    assert!(rules.contains(&("subtype", "not_applicable")), "{rules:?}");
    assert!(rules.contains(&("applicant_iin", "must_be_caller")), "{rules:?}");
    let staff = Filer { sub: "emp-1".into(), role: Actor::Employee, org: Some("almaty-education".into()) };
    let mut f = filing();
    f.channel = "provider_office".into();
    f.applicant_iin = Some(APPLICANT.into());
    let Violation::Invalid { fields, .. } = submission::check(&f, &staff, catalog(), date(11, 23)).unwrap_err() else {
        panic!()
    };
    assert!(fields.iter().any(|x| x.rule == "own_organization"), "{fields:?}");
}

#[test]
fn a_version_not_in_force_takes_no_applications() {
    let e = submission::check(&filing(), &applicant(), catalog(), NaiveDate::from_ymd_opt(2013, 1, 15).unwrap())
        .unwrap_err();
    let Violation::Invalid { fields, .. } = e else { panic!() };
    assert!(fields.iter().any(|f| f.rule == "service_not_in_force"), "{fields:?}");
}

fn any_status() -> impl Strategy<Value = Status> {
    proptest::sample::select(Status::ALL.to_vec())
}

fn any_actor() -> impl Strategy<Value = Actor> {
    proptest::sample::select(Actor::ALL.to_vec())
}

fn any_action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

proptest! {
    /// No command moves a final application, except reopening after an upheld complaint.
    #[test]
    fn final_applications_move_only_by_reopening(status in any_status(), actor in any_actor(), action in any_action()) {
        if status.is_final() {
            if let Ok(to) = super::states::transition(status, action, actor) {
                prop_assert_eq!(action, Action::Reopen);
                prop_assert_eq!(to, Status::InProgress);
                prop_assert!(matches!(actor, Actor::Head | Actor::Reviewer));
            }
        }
        // What `allowed_actions` lists is exactly what `transition` accepts.
        let listed = allowed_actions(status, actor).contains(&action);
        prop_assert_eq!(listed, super::states::transition(status, action, actor).is_ok());
    }

    /// The cut-off for a preliminary refusal never falls after the due date, for any filing moment.
    #[test]
    fn the_cutoff_never_falls_after_the_due_date(minutes in 0i64..(60 * 24 * 400)) {
        let filed_at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::minutes(minutes);
        let mut a = filed();
        let (_, d) = timing::due_at_filing(cal(), passport(), a.channel, None, filed_at).unwrap();
        a.due_at = d.due_at;
        a.due_date = d.due_date;
        let cutoff = timing::preliminary_refusal_cutoff(cal(), passport(), &a).expect("free_school_meals states a notice term");
        prop_assert!(cutoff <= a.due_date);
        prop_assert!(cal().is_working_day(cutoff));
    }
}

/// Order No 414: the State Corporation takes filings Monday to Saturday 09:00-20:00 without a lunch
/// break (e.g. 004:2494-2500), and a filing it accepts counts from that day; the portal counts a
/// filing after 18:30 or on a day off from the next working day (e.g. 004:1034-1045).
#[test]
fn the_due_moment_follows_the_channel_the_application_came_through() {
    // free_school_transport states both channels' hours in its schedule rows.
    let p = catalog().service("free_school_transport").unwrap().in_force(date(11, 23)).unwrap();
    let counted = |channel, at| {
        let (_, d) = timing::due_at_filing(cal(), p, channel, None, at).unwrap();
        cal().from_local(d.counted_from)
    };
    use crate::passport::Channel::{Portal, StateCorporation};
    // Saturday 28 November 2026, 10:00 at a State Corporation centre: counted from that moment.
    assert_eq!(counted(StateCorporation, astana(11, 28, 10, 0)), astana(11, 28, 10, 0));
    // Monday 23 November, 19:00 at a centre (open until 20:00): that day still.
    assert_eq!(counted(StateCorporation, astana(11, 23, 19, 0)), astana(11, 23, 19, 0));
    // The same Monday 19:00 on the portal: from Tuesday 24 November, 09:00.
    assert_eq!(counted(Portal, astana(11, 23, 19, 0)), astana(11, 24, 9, 0));
}

#[test]
fn the_head_assigns_only_an_employee_on_the_providers_staff() {
    let a = run(&filed(), &employee(), astana(11, 23, 10, 30), Command::Accept { comment: None }).unwrap();
    let e = run(&a, &head(), astana(11, 23, 11, 0), Command::Assign { assignee: "anyone".into(), on_staff: false })
        .unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "not_an_employee"), "{e:?}");
}

#[test]
fn staff_read_registry_records_only_of_persons_the_application_names() {
    let mut a = filed();
    a.form["spouse"] = json!({"iin": "850505400127"});
    assert!(crate::registry::may_read_records_for(&a, APPLICANT));
    assert!(crate::registry::may_read_records_for(&a, "850505400127"));
    let child = a.form["children"][0]["iin"].as_str().unwrap().to_string();
    assert!(crate::registry::may_read_records_for(&a, &child));
    assert!(!crate::registry::may_read_records_for(&a, "900101300126"));
}

#[test]
fn each_measured_stage_is_timed_when_it_ends() {
    // Filed Monday 10:00, accepted 10:30 (submit_to_accept: 30 minutes, 0 working days), assigned 11:00.
    let filed = filed();
    let accept = decide(
        &filed,
        Command::Accept { comment: None },
        &Context { passport: passport(), calendar: cal(), actor: &employee(), now: astana(11, 23, 10, 30) },
    )
    .unwrap();
    let t = accept.stage.expect("the intake stage ended");
    assert_eq!((t.stage, t.minutes, t.working_days), ("submit_to_accept", 30, 0));
    assert_eq!(accept.application.status_since, astana(11, 23, 10, 30));
    // Reassigning keeps the status: no stage ends, the stage start stays.
    let a = in_progress();
    let again = decide(
        &a,
        Command::Assign { assignee: "emp-2".into(), on_staff: true },
        &Context { passport: passport(), calendar: cal(), actor: &head(), now: astana(11, 24, 9, 0) },
    )
    .unwrap();
    assert_eq!((again.stage, again.application.status_since), (None, a.status_since));
    // Approved Friday 27 November: 4 working days after the term started counting, on time.
    let approved =
        run(&a, &employee(), astana(11, 27, 12, 0), Command::Approve { result_code: None, comment: None }).unwrap();
    assert_eq!((approved.working_days_to_decision, approved.decided_on_time), (Some(4), Some(true)));
    assert_eq!(approved.term_working_days, 5);
}

proptest! {
    /// The date bound that lists applications at risk in SQL agrees with [`timing::is_at_risk`].
    #[test]
    fn at_risk_as_a_date_bound_agrees_with_the_rule(offset in 0i64..40, days in 0i64..6) {
        let mut a = in_progress();
        a.due_date = date(11, 23) + chrono::Duration::days(offset);
        a.due_at = cal().from_local(a.due_date.and_hms_opt(18, 30, 0).unwrap());
        let now = astana(11, 24, 9, 0);
        let today = timing::local_date(cal(), now);
        let by_bound = a.due_date < timing::at_risk_before(cal(), today, days) && !timing::is_overdue(&a, now);
        prop_assert_eq!(by_bound, timing::is_at_risk(cal(), &a, now, days));
    }
}

#[test]
fn a_hearing_is_held_after_its_notice_and_a_stage_after_filing() {
    let a = in_progress();
    let notice_at = astana(11, 24, 9, 0);
    let pre = run(&a, &employee(), notice_at, preliminary(astana(11, 26, 11, 0), notice_at)).unwrap();
    let early = Command::RecordHearing {
        applicant_position: "x".into(),
        evidence: vec![],
        held_at: Some(astana(11, 24, 8, 0)),
    };
    let e = run(&pre, &employee(), astana(11, 26, 12, 0), early).unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "after_the_notice"), "{e:?}");
    let before_filing = Command::RecordStage {
        term: "service_term".into(),
        event: StageEvent::Started,
        at: Some(astana(11, 20, 9, 0)),
        note: None,
    };
    let e = run(&a, &employee(), astana(11, 24, 9, 0), before_filing).unwrap_err();
    assert!(matches!(&e, Violation::Invalid { fields, .. } if fields[0].rule == "after_filing"), "{e:?}");
}

/// A decree making Friday 27 November 2026 a day off (Saturday 19 December worked instead).
fn calendar_moving_27_november() -> BusinessCalendar {
    use crate::calendar::{Confidence, Decree, DecreeKind, Transfer};
    let mut data = cal().year_data(2026).cloned().unwrap();
    data.decrees = vec![Decree {
        id: "mlsp-2026-11".into(),
        kind: DecreeKind::MinistryOrder,
        number: Some("77".into()),
        date: NaiveDate::from_ymd_opt(2026, 11, 20),
        year: None,
        adilet: None,
        confidence: Confidence::Confirmed,
        note: None,
    }];
    data.transfers = vec![Transfer { day_off: date(11, 27), working_day: date(12, 19), decree: "mlsp-2026-11".into() }];
    cal().with_year(data).unwrap()
}

#[test]
fn a_calendar_change_moves_the_answer_after_the_hearing_too() {
    // Heard Thursday 26 November: the answer was due Friday 27 at 18:30; the decree makes Friday a day
    // off, so it is due Monday 30 November, as is the service term (which ended Monday 30 and moves to
    // Tuesday 1 December).
    let a = heard();
    let after = calendar_moving_27_november();
    let admin = Official::new("admin-1", Actor::Admin);
    let change = super::commands::CalendarChange {
        before: cal(),
        after: &after,
        year: 2026,
        change_id: "c-1",
        reason: "decree",
        admin: &admin,
        now: astana(11, 26, 15, 0),
    };
    let moved = super::commands::recompute_due(&a, passport(), &change).expect("the dates moved");
    assert_eq!(moved.application.due_date, date(12, 1));
    assert_eq!(moved.application.stage_due_at, Some(astana(11, 30, 18, 30)));
    assert_eq!(moved.history.changes["stage_due_at"]["new"], json!(astana(11, 30, 18, 30)));
}

/// An application of `p` through `channel`, filed at `at`, with the dates its filing was given.
fn filed_through(p: &Passport, channel: crate::passport::Channel, at: DateTime<Utc>) -> Option<Application> {
    let mut a = filed();
    let (_, d) = timing::due_at_filing(cal(), p, channel, None, at)?;
    a.service_key = p.key.clone();
    a.passport_version = p.version.clone();
    a.channel = channel;
    a.submitted_at = at;
    a.counted_from = cal().from_local(d.counted_from);
    a.due_at = d.due_at;
    a.due_date = d.due_date;
    Some(a)
}

fn change_of<'a>(after: &'a BusinessCalendar, admin: &'a Official) -> super::commands::CalendarChange<'a> {
    super::commands::CalendarChange {
        before: cal(),
        after,
        year: 2026,
        change_id: "c-1",
        reason: "decree",
        admin,
        now: astana(11, 26, 15, 0),
    }
}

#[test]
fn a_calendar_change_reaches_from_its_first_changed_day_to_its_last() {
    // The decree makes Friday 27 November a day off and Saturday 19 December a working day.
    let after = calendar_moving_27_november();
    let admin = Official::new("admin-1", Actor::Admin);
    let reach = change_of(&after, &admin).reach().expect("two days changed");
    // Local midnights, 19:00 UTC the evening before.
    assert_eq!(reach.from, Utc.with_ymd_and_hms(2026, 11, 26, 19, 0, 0).unwrap());
    assert_eq!(reach.until, Utc.with_ymd_and_hms(2026, 12, 19, 19, 0, 0).unwrap());
    // The year stored again as it was changes no day: nothing to recompute.
    assert_eq!(change_of(cal(), &admin).reach(), None);
    // Filed Monday 23 November, due Monday 30: the changed Friday is among its days.
    assert!(reach.may_move(&filed()));
    // Filed Monday 2 November, due Monday 9: every counted day before the change's first.
    let early = filed_through(passport(), crate::passport::Channel::Portal, astana(11, 2, 10, 0)).unwrap();
    assert!(!reach.may_move(&early));
    assert!(super::commands::recompute_due(&early, passport(), &change_of(&after, &admin)).is_none());
    // Filed Monday 21 December: every counted day after the change's last.
    let late = filed_through(passport(), crate::passport::Channel::Portal, astana(12, 21, 10, 0)).unwrap();
    assert!(!reach.may_move(&late));
    // Heard 26 November, its answer due 27 November: moved, and within reach.
    assert!(reach.may_move(&heard()));
}

proptest! {
    /// Whatever the service, channel and filing moment, an application the change moves is one
    /// its reach keeps: the filter the calendar change reads applications by never leaves one out.
    #[test]
    fn a_calendar_change_moves_only_applications_within_its_reach(
        service in 0usize..64, channel in 0usize..8, minutes in 0i64..(60 * 24 * 75),
    ) {
        let services: Vec<_> = catalog().services().filter_map(|s| s.in_force(date(11, 1))).collect();
        let p = services[service % services.len()];
        let ch = p.channels[channel % p.channels.len()];
        let at = astana(10, 15, 9, 0) + chrono::Duration::minutes(minutes);
        let after = calendar_moving_27_november();
        let admin = Official::new("admin-1", Actor::Admin);
        let change = change_of(&after, &admin);
        if let Some(a) = filed_through(p, ch, at) {
            let reach = change.reach().unwrap();
            if super::commands::recompute_due(&a, p, &change).is_some() {
                prop_assert!(reach.may_move(&a), "{} {:?} filed {} due {}", p.key, ch, a.submitted_at, a.due_at);
            }
        }
    }
}
