//! The monitoring view's figures as SQL over indexes: counts by service, version, channel and status,
//! decisions on time, the time per stage, the open applications past or near their term. Memory stays
//! bounded whatever the number of applications: only groups and a page of each list are loaded.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};
use domain::application::timing::StageTiming;
use domain::application::{Application, Status};

use crate::applications::{load_page, open_filter, Visibility};
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
/// binds: the same SQL on both backends. With another `alias`, over a table that has the columns the
/// clause names (`stage_timings` has the provider, service and filing moment).
fn where_clause(who: &Visibility, scope: &Scope, alias: &str) -> (String, Vec<String>, Vec<NaiveDateTime>) {
    let (mut conds, mut texts, mut times) = (vec!["1 = 1".to_string()], Vec::new(), Vec::new());
    match who {
        Visibility::Applicant(iin) => {
            conds.push(format!("{alias}.applicant_iin = $TEXT"));
            texts.push(iin.clone());
        }
        Visibility::Provider(org) => {
            conds.push(format!("{alias}.provider_id = $TEXT"));
            texts.push(org.clone());
        }
        Visibility::IntakeCentre(org) => {
            conds.push(format!("{alias}.intake_org_id = $TEXT"));
            texts.push(org.clone());
        }
        Visibility::ReviewBody(org) => {
            conds.push(format!("{alias}.id IN (SELECT application_id FROM complaints WHERE reviewer_org = $TEXT)"));
            texts.push(org.clone());
        }
        Visibility::Services(keys) => {
            let marks = vec!["$TEXT"; keys.len()].join(", ");
            conds.push(if keys.is_empty() { "1 = 0".into() } else { format!("{alias}.service_key IN ({marks})") });
            texts.extend(keys.iter().cloned());
        }
        Visibility::All => {}
    }
    if let Some(p) = &scope.provider_id {
        conds.push(format!("{alias}.provider_id = $TEXT"));
        texts.push(p.clone());
    }
    if let Some(k) = &scope.service_key {
        conds.push(format!("{alias}.service_key = $TEXT"));
        texts.push(k.clone());
    }
    if let Some(f) = scope.filed_from {
        conds.push(format!("{alias}.submitted_at >= $TIME"));
        times.push(f.naive_utc());
    }
    if let Some(t) = scope.filed_before {
        conds.push(format!("{alias}.submitted_at < $TIME"));
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
    scoped_query_on(conn, select, who, scope, "a")
}

/// [`scoped_query`] with the conditions on the table aliased `alias`.
fn scoped_query_on<T: diesel::deserialize::QueryableByName<crate::db::MultiBackend> + 'static>(
    conn: &mut DbConnection,
    select: &str,
    who: &Visibility,
    scope: &Scope,
    alias: &str,
) -> Result<Vec<T>, StoreError> {
    let (cond, texts, times) = where_clause(who, scope, alias);
    bound_query(conn, &select.replace("{where}", &cond), texts, times)
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

/// Applications grouped by service version, channel, subtype and status: from the monitoring counts
/// for the whole months of the period, from the applications themselves for its edges.
pub fn groups(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<Group>, StoreError> {
    let Some(counted) = Counted::of(who, scope) else { return groups_of_rows(conn, who, scope) };
    let period = Period::split(scope.filed_from, scope.filed_before);
    let mut rows: Vec<GroupRow> = Vec::new();
    if let Some(months) = &period.months {
        let (cond, binds) = counted.condition(months);
        rows.extend(bound_query::<GroupRow>(
            conn,
            &format!(
                "SELECT service_key, passport_version, channel, NULLIF(subtype, '') AS subtype, status, \
                 CAST(SUM(applications) AS BIGINT) AS n, CAST(SUM(decided_on_time) AS BIGINT) AS on_time, \
                 CAST(SUM(working_days_to_decision) AS BIGINT) AS to_decision, \
                 CAST(SUM(term_working_days) AS BIGINT) AS term FROM ( \
                 SELECT {COUNT_COLUMNS} FROM monitoring_counts WHERE {cond} UNION ALL \
                 SELECT {COUNT_COLUMNS} FROM monitoring_count_changes WHERE {cond}) x \
                 GROUP BY service_key, passport_version, channel, subtype, status HAVING SUM(applications) <> 0"
            ),
            [binds.clone(), binds].concat(),
            vec![],
        )?);
    }
    for edge in period.edges {
        rows.extend(group_rows(conn, who, &edge.narrow(scope))?);
    }
    Ok(merge_groups(rows))
}

const COUNT_COLUMNS: &str = "service_key, passport_version, channel, subtype, status, applications, decided_on_time, \
     working_days_to_decision, term_working_days";

/// Applications grouped as [`groups`] does, aggregated over the application rows themselves: what
/// the counts must always equal (the tests compare them), and the answer for callers the counts do
/// not serve.
pub fn groups_of_rows(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<Group>, StoreError> {
    Ok(merge_groups(group_rows(conn, who, scope)?))
}

fn group_rows(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<GroupRow>, StoreError> {
    scoped_query(
        conn,
        "SELECT a.service_key, a.passport_version, a.channel, a.subtype, a.status, COUNT(*) AS n, \
         CAST(SUM(CASE WHEN a.decided_on_time THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
         CAST(SUM(a.working_days_to_decision) AS BIGINT) AS to_decision, CAST(SUM(a.term_working_days) AS BIGINT) AS term \
         FROM applications a WHERE {where} \
         GROUP BY a.service_key, a.passport_version, a.channel, a.subtype, a.status",
        who,
        scope,
    )
}

/// Sums the rows of one group that came from the counts and from the edges of the period.
fn merge_groups(rows: Vec<GroupRow>) -> Vec<Group> {
    let mut merged: std::collections::BTreeMap<(String, String, String, Option<String>, String), Group> =
        std::collections::BTreeMap::new();
    for r in rows {
        let key = (
            r.service_key.clone(),
            r.passport_version.clone(),
            r.channel.0.code().to_string(),
            r.subtype.clone(),
            r.status.0.code().to_string(),
        );
        let g = merged.entry(key).or_insert_with(|| Group {
            service_key: r.service_key,
            passport_version: r.passport_version,
            channel: r.channel.0,
            subtype: r.subtype,
            status: r.status.0,
            count: 0,
            decided_on_time: 0,
            sum_working_days_to_decision: 0,
            sum_term_working_days: 0,
        });
        g.count += r.n;
        g.decided_on_time += r.on_time.unwrap_or(0);
        g.sum_working_days_to_decision += r.to_decision.unwrap_or(0);
        g.sum_term_working_days += r.term.unwrap_or(0);
    }
    merged.into_values().filter(|g| g.count != 0).collect()
}

/// Which monitoring counts a caller's scope reads: the counts are kept per provider, so they serve
/// every caller who sees whole providers (all, or one); other callers' figures come from the rows.
struct Counted {
    provider_id: Option<String>,
    service_key: Option<String>,
}

impl Counted {
    fn of(who: &Visibility, scope: &Scope) -> Option<Counted> {
        let provider_id = match (who, &scope.provider_id) {
            (Visibility::All, p) => p.clone(),
            (Visibility::Provider(org), None) => Some(org.clone()),
            (Visibility::Provider(org), Some(p)) if p == org => Some(org.clone()),
            // Another provider than one's own, or a caller who sees parts of providers: the rows answer.
            _ => return None,
        };
        Some(Counted { provider_id, service_key: scope.service_key.clone() })
    }

    /// The WHERE clause over a counts table for whole `months`, with its text binds.
    fn condition(&self, months: &(Option<String>, Option<String>)) -> (String, Vec<String>) {
        let (mut conds, mut binds) = (vec!["1 = 1"], Vec::new());
        for (cond, value) in [
            ("provider_id = $TEXT", &self.provider_id),
            ("service_key = $TEXT", &self.service_key),
            ("filed_month >= $TEXT", &months.0),
            ("filed_month < $TEXT", &months.1),
        ] {
            if let Some(v) = value {
                conds.push(cond);
                binds.push(v.clone());
            }
        }
        (conds.join(" AND "), binds)
    }
}

/// A period of filing, `[from, before)`, split into the whole UTC months the counts hold and the
/// parts of months at its edges, read from the rows.
#[derive(Debug, Clone, PartialEq)]
struct Period {
    /// The months `[first, end)` as `YYYY-MM`, each bound open when `None`; `None` when the period
    /// covers no whole month.
    months: Option<(Option<String>, Option<String>)>,
    edges: Vec<Edge>,
}

#[derive(Debug, Clone, PartialEq)]
struct Edge {
    from: DateTime<Utc>,
    before: DateTime<Utc>,
}

impl Edge {
    fn narrow(&self, scope: &Scope) -> Scope {
        Scope { filed_from: Some(self.from), filed_before: Some(self.before), ..scope.clone() }
    }
}

/// `YYYY-MM` of a moment, as the triggers write `filed_month` (`to_char`, `strftime` of the UTC time).
fn month_key(t: DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

fn month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0).single().expect("the first of a month exists")
}

fn next_month_start(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{Datelike, TimeZone};
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().expect("the first of a month exists")
}

impl Period {
    fn split(from: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> Period {
        // The whole months begin at `first` (the first month start at or after `from`) and end at
        // `end` (the last month start at or before `before`).
        let first = from.map(|f| if month_start(f) == f { f } else { next_month_start(f) });
        let end = before.map(month_start);
        if let (Some(f), Some(b), Some(first), Some(end)) = (from, before, first, end) {
            if first >= end {
                let edges = if f < b { vec![Edge { from: f, before: b }] } else { vec![] };
                return Period { months: None, edges };
            }
        }
        let mut edges = Vec::new();
        if let (Some(f), Some(first)) = (from, first) {
            if f < first {
                edges.push(Edge { from: f, before: first });
            }
        }
        if let (Some(b), Some(end)) = (before, end) {
            if end < b {
                edges.push(Edge { from: end, before: b });
            }
        }
        Period { months: Some((first.map(month_key), end.map(month_key))), edges }
    }
}

/// Runs `sql`, whose `$TEXT` markers take `texts` and then whose `$TIME` markers take `times`, in
/// order, numbered for PostgreSQL (`$1`) or positional for SQLite (`?`). Every text marker must come
/// before every time marker in the SQL (the binds are positional).
fn bound_query<T: diesel::deserialize::QueryableByName<crate::db::MultiBackend> + 'static>(
    conn: &mut DbConnection,
    sql: &str,
    texts: Vec<String>,
    times: Vec<NaiveDateTime>,
) -> Result<Vec<T>, StoreError> {
    use diesel::sql_types::{Text, Timestamp};
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let mut sql = sql.to_string();
    let mut n = 0;
    for marker in ["$TEXT", "$TIME"] {
        while let Some(i) = sql.find(marker) {
            n += 1;
            sql.replace_range(i..i + marker.len(), &if pg { format!("${n}") } else { "?".into() });
        }
    }
    let mut q = diesel::sql_query(sql).into_boxed::<crate::db::MultiBackend>();
    for t in texts {
        q = q.bind::<Text, _>(t);
    }
    for t in times {
        q = q.bind::<Timestamp, _>(t);
    }
    Ok(q.load(conn)?)
}

/// The open applications whose term for a decision ended before `now` (`timing::is_overdue`),
/// earliest due first: at most `limit`, and how many there are.
///
/// Counted as ranges of the open applications' deadline indexes, each an index-only scan: those
/// whose term ended (`due_at` before now), plus those whose stage's term ended (`stage_due_at`),
/// less those counted twice (the few in a stage, found through the stage index). One `OR` of the
/// two, or a range of the running terms, would scan every open application of the provider.
pub fn overdue(
    conn: &mut DbConnection,
    who: &Visibility,
    scope: &Scope,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<Application>, i64), StoreError> {
    let at = now.naive_utc();
    let term_ended: i64 =
        scoped_apps!(who, scope).filter(open_filter()).filter(applications::due_at.lt(at)).count().get_result(conn)?;
    let stage_ended: i64 = scoped_apps!(who, scope)
        .filter(open_filter())
        .filter(applications::stage_due_at.lt(at))
        .count()
        .get_result(conn)?;
    let both_ended: i64 = scoped_apps!(who, scope)
        .filter(open_filter())
        .filter(applications::stage_due_at.lt(at))
        .filter(applications::due_at.lt(at))
        .count()
        .get_result(conn)?;
    let q = scoped_apps!(who, scope)
        .filter(open_filter())
        .filter(applications::due_at.lt(at).or(applications::stage_due_at.lt(at)))
        .order((applications::due_at.asc(), applications::id.asc()))
        .limit(limit);
    Ok((load_page(conn, q)?, term_ended + stage_ended - both_ended))
}

/// The open applications not overdue whose due date falls before `due_before` (at risk:
/// `timing::at_risk_before`), earliest due first: at most `limit`, and how many there are.
///
/// `due_before_starts` is the moment the local day `due_before` begins: a term whose due date is
/// earlier ends before it (a day later bounds it whatever the hour a term ends at), so the scan is the
/// range of due moments from now to then, not every open application.
pub fn at_risk(
    conn: &mut DbConnection,
    who: &Visibility,
    scope: &Scope,
    now: DateTime<Utc>,
    due_before: NaiveDate,
    due_before_starts: DateTime<Utc>,
    limit: i64,
) -> Result<(Vec<Application>, i64), StoreError> {
    let at = now.naive_utc();
    let bound = (due_before_starts + chrono::Duration::days(1)).naive_utc();
    let total: i64 = scoped_apps!(who, scope)
        .filter(open_filter())
        .filter(applications::due_at.ge(at))
        .filter(applications::due_at.lt(bound))
        .filter(applications::stage_due_at.is_null().or(applications::stage_due_at.ge(at)))
        .filter(applications::due_date.lt(due_before))
        .count()
        .get_result(conn)?;
    let q = scoped_apps!(who, scope)
        .filter(open_filter())
        .filter(applications::due_at.ge(at))
        .filter(applications::due_at.lt(bound))
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

/// The time per measured stage of the applications in scope: counted, like [`groups`], for whole
/// months and read from the stage rows at the period's edges.
pub fn stages(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<StageSum>, StoreError> {
    let Some(counted) = Counted::of(who, scope) else { return stages_of_rows(conn, who, scope) };
    let period = Period::split(scope.filed_from, scope.filed_before);
    let mut rows: Vec<StageRow> = Vec::new();
    if let Some(months) = &period.months {
        let (cond, binds) = counted.condition(months);
        rows.extend(bound_query::<StageRow>(
            conn,
            &format!(
                "SELECT stage, CAST(SUM(samples) AS BIGINT) AS n, CAST(SUM(working_days) AS BIGINT) AS wd, \
                 CAST(SUM(minutes) AS BIGINT) AS minutes FROM ( \
                 SELECT stage, samples, working_days, minutes FROM stage_counts WHERE {cond} UNION ALL \
                 SELECT stage, samples, working_days, minutes FROM stage_count_changes WHERE {cond}) x \
                 GROUP BY stage HAVING SUM(samples) <> 0"
            ),
            [binds.clone(), binds].concat(),
            vec![],
        )?);
    }
    for edge in period.edges {
        // Edges read the stage rows alone: they carry the provider, service and filing moment.
        rows.extend(scoped_query_on::<StageRow>(
            conn,
            "SELECT t.stage, COUNT(*) AS n, CAST(SUM(t.working_days) AS BIGINT) AS wd, \
             CAST(SUM(t.minutes) AS BIGINT) AS minutes FROM stage_timings t WHERE {where} GROUP BY t.stage",
            &Visibility::All,
            &Scope { provider_id: counted.provider_id.clone(), ..edge.narrow(scope) },
            "t",
        )?);
    }
    Ok(merge_stages(rows))
}

/// The time per stage as [`stages`] gives it, aggregated over the stage rows themselves.
pub fn stages_of_rows(conn: &mut DbConnection, who: &Visibility, scope: &Scope) -> Result<Vec<StageSum>, StoreError> {
    Ok(merge_stages(scoped_query(
        conn,
        "SELECT t.stage, COUNT(*) AS n, CAST(SUM(t.working_days) AS BIGINT) AS wd, CAST(SUM(t.minutes) AS BIGINT) AS minutes \
         FROM stage_timings t JOIN applications a ON a.id = t.application_id WHERE {where} GROUP BY t.stage",
        who,
        scope,
    )?))
}

fn merge_stages(rows: Vec<StageRow>) -> Vec<StageSum> {
    let mut merged: std::collections::BTreeMap<String, StageSum> = std::collections::BTreeMap::new();
    for r in rows {
        let s = merged.entry(r.stage.clone()).or_insert_with(|| StageSum {
            stage: r.stage,
            samples: 0,
            sum_working_days: 0,
            sum_minutes: 0,
        });
        s.samples += r.n;
        s.sum_working_days += r.wd.unwrap_or(0);
        s.sum_minutes += r.minutes.unwrap_or(0);
    }
    merged.into_values().filter(|s| s.samples != 0).collect()
}

/// The advisory lock that lets one instance at a time fold the counts: "kz-mon" in ASCII.
const FOLD_LOCK_KEY: i64 = 0x6b7a_2d6d_6f6e;

#[derive(QueryableByName)]
struct Moved {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Folds up to `limit` pending count changes of each kind into the totals, in the caller's
/// transaction, and returns how many changes it folded. Readers get the same sums before and after.
///
/// On PostgreSQL the folded rows are the ones one `DELETE ... RETURNING` removed: a change that
/// commits meanwhile, even with a lower id, stays for the next fold, so nothing is counted twice or
/// lost; instances take turns through a try-lock (one that finds it taken folds nothing). SQLite
/// writes one transaction at a time, so the changes up to the highest id read are all there is.
pub fn fold(conn: &mut DbConnection, limit: i64) -> Result<usize, StoreError> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    if pg {
        let locked: Vec<Locked> =
            diesel::sql_query(format!("SELECT pg_try_advisory_xact_lock({FOLD_LOCK_KEY}) AS locked")).load(conn)?;
        if !locked.first().is_some_and(|l| l.locked) {
            return Ok(0);
        }
    }
    #[derive(QueryableByName)]
    struct Last {
        #[diesel(sql_type = Nullable<BigInt>)]
        last: Option<i64>,
    }
    let mut folded = 0;
    for (totals, changes, key, sums) in FOLDS {
        let set = sums.iter().map(|c| format!("{c} = {totals}.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
        let sum = sums.iter().map(|c| format!("SUM({c})")).collect::<Vec<_>>().join(", ");
        // The changes in `source` added to the totals, one row per key.
        let upsert = |source: &str| {
            format!(
                "INSERT INTO {totals} ({key}, {cols}) SELECT {key}, {sum} FROM {source} GROUP BY {key} \
                 ON CONFLICT ({key}) DO UPDATE SET {set}",
                cols = sums.join(", ")
            )
        };
        folded += if pg {
            let moved: Vec<Moved> = diesel::sql_query(format!(
                "WITH moved AS (DELETE FROM {changes} WHERE id IN (SELECT id FROM {changes} ORDER BY id LIMIT {limit}) \
                 RETURNING *), folded AS ({}) SELECT COUNT(*) AS n FROM moved",
                upsert("moved")
            ))
            .load(conn)?;
            moved.first().map_or(0, |m| m.n as usize)
        } else {
            let last: Vec<Last> = diesel::sql_query(format!(
                "SELECT MAX(id) AS last FROM (SELECT id FROM {changes} ORDER BY id LIMIT {limit})"
            ))
            .load(conn)?;
            let Some(last) = last.first().and_then(|l| l.last) else { continue };
            // SQLite needs the WHERE to read `ON CONFLICT` as the upsert's, not the join's.
            diesel::sql_query(upsert(&format!("{changes} WHERE id <= {last}"))).execute(conn)?;
            diesel::sql_query(format!("DELETE FROM {changes} WHERE id <= {last}")).execute(conn)?
        };
    }
    if folded > 0 {
        // A group everybody left (the filings of a month all moved on from `submitted`) is no row.
        for (totals, _, _, sums) in FOLDS {
            let zero = sums.iter().map(|c| format!("{c} = 0")).collect::<Vec<_>>().join(" AND ");
            diesel::sql_query(format!("DELETE FROM {totals} WHERE {zero}")).execute(conn)?;
        }
    }
    Ok(folded)
}

/// Each counts table: totals, pending changes, key columns, summed columns.
const FOLDS: [(&str, &str, &str, &[&str]); 2] = [
    (
        "monitoring_counts",
        "monitoring_count_changes",
        "provider_id, filed_month, service_key, passport_version, channel, subtype, status",
        &["applications", "decided_on_time", "working_days_to_decision", "term_working_days"],
    ),
    (
        "stage_counts",
        "stage_count_changes",
        "provider_id, filed_month, service_key, stage",
        &["samples", "working_days", "minutes"],
    ),
];

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn months(first: Option<&str>, end: Option<&str>) -> Option<(Option<String>, Option<String>)> {
        Some((first.map(String::from), end.map(String::from)))
    }

    #[test]
    fn no_period_is_every_month_and_no_edge() {
        assert_eq!(Period::split(None, None), Period { months: months(None, None), edges: vec![] });
    }

    #[test]
    fn local_days_in_utc_plus_5_leave_edges_of_some_hours() {
        // 1 to 30 November 2026 in Astana: [31 Oct 19:00 UTC, 30 Nov 19:00 UTC). The counts hold no
        // whole month of it: the rows answer for all of it.
        let p = Period::split(Some(at(2026, 10, 31, 19)), Some(at(2026, 11, 30, 19)));
        assert_eq!(
            p,
            Period { months: None, edges: vec![Edge { from: at(2026, 10, 31, 19), before: at(2026, 11, 30, 19) }] }
        );
        // 1 October to 31 December: November whole from the counts, five hours before it and the
        // December part after it from the rows.
        let p = Period::split(Some(at(2026, 9, 30, 19)), Some(at(2026, 12, 31, 19)));
        assert_eq!(p.months, months(Some("2026-10"), Some("2026-12")));
        assert_eq!(
            p.edges,
            vec![
                Edge { from: at(2026, 9, 30, 19), before: at(2026, 10, 1, 0) },
                Edge { from: at(2026, 12, 1, 0), before: at(2026, 12, 31, 19) }
            ]
        );
    }

    #[test]
    fn open_ends_read_every_month_on_that_side() {
        let p = Period::split(Some(at(2026, 3, 15, 0)), None);
        assert_eq!(p.months, months(Some("2026-04"), None));
        assert_eq!(p.edges, vec![Edge { from: at(2026, 3, 15, 0), before: at(2026, 4, 1, 0) }]);
        let p = Period::split(None, Some(at(2027, 1, 1, 0)));
        assert_eq!(p, Period { months: months(None, Some("2027-01")), edges: vec![] });
    }

    #[test]
    fn month_bounds_exactly_need_no_edge_and_december_rolls_over() {
        let p = Period::split(Some(at(2026, 12, 1, 0)), Some(at(2027, 2, 1, 0)));
        assert_eq!(p, Period { months: months(Some("2026-12"), Some("2027-02")), edges: vec![] });
        assert_eq!(next_month_start(at(2026, 12, 9, 3)), at(2027, 1, 1, 0));
        assert_eq!(month_key(at(2026, 12, 31, 23)), "2026-12");
    }

    #[test]
    fn an_empty_period_reads_nothing() {
        assert_eq!(
            Period::split(Some(at(2026, 5, 2, 0)), Some(at(2026, 5, 2, 0))),
            Period { months: None, edges: vec![] }
        );
    }
}
