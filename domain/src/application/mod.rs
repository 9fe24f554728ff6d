//! The application (өтініш) and the procedure that runs it, as order No 414 and the Administrative
//! Procedural Code (APC) set it out. Everything here is pure: the caller loads the application, its
//! passport version and the calendar, and stores what [`commands::decide`] returns.
//!
//! - [`states`]: the states and who may move an application between them (the state table).
//! - [`decision`]: what a provider decides, as tagged types citing the passport.
//! - [`commands`]: each command's rules, and the change it makes (history, event, notice, document).
//! - [`timing`]: one function per fact of time: due moment, notice cut-off, on time, overdue, at risk,
//!   working days elapsed and remaining, each stage's deadline.
//! - [`submission`]: the rules of filing, and the new application with its due date.
//! - [`notices`]: the applicant's notifications in kk/ru/en.

pub mod commands;
pub mod decision;
pub mod notices;
pub mod states;
pub mod submission;
pub mod timing;

#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

pub use commands::{
    decide, recompute_due, CalendarChange, Change, Command, Context, Event, HistoryRecord, Reach, StageEvent,
};
pub use decision::{Decision, DocumentKind, Official};
pub use states::{allowed_actions, registration_number, transition, Action, Actor, Status, TransitionError};

use crate::passport::Channel;

/// An application as the procedure sees it: typed, with its decision as a [`Decision`].
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: String,
    /// The number given to the applicant at filing (`2026-000042`).
    pub registration_number: String,
    pub service_key: String,
    /// The passport version in force at filing, which governs the whole procedure.
    pub passport_version: String,
    pub subtype: Option<String>,
    pub channel: Channel,
    pub status: Status,
    pub applicant_iin: String,
    /// Who filed it: the applicant on the portal, an operator, or provider staff.
    pub filed_by: Official,
    /// The State Corporation centre or office where it was filed (counter channels).
    pub intake_org_id: Option<String>,
    pub provider_id: String,
    /// The employee the head assigned (`sub`).
    pub assignee: Option<String>,
    /// The representative and the power of attorney, as filed.
    pub representative: Option<Value>,
    pub form: Value,
    pub submitted_at: DateTime<Utc>,
    /// The moment the term counts from (the next working day for after-hours portal filings).
    pub counted_from: DateTime<Utc>,
    /// The end of the service term.
    pub due_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    /// Set on entering a final state, cleared on leaving one (reopening).
    pub decided_at: Option<DateTime<Utc>>,
    /// The end of the current internal stage (the answer after the hearing).
    pub stage_due_at: Option<DateTime<Utc>>,
    pub hearing_at: Option<DateTime<Utc>>,
    pub hearing_place: Option<String>,
    pub decision: Option<Decision>,
    /// When it entered its current status: the start of the stage it is in.
    pub status_since: DateTime<Utc>,
    /// The service term in working days, from the day the term counts from to the due date.
    pub term_working_days: i64,
    /// Working days from the day the term counted from to the decision on the merits.
    pub working_days_to_decision: Option<i64>,
    /// Whether the decision on the merits met its term ([`timing::on_time`]).
    pub decided_on_time: Option<bool>,
    /// Incremented by every change; the API's ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    /// The passport version this application is bound to, as `(key, version)`.
    pub fn passport_ref(&self) -> (&str, &str) {
        (&self.service_key, &self.passport_version)
    }
}
