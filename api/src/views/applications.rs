//! Applications, their history and their clock, as the applicant and the provider see them.

use chrono::{DateTime, NaiveDate, Utc};
use domain::application::timing::{StageDeadline as DomainStageDeadline, StageState};
use domain::application::{Application, HistoryRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use validator::Validate;

use crate::schema::{channel_schema, optional_status_schema, status_schema};
use crate::views::code;

/// A representative filing on the applicant's behalf under a notarised power of attorney.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    /// The representative's IIN.
    #[schema(example = "880315300123", pattern = "^[0-9]{12}$", format = "iin")]
    pub iin: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Сейткали Асель Маратовна", min_length = 1, max_length = 200)]
    pub full_name: String,
    #[validate(nested)]
    pub power_of_attorney: PowerOfAttorney,
}

/// The notarised power of attorney (нотариалды куәландырылған сенімхат).
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PowerOfAttorney {
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "2026-1234", min_length = 1, max_length = 64)]
    pub number: String,
    pub issued_on: NaiveDate,
    /// Not before `issued_on`.
    pub valid_until: Option<NaiveDate>,
    #[validate(length(min = 1, max = 200))]
    #[schema(example = "Нотариус г. Астаны Ахметова Д.С.", min_length = 1, max_length = 200)]
    pub notary: String,
}

/// An application as the applicant and the provider see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: String,
    /// The number given to the applicant at filing.
    #[schema(example = "2026-000042")]
    pub registration_number: String,
    pub service_key: String,
    /// The passport version the application is bound to (in force at filing).
    pub passport_version: String,
    pub subtype: Option<String>,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    pub applicant_iin: String,
    pub provider_id: String,
    /// The State Corporation centre or office where it was filed, for counter channels.
    pub intake_org_id: Option<String>,
    pub assignee: Option<String>,
    pub representative: Option<Representative>,
    #[schema(value_type = Object)]
    pub form: Value,
    pub submitted_at: DateTime<Utc>,
    /// The moment the term is counted from (the next working day for after-hours filings).
    pub counted_from: DateTime<Utc>,
    /// The end of the service term.
    pub due_at: DateTime<Utc>,
    /// The last day of the term, local date.
    pub due_date: NaiveDate,
    pub decided_at: Option<DateTime<Utc>>,
    /// The deadline of the current internal stage (e.g. the final decision after the hearing).
    pub stage_due_at: Option<DateTime<Utc>>,
    /// The hearing's time and place, once a preliminary refusal was sent.
    pub hearing_at: Option<DateTime<Utc>>,
    pub hearing_place: Option<String>,
    /// The decision taken: the intake refusal receipt, the preliminary refusal with its grounds and
    /// hearing, the result, or the motivated refusal (grounds with their text and source). `outcome`
    /// says which: `refused_at_intake`, `preliminary_refusal`, `approved`, `refused`.
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Value>,
    /// Changes with every update; equals the ETag.
    pub version: i64,
}

impl ApplicationView {
    pub fn new(a: Application) -> Self {
        ApplicationView {
            channel: a.channel.code().into(),
            status: a.status.code().into(),
            representative: a.representative.and_then(|r| serde_json::from_value(r).ok()),
            decision: a.decision.map(|d| d.to_json()),
            id: a.id,
            registration_number: a.registration_number,
            service_key: a.service_key,
            passport_version: a.passport_version,
            subtype: a.subtype,
            applicant_iin: a.applicant_iin,
            provider_id: a.provider_id,
            intake_org_id: a.intake_org_id,
            assignee: a.assignee,
            form: a.form,
            submitted_at: a.submitted_at,
            counted_from: a.counted_from,
            due_at: a.due_at,
            due_date: a.due_date,
            decided_at: a.decided_at,
            stage_due_at: a.stage_due_at,
            hearing_at: a.hearing_at,
            hearing_place: a.hearing_place,
            version: a.version,
        }
    }

    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Who made a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Actor {
    pub sub: String,
    /// The caller's role (`applicant`, `operator`, `employee`, `head`, `reviewer`, `admin`), or
    /// `system` for the information system's own steps (automated decisions).
    #[schema(example = "employee")]
    pub role: String,
}

/// One change to an application: who, when, what moved from which value to which, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// Position in the application's history, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    #[schema(example = "submit")]
    pub action: String,
    #[schema(schema_with = optional_status_schema)]
    pub from_status: Option<String>,
    #[schema(schema_with = optional_status_schema)]
    pub to_status: Option<String>,
    pub reason: Option<String>,
    /// Field → `{old, new}`.
    #[schema(value_type = Object)]
    pub changes: Value,
}

impl HistoryEntry {
    pub fn new(seq: i64, r: HistoryRecord) -> Self {
        HistoryEntry {
            seq,
            at: r.at,
            actor: Actor { sub: r.actor.sub, role: r.actor.role.code().into() },
            action: r.action,
            from_status: r.from_status.map(|s| s.code().into()),
            to_status: Some(r.to_status.code().into()),
            reason: r.reason,
            changes: r.changes,
        }
    }
}

/// What the caller may do now, and the application's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionsView {
    #[schema(schema_with = crate::schema::status_schema)]
    pub status: String,
    /// The commands the caller may send in this state (front ends show exactly these).
    pub allowed_actions: Vec<String>,
    pub due_at: DateTime<Utc>,
    pub due_date: chrono::NaiveDate,
    /// The last local day a preliminary refusal may be sent; null when the service's rules state no
    /// notice term (then only the hearing must fall within the term).
    pub preliminary_refusal_cutoff: Option<chrono::NaiveDate>,
    /// The deadline of the current internal stage, if any (e.g. the decision after the hearing).
    pub stage_due_at: Option<DateTime<Utc>>,
    /// Working days since filing, up to today (0 on the filing day).
    pub working_days_elapsed: i64,
    /// Working days left up to the due date (negative once overdue).
    pub working_days_remaining: i64,
    /// Open, and the term for a decision has ended: the service term, or the answer after the
    /// hearing when that ends first.
    pub overdue: bool,
    /// Every time limit of the passport for this channel and subtype, anchored on the application's
    /// own events where the system records them.
    pub stage_deadlines: Vec<StageDeadline>,
}

/// One of the passport's time limits, applied to this application.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageDeadline {
    /// The term's code in the passport.
    pub code: String,
    /// What it bounds (`service`, `send_to_state_bodies`, `result_after_hearing`, ...).
    pub stage: String,
    pub value: u32,
    pub unit: String,
    /// The event it is counted from.
    pub starts: String,
    /// When the counting started, if that event has happened and is recorded.
    pub started_at: Option<DateTime<Utc>>,
    /// When the stage was recorded as completed (or the decision, for stages the decision completes).
    pub completed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    /// `pending`, `overdue`, `met`, `missed`, `awaiting_start` (its start event has not happened or
    /// is not one the system records), `counted_back` (a latest date before the term's end), or
    /// `at_the_counter` (queue and counter limits, checked at the counter).
    pub state: String,
    pub source: String,
}

impl StageDeadline {
    pub fn new(d: DomainStageDeadline) -> Self {
        StageDeadline {
            code: d.term.code.clone(),
            stage: code(&d.term.stage),
            value: d.term.value,
            unit: d.term.unit.code().into(),
            starts: code(&d.term.starts),
            started_at: d.started_at,
            completed_at: d.completed_at,
            due_at: d.due_at,
            state: code::<StageState>(&d.state),
            source: d.term.source.to_string(),
        }
    }
}
