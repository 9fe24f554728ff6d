//! The monitoring view's figures as SQL over indexes: counts by service, version, channel and status,
//! decisions on time, the time per stage, the open applications past or near their term. Memory stays
//! bounded whatever the number of applications: only groups and a page of each list are loaded.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use domain::application::timing::StageTiming;
use domain::application::{Application, Status};

use crate::applications::{final_statuses, load_page, Visibility};
use crate::codes::{ChannelCode, ComplaintStatusCode, StatusCode};
use crate::schema::{applications, stage_timings};
use crate::{DbConnection, StoreError};

/// Which applications the figures are about.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub provider_id: Option<String>,
    pub service_key: Option<String>,
    /// Filed at or after this moment (the local day's start).
    pub filed_from: Option<DateTime<Utc>>,
    /// Filed before this moment (the day after the last local day's start).
    pub filed_before: Option<DateTime<Utc>>,
}

/// One group of applications: a service version, channel, subtype and status, with what monitoring sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub service_key: String,
    pub passport_version: String,
    pub channel: domain::passport::Channel,
    pub subtype: Option<String>,
    pub status: Status,
    pub count: i64,
    pub decided_on_time: i64,
    pub sum_working_days_to_decision: i64,
    pub sum_term_working_days: i64,
}

/// One measured stage, summed.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSum {
    pub stage: String,
    pub samples: i64,
    pub sum_working_days: i64,
    pub sum_minutes: i64,
}

macro_rules! scoped_apps {
    ($who:expr, $scope:expr) => {{
        let mut q = crate::applications::scoped($who);
        if let Some(p) = &$scope.provider_id {
            q = q.filter(applications::provider_id.eq(p.clone()));
        }
        if let Some(s) = &$scope.service_key {
            q = q.filter(applications::service_key.eq(s.clone()));
        }
        if let Some(f) = $scope.filed_from {
            q = q.filter(applications::submitted_at.ge(f.naive_utc()));
        }
        if let Some(t) = $scope.filed_before {
            q = q.filter(applications::submitted_at.lt(t.naive_utc()));
        }
        q
    }};
}

/// The WHERE clause over `applications` (aliased `a`) for a caller's visibility and a scope, with its
/// binds: the same SQL on both backends.
fn where_clause(who: &Visibility, scope: &Scope) -> (String, Vec<String>, Vec<NaiveDateTime>) {
    let (mut conds, mut texts, mut times) = (vec!["1 = 1".to_string()], Vec::new(), Vec::new());
    match who {
        Visibility::Applicant(iin) => {
            conds.push("a.applicant_iin = $TEXT".into());
            texts.push(iin.clone());
        }
        Visibility::Provider(org) => {
            conds.push("a.provider_id = $TEXT".into());
            texts.push(org.clone());
        }
        Visibility::IntakeCentre(org) => {
            conds.push("a.intake_org_id = $TEXT".into());
            texts.push(org.clone());
        }
        Visibility::ReviewBody(org) => {
            conds.push("a.id IN (SELECT application_id FROM complaints WHERE reviewer_org = $TEXT)".into());
            texts.push(org.clone());
        }
        Visibility::Services(keys) => {
            let marks = vec!["$TEXT"; keys.len()].join(", ");
            conds.push(if keys.is_empty() { "1 = 0".into() } else { format!("a.service_key IN ({marks})") });
            texts.extend(keys.iter().cloned());
        }
        Visibility::All => {}
    }
    if let Some(p) = &scope.provider_id {
        conds.push("a.provider_id = $TEXT".into());
        texts.push(p.clone());
    }
    if let Some(k) = &scope.service_key {
        conds.push("a.service_key = $TEXT".into());
        texts.push(k.clone());
    }
    if let Some(f) = scope.filed_from {
        conds.push("a.submitted_at >= $TIME".into());
        times.push(f.naive_utc());
    }
    if let Some(t) = scope.filed_before {
        conds.push("a.submitted_at < $TIME".into());
        times.push(t.naive_utc());
    }
    (conds.join(" AND "), texts, times)
}

/// Runs `select` (which has `{where}` where the scope's conditions go) with the scope's binds, texts
/// first, then times, numbered for PostgreSQL (`$1`) or positional for SQLite (`?`).
fn scoped_query<T: diesel::deserialize::QueryableByName<crate::db::MultiBackend> + 'static>(
    conn: &mut DbConnection,
    select: &str,
    who: &Visibility,
    scope: &Scope,
) -> Result<Vec<T>, StoreError> {
    use diesel::sql_types::{Text, Timestamp};
    let (mut cond, texts, times) = where_clause(who, scope);
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let mut n = 0;
    let mut placeholder = |c: &mut String, marker: &str| {
        while let Some(i) = c.find(marker) {
            n += 1;
            let p = if pg { format!("${n}") } else { "?".into() };
            c.replace_range(i..i + marker.len(), &p);
        }
    };
    placeholder(&mut cond, "$TEXT");
    placeholder(&mut cond, "$TIME");
    let mut q = diesel::sql_query(select.replace("{where}", &cond)).into_boxed::<crate::db::MultiBackend>();
    for t in texts {
        q = q.bind::<Text, _>(t);
    }
    for t in times {
        q = q.bind::<Timestamp, _>(t);
    }
    Ok(q.load(conn)?)
}

#[derive(QueryableByName)]
struct GroupRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    service_key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    passport_version: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    channel: ChannelCode,
    #[diesel(sql_type = Nullable<diesel::sql_types::Text>)]
    subtype: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: StatusCode,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    on_time: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    to_decision: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    term: Option<i64>,
}

/// Applications grouped by service version, channel, subtype and status.
pub fn groups(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<Group>, StoreError> {
    let rows: Vec<GroupRow> = scoped_query(
        conn,
        "SELECT a.service_key, a.passport_version, a.channel, a.subtype, a.status, COUNT(*) AS n, \
         CAST(SUM(CASE WHEN a.decided_on_time THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
         CAST(SUM(a.working_days_to_decision) AS BIGINT) AS to_decision, CAST(SUM(a.term_working_days) AS BIGINT) AS term \
         FROM applications a WHERE {where} \
         GROUP BY a.service_key, a.passport_version, a.channel, a.subtype, a.status",
        who,
        scope,
    )?;
    Ok(rows
        .into_iter()
        .map(|r| Group {
            service_key: r.service_key,
            passport_version: r.passport_version,
            channel: r.channel.0,
            subtype: r.subtype,
            status: r.status.0,
            count: r.n,
            decided_on_time: r.on_time.unwrap_or(0),
            sum_working_days_to_decision: r.to_decision.unwrap_or(0),
            sum_term_working_days: r.term.unwrap_or(0),
        })
        .collect())
}

/// The open applications whose term for a decision ended before `now` (`timing::is_overdue`),
/// earliest due first: at most `limit`, and how many there are.
pub fn overdue(
    conn: &mut DbConnection,
    who: &Visibility,
    scope: &Scope,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<Application>, i64), StoreError> {
    let at = now.naive_utc();
    let total: i64 = scoped_apps!(who, scope)
        .filter(applications::status.ne_all(final_statuses()))
        .filter(applications::due_at.lt(at).or(applications::stage_due_at.lt(at)))
        .count()
        .get_result(conn)?;
    let q = scoped_apps!(who, scope)
        .filter(applications::status.ne_all(final_statuses()))
        .filter(applications::due_at.lt(at).or(applications::stage_due_at.lt(at)))
        .order((applications::due_at.asc(), applications::id.asc()))
        .limit(limit);
    Ok((load_page(conn, q)?, total))
}

/// The open applications not overdue whose due date falls before `due_before` (at risk:
/// `timing::at_risk_before`), earliest due first: at most `limit`, and how many there are.
pub fn at_risk(
    conn: &mut DbConnection,
    who: &Visibility,
    scope: &Scope,
    now: DateTime<Utc>,
    due_before: NaiveDate,
    limit: i64,
) -> Result<(Vec<Application>, i64), StoreError> {
    let at = now.naive_utc();
    let total: i64 = scoped_apps!(who, scope)
        .filter(applications::status.ne_all(final_statuses()))
        .filter(applications::due_at.ge(at))
        .filter(applications::stage_due_at.is_null().or(applications::stage_due_at.ge(at)))
        .filter(applications::due_date.lt(due_before))
        .count()
        .get_result(conn)?;
    let q = scoped_apps!(who, scope)
        .filter(applications::status.ne_all(final_statuses()))
        .filter(applications::due_at.ge(at))
        .filter(applications::stage_due_at.is_null().or(applications::stage_due_at.ge(at)))
        .filter(applications::due_date.lt(due_before))
        .order((applications::due_at.asc(), applications::id.asc()))
        .limit(limit);
    Ok((load_page(conn, q)?, total))
}

#[derive(QueryableByName)]
struct StageRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    stage: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    wd: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    minutes: Option<i64>,
}

/// The time per measured stage of the applications in scope.
pub fn stages(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<StageSum>, StoreError> {
    let rows: Vec<StageRow> = scoped_query(
        conn,
        "SELECT t.stage, COUNT(*) AS n, CAST(SUM(t.working_days) AS BIGINT) AS wd, CAST(SUM(t.minutes) AS BIGINT) AS minutes \
         FROM stage_timings t JOIN applications a ON a.id = t.application_id WHERE {where} GROUP BY t.stage",
        who,
        scope,
    )?;
    Ok(rows
        .into_iter()
        .map(|r| StageSum {
            stage: r.stage,
            samples: r.n,
            sum_working_days: r.wd.unwrap_or(0),
            sum_minutes: r.minutes.unwrap_or(0),
        })
        .collect())
}

#[derive(QueryableByName)]
struct ComplaintRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    service_key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    status: ComplaintStatusCode,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Complaints about the applications in scope, by service and status.
pub fn complaints_by_service(
    conn: &mut DbConnection,
    who: &Visibility,
    scope: &Scope,
) -> Result<Vec<(String, domain::complaint::ComplaintStatus, i64)>, StoreError> {
    let rows: Vec<ComplaintRow> = scoped_query(
        conn,
        "SELECT c.service_key, c.status, COUNT(*) AS n \
         FROM complaints c JOIN applications a ON a.id = c.application_id WHERE {where} GROUP BY c.service_key, c.status",
        who,
        scope,
    )?;
    Ok(rows.into_iter().map(|r| (r.service_key, r.status.0, r.n)).collect())
}

/// Records the measured stage a change ended, in the change's transaction.
pub fn record_stage(conn: &mut DbConnection, app: &Application, t: &StageTiming) -> Result<(), StoreError> {
    diesel::insert_into(stage_timings::table)
        .values((
            stage_timings::application_id.eq(&app.id),
            stage_timings::provider_id.eq(&app.provider_id),
            stage_timings::service_key.eq(&app.service_key),
            stage_timings::submitted_at.eq(app.submitted_at.naive_utc()),
            stage_timings::stage.eq(t.stage),
            stage_timings::started_at.eq(t.started_at.naive_utc()),
            stage_timings::ended_at.eq(t.ended_at.naive_utc()),
            stage_timings::minutes.eq(t.minutes),
            stage_timings::working_days.eq(t.working_days),
        ))
        .execute(conn)?;
    Ok(())
}
