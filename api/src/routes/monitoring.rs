//! `/api/v1/monitoring/applications`: the monitoring view for providers and the review body (order
//! No 414: every stage is reported to the state-services monitoring system): applications by status,
//! the open ones past their term or about to reach it, the share decided on time, the time spent per
//! stage against the norm, and complaints per service.
//!
//! Everything is relative to the injectable clock (`state.clock.now()`), so a pinned clock gives exact
//! answers. The figures are computed in Rust over the rows the caller may see (their applications,
//! history entries and complaints are loaded and aggregated in memory). That is fine at the scale of a
//! provider or a region (thousands of applications); a national roll-out would move the aggregation
//! into SQL or a reporting replica.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::application::{timing, Application, Status};
use domain::calendar::BusinessCalendar;
use domain::catalog::Catalog;
use domain::complaint::ComplaintStatus;
use domain::deadline::working_days_between;
use domain::passport::{Passport, Stage};
use persistence::applications::{self as app_repo, HistoryEntry, ListFilter, Visibility};
use persistence::complaints::{self as complaint_repo, ComplaintScope};
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
    /// Open applications past their term's end, earliest due first.
    pub overdue: Vec<DeadlineItem>,
    /// Open applications within their term with at most `at_risk_days` working days left.
    pub at_risk: Vec<DeadlineItem>,
    pub services: Vec<ServiceStats>,
    pub stages: Vec<StageStats>,
    /// Complaints about those applications, per service.
    pub complaints: Vec<ServiceComplaints>,
}

/// The stages measured from the history: (code, start action, end actions, passport stage of the norm).
const STAGES: [(&str, &str, &[&str], Option<Stage>); 5] = [
    ("submit_to_accept", "submit", &["accept", "refuse_intake"], Some(Stage::Intake)),
    ("accept_to_assign", "accept", &["assign"], None),
    ("assign_to_decision", "assign", &["approve", "preliminary_refusal", "refuse"], None),
    ("preliminary_refusal_to_hearing", "preliminary_refusal", &["record_hearing"], Some(Stage::Hearing)),
    ("hearing_to_final", "record_hearing", &["approve", "refuse"], Some(Stage::ResultAfterHearing)),
];

/// A service's figures while they are being summed: the stats, working days to each decision, each
/// decided application's term in working days, and the service terms seen.
type ServiceAcc = (ServiceStats, Vec<f64>, Vec<f64>, BTreeSet<NormView>);

fn avg(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| round(xs.iter().sum::<f64>() / xs.len() as f64))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn local_date(cal: &BusinessCalendar, at: DateTime<Utc>) -> NaiveDate {
    timing::local_date(cal, at)
}

fn passport_of<'a>(catalog: &'a Catalog, row: &Application) -> Option<&'a Passport> {
    catalog.service(&row.service_key).and_then(|s| s.version(&row.passport_version))
}

fn norm(t: &domain::passport::Term) -> NormView {
    NormView { value: t.value, unit: t.unit.code().into(), source: t.source.to_string() }
}

/// Loads every application in `scope` matching the filter, page by page.
fn load_applications(
    c: &mut persistence::DbConnection,
    scope: &Visibility,
    provider: Option<String>,
    service: Option<String>,
) -> Result<Vec<Application>, persistence::StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let filter = ListFilter {
            service_key: service.clone(),
            provider_id: provider.clone(),
            before_id: cursor,
            limit: 200,
            ..Default::default()
        };
        let (rows, more) = app_repo::list(c, scope, &filter)?;
        cursor = rows.last().map(|r| r.id.clone());
        out.extend(rows);
        if !more {
            return Ok(out);
        }
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
    let (scope, complaint_scope, provider) = match who.role {
        Role::Employee | Role::Head => {
            if q.provider_id.as_deref().is_some_and(|p| p != who.org()) {
                return Err(ApiError::Forbidden("provider staff monitor their own provider only".into()));
            }
            (
                Visibility::Provider(who.org().to_string()),
                ComplaintScope::Provider(who.org().to_string()),
                Some(who.org().to_string()),
            )
        }
        _ => (Visibility::All, ComplaintScope::All, q.provider_id.clone()),
    };
    let now = state.clock.now();
    let cal = state.calendar();
    let catalog = state.catalog();
    let state2 = state.clone();
    let (provider2, service2) = (provider.clone(), q.service_key.clone());
    let (from, to) = (q.from, q.to);
    let cal2 = cal.clone();
    let (apps, history, complaints) = web::block(move || {
        state2.db.read(|c| {
            let apps: Vec<Application> = load_applications(c, &scope, provider2.clone(), service2.clone())?
                .into_iter()
                .filter(|a| {
                    let filed = local_date(&cal2, a.submitted_at);
                    from.is_none_or(|f| filed >= f) && to.is_none_or(|t| filed <= t)
                })
                .collect();
            let ids: Vec<String> = apps.iter().map(|a| a.id.clone()).collect();
            let history = app_repo::history_of(c, &ids)?;
            let complaints = complaint_repo::all_visible(c, &complaint_scope, provider2.as_deref())?;
            Ok((apps, history, complaints))
        })
    })
    .await??;

    let today = cal.to_local(now).date();
    let mut by_status: BTreeMap<String, usize> = Status::ALL.iter().map(|s| (s.code().to_string(), 0)).collect();
    let mut overdue = Vec::new();
    let mut at_risk = Vec::new();
    let mut services: BTreeMap<String, ServiceAcc> = BTreeMap::new();
    for a in &apps {
        *by_status.entry(a.status.code().to_string()).or_default() += 1;
        let open = !a.status.is_final();
        let remaining = timing::working_days_remaining(&cal, a, today);
        let item = || DeadlineItem {
            id: a.id.clone(),
            registration_number: a.registration_number.clone(),
            service_key: a.service_key.clone(),
            provider_id: a.provider_id.clone(),
            status: a.status.code().into(),
            assignee: a.assignee.clone(),
            due_at: a.due_at,
            due_date: a.due_date,
            working_days_remaining: remaining,
        };
        if timing::is_overdue(a, now) {
            overdue.push(item());
        } else if timing::is_at_risk(&cal, a, now, at_risk_days) {
            at_risk.push(item());
        }
        let entry = services.entry(a.service_key.clone()).or_insert_with(|| {
            (
                ServiceStats {
                    service_key: a.service_key.clone(),
                    applications: 0,
                    open: 0,
                    decided: 0,
                    decided_on_time: 0,
                    on_time_share: None,
                    average_working_days_to_decision: None,
                    average_term_working_days: None,
                    terms: vec![],
                },
                vec![],
                vec![],
                BTreeSet::new(),
            )
        });
        entry.0.applications += 1;
        if open {
            entry.0.open += 1;
        }
        if let Some(t) = passport_of(&catalog, a).and_then(|p| timing::service_term(p, a.channel, a.subtype.as_deref()))
        {
            entry.3.insert(norm(t));
        }
        if let (Status::Approved | Status::Refused, Some(decided_at)) = (a.status, a.decided_at) {
            entry.0.decided += 1;
            if timing::on_time(a, decided_at) {
                entry.0.decided_on_time += 1;
            }
            entry.1.extend(timing::working_days_to_decision(&cal, a).map(|d| d as f64));
            entry.2.push(timing::term_working_days(&cal, a) as f64);
        }
    }
    let services: Vec<ServiceStats> = services
        .into_values()
        .map(|(mut s, to_decision, terms, norms)| {
            s.on_time_share = (s.decided > 0).then(|| round(s.decided_on_time as f64 / s.decided as f64));
            s.average_working_days_to_decision = avg(&to_decision);
            s.average_term_working_days = avg(&terms);
            s.terms = norms.into_iter().collect();
            s
        })
        .collect();
    overdue.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    at_risk.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));

    // Time per stage: each start entry is paired with the next end entry of the same application.
    let by_id: HashMap<&str, &Application> = apps.iter().map(|a| (a.id.as_str(), a)).collect();
    let mut per_app: HashMap<&str, Vec<&HistoryEntry>> = HashMap::new();
    for h in &history {
        per_app.entry(h.application_id.as_str()).or_default().push(h);
    }
    let stages: Vec<StageStats> = STAGES
        .iter()
        .map(|(code, start, ends, norm_stage)| {
            let (mut days, mut minutes) = (Vec::new(), Vec::new());
            let mut norms = BTreeSet::new();
            for (app_id, entries) in &per_app {
                for (i, h) in entries.iter().enumerate() {
                    if h.record.action != *start {
                        continue;
                    }
                    if let Some(end) = entries[i + 1..].iter().find(|e| ends.contains(&e.record.action.as_str())) {
                        let (from, to) = (h.record.at, end.record.at);
                        days.push(working_days_between(&cal, local_date(&cal, from), local_date(&cal, to)) as f64);
                        minutes.push((to - from).num_minutes() as f64);
                    }
                }
                if let (Some(stage), Some(a)) = (norm_stage, by_id.get(app_id)) {
                    if let Some(p) = passport_of(&catalog, a) {
                        norms.extend(p.terms_for(*stage, a.channel, a.subtype.as_deref()).map(norm));
                    }
                }
            }
            StageStats {
                stage: code.to_string(),
                from_action: start.to_string(),
                to_actions: ends.iter().map(|s| s.to_string()).collect(),
                samples: days.len(),
                average_working_days: avg(&days),
                average_minutes: avg(&minutes),
                norms: norms.into_iter().collect(),
            }
        })
        .collect();

    let visible: HashSet<&str> = apps.iter().map(|a| a.id.as_str()).collect();
    let mut per_service: BTreeMap<String, ServiceComplaints> = BTreeMap::new();
    for c in complaints.iter().filter(|c| visible.contains(c.application_id.as_str())) {
        let e = per_service.entry(c.service_key.clone()).or_insert_with(|| ServiceComplaints {
            service_key: c.service_key.clone(),
            total: 0,
            by_status: ComplaintStatus::ALL.iter().map(|s| (s.code().to_string(), 0)).collect(),
        });
        e.total += 1;
        *e.by_status.entry(c.status.code().to_string()).or_default() += 1;
    }

    Ok(HttpResponse::Ok().json(MonitoringView {
        generated_at: now,
        today,
        provider_id: provider,
        at_risk_days,
        total: apps.len(),
        by_status,
        overdue,
        at_risk,
        services,
        stages,
        complaints: per_service.into_values().collect(),
    }))
}
