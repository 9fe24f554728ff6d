//! The commands of the procedure and their rules. [`decide`] takes an application, a command and the
//! context (the passport version, the calendar, who acts, now) and returns either the [`Change`] to
//! store (the new state, the history entry, the event, the applicant's notice, the document to issue)
//! or the [`Violation`] naming the rule and where the law states it. It does no I/O.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::decision::{
    ground_of, Approval, CitedDocument, CitedGround, CitedResult, Decision, DocumentKind, Hearing, IntakeRefusal,
    Official, PreliminaryRefusal, ReceiptKind, Refusal, RegistryUsed,
};
use super::notices::{status_notice, Notice};
use super::states::{transition, Action, Actor, Status, TransitionError};
use super::timing;
use super::Application;
use crate::calendar::BusinessCalendar;
use crate::deadline;
use crate::passport::{Passport, Stage};
use crate::violation::{FieldViolation, Violation};

/// Where the rules below are stated.
pub mod basis {
    pub const STATE_TABLE: &str = "order No 414, rules of each service; APC art. 73-74 (refusal only after a hearing)";
    pub const ASSIGNEE: &str = "order No 414, rules: the provider's head assigns the responsible employee";
    pub const INTAKE_REFUSAL: &str =
        "order No 414, rules: refusal to accept an incomplete or expired set of documents, with a receipt";
    pub const GROUNDS: &str = "order No 414, rules: refusal only on the grounds the service's rules list";
    pub const HEARING_WITHIN_TERM: &str = "APC art. 73: the hearing is set within the term of the procedure";
    pub const HEARD_GROUNDS: &str =
        "APC art. 73-74: the applicant is heard on each ground before a refusal; a refusal rests only on grounds heard";
    pub const AFTER_THE_FACT: &str = "a step is recorded after it took place";
    pub const DECIDED: &str = "order No 414: no stage runs on a decided application";
}

/// A stage event recorded by staff: the start or completion of one of the passport's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageEvent {
    Started,
    Completed,
}

impl StageEvent {
    pub fn code(self) -> &'static str {
        match self {
            StageEvent::Started => "started",
            StageEvent::Completed => "completed",
        }
    }

    pub fn parse(s: &str) -> Option<StageEvent> {
        match s {
            "started" => Some(StageEvent::Started),
            "completed" => Some(StageEvent::Completed),
            _ => None,
        }
    }

    /// The history action that records it.
    pub fn action_code(self) -> &'static str {
        match self {
            StageEvent::Started => "stage_started",
            StageEvent::Completed => "stage_completed",
        }
    }
}

/// What can be asked of the procedure.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Register a complete set of documents.
    Accept { comment: Option<String> },
    /// Refuse to accept an incomplete or expired set, listing what is missing or expired.
    RefuseIntake { missing_documents: Vec<String>, expired_documents: Vec<String>, comment: Option<String> },
    /// The head assigns (or reassigns) the responsible employee; `on_staff` is what the provider's
    /// staff directory says of them (an active employee of the application's provider).
    Assign { assignee: String, on_staff: bool },
    /// Issue the result (the passport's `result_code`, else its first result).
    Approve { result_code: Option<String>, comment: Option<String> },
    /// The preliminary refusal with the hearing's time and place (APC art. 73).
    PreliminaryRefusal {
        grounds: Vec<String>,
        hearing_at: DateTime<Utc>,
        hearing_place: String,
        comment: Option<String>,
    },
    /// The hearing's record (APC art. 74).
    RecordHearing { applicant_position: String, evidence: Vec<String>, held_at: Option<DateTime<Utc>> },
    /// The motivated refusal on grounds heard.
    Refuse { grounds: Vec<String>, motivation: String },
    /// The applicant withdraws before a decision.
    Withdraw { reason: Option<String> },
    /// A complaint about the decision was upheld or satisfied: decide again.
    Reopen { complaint_id: String, reason: String },
    /// The information system issues the result of a fully automated service.
    ApproveAutomatically { result_code: String, facts: Value, registries: Vec<RegistryUsed> },
    /// The information system refuses a fully automated service on a ground of its passport.
    RefuseAutomatically { ground_code: String, motivation: String },
    /// Staff record the start or completion of one of the passport's stage terms.
    RecordStage { term: String, event: StageEvent, at: Option<DateTime<Utc>>, note: Option<String> },
}

impl Command {
    /// The move of the state table this command makes (`None`: it changes no state).
    pub fn action(&self) -> Option<Action> {
        Some(match self {
            Command::Accept { .. } => Action::Accept,
            Command::RefuseIntake { .. } => Action::RefuseIntake,
            Command::Assign { .. } => Action::Assign,
            Command::Approve { .. } | Command::ApproveAutomatically { .. } => Action::Approve,
            Command::PreliminaryRefusal { .. } => Action::PreliminaryRefusal,
            Command::RecordHearing { .. } => Action::RecordHearing,
            Command::Refuse { .. } | Command::RefuseAutomatically { .. } => Action::Refuse,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Reopen { .. } => Action::Reopen,
            Command::RecordStage { .. } => return None,
        })
    }
}

/// What a command runs against besides the application.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The passport version the application is bound to.
    pub passport: &'a Passport,
    pub calendar: &'a BusinessCalendar,
    pub actor: &'a Official,
    pub now: DateTime<Utc>,
}

/// The history entry a change writes.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    /// `submit`, `accept`, ..., `stage_completed`, `complaint_filed`, `calendar_changed`.
    pub action: String,
    pub actor: Official,
    pub at: DateTime<Utc>,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub reason: Option<String>,
    /// Field → `{old, new}`.
    pub changes: Value,
}

/// The event integrators receive about a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `application.accept`, `application.due_date_changed`, ...
    pub kind: String,
    pub payload: Value,
}

impl Event {
    /// The usual event of a change: its action, and where the application stands.
    pub fn of(app: &Application, action: &str) -> Event {
        Event {
            kind: format!("application.{action}"),
            payload: json!({"registration_number": app.registration_number, "status": app.status, "version": app.version}),
        }
    }
}

/// Everything one step changes, to be stored in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The application as it is after the step (version incremented).
    pub application: Application,
    pub history: HistoryRecord,
    pub event: Event,
    /// The applicant's notification, when the status changed.
    pub notice: Option<Notice>,
    /// The signed document the step issues, with the decision it carries.
    pub document: Option<(DocumentKind, Value)>,
    /// The measured stage the step ends, for monitoring.
    pub stage: Option<timing::StageTiming>,
}

impl Change {
    /// A change that records `history` on `app` without moving its state (complaint steps, stage
    /// events, a calendar change): the version moves only when `app` itself changed.
    pub fn note(app: Application, history: HistoryRecord, event: Event) -> Change {
        Change { application: app, history, event, notice: None, document: None, stage: None }
    }
}

fn transition_violation(e: TransitionError) -> Violation {
    match e {
        TransitionError::NotForThisActor { action } => Violation::NotForThisActor {
            detail: format!("your role may not `{}` an application", action.code()),
            basis: Some(basis::STATE_TABLE),
        },
        TransitionError::NotInThisState { state, action, allowed } => Violation::NotNow {
            rule: "action_not_allowed_in_state",
            detail: format!("`{}` is not allowed while the application is `{}`", action.code(), state.code()),
            state: state.code().into(),
            allowed: allowed.iter().map(|a| a.code().to_string()).collect(),
            basis: Some(basis::STATE_TABLE),
        },
    }
}

/// Provider employees act only on applications assigned to them; the head on any of the provider's.
pub fn check_assignee(app: &Application, actor: &Official) -> Result<(), Violation> {
    if actor.role == Actor::Employee && app.assignee.as_deref().is_some_and(|a| a != actor.sub) {
        return Err(Violation::NotForThisActor {
            detail: "the application is assigned to another employee".into(),
            basis: Some(basis::ASSIGNEE),
        });
    }
    Ok(())
}

/// Each code must be one of the passport's refusal grounds; at least one is required.
fn cite_grounds(p: &Passport, codes: &[String]) -> Result<Vec<CitedGround>, Violation> {
    if codes.is_empty() {
        return Err(
            Violation::field("grounds", "required", "cite at least one ground of the passport").citing(basis::GROUNDS)
        );
    }
    let mut fields = Vec::new();
    let mut cited = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match ground_of(p, code) {
            Some(g) => cited.push(CitedGround::from(g)),
            None => fields.push(FieldViolation::new(
                format!("grounds[{i}]"),
                "not_a_ground_of_the_passport",
                format!("`{code}` is not among the refusal grounds of {}/{}", p.key, p.version),
            )),
        }
    }
    if fields.is_empty() {
        Ok(cited)
    } else {
        Err(Violation::Invalid { fields, basis: Some(basis::GROUNDS) })
    }
}

/// The documents named, each one of the passport's.
fn cite_documents(p: &Passport, field: &str, codes: &[String], fields: &mut Vec<FieldViolation>) -> Vec<CitedDocument> {
    codes
        .iter()
        .enumerate()
        .filter_map(|(i, code)| match p.documents.iter().find(|d| &d.code == code) {
            Some(d) => Some(CitedDocument::from(d)),
            None => {
                fields.push(FieldViolation::new(
                    format!("{field}[{i}]"),
                    "not_a_document_of_the_passport",
                    format!("`{code}` is not a document of this service"),
                ));
                None
            }
        })
        .collect()
}

fn json_of<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What a command changes beyond the state move: the application's other fields, the history's
/// reason and changes, and the document to issue.
struct Effect {
    reason: Option<String>,
    changes: Value,
    document: Option<(DocumentKind, Value)>,
}

impl Effect {
    fn note(reason: Option<String>) -> Self {
        Effect { reason, changes: json!({}), document: None }
    }
}

/// Runs one command of the procedure on `app`.
pub fn decide(app: &Application, cmd: Command, ctx: &Context<'_>) -> Result<Change, Violation> {
    let Some(action) = cmd.action() else { return record_stage(app, cmd, ctx) };
    let to = transition(app.status, action, ctx.actor.role).map_err(transition_violation)?;
    if matches!(cmd, Command::ApproveAutomatically { .. } | Command::RefuseAutomatically { .. })
        && ctx.actor.role != Actor::System
    {
        return Err(Violation::NotForThisActor {
            detail: "only the information system takes an automated decision".into(),
            basis: Some(basis::STATE_TABLE),
        });
    }
    let mut next = app.clone();
    let effect = apply(&mut next, cmd, ctx)?;
    Ok(move_to(app, next, to, action, effect, ctx))
}

/// The move itself: status, decision time (set entering a final state, cleared leaving one), version,
/// and the history entry with the status's old and new values.
fn move_to(
    before: &Application,
    mut next: Application,
    to: Status,
    action: Action,
    effect: Effect,
    ctx: &Context,
) -> Change {
    next.status = to;
    next.decided_at = to.is_final().then_some(ctx.now);
    next.version = before.version + 1;
    next.updated_at = ctx.now;
    let stage = if before.status != to {
        next.status_since = ctx.now;
        timing::stage_ended(ctx.calendar, before.status, before.status_since, to, ctx.now)
    } else {
        None
    };
    // The figures monitoring sums, kept with the decision on the merits (cleared on reopening).
    let on_merits = matches!(to, Status::Approved | Status::Refused);
    next.working_days_to_decision =
        if on_merits { timing::working_days_to_decision(ctx.calendar, &next) } else { None };
    next.decided_on_time = on_merits.then(|| timing::on_time(&next, ctx.now));
    let mut changes = effect.changes;
    changes["status"] = json!({"old": before.status, "new": to});
    let notice = (before.status != to).then(|| status_notice(to, &next.registration_number));
    let event = Event::of(&next, action.code());
    Change {
        history: HistoryRecord {
            action: action.code().into(),
            actor: ctx.actor.clone(),
            at: ctx.now,
            from_status: Some(before.status),
            to_status: to,
            reason: effect.reason,
            changes,
        },
        application: next,
        event,
        notice,
        document: effect.document,
        stage,
    }
}

fn apply(app: &mut Application, cmd: Command, ctx: &Context<'_>) -> Result<Effect, Violation> {
    let (p, now, who) = (ctx.passport, ctx.now, ctx.actor);
    match cmd {
        Command::Accept { comment } => Ok(Effect::note(comment)),
        Command::Withdraw { reason } => Ok(Effect::note(reason)),
        Command::RefuseIntake { missing_documents, expired_documents, comment } => {
            if missing_documents.is_empty() && expired_documents.is_empty() {
                return Err(Violation::field("missing_documents", "required", "list the missing or expired documents")
                    .citing(basis::INTAKE_REFUSAL));
            }
            let mut fields = Vec::new();
            let missing = cite_documents(p, "missing_documents", &missing_documents, &mut fields);
            let expired = cite_documents(p, "expired_documents", &expired_documents, &mut fields);
            if !fields.is_empty() {
                return Err(Violation::Invalid { fields, basis: Some(basis::INTAKE_REFUSAL) });
            }
            // The passport's grounds to refuse acceptance that the receipt's lists meet.
            let grounds = p
                .refusal_to_accept
                .iter()
                .filter(|g| {
                    (!missing.is_empty() && g.shared.as_deref() == Some("incomplete_document_set"))
                        || (!expired.is_empty() && g.shared.as_deref() == Some("expired_documents"))
                })
                .map(CitedGround::from)
                .collect();
            let receipt = Decision::RefusedAtIntake(IntakeRefusal {
                kind: ReceiptKind::IntakeRefusalReceipt,
                missing_documents: missing,
                expired_documents: expired,
                grounds,
                comment: comment.clone(),
                issued_by: who.clone(),
                issued_at: now,
            });
            let body = receipt.to_json();
            app.decision = Some(receipt);
            Ok(Effect {
                reason: comment,
                changes: json!({"decision": {"old": null, "new": body}}),
                document: Some((DocumentKind::IntakeRefusalReceipt, body)),
            })
        }
        Command::Assign { assignee, on_staff } => {
            // The system assigns itself the applications it decides; a person must be on the staff.
            if !on_staff && who.role != Actor::System {
                return Err(Violation::field(
                    "assignee",
                    "not_an_employee",
                    format!("`{assignee}` is not an active employee of the provider (see its staff directory)"),
                )
                .citing(basis::ASSIGNEE));
            }
            let old = app.assignee.replace(assignee.clone());
            Ok(Effect { reason: None, changes: json!({"assignee": {"old": old, "new": assignee}}), document: None })
        }
        Command::Approve { result_code, comment } => {
            check_assignee(app, who)?;
            let result = match &result_code {
                Some(code) => p.results.iter().find(|r| &r.code == code).ok_or_else(|| {
                    Violation::field(
                        "result_code",
                        "not_a_result_of_the_passport",
                        "not a result this service produces",
                    )
                })?,
                None => p.results.first().ok_or_else(|| {
                    Violation::field("result_code", "required", "the passport states no result to issue")
                })?,
            };
            let hearing = app.decision.as_ref().and_then(|d| d.hearing()).cloned();
            let decision = Decision::Approved(Approval {
                result: CitedResult::from(result),
                comment: comment.clone(),
                facts: None,
                registries: None,
                hearing,
                decided_by: who.clone(),
                decided_at: now,
                on_time: timing::on_time(app, now),
            });
            Ok(decided(app, decision, comment, DocumentKind::ApprovalResult))
        }
        Command::ApproveAutomatically { result_code, facts, registries } => {
            let result = p.results.iter().find(|r| r.code == result_code).ok_or_else(|| {
                Violation::field("result_code", "not_a_result_of_the_passport", "not a result this service produces")
            })?;
            let decision = Decision::Approved(Approval {
                result: CitedResult::from(result),
                comment: None,
                facts: Some(facts),
                registries: Some(registries),
                hearing: None,
                decided_by: who.clone(),
                decided_at: now,
                on_time: timing::on_time(app, now),
            });
            Ok(decided(app, decision, Some("automated decision".into()), DocumentKind::ApprovalResult))
        }
        Command::RefuseAutomatically { ground_code, motivation } => {
            let grounds = cite_grounds(p, std::slice::from_ref(&ground_code))?;
            let decision = Decision::Refused(Refusal {
                grounds,
                motivation,
                hearing: None,
                decided_by: who.clone(),
                decided_at: now,
                on_time: timing::on_time(app, now),
            });
            Ok(decided(app, decision, Some("automated decision".into()), DocumentKind::MotivatedRefusal))
        }
        Command::PreliminaryRefusal { grounds, hearing_at, hearing_place, comment } => {
            check_assignee(app, who)?;
            let cutoff = timing::preliminary_refusal_cutoff(ctx.calendar, p, app);
            if let (Some(cutoff), Some(notice)) = (cutoff, timing::notice_term(p, app)) {
                if timing::local_date(ctx.calendar, now) > cutoff {
                    return Err(Violation::NotNow {
                        rule: "preliminary_refusal_too_late",
                        detail: format!(
                            "the term ends on {}; a preliminary refusal had to be sent by {cutoff} ({} working days before, APC art. 73; {})",
                            app.due_date, notice.value, notice.source
                        ),
                        state: app.status.code().into(),
                        allowed: vec![Action::Approve.code().into()],
                        basis: Some(timing::NOTICE_BASIS),
                    });
                }
            }
            let cited = cite_grounds(p, &grounds)?;
            if hearing_at <= now || hearing_at > app.due_at {
                return Err(Violation::field(
                    "hearing_at",
                    "within_term",
                    format!("the hearing must be after now and before the term ends ({})", app.due_at),
                )
                .citing(basis::HEARING_WITHIN_TERM));
            }
            app.hearing_at = Some(hearing_at);
            app.hearing_place = Some(hearing_place.clone());
            let decision = Decision::PreliminaryRefusal(PreliminaryRefusal {
                grounds: cited,
                hearing: Hearing {
                    at: hearing_at,
                    place: hearing_place,
                    held_at: None,
                    applicant_position: None,
                    evidence: None,
                    recorded_by: None,
                },
                comment: comment.clone(),
                notice_cutoff: cutoff,
                decided_by: who.clone(),
                decided_at: now,
            });
            let body = decision.to_json();
            app.decision = Some(decision);
            Ok(Effect {
                reason: comment,
                changes: json!({"decision": {"old": null, "new": body}, "hearing_at": {"old": null, "new": hearing_at}}),
                document: Some((DocumentKind::PreliminaryRefusalNotice, body)),
            })
        }
        Command::RecordHearing { applicant_position, evidence, held_at } => {
            check_assignee(app, who)?;
            let held_at = held_at.unwrap_or(now);
            if held_at > now {
                return Err(Violation::field("held_at", "not_in_future", "a hearing is recorded after it took place")
                    .citing(basis::AFTER_THE_FACT));
            }
            if let Some(Decision::PreliminaryRefusal(pre)) = app.decision.as_ref() {
                if held_at < pre.decided_at {
                    return Err(Violation::field(
                        "held_at",
                        "after_the_notice",
                        "a hearing is held after the preliminary refusal that set it",
                    )
                    .citing(basis::HEARD_GROUNDS));
                }
            }
            let Some(Decision::PreliminaryRefusal(pre)) = app.decision.as_mut() else {
                return Err(Violation::NotNow {
                    rule: "no_preliminary_refusal",
                    detail: "no preliminary refusal set a hearing for this application".into(),
                    state: app.status.code().into(),
                    allowed: vec![],
                    basis: Some(basis::HEARD_GROUNDS),
                });
            };
            pre.hearing.held_at = Some(held_at);
            pre.hearing.applicant_position = Some(applicant_position);
            pre.hearing.evidence = Some(evidence);
            pre.hearing.recorded_by = Some(who.clone());
            let hearing = json_of(&pre.hearing);
            // The answer after the hearing is due within the passport's own term for it.
            let after = p.terms_for(Stage::ResultAfterHearing, app.channel, app.subtype.as_deref()).next().cloned();
            let stage_due = after.as_ref().map(|t| deadline::due_moment(ctx.calendar, held_at, t.value, t.unit).due_at);
            app.stage_due_at = stage_due;
            Ok(Effect {
                reason: None,
                document: None,
                changes: json!({
                    "hearing": {"old": null, "new": hearing},
                    "stage_due_at": {"old": null, "new": stage_due, "term": after.map(|t| json!({"value": t.value, "unit": t.unit.code(), "source": t.source.to_string()}))},
                }),
            })
        }
        Command::Refuse { grounds, motivation } => {
            check_assignee(app, who)?;
            let cited = cite_grounds(p, &grounds)?;
            let before = app.decision.clone();
            let heard: Vec<&str> = match &before {
                Some(Decision::PreliminaryRefusal(pre)) => pre.grounds.iter().map(|g| g.code.as_str()).collect(),
                _ => vec![],
            };
            let unheard: Vec<FieldViolation> = grounds
                .iter()
                .enumerate()
                .filter(|(_, g)| !heard.contains(&g.as_str()))
                .map(|(i, g)| {
                    FieldViolation::new(
                        format!("grounds[{i}]"),
                        "not_heard",
                        format!("`{g}` was not cited in the preliminary refusal, so the applicant was not heard on it"),
                    )
                })
                .collect();
            if !unheard.is_empty() {
                return Err(Violation::Invalid { fields: unheard, basis: Some(basis::HEARD_GROUNDS) });
            }
            let decision = Decision::Refused(Refusal {
                grounds: cited,
                motivation: motivation.clone(),
                hearing: before.as_ref().and_then(|d| d.hearing()).cloned(),
                decided_by: who.clone(),
                decided_at: now,
                on_time: timing::on_time(app, now),
            });
            Ok(decided(app, decision, Some(motivation), DocumentKind::MotivatedRefusal))
        }
        Command::Reopen { complaint_id, reason } => {
            let old = app.decision.take().map(|d| d.to_json());
            // The new decision starts afresh: no hearing is set for it yet.
            app.stage_due_at = None;
            app.hearing_at = None;
            app.hearing_place = None;
            Ok(Effect {
                reason: Some(reason),
                changes: json!({"decision": {"old": old, "new": null}, "complaint": {"old": null, "new": complaint_id}}),
                document: None,
            })
        }
        Command::RecordStage { .. } => unreachable!("stage events change no state; see record_stage"),
    }
}

/// Records a decision on `app`, the history's `{old, new}`, and the signed document it issues.
fn decided(app: &mut Application, decision: Decision, reason: Option<String>, kind: DocumentKind) -> Effect {
    let body = decision.to_json();
    let old = app.decision.replace(decision).map(|d| d.to_json());
    Effect { reason, changes: json!({"decision": {"old": old, "new": body}}), document: Some((kind, body)) }
}

/// A stage event: staff record when one of the passport's stage terms started or was completed, so
/// that each is tracked against its own start ([`timing::stage_deadlines`]).
fn record_stage(app: &Application, cmd: Command, ctx: &Context<'_>) -> Result<Change, Violation> {
    let Command::RecordStage { term, event, at, note } = cmd else { unreachable!("only stage events change no state") };
    if !matches!(ctx.actor.role, Actor::Employee | Actor::Head) {
        return Err(Violation::NotForThisActor {
            detail: "only the provider's staff record stage events".into(),
            basis: Some(basis::ASSIGNEE),
        });
    }
    if app.status.is_final() {
        return Err(Violation::NotNow {
            rule: "application_decided",
            detail: "the application is decided; its stages are closed".into(),
            state: app.status.code().into(),
            allowed: vec![],
            basis: Some(basis::DECIDED),
        });
    }
    check_assignee(app, ctx.actor)?;
    let term = ctx
        .passport
        .terms
        .iter()
        .find(|t| t.code == term && t.applies_to(app.channel, app.subtype.as_deref()))
        .ok_or_else(|| {
            Violation::field(
                "term",
                "not_a_term_of_the_passport",
                "not one of the passport's terms for this application",
            )
        })?;
    let at = at.unwrap_or(ctx.now);
    if at > ctx.now {
        return Err(Violation::field("at", "not_in_future", "record a stage event after it happened")
            .citing(basis::AFTER_THE_FACT));
    }
    if at < app.submitted_at {
        return Err(Violation::field("at", "after_filing", "a stage of the application happens after its filing"));
    }
    let mut next = app.clone();
    next.version += 1;
    next.updated_at = ctx.now;
    let history = HistoryRecord {
        action: event.action_code().into(),
        actor: ctx.actor.clone(),
        at,
        from_status: Some(app.status),
        to_status: app.status,
        reason: note,
        changes: json!({"term": term.code, "stage": term.stage, "at": at, "source": term.source.to_string()}),
    };
    let event = Event::of(&next, event.action_code());
    Ok(Change::note(next, history, event))
}

/// A change of the business calendar as it bears on one open application.
#[derive(Debug, Clone, Copy)]
pub struct CalendarChange<'a> {
    pub before: &'a BusinessCalendar,
    pub after: &'a BusinessCalendar,
    pub year: i32,
    pub change_id: &'a str,
    /// The administrator's reason, naming the decrees.
    pub reason: &'a str,
    pub admin: &'a Official,
    pub now: DateTime<Utc>,
}

/// The stretch of time a change of the calendar can move a due date within: from the start of the
/// first local day it made something else to the end of the last. A term is counted over the days
/// from the filing to its due date, and the answer after a hearing over the days from the hearing to
/// its own due date ([`recompute_due`]), so an open application whose days all lie outside it keeps its
/// dates. The calendar change reads only the applications [`Reach::may_move`] keeps, from the
/// database, page by page: a year's decree at national scale touches the open applications of a few
/// weeks, not all of them, and never all at once in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    /// The start of the first changed day (local midnight, as a UTC moment).
    pub from: DateTime<Utc>,
    /// The end of the last changed day: the next local midnight.
    pub until: DateTime<Utc>,
}

impl Reach {
    /// Whether `app`'s counted days may include a changed one: filed before the last changed day
    /// ends, and due (or, after a hearing, its answer due) on or after the first begins. Exactly the
    /// filter `persistence::applications::open_within` states in SQL.
    pub fn may_move(&self, app: &Application) -> bool {
        app.submitted_at < self.until && (app.due_at >= self.from || app.stage_due_at.is_some_and(|s| s >= self.from))
    }
}

impl CalendarChange<'_> {
    /// The days the change made something else, as a [`Reach`]; `None` when no day differs (the
    /// same data again, or only a decree's citation corrected), so nothing is recomputed.
    pub fn reach(&self) -> Option<Reach> {
        // A year's data decides its own days and, through observed holidays and transfers, days next
        // to it: the years before and after are compared too.
        let first = NaiveDate::from_ymd_opt(self.year - 1, 1, 1)?;
        let last = NaiveDate::from_ymd_opt(self.year + 1, 12, 31)?;
        let mut changed =
            first.iter_days().take_while(|d| *d <= last).filter(|d| self.before.day(*d) != self.after.day(*d));
        let earliest = changed.next()?;
        let latest = changed.last().unwrap_or(earliest);
        let midnight = |d: NaiveDate| self.after.from_local(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
        Some(Reach { from: midnight(earliest), until: midnight(latest.succ_opt()?) })
    }
}

/// The due moment of `app` recomputed on the changed calendar ([`timing::due_recomputed`], the same
/// function as at filing), as a change to store when it moved: the history entry names the days that
/// moved it, and the event tells integrators the new due date. `None` when nothing moved.
pub fn recompute_due(app: &Application, passport: &Passport, change: &CalendarChange<'_>) -> Option<Change> {
    let (_, d) = timing::due_recomputed(change.after, passport, app)?;
    let counted_from = change.after.from_local(d.counted_from);
    let mut next = app.clone();
    next.due_at = d.due_at;
    next.due_date = d.due_date;
    next.counted_from = counted_from;
    // The answer after a hearing counts on the changed calendar too, from when the hearing was held.
    let held_at = app.decision.as_ref().and_then(|x| x.hearing()).and_then(|h| h.held_at);
    let after = passport.terms_for(Stage::ResultAfterHearing, app.channel, app.subtype.as_deref()).next();
    if let (Some(_), Some(held), Some(t)) = (app.stage_due_at, held_at, after) {
        next.stage_due_at = Some(deadline::due_moment(change.after, held, t.value, t.unit).due_at);
    }
    if next.due_at == app.due_at
        && next.due_date == app.due_date
        && next.counted_from == app.counted_from
        && next.stage_due_at == app.stage_due_at
    {
        return None;
    }
    next.term_working_days = timing::term_working_days(change.after, &next);
    next.version += 1;
    next.updated_at = change.now;
    // The days between the filing and the later due date that the change made something else.
    let from = timing::local_date(change.after, app.submitted_at);
    let to = app.due_date.max(next.due_date);
    let days: Vec<Value> = from
        .iter_days()
        .take_while(|day| *day <= to)
        .filter_map(|day| {
            let (old, new) = (change.before.day(day), change.after.day(day));
            (old != new).then(|| json!({"date": day, "old": old, "new": new}))
        })
        .collect();
    let mut changes = json!({
        "due_date": {"old": app.due_date, "new": next.due_date},
        "due_at": {"old": app.due_at, "new": next.due_at},
        "calendar": {"year": change.year, "change_id": change.change_id, "days": days},
    });
    if app.counted_from != next.counted_from {
        changes["counted_from"] = json!({"old": app.counted_from, "new": next.counted_from});
    }
    if app.stage_due_at != next.stage_due_at {
        changes["stage_due_at"] = json!({"old": app.stage_due_at, "new": next.stage_due_at});
    }
    let event = Event {
        kind: "application.due_date_changed".into(),
        payload: json!({
            "registration_number": next.registration_number,
            "status": next.status,
            "version": next.version,
            "due_date": changes["due_date"],
            "due_at": changes["due_at"],
            "calendar_year": change.year,
            "calendar_change_id": change.change_id,
        }),
    };
    let history = HistoryRecord {
        action: "calendar_changed".into(),
        actor: change.admin.clone(),
        at: change.now,
        from_status: Some(app.status),
        to_status: app.status,
        reason: Some(change.reason.to_string()),
        changes,
    };
    Some(Change::note(next, history, event))
}
