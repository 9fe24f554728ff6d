//! One fact of time, one function. The due moment, the preliminary-refusal cut-off, on time, overdue,
//! at risk, working days elapsed and remaining, and each stage's deadline are computed here and only
//! here: filing, commands, `/actions`, lists and monitoring all call these.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Application, Status};
use crate::calendar::BusinessCalendar;
use crate::deadline::{self, Deadline};
use crate::passport::{Channel, Passport, Stage, Term, TermStart};

/// The preliminary refusal goes out no later than this many working days before the term ends (APC
/// art. 73, repeated in the 2022 rules of order No 414) unless the passport states its own notice term.
pub const DEFAULT_NOTICE_WORKING_DAYS: u32 = 3;
pub const NOTICE_BASIS: &str =
    "APC art. 73; order No 414, rules (preliminary refusal no later than 3 working days before the term ends)";

/// The service term that governs an application filed through `channel` (for `subtype`).
pub fn service_term<'p>(passport: &'p Passport, channel: Channel, subtype: Option<&str>) -> Option<&'p Term> {
    passport.service_term(channel, subtype)
}

/// The due moment of a filing at `filed_at`: the passport's service term for the channel, counted on
/// the calendar under the schedule of that channel (the State Corporation counts a Saturday filing
/// from that day, the portal an after-hours one from the next working day), and with the day of issue
/// excluded where the text excludes it. `None` when the passport states no service term for that
/// channel (such a version does not accept applications). The moment only: the deadline's `steps` are
/// empty (`deadline::due_for` explains the same moment).
pub fn due_at_filing(
    cal: &BusinessCalendar,
    passport: &Passport,
    channel: Channel,
    subtype: Option<&str>,
    filed_at: DateTime<Utc>,
) -> Option<(Term, Deadline)> {
    let term = service_term(passport, channel, subtype)?;
    Some((term.clone(), deadline::due_moment_for(cal, &passport.schedule(channel, cal), filed_at, term)))
}

/// The due moment of an application, recomputed on `cal` (after a change of the calendar): the same
/// function as at filing, from the moment it was filed.
pub fn due_recomputed(cal: &BusinessCalendar, passport: &Passport, app: &Application) -> Option<(Term, Deadline)> {
    due_at_filing(cal, passport, app.channel, app.subtype.as_deref(), app.submitted_at)
}

/// The notice term a preliminary refusal needs, where the service's rules state one. None is
/// invented where they do not (the fully automated guardianship certificate states none).
pub fn notice_term<'p>(passport: &'p Passport, app: &Application) -> Option<&'p Term> {
    passport.preliminary_refusal_notice(app.channel, app.subtype.as_deref())
}

/// The last local day a preliminary refusal may be sent: the notice term's working days before the
/// term's last day; `None` when the rules state no notice term.
pub fn preliminary_refusal_cutoff(cal: &BusinessCalendar, passport: &Passport, app: &Application) -> Option<NaiveDate> {
    notice_term(passport, app).map(|t| deadline::latest_working_day_before(cal, app.due_date, t.value))
}

/// The moment by which the provider must decide: the end of the service term, or, after a hearing,
/// the end of the term for the answer after the hearing when that comes first.
pub fn decision_due_at(app: &Application) -> DateTime<Utc> {
    match app.stage_due_at {
        Some(stage) => stage.min(app.due_at),
        None => app.due_at,
    }
}

/// Whether a decision taken at `at` meets its term.
pub fn on_time(app: &Application, at: DateTime<Utc>) -> bool {
    at <= decision_due_at(app)
}

/// An open application whose term for a decision has ended.
pub fn is_overdue(app: &Application, now: DateTime<Utc>) -> bool {
    !app.status.is_final() && now > decision_due_at(app)
}

/// The local date of `at` on the calendar.
pub fn local_date(cal: &BusinessCalendar, at: DateTime<Utc>) -> NaiveDate {
    cal.to_local(at).date()
}

/// Working days from the day the term counts from up to `today` (0 on that day; never negative).
pub fn working_days_elapsed(cal: &BusinessCalendar, app: &Application, today: NaiveDate) -> i64 {
    deadline::working_days_between(cal, local_date(cal, app.counted_from), today).max(0)
}

/// Working days after `today` up to the due date: 0 on the last day, negative once past it.
pub fn working_days_remaining(cal: &BusinessCalendar, app: &Application, today: NaiveDate) -> i64 {
    deadline::working_days_between(cal, today, app.due_date)
}

/// An open application within its term with at most `days` working days left.
pub fn is_at_risk(cal: &BusinessCalendar, app: &Application, now: DateTime<Utc>, days: i64) -> bool {
    !app.status.is_final() && !is_overdue(app, now) && working_days_remaining(cal, app, local_date(cal, now)) <= days
}

/// Working days from the day the term counted from to the decision (for monitoring's averages).
pub fn working_days_to_decision(cal: &BusinessCalendar, app: &Application) -> Option<i64> {
    let decided = app.decided_at?;
    Some(deadline::working_days_between(cal, local_date(cal, app.counted_from), local_date(cal, decided)))
}

/// The service term in working days as applied to this application (filing day to due date).
pub fn term_working_days(cal: &BusinessCalendar, app: &Application) -> i64 {
    deadline::working_days_between(cal, local_date(cal, app.counted_from), app.due_date)
}

/// The events of an application the stage terms are anchored on, read from its history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// The provider's acceptance (registration).
    pub accepted_at: Option<DateTime<Utc>>,
    /// When the hearing was held (as its record says; the moment of recording when it does not).
    pub hearing_recorded_at: Option<DateTime<Utc>>,
    /// Stage events recorded by staff: (term code, started or completed, when), oldest first.
    pub stage_events: Vec<(String, super::StageEvent, DateTime<Utc>)>,
}

impl Timeline {
    /// The latest such event by when it happened (a backdated entry does not override a later one).
    fn last(&self, term: &str, event: super::StageEvent) -> Option<DateTime<Utc>> {
        self.stage_events.iter().filter(|(t, e, _)| t == term && *e == event).map(|(_, _, at)| *at).max()
    }
}

/// Where a stage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Pending,
    Overdue,
    Met,
    Missed,
    /// Its start event has not happened, or is not one the system records.
    AwaitingStart,
    /// A latest date counted back from the term's end.
    CountedBack,
    /// Queue and counter limits, checked at the counter.
    AtTheCounter,
}

/// One of the passport's time limits applied to an application.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDeadline {
    pub term: Term,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub state: StageState,
}

/// Stages the decision completes: the whole service, the examination, issuing the result, the
/// answer after the hearing.
fn completed_by_decision(stage: Stage) -> bool {
    matches!(stage, Stage::Service | Stage::Examination | Stage::ResultIssue | Stage::ResultAfterHearing)
}

/// Each of the passport's terms for the application's channel and subtype, anchored on the recorded
/// event the term counts from (filing, acceptance, the hearing, the decision, or a stage event staff
/// recorded); a stage the decision completes is `met` or `missed` once decided.
pub fn stage_deadlines(
    cal: &BusinessCalendar,
    passport: &Passport,
    app: &Application,
    timeline: &Timeline,
    now: DateTime<Utc>,
) -> Vec<StageDeadline> {
    use super::StageEvent;
    passport
        .terms
        .iter()
        .filter(|t| t.applies_to(app.channel, app.subtype.as_deref()))
        .map(|t| {
            let recorded_done = timeline.last(&t.code, StageEvent::Completed);
            // Only a decision on the merits completes them (not a withdrawal or an intake refusal).
            let on_merits = matches!(app.status, Status::Approved | Status::Refused);
            let completed_at =
                recorded_done.or(if completed_by_decision(t.stage) && on_merits { app.decided_at } else { None });
            let started_at = timeline.last(&t.code, StageEvent::Started).or(match t.starts {
                TermStart::Filing => Some(app.submitted_at),
                TermStart::ReceiptByProvider => timeline.accepted_at,
                TermStart::Hearing => timeline.hearing_recorded_at,
                TermStart::Decision => app.decided_at,
                _ => None,
            });
            let (due_at, state) = match (t.starts, t.stage) {
                (TermStart::ServiceTermEnd | TermStart::ExpiryOfStatus, _) => (None, StageState::CountedBack),
                (TermStart::Arrival, _) | (_, Stage::QueueWait | Stage::CounterService) => {
                    (None, StageState::AtTheCounter)
                }
                _ => match started_at {
                    None => (None, StageState::AwaitingStart),
                    Some(start) => {
                        // A term that runs from the filing counts under the channel's hours; one that
                        // runs from the provider's own step, under the provider's working time.
                        let due = if t.starts == TermStart::Filing {
                            deadline::due_moment_for(cal, &passport.schedule(app.channel, cal), start, t).due_at
                        } else {
                            deadline::due_moment(cal, start, t.value, t.unit).due_at
                        };
                        let state = match completed_at {
                            Some(d) if d <= due => StageState::Met,
                            Some(_) => StageState::Missed,
                            None if now > due => StageState::Overdue,
                            None => StageState::Pending,
                        };
                        (Some(due), state)
                    }
                },
            };
            StageDeadline { term: t.clone(), started_at, completed_at, due_at, state }
        })
        .collect()
}

/// A stage monitoring measures: (code, the statuses it starts in, the statuses that end it, the
/// passport stage whose term is its norm).
pub type MeasuredStage = (&'static str, &'static [Status], &'static [Status], Option<Stage>);

/// The stages monitoring measures, each between two moves of the state table.
pub const MEASURED_STAGES: [MeasuredStage; 5] = [
    ("submit_to_accept", &[Status::Submitted], &[Status::Accepted, Status::RefusedAtIntake], Some(Stage::Intake)),
    ("accept_to_assign", &[Status::Accepted], &[Status::InProgress], None),
    (
        "assign_to_decision",
        &[Status::InProgress],
        &[Status::Approved, Status::PreliminaryRefusal, Status::Refused],
        None,
    ),
    ("preliminary_refusal_to_hearing", &[Status::PreliminaryRefusal], &[Status::HearingHeld], Some(Stage::Hearing)),
    ("hearing_to_final", &[Status::HearingHeld], &[Status::Approved, Status::Refused], Some(Stage::ResultAfterHearing)),
];

/// How long an application spent in one measured stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageTiming {
    pub stage: &'static str,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub minutes: i64,
    /// Working days after the start day up to the end day.
    pub working_days: i64,
}

/// The measured stage a move from `from` (entered at `since`) to `to` at `now` ends, if any.
pub fn stage_ended(
    cal: &BusinessCalendar,
    from: Status,
    since: DateTime<Utc>,
    to: Status,
    now: DateTime<Utc>,
) -> Option<StageTiming> {
    let (code, ..) =
        MEASURED_STAGES.iter().find(|(_, starts, ends, _)| starts.contains(&from) && ends.contains(&to))?;
    Some(StageTiming {
        stage: code,
        started_at: since,
        ended_at: now,
        minutes: (now - since).num_minutes(),
        working_days: deadline::working_days_between(cal, local_date(cal, since), local_date(cal, now)),
    })
}

/// The exclusive bound of due dates at risk: an open application whose due date falls before it has
/// at most `days` working days left after `today` ([`is_at_risk`], as a date for a query).
pub fn at_risk_before(cal: &BusinessCalendar, today: NaiveDate, days: i64) -> NaiveDate {
    deadline::add_working_days(cal, today, u32::try_from(days.max(0) + 1).unwrap_or(u32::MAX))
}

/// Whether `status` still has a term running (for SQL filters that mirror [`is_overdue`]).
pub fn term_runs(status: Status) -> bool {
    !status.is_final()
}
