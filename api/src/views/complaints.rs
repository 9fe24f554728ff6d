//! Complaints as the applicant, the provider and the review body see them.

use chrono::{DateTime, NaiveDate, Utc};
use domain::complaint::{self, Complaint, ComplaintActor as Acting, TermState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::procedure::official;

/// One term of a complaint, its deadline, and whether it was met.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintTermView {
    /// `satisfaction` and `forwarding` (3 working days from receipt), `provider_review` (5 working
    /// days from registration), `review_body_review` (15 working days from registration there).
    #[schema(example = "forwarding")]
    pub code: String,
    pub value: u32,
    #[schema(example = "working_days")]
    pub unit: String,
    /// Null until the complaint is forwarded, for the review body's term.
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    /// `pending`, `overdue` (pending past its term), `met`, `missed`, `not_applicable` (another path was taken).
    #[schema(example = "met")]
    pub state: String,
    /// Whether the step was taken within its term; null while pending or not applicable.
    pub met: Option<bool>,
    /// Where the law states the term.
    #[schema(
        example = "outside the seeds: Law of the Republic of Kazakhstan of 15 April 2013 No 88-V \"On public services\", article 25 (review of complaints) (adilet Z1300000088): the provider forwards a complaint it does not fully satisfy to the review body no later than 3 working days from its receipt"
    )]
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintActor {
    pub sub: String,
    pub role: String,
}

/// A complaint as the applicant, the provider and the review body see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: String,
    pub application_id: String,
    #[schema(example = "2026-000042")]
    pub registration_number: String,
    pub service_key: String,
    pub provider_id: String,
    pub applicant_iin: String,
    /// `decision`, `action` or `inaction`.
    #[schema(example = "decision")]
    pub subject: String,
    pub text: String,
    /// `registered`, `satisfied`, `forwarded`, `upheld`, `rejected`.
    #[schema(example = "registered")]
    pub status: String,
    /// The application's status when the complaint was filed.
    pub application_status: String,
    pub registered_at: DateTime<Utc>,
    /// The provider satisfies it or forwards it by then (3 working days from receipt).
    pub forward_due_at: DateTime<Utc>,
    pub forward_due_date: NaiveDate,
    /// The provider's review ends then (5 working days from registration).
    pub provider_due_at: DateTime<Utc>,
    pub provider_due_date: NaiveDate,
    /// The review body it was forwarded to.
    pub reviewer_org: Option<String>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub forwarded_on_time: Option<bool>,
    /// The review body decides by then (15 working days from its registration there).
    pub review_due_at: Option<DateTime<Utc>>,
    pub review_due_date: Option<NaiveDate>,
    /// `satisfied` (by the provider), `upheld` or `rejected` (by the review body).
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<ComplaintActor>,
    /// Whether the resolution met its term (3 working days to satisfy; 15 for the review body).
    pub resolved_on_time: Option<bool>,
    /// Whether the application was reopened for a new decision.
    pub reopened: bool,
    /// Each term with its deadline, whether it was met, and its source in the law.
    pub terms: Vec<ComplaintTermView>,
    /// What the caller may do now (`satisfy`, `forward`, `decide`).
    pub allowed_actions: Vec<String>,
    /// Where the law says who receives a complaint.
    #[schema(
        example = "004:170-174 | Order 414, rules para 38: a complaint goes to the provider's head or the review body"
    )]
    pub filing_source: String,
    pub version: i64,
}

fn state_code(s: TermState) -> String {
    serde_json::to_value(s).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

impl ComplaintView {
    pub fn new(c: Complaint, who: &Principal, now: DateTime<Utc>) -> Self {
        let me = official(who);
        let acting = Acting { official: &me, org: who.org() };
        let filing_source = complaint::filing_source(&c);
        let allowed_actions = complaint::allowed_actions(&c, &acting).iter().map(|a| a.code().to_string()).collect();
        let terms = complaint::term_statuses(&c, now)
            .into_iter()
            .map(|t| ComplaintTermView {
                code: t.code.into(),
                value: t.term.value,
                unit: t.term.unit.code().into(),
                due_at: t.due.map(|d| d.at),
                due_date: t.due.map(|d| d.date),
                state: state_code(t.state),
                met: t.met,
                source: t.source,
            })
            .collect();
        ComplaintView {
            allowed_actions,
            terms,
            subject: c.subject.code().into(),
            status: c.status.code().into(),
            application_status: c.application_status.code().into(),
            registered_at: c.registered_at,
            forward_due_at: c.forward_due.at,
            forward_due_date: c.forward_due.date,
            provider_due_at: c.provider_due.at,
            provider_due_date: c.provider_due.date,
            review_due_at: c.review_due.map(|d| d.at),
            review_due_date: c.review_due.map(|d| d.date),
            outcome: c.outcome.map(|o| o.code().into()),
            resolved_by: c.resolved_by.map(|o| ComplaintActor { sub: o.sub, role: o.role.code().into() }),
            id: c.id,
            application_id: c.application_id,
            registration_number: c.registration_number,
            service_key: c.service_key,
            provider_id: c.provider_id,
            applicant_iin: c.applicant_iin,
            text: c.text,
            reviewer_org: c.reviewer_org,
            forwarded_at: c.forwarded_at,
            forwarded_on_time: c.forwarded_on_time,
            reason: c.reason,
            resolved_at: c.resolved_at,
            resolved_on_time: c.resolved_on_time,
            reopened: c.reopened,
            filing_source,
            version: c.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintPage {
    pub items: Vec<ComplaintView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
