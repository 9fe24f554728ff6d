//! Complaints (шағым / жалоба) about a provider's decision, action or inaction. The seeds state the
//! procedure only in paragraph 38 of the adoption-agency accreditation rules (004:169-192); for every
//! other service it comes from the Law on public services (No 88-V, art. 25), an act outside the seeds,
//! and is cited as such ([`crate::passport::law_complaint_terms`]):
//!
//! - the applicant files it to the provider's head;
//! - the provider either fully satisfies it within 3 working days of receipt, and then does not
//!   forward it (004:182-185), or forwards it to the review body no later than 3 working days from
//!   receipt (004:179-181);
//! - a complaint to the provider is reviewed within 5 working days of its registration (004:186-188);
//!   one to the review body within 15 working days of its registration there (004:189-190);
//! - the review body upholds it (the application is reopened for a new decision) or rejects it.
//!
//! Terms come from the application's passport when its rules state them, else from the Law.
//! Everything here is pure: [`file`] and [`step`] return what to store.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::application::{Actor, Application, Event, HistoryRecord, Official, Status};
use crate::calendar::BusinessCalendar;
use crate::deadline;
use crate::passport::{Passport, TermUnit};
use crate::violation::Violation;

/// The review body complaints are forwarded to: the authorised body for assessing and controlling the
/// quality of state services (organisation kind `review_body`).
pub const REVIEW_BODY: &str = "quality-agency";

/// Who receives a complaint, as paragraph 38 of the accreditation rules says it (order No 414, seed
/// 004); only the accreditation's complaints cite it.
pub const SOURCE_FILING: &str = "004:170-174 | Accreditation Rules, paragraph 38 (as worded by Order 414, list item 1): a complaint goes to the provider's head or the review body";

/// A complaint's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// Received and registered by the provider.
    Registered,
    /// Fully satisfied by the provider (not forwarded).
    Satisfied,
    /// Forwarded to the review body.
    Forwarded,
    /// Upheld by the review body.
    Upheld,
    /// Rejected by the review body.
    Rejected,
}

impl ComplaintStatus {
    pub const ALL: [ComplaintStatus; 5] = [
        ComplaintStatus::Registered,
        ComplaintStatus::Satisfied,
        ComplaintStatus::Forwarded,
        ComplaintStatus::Upheld,
        ComplaintStatus::Rejected,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ComplaintStatus::Registered => "registered",
            ComplaintStatus::Satisfied => "satisfied",
            ComplaintStatus::Forwarded => "forwarded",
            ComplaintStatus::Upheld => "upheld",
            ComplaintStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ComplaintStatus> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// What the complaint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Decision,
    Action,
    Inaction,
}

impl Subject {
    pub const ALL: [Subject; 3] = [Subject::Decision, Subject::Action, Subject::Inaction];

    pub fn code(self) -> &'static str {
        match self {
            Subject::Decision => "decision",
            Subject::Action => "action",
            Subject::Inaction => "inaction",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }
}

/// How a complaint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The provider satisfied it.
    Satisfied,
    /// The review body upheld it.
    Upheld,
    /// The review body rejected it.
    Rejected,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Satisfied => "satisfied",
            Outcome::Upheld => "upheld",
            Outcome::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Satisfied, Outcome::Upheld, Outcome::Rejected].into_iter().find(|x| x.code() == s)
    }

    fn status(self) -> ComplaintStatus {
        match self {
            Outcome::Satisfied => ComplaintStatus::Satisfied,
            Outcome::Upheld => ComplaintStatus::Upheld,
            Outcome::Rejected => ComplaintStatus::Rejected,
        }
    }
}

/// A term as applied to a complaint at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedTerm {
    pub code: String,
    pub value: u32,
    pub unit: TermUnit,
    pub source: String,
}

/// A due moment and its local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub at: DateTime<Utc>,
    pub date: NaiveDate,
}

/// A complaint as the procedure sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Complaint {
    pub id: String,
    pub application_id: String,
    pub applicant_iin: String,
    pub provider_id: String,
    pub service_key: String,
    pub registration_number: String,
    pub subject: Subject,
    pub text: String,
    pub status: ComplaintStatus,
    /// The application's status when the complaint was filed.
    pub application_status: Status,
    pub registered_at: DateTime<Utc>,
    /// The provider satisfies or forwards it by then.
    pub forward_due: Due,
    /// The provider's review ends then.
    pub provider_due: Due,
    pub reviewer_org: Option<String>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub forwarded_by: Option<String>,
    pub forwarded_on_time: Option<bool>,
    pub review_due: Option<Due>,
    pub outcome: Option<Outcome>,
    pub reason: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Official>,
    pub resolved_on_time: Option<bool>,
    pub reopened: bool,
    /// The terms applied at registration (code, value, unit, source).
    pub terms: Vec<AppliedTerm>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const FORWARDING: &str = "complaint_forwarding";
const PROVIDER_REVIEW: &str = "complaint_review_provider";
const BODY_REVIEW: &str = "complaint_review_body";

/// Who receives a complaint, for services whose rules do not say it: the Law on public services.
pub fn law_filing_source() -> String {
    format!(
        "{}: a complaint goes to the provider's head or the review body",
        crate::passport::LAW_ON_PUBLIC_SERVICES_ART_25
    )
}

fn applied(t: crate::passport::ComplaintTerm) -> AppliedTerm {
    AppliedTerm { code: t.code.into(), value: t.value, unit: t.unit, source: t.citation.to_string() }
}

/// The three complaint terms (forwarding, the provider's review, the review body's review): the
/// passport's own where its rules state them (the accreditation, 004:169-192), else the Law's.
pub fn terms_for(passport: Option<&Passport>, app: &Application) -> [AppliedTerm; 3] {
    match passport {
        Some(p) => p.complaint_terms(app.channel, app.subtype.as_deref()).map(applied),
        None => crate::passport::law_complaint_terms().map(applied),
    }
}

/// Whether the complaint's terms are the seeds' own (paragraph 38 of the accreditation rules).
fn stated_in_seeds(c: &Complaint) -> bool {
    c.forwarding_term().source.starts_with("004:")
}

/// Where the law says who receives this complaint.
pub fn filing_source(c: &Complaint) -> String {
    if stated_in_seeds(c) {
        SOURCE_FILING.into()
    } else {
        law_filing_source()
    }
}

impl Complaint {
    /// The term applied at registration, else the Law's.
    fn term(&self, code: &str) -> AppliedTerm {
        self.terms.iter().find(|t| t.code == code).cloned().unwrap_or_else(|| {
            crate::passport::law_complaint_terms()
                .into_iter()
                .find(|t| t.code == code)
                .map(applied)
                .expect("the Law states all three complaint terms")
        })
    }

    pub fn forwarding_term(&self) -> AppliedTerm {
        self.term(FORWARDING)
    }

    pub fn provider_review_term(&self) -> AppliedTerm {
        self.term(PROVIDER_REVIEW)
    }

    pub fn review_body_term(&self) -> AppliedTerm {
        self.term(BODY_REVIEW)
    }
}

/// A step of the complaint procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintAction {
    Satisfy,
    Forward,
    Decide,
}

impl ComplaintAction {
    pub fn code(self) -> &'static str {
        match self {
            ComplaintAction::Satisfy => "satisfy",
            ComplaintAction::Forward => "forward",
            ComplaintAction::Decide => "decide",
        }
    }

    /// The state the step is taken in and the role that takes it.
    fn edge(self) -> (ComplaintStatus, Actor) {
        match self {
            ComplaintAction::Satisfy | ComplaintAction::Forward => (ComplaintStatus::Registered, Actor::Head),
            ComplaintAction::Decide => (ComplaintStatus::Forwarded, Actor::Reviewer),
        }
    }
}

/// Who acts on a complaint: the official and their organisation.
#[derive(Debug, Clone)]
pub struct ComplaintActor<'a> {
    pub official: &'a Official,
    pub org: &'a str,
}

/// The steps `who` may take on the complaint now: the provider's head satisfies or forwards a
/// registered complaint about their provider's application; the review body it was forwarded to
/// decides it.
pub fn allowed_actions(c: &Complaint, who: &ComplaintActor<'_>) -> Vec<ComplaintAction> {
    match (c.status, who.official.role) {
        (ComplaintStatus::Registered, Actor::Head) if who.org == c.provider_id => {
            vec![ComplaintAction::Satisfy, ComplaintAction::Forward]
        }
        (ComplaintStatus::Forwarded, Actor::Reviewer) if c.reviewer_org.as_deref() == Some(who.org) => {
            vec![ComplaintAction::Decide]
        }
        _ => vec![],
    }
}

/// The applicant's notification about their complaint, in kk, ru and en.
pub fn notice(c: &Complaint, due: Option<NaiveDate>) -> crate::application::notices::Notice {
    let number = &c.registration_number;
    let d = due.map(|d| d.format("%d.%m.%Y").to_string()).unwrap_or_default();
    let texts = match c.status {
        ComplaintStatus::Registered => [
            format!("№ {number} өтініш бойынша шағымыңыз тіркелді; ол {d} дейін қаралады."),
            format!("Ваша жалоба по заявлению № {number} зарегистрирована и будет рассмотрена до {d}."),
            format!("Your complaint about application No {number} was registered; it will be reviewed by {d}."),
        ],
        ComplaintStatus::Satisfied => [
            format!("№ {number} өтініш бойынша шағымыңызды көрсетілетін қызметті беруші толық қанағаттандырды."),
            format!("Услугодатель полностью удовлетворил вашу жалобу по заявлению № {number}."),
            format!("The provider fully satisfied your complaint about application No {number}."),
        ],
        ComplaintStatus::Forwarded => [
            format!("№ {number} өтініш бойынша шағымыңыз шағымды қарайтын органға жіберілді; ол {d} дейін қаралады."),
            format!("Ваша жалоба по заявлению № {number} направлена в орган, рассматривающий жалобу; срок рассмотрения до {d}."),
            format!("Your complaint about application No {number} was forwarded to the review body; it will be reviewed by {d}."),
        ],
        ComplaintStatus::Upheld => [
            format!("№ {number} өтініш бойынша шағымыңыз қанағаттандырылды; өтініш қайта қаралады."),
            format!("Ваша жалоба по заявлению № {number} удовлетворена; заявление будет рассмотрено повторно."),
            format!("Your complaint about application No {number} was upheld; the application will be decided again."),
        ],
        ComplaintStatus::Rejected => [
            format!("№ {number} өтініш бойынша шағымыңыз қанағаттандырусыз қалдырылды."),
            format!("Ваша жалоба по заявлению № {number} оставлена без удовлетворения."),
            format!("Your complaint about application No {number} was rejected."),
        ],
    };
    crate::application::notices::Notice { kind: format!("complaint.{}", c.status.code()), texts }
}

/// What a complaint step stores: the complaint, the entry on the application's history with its
/// event, the applicant's notice, and whether the application is to be reopened (with the reason).
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintChange {
    pub complaint: Complaint,
    pub history: HistoryRecord,
    pub event: Event,
    pub notice: crate::application::notices::Notice,
    /// Reopen the application for a new decision (it is decided and the complaint succeeded).
    pub reopen: Option<String>,
}

fn due(cal: &BusinessCalendar, from: DateTime<Utc>, t: &AppliedTerm) -> Due {
    let d = deadline::due(cal, from, t.value, t.unit);
    Due { at: d.due_at, date: d.due_date }
}

/// A history entry on the application that leaves its status as it is.
fn on_application(
    app: &Application,
    who: &Official,
    action: &str,
    reason: Option<String>,
    changes: Value,
    now: DateTime<Utc>,
) -> (HistoryRecord, Event) {
    (
        HistoryRecord {
            action: action.into(),
            actor: who.clone(),
            at: now,
            from_status: Some(app.status),
            to_status: app.status,
            reason,
            changes,
        },
        Event::of(app, action),
    )
}

/// A complaint as the applicant words it, with the id the store gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    pub id: String,
    pub subject: Subject,
    pub text: String,
}

/// The applicant files a complaint about their application; it is registered now, with the terms of
/// paragraph 38 (or the passport's own) running from registration.
pub fn file(
    app: &Application,
    passport: Option<&Passport>,
    cal: &BusinessCalendar,
    filer: &Official,
    filed: NewComplaint,
    now: DateTime<Utc>,
) -> Result<ComplaintChange, Violation> {
    let NewComplaint { id, subject, text } = filed;
    if filer.role != Actor::Applicant || filer.sub != app.applicant_iin {
        return Err(Violation::NotForThisActor {
            detail: "only the applicant files a complaint about their application".into(),
            basis: Some("the applicant complains about their own application"),
        });
    }
    let terms = terms_for(passport, app);
    let forward_due = due(cal, now, &terms[0]);
    let provider_due = due(cal, now, &terms[1]);
    let complaint = Complaint {
        id,
        application_id: app.id.clone(),
        applicant_iin: app.applicant_iin.clone(),
        provider_id: app.provider_id.clone(),
        service_key: app.service_key.clone(),
        registration_number: app.registration_number.clone(),
        subject,
        text: text.clone(),
        status: ComplaintStatus::Registered,
        application_status: app.status,
        registered_at: now,
        forward_due,
        provider_due,
        reviewer_org: None,
        forwarded_at: None,
        forwarded_by: None,
        forwarded_on_time: None,
        review_due: None,
        outcome: None,
        reason: None,
        resolved_at: None,
        resolved_by: None,
        resolved_on_time: None,
        reopened: false,
        terms: terms.to_vec(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let (history, event) = on_application(
        app,
        filer,
        "complaint_filed",
        Some(text),
        json!({
            "complaint": {"old": null, "new": {"id": complaint.id, "subject": subject, "status": complaint.status}},
            "forward_due_at": {"old": null, "new": forward_due.at, "source": terms[0].source},
            "provider_due_at": {"old": null, "new": provider_due.at, "source": terms[1].source},
        }),
        now,
    );
    let notice = notice(&complaint, Some(provider_due.date));
    Ok(ComplaintChange { complaint, history, event, notice, reopen: None })
}

/// A step on a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintCommand {
    /// The provider's head fully satisfies it (004:182-185).
    Satisfy { reason: String },
    /// The provider's head forwards it to the review body (004:179-181).
    Forward { comment: Option<String> },
    /// The review body upholds or rejects it (004:189-190).
    Decide { outcome: Outcome, reason: String },
}

impl ComplaintCommand {
    pub fn action(&self) -> ComplaintAction {
        match self {
            ComplaintCommand::Satisfy { .. } => ComplaintAction::Satisfy,
            ComplaintCommand::Forward { .. } => ComplaintAction::Forward,
            ComplaintCommand::Decide { .. } => ComplaintAction::Decide,
        }
    }
}

/// Whether a successful complaint reopens the application: only a decision on the merits is decided
/// again (an intake refusal or a withdrawal is not).
fn reopens(app: &Application) -> bool {
    matches!(app.status, Status::Approved | Status::Refused)
}

/// Takes a step on a complaint about `app`: the provider's head satisfies or forwards it, the review
/// body decides it. On time is judged against the terms applied at registration.
pub fn step(
    c: &Complaint,
    app: &Application,
    cmd: ComplaintCommand,
    who: &ComplaintActor<'_>,
    cal: &BusinessCalendar,
    now: DateTime<Utc>,
) -> Result<ComplaintChange, Violation> {
    let action = cmd.action();
    let (from, role) = action.edge();
    if who.official.role != role {
        let who_may = if role == Actor::Head { "the provider's head" } else { "the review body it was forwarded to" };
        return Err(Violation::NotForThisActor {
            detail: format!("only {who_may} may `{}` a complaint", action.code()),
            basis: None,
        });
    }
    if c.status != from {
        return Err(Violation::NotNow {
            rule: "complaint_action_not_allowed_in_state",
            detail: format!("`{}` is not allowed while the complaint is `{}`", action.code(), c.status.code()),
            state: c.status.code().into(),
            allowed: allowed_actions(c, who).iter().map(|a| a.code().to_string()).collect(),
            basis: None,
        });
    }
    let official = who.official;
    let mut next = c.clone();
    next.version += 1;
    next.updated_at = now;
    let (history, event, notice_due, reopen) = match cmd {
        ComplaintCommand::Satisfy { reason } => {
            resolve(&mut next, Outcome::Satisfied, &reason, official, now, Some(c.forward_due.at));
            let (h, e) = on_application(
                app,
                official,
                "complaint_satisfied",
                Some(reason.clone()),
                json!({"complaint": {"old": {"id": c.id, "status": c.status}, "new": {"id": c.id, "status": next.status, "on_time": next.resolved_on_time}}}),
                now,
            );
            (h, e, None, reopens(app).then_some(reason))
        }
        ComplaintCommand::Forward { comment } => {
            let term = c.review_body_term();
            let review = due(cal, now, &term);
            next.status = ComplaintStatus::Forwarded;
            next.reviewer_org = Some(REVIEW_BODY.into());
            next.forwarded_at = Some(now);
            next.forwarded_by = Some(official.sub.clone());
            next.forwarded_on_time = Some(now <= c.forward_due.at);
            next.review_due = Some(review);
            let (h, e) = on_application(
                app,
                official,
                "complaint_forwarded",
                comment,
                json!({
                    "complaint": {"old": {"id": c.id, "status": c.status}, "new": {"id": c.id, "status": next.status, "reviewer_org": REVIEW_BODY, "on_time": next.forwarded_on_time}},
                    "review_due_at": {"old": null, "new": review.at, "source": term.source},
                }),
                now,
            );
            (h, e, Some(review.date), None)
        }
        ComplaintCommand::Decide { outcome, reason } => {
            if outcome == Outcome::Satisfied {
                return Err(Violation::field("outcome", "enum", "one of: upheld, rejected"));
            }
            resolve(&mut next, outcome, &reason, official, now, c.review_due.map(|d| d.at));
            let (h, e) = on_application(
                app,
                official,
                &format!("complaint_{}", outcome.code()),
                Some(reason.clone()),
                json!({"complaint": {"old": {"id": c.id, "status": c.status}, "new": {"id": c.id, "status": next.status, "on_time": next.resolved_on_time}}}),
                now,
            );
            (h, e, None, (outcome == Outcome::Upheld && reopens(app)).then_some(reason))
        }
    };
    next.reopened = reopen.is_some();
    let notice = notice(&next, notice_due);
    Ok(ComplaintChange { complaint: next, history, event, notice, reopen })
}

fn resolve(
    c: &mut Complaint,
    outcome: Outcome,
    reason: &str,
    who: &Official,
    now: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
) {
    c.status = outcome.status();
    c.outcome = Some(outcome);
    c.reason = Some(reason.to_string());
    c.resolved_at = Some(now);
    c.resolved_by = Some(who.clone());
    c.resolved_on_time = Some(due.is_none_or(|d| now <= d));
}

/// Where one of a complaint's terms stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermState {
    Pending,
    /// Pending past its term.
    Overdue,
    Met,
    Missed,
    /// Another path was taken (satisfied instead of forwarded, or the reverse).
    NotApplicable,
}

/// One term of a complaint with its deadline and whether it was met.
#[derive(Debug, Clone, PartialEq)]
pub struct TermStatus {
    /// `satisfaction`, `forwarding`, `provider_review`, `review_body_review`.
    pub code: &'static str,
    pub term: AppliedTerm,
    pub source: String,
    pub due: Option<Due>,
    pub state: TermState,
    pub met: Option<bool>,
}

fn term_state(
    done: Option<DateTime<Utc>>,
    due: Option<DateTime<Utc>>,
    applicable: bool,
    now: DateTime<Utc>,
) -> (TermState, Option<bool>) {
    match (applicable, done, due) {
        (false, _, _) => (TermState::NotApplicable, None),
        (true, Some(at), Some(due)) => {
            let met = at <= due;
            (if met { TermState::Met } else { TermState::Missed }, Some(met))
        }
        (true, None, Some(due)) if now > due => (TermState::Overdue, None),
        _ => (TermState::Pending, None),
    }
}

/// Each term of the complaint, its deadline, and whether it was met, at `now`.
pub fn term_statuses(c: &Complaint, now: DateTime<Utc>) -> Vec<TermStatus> {
    let fwd = c.forwarding_term();
    let prov = c.provider_review_term();
    let body = c.review_body_term();
    let satisfied = c.status == ComplaintStatus::Satisfied;
    let forwarded = c.forwarded_at.is_some();
    let decided_by_body = matches!(c.status, ComplaintStatus::Upheld | ComplaintStatus::Rejected);
    let provider_acted = if satisfied { c.resolved_at } else { c.forwarded_at };
    // Satisfying is the other way out of the forwarding term, and the same provision states both.
    let satisfaction_source = fwd.source.clone();
    let mk = |code, term: &AppliedTerm, source: String, due: Option<Due>, st: (TermState, Option<bool>)| TermStatus {
        code,
        term: term.clone(),
        source,
        due,
        state: st.0,
        met: st.1,
    };
    vec![
        mk(
            "satisfaction",
            &fwd,
            satisfaction_source,
            Some(c.forward_due),
            term_state(satisfied.then_some(c.resolved_at).flatten(), Some(c.forward_due.at), !forwarded, now),
        ),
        mk(
            "forwarding",
            &fwd,
            fwd.source.clone(),
            Some(c.forward_due),
            term_state(c.forwarded_at, Some(c.forward_due.at), !satisfied, now),
        ),
        mk(
            "provider_review",
            &prov,
            prov.source.clone(),
            Some(c.provider_due),
            term_state(provider_acted, Some(c.provider_due.at), true, now),
        ),
        mk(
            "review_body_review",
            &body,
            body.source.clone(),
            c.review_due,
            term_state(decided_by_body.then_some(c.resolved_at).flatten(), c.review_due.map(|d| d.at), forwarded, now),
        ),
    ]
}

#[cfg(test)]
mod tests;
