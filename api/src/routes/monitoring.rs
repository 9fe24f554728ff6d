//! `/api/v1/monitoring/applications`: the monitoring view for providers and the review body (order
//! No 414: every stage is reported to the state-services monitoring system): applications by status,
//! the open ones past their term or about to reach it, the share decided on time, the time spent per
//! stage against the norm, and complaints per service.
//!
//! Everything is relative to the injectable clock (`state.clock.now()`), so a pinned clock gives exact
//! answers. The figures are SQL aggregates over indexes (`persistence::monitoring`): counts by service
//! version, channel and status with the decision figures the procedure kept on each application, and
//! one row per stage each application passed through; memory is bounded by the number of groups and
//! by the page of each deadline list, whatever the number of applications.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::application::{timing, Application, Status};
use domain::calendar::BusinessCalendar;
use domain::complaint::ComplaintStatus;
use persistence::applications::Visibility;
use persistence::monitoring::{self as figures, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::ValidQuery;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonitoringQuery {
    /// One provider (the review body and administrators; staff always see their own provider only).
    pub provider_id: Option<String>,
    pub service_key: Option<String>,
    /// Only applications filed on or after this local date.
    pub from: Option<NaiveDate>,
    /// Only applications filed on or before this local date.
    pub to: Option<NaiveDate>,
    /// An open application is at risk when at most this many working days of its term remain (default 2).
    #[param(minimum = 0, maximum = 60)]
    pub at_risk_days: Option<i64>,
}

/// An open application and its deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineItem {
    pub id: String,
    #[schema(example = "2026-000042")]
    pub registration_number: String,
    pub service_key: String,
    pub provider_id: String,
    #[schema(schema_with = crate::schema::status_schema)]
    pub status: String,
    pub assignee: Option<String>,
    pub due_at: DateTime<Utc>,
    pub due_date: NaiveDate,
    /// Working days after today up to the due date; 0 on the last day, negative once past it.
    pub working_days_remaining: i64,
}

/// A term of the passport, as the norm a figure is compared with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
pub struct NormView {
    pub value: u32,
    #[schema(example = "working_days")]
    pub unit: String,
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceStats {
    pub service_key: String,
    pub applications: usize,
    /// Not in a final state.
    pub open: usize,
    /// Approved or refused (a decision on the merits).
    pub decided: usize,
    /// Decided no later than the term's end.
    pub decided_on_time: usize,
    /// `decided_on_time / decided`; null when nothing was decided.
    pub on_time_share: Option<f64>,
    /// Average working days from filing (the moment the term counts from) to the decision.
    pub average_working_days_to_decision: Option<f64>,
    /// The average service term of those applications, in working days (the norm to compare with).
    pub average_term_working_days: Option<f64>,
    /// The passports' service terms behind it, with their sources.
    pub terms: Vec<NormView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageStats {
    /// `submit_to_accept`, `accept_to_assign`, `assign_to_decision`, `preliminary_refusal_to_hearing`,
    /// `hearing_to_final`.
    pub stage: String,
    /// The history action that starts the stage.
    pub from_action: String,
    /// The history actions that end it.
    pub to_actions: Vec<String>,
    /// How many times the stage was completed.
    pub samples: usize,
    /// Average working days spent (working days after the start day up to the end day).
    pub average_working_days: Option<f64>,
    /// Average elapsed minutes (wall clock).
    pub average_minutes: Option<f64>,
    /// The passports' terms for this stage, where they state one.
    pub norms: Vec<NormView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceComplaints {
    pub service_key: String,
    pub total: usize,
    /// Complaint status → count (`registered`, `satisfied`, `forwarded`, `upheld`, `rejected`).
    pub by_status: BTreeMap<String, usize>,
}

/// The monitoring view over the applications visible to the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoringView {
    /// The clock's now.
    pub generated_at: DateTime<Utc>,
    /// Today, local date.
    pub today: NaiveDate,
    /// The provider the view is limited to, if any.
    pub provider_id: Option<String>,
    pub at_risk_days: i64,
    pub total: usize,
    /// Application status → count (every status listed).
    pub by_status: BTreeMap<String, usize>,
    /// Open applications past their term's end, earliest due first (at most `list_limit`).
    pub overdue: Vec<DeadlineItem>,
    /// How many open applications are past their term's end.
    pub overdue_total: i64,
    /// Open applications within their term with at most `at_risk_days` working days left, earliest due
    /// first (at most `list_limit`).
    pub at_risk: Vec<DeadlineItem>,
    /// How many open applications are at risk.
    pub at_risk_total: i64,
    /// The most items listed in `overdue` and `at_risk`.
    pub list_limit: i64,
    pub services: Vec<ServiceStats>,
    pub stages: Vec<StageStats>,
    /// Complaints about those applications, per service.
    pub complaints: Vec<ServiceComplaints>,
}

/// The most items of each deadline list in one answer.
const LIST_LIMIT: i64 = 100;

fn avg(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| round(sum as f64 / n as f64))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn norm(t: &domain::passport::Term) -> NormView {
    NormView { value: t.value, unit: t.unit.code().into(), source: t.source.to_string() }
}

fn item(cal: &BusinessCalendar, today: NaiveDate, a: Application) -> DeadlineItem {
    DeadlineItem {
        working_days_remaining: timing::working_days_remaining(cal, &a, today),
        status: a.status.code().into(),
        due_at: a.due_at,
        due_date: a.due_date,
        id: a.id,
        registration_number: a.registration_number,
        service_key: a.service_key,
        provider_id: a.provider_id,
        assignee: a.assignee,
    }
}

/// Applications by status, overdue and at risk, decided on time, time per stage and complaints per
/// service. Provider staff see their own provider; the review body and administrators see all, or one
/// provider with `provider_id`.
#[utoipa::path(
    tag = "monitoring", operation_id = "monitorApplications",
    params(MonitoringQuery),
    responses((status = 200, description = "The monitoring view", body = MonitoringView)),
    security(("bearer" = [])),
)]
#[get("/monitoring/applications")]
pub async fn applications_overview(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<MonitoringQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head, Role::Reviewer, Role::Admin])?;
    let q = q.0;
    let at_risk_days = q.at_risk_days.unwrap_or(2);
    let mut errors = Vec::new();
    if !(0..=60).contains(&at_risk_days) {
        errors.push(FieldError::new("query.at_risk_days", "range", "must be between 0 and 60"));
    }
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if f > t {
            errors.push(FieldError::new("query.to", "after_from", "must not precede `from`"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (scope, provider) = match who.role {
        Role::Employee | Role::Head => {
            if q.provider_id.as_deref().is_some_and(|p| p != who.org()) {
                return Err(ApiError::Forbidden("provider staff monitor their own provider only".into()));
            }
            (Visibility::Provider(who.org().to_string()), Some(who.org().to_string()))
        }
        _ => (Visibility::All, q.provider_id.clone()),
    };
    let now = state.clock.now();
    let (cal, catalog) = (state.calendar(), state.catalog());
    let today = timing::local_date(&cal, now);
    let midnight = |d: NaiveDate| cal.from_local(d.and_hms_opt(0, 0, 0).expect("midnight"));
    let filter = Scope {
        provider_id: provider.clone(),
        service_key: q.service_key.clone(),
        filed_from: q.from.map(midnight),
        filed_before: q.to.and_then(|t| t.succ_opt()).map(midnight),
    };
    let due_before = timing::at_risk_before(&cal, today, at_risk_days);
    let due_before_starts = midnight(due_before);
    let state2 = state.clone();
    let (groups, (overdue, overdue_total), (at_risk, at_risk_total), stages, complaints) = web::block(move || {
        // One snapshot: the counts, the deadline lists and their totals agree with each other.
        state2.db.read_snapshot(|c| {
            Ok((
                figures::groups(c, &scope, &filter)?,
                figures::overdue(c, &scope, &filter, now, LIST_LIMIT)?,
                figures::at_risk(c, &scope, &filter, now, due_before, due_before_starts, LIST_LIMIT)?,
                figures::stages(c, &scope, &filter)?,
                figures::complaints_by_service(c, &scope, &filter)?,
            ))
        })
    })
    .await??;

    let mut by_status: BTreeMap<String, usize> = Status::ALL.iter().map(|s| (s.code().to_string(), 0)).collect();
    let mut services: BTreeMap<String, (ServiceStats, i64, i64, BTreeSet<NormView>)> = BTreeMap::new();
    // Each group is one service version, channel, subtype and status: the norms come from its passport.
    let mut stage_norms: BTreeMap<&str, BTreeSet<NormView>> = BTreeMap::new();
    for g in &groups {
        *by_status.entry(g.status.code().to_string()).or_default() += g.count as usize;
        let e = services.entry(g.service_key.clone()).or_insert_with(|| {
            let stats = ServiceStats {
                service_key: g.service_key.clone(),
                applications: 0,
                open: 0,
                decided: 0,
                decided_on_time: 0,
                on_time_share: None,
                average_working_days_to_decision: None,
                average_term_working_days: None,
                terms: vec![],
            };
            (stats, 0, 0, BTreeSet::new())
        });
        e.0.applications += g.count as usize;
        if !g.status.is_final() {
            e.0.open += g.count as usize;
        }
        if matches!(g.status, Status::Approved | Status::Refused) {
            e.0.decided += g.count as usize;
            e.0.decided_on_time += g.decided_on_time as usize;
            e.1 += g.sum_working_days_to_decision;
            e.2 += g.sum_term_working_days;
        }
        let passport = catalog.service(&g.service_key).and_then(|s| s.version(&g.passport_version));
        if let Some(p) = passport {
            if let Some(t) = timing::service_term(p, g.channel, g.subtype.as_deref()) {
                e.3.insert(norm(t));
            }
            for (code, _, _, stage) in timing::MEASURED_STAGES {
                if let Some(stage) = stage {
                    stage_norms
                        .entry(code)
                        .or_default()
                        .extend(p.terms_for(stage, g.channel, g.subtype.as_deref()).map(norm));
                }
            }
        }
    }
    let services: Vec<ServiceStats> = services
        .into_values()
        .map(|(mut s, to_decision, terms, norms)| {
            let decided = s.decided as i64;
            s.on_time_share = (decided > 0).then(|| round(s.decided_on_time as f64 / decided as f64));
            s.average_working_days_to_decision = avg(to_decision, decided);
            s.average_term_working_days = avg(terms, decided);
            s.terms = norms.into_iter().collect();
            s
        })
        .collect();
    let stages: Vec<StageStats> = timing::MEASURED_STAGES
        .iter()
        .map(|(code, starts, ends, _)| {
            let sum = stages.iter().find(|s| s.stage == *code);
            let samples = sum.map_or(0, |s| s.samples);
            StageStats {
                stage: code.to_string(),
                from_action: stage_start_action(starts).into(),
                to_actions: ends.iter().map(|s| stage_end_action(*s).to_string()).collect(),
                samples: samples as usize,
                average_working_days: sum.and_then(|s| avg(s.sum_working_days, samples)),
                average_minutes: sum.and_then(|s| avg(s.sum_minutes, samples)),
                norms: stage_norms.remove(code).unwrap_or_default().into_iter().collect(),
            }
        })
        .collect();
    let mut per_service: BTreeMap<String, ServiceComplaints> = BTreeMap::new();
    for (service_key, status, n) in complaints {
        let e = per_service.entry(service_key.clone()).or_insert_with(|| ServiceComplaints {
            service_key,
            total: 0,
            by_status: ComplaintStatus::ALL.iter().map(|s| (s.code().to_string(), 0)).collect(),
        });
        e.total += n as usize;
        *e.by_status.entry(status.code().to_string()).or_default() += n as usize;
    }
    let total = groups.iter().map(|g| g.count as usize).sum();
    let overdue = overdue.into_iter().map(|a| item(&cal, today, a)).collect();
    let at_risk = at_risk.into_iter().map(|a| item(&cal, today, a)).collect();
    Ok(HttpResponse::Ok().json(MonitoringView {
        generated_at: now,
        today,
        provider_id: provider,
        at_risk_days,
        total,
        by_status,
        overdue,
        overdue_total,
        at_risk,
        at_risk_total,
        list_limit: LIST_LIMIT,
        services,
        stages,
        complaints: per_service.into_values().collect(),
    }))
}

/// The history action that starts a stage in state `starts`, as the view names it.
fn stage_start_action(starts: &[Status]) -> &'static str {
    match starts.first() {
        Some(Status::Submitted) => "submit",
        Some(Status::Accepted) => "accept",
        Some(Status::InProgress) => "assign",
        Some(Status::PreliminaryRefusal) => "preliminary_refusal",
        Some(Status::HearingHeld) => "record_hearing",
        _ => "",
    }
}

/// The history action that moves an application into `end`.
fn stage_end_action(end: Status) -> &'static str {
    match end {
        Status::Accepted => "accept",
        Status::RefusedAtIntake => "refuse_intake",
        Status::InProgress => "assign",
        Status::Approved => "approve",
        Status::PreliminaryRefusal => "preliminary_refusal",
        Status::HearingHeld => "record_hearing",
        Status::Refused => "refuse",
        Status::Submitted | Status::Withdrawn => "",
    }
}
