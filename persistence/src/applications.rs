//! Applications and their history. Rows are converted once, here, into the domain's
//! [`Application`]; callers never see a status, channel or role as a string.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::application::timing::Timeline;
use domain::application::{Application, Change, Event, HistoryRecord, Official, Reach, StageEvent, Status};
use domain::passport::Channel;

use crate::access_log::{self, Journaled, Reading, Seen};
use crate::codes::{ActorCode, ChannelCode, StatusCode};
use crate::notifications::NotificationRow;
use crate::schema::{application_history, applications};
use crate::{events, DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = applications)]
// Updates write the whole row: a field set to None (a decision cleared on reopening) becomes NULL.
#[diesel(treat_none_as_null = true)]
struct ApplicationRow {
    id: String,
    registration_number: String,
    service_key: String,
    passport_version: String,
    subtype: Option<String>,
    channel: ChannelCode,
    status: StatusCode,
    applicant_iin: String,
    filed_by: String,
    filed_by_role: ActorCode,
    intake_org_id: Option<String>,
    provider_id: String,
    assignee: Option<String>,
    /// JSON: the representative's details and power of attorney, when one files for the applicant.
    representative: Option<String>,
    /// JSON: the form as submitted.
    form_data: String,
    submitted_at: NaiveDateTime,
    counted_from: NaiveDateTime,
    due_at: NaiveDateTime,
    due_date: NaiveDate,
    decided_at: Option<NaiveDateTime>,
    /// Incremented by every change; the API's ETag.
    row_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    stage_due_at: Option<NaiveDateTime>,
    hearing_at: Option<NaiveDateTime>,
    hearing_place: Option<String>,
    /// JSON: the decision (domain::application::Decision).
    decision: Option<String>,
    status_since: Option<NaiveDateTime>,
    term_working_days: Option<i64>,
    working_days_to_decision: Option<i64>,
    decided_on_time: Option<bool>,
}

fn utc(d: NaiveDateTime) -> DateTime<Utc> {
    d.and_utc()
}

fn corrupt(id: &str, what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("application {id}: {what}: {e}"))
}

impl ApplicationRow {
    fn into_domain(self) -> Result<Application, StoreError> {
        let id = self.id;
        Ok(Application {
            registration_number: self.registration_number,
            service_key: self.service_key,
            passport_version: self.passport_version,
            subtype: self.subtype,
            channel: self.channel.0,
            status: self.status.0,
            applicant_iin: self.applicant_iin,
            filed_by: Official::new(self.filed_by, self.filed_by_role.0),
            intake_org_id: self.intake_org_id,
            provider_id: self.provider_id,
            assignee: self.assignee,
            representative: self
                .representative
                .map(|r| serde_json::from_str(&r))
                .transpose()
                .map_err(|e| corrupt(&id, "representative", e))?,
            form: serde_json::from_str(&self.form_data).map_err(|e| corrupt(&id, "form", e))?,
            submitted_at: utc(self.submitted_at),
            counted_from: utc(self.counted_from),
            due_at: utc(self.due_at),
            due_date: self.due_date,
            decided_at: self.decided_at.map(utc),
            stage_due_at: self.stage_due_at.map(utc),
            hearing_at: self.hearing_at.map(utc),
            hearing_place: self.hearing_place,
            decision: self
                .decision
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(|e| corrupt(&id, "decision", e))?,
            status_since: utc(self.status_since.unwrap_or(self.updated_at)),
            term_working_days: self.term_working_days.unwrap_or(0),
            working_days_to_decision: self.working_days_to_decision,
            decided_on_time: self.decided_on_time,
            version: self.row_version,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            id,
        })
    }

    fn of(a: &Application) -> ApplicationRow {
        ApplicationRow {
            id: a.id.clone(),
            registration_number: a.registration_number.clone(),
            service_key: a.service_key.clone(),
            passport_version: a.passport_version.clone(),
            subtype: a.subtype.clone(),
            channel: ChannelCode(a.channel),
            status: StatusCode(a.status),
            applicant_iin: a.applicant_iin.clone(),
            filed_by: a.filed_by.sub.clone(),
            filed_by_role: ActorCode(a.filed_by.role),
            intake_org_id: a.intake_org_id.clone(),
            provider_id: a.provider_id.clone(),
            assignee: a.assignee.clone(),
            representative: a.representative.as_ref().map(|r| r.to_string()),
            form_data: a.form.to_string(),
            submitted_at: a.submitted_at.naive_utc(),
            counted_from: a.counted_from.naive_utc(),
            due_at: a.due_at.naive_utc(),
            due_date: a.due_date,
            decided_at: a.decided_at.map(|d| d.naive_utc()),
            row_version: a.version,
            created_at: a.created_at.naive_utc(),
            updated_at: a.updated_at.naive_utc(),
            stage_due_at: a.stage_due_at.map(|d| d.naive_utc()),
            hearing_at: a.hearing_at.map(|d| d.naive_utc()),
            hearing_place: a.hearing_place.clone(),
            decision: a.decision.as_ref().map(|d| d.to_json().to_string()),
            status_since: Some(a.status_since.naive_utc()),
            term_working_days: Some(a.term_working_days),
            working_days_to_decision: a.working_days_to_decision,
            decided_on_time: a.decided_on_time,
        }
    }
}

fn load_all(rows: Vec<ApplicationRow>) -> Result<Vec<Application>, StoreError> {
    rows.into_iter().map(ApplicationRow::into_domain).collect()
}

/// Loads the applications a boxed query selects (monitoring's pages).
pub(crate) fn load_page(
    conn: &mut DbConnection,
    q: applications::BoxedQuery<'_, crate::db::MultiBackend>,
) -> Result<Vec<Application>, StoreError> {
    load_all(q.select(ApplicationRow::as_select()).load(conn)?)
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_history)]
struct HistoryRow {
    id: String,
    application_id: String,
    seq: i64,
    at: NaiveDateTime,
    actor_sub: String,
    actor_role: ActorCode,
    action: String,
    from_status: Option<StatusCode>,
    to_status: Option<StatusCode>,
    reason: Option<String>,
    changes: String,
}

/// One entry of an application's history, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub application_id: String,
    /// Position within the application's history, from 1.
    pub seq: i64,
    pub record: HistoryRecord,
}

impl HistoryRow {
    fn into_entry(self) -> Result<HistoryEntry, StoreError> {
        let changes = serde_json::from_str(&self.changes).map_err(|e| corrupt(&self.application_id, "history", e))?;
        Ok(HistoryEntry {
            seq: self.seq,
            record: HistoryRecord {
                action: self.action,
                actor: Official::new(self.actor_sub, self.actor_role.0),
                at: utc(self.at),
                from_status: self.from_status.map(|s| s.0),
                // Every entry records the status it left the application in.
                to_status: self.to_status.map(|s| s.0).unwrap_or(Status::Submitted),
                reason: self.reason,
                changes,
            },
            application_id: self.application_id,
        })
    }
}

/// Who may see which applications: the caller's scope, applied in the query so that nothing outside
/// it is ever loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// An applicant: their own applications.
    Applicant(String),
    /// Provider staff: applications addressed to their organisation.
    Provider(String),
    /// State Corporation operators: applications filed at their centre.
    IntakeCentre(String),
    /// The complaint review body: applications with a complaint forwarded to it.
    ReviewBody(String),
    /// A service account: applications of the services its scopes name.
    Services(Vec<String>),
    /// Administrators.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub service_key: Option<String>,
    pub status: Option<Status>,
    pub channel: Option<Channel>,
    pub provider_id: Option<String>,
    pub assignee: Option<String>,
    /// Only open applications whose term for a decision ended before this moment (the service term,
    /// or the answer after a hearing when that ends first: `timing::is_overdue`).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Keyset cursor: only ids smaller than this (ids are time-ordered UUIDv7, so newest first).
    pub before_id: Option<String>,
    pub limit: i64,
}

/// "The application's term still runs" (its status is not final), as the literal SQL the partial
/// indexes over open applications are declared with (migration `open_deadlines`): PostgreSQL uses
/// such an index only for a query that states its predicate, and a bound array of statuses does not.
pub const OPEN: &str = "status NOT IN ('approved', 'refused', 'refused_at_intake', 'withdrawn')";

/// [`OPEN`] as a filter on `applications` (qualified: the table may stand beside others with a status).
pub fn open_filter() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql(&format!("applications.{OPEN}"))
}

/// Statuses in which no term runs any more.
pub fn final_statuses() -> Vec<StatusCode> {
    Status::ALL.into_iter().filter(|s| s.is_final()).map(StatusCode).collect()
}

pub fn insert(conn: &mut DbConnection, app: &Application) -> Result<(), StoreError> {
    diesel::insert_into(applications::table).values(ApplicationRow::of(app)).execute(conn)?;
    Ok(())
}

fn changed_since(id: &str) -> StoreError {
    StoreError::Conflict(format!("application {id} changed since it was read"))
}

pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Application>, StoreError> {
    applications::table
        .filter(applications::id.eq(id))
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?
        .map(ApplicationRow::into_domain)
        .transpose()
}

/// Writes a changed application if nobody changed it since it was read (optimistic concurrency): the
/// row must still carry `app.version - 1`. Otherwise [`StoreError::Conflict`], and the caller's
/// transaction rolls back.
pub fn update(conn: &mut DbConnection, app: &Application) -> Result<(), StoreError> {
    let row = ApplicationRow::of(app);
    let n = optimistic_update(&row).execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(changed_since(&row.id))
    }
}

type OptimisticUpdate<'a> = diesel::dsl::Update<
    diesel::dsl::Filter<
        diesel::dsl::Filter<applications::table, diesel::dsl::Eq<applications::id, &'a String>>,
        diesel::dsl::Eq<applications::row_version, i64>,
    >,
    &'a ApplicationRow,
>;

/// `row` written over the version it was changed from (`row_version - 1`), and over nothing else.
fn optimistic_update(row: &ApplicationRow) -> OptimisticUpdate<'_> {
    diesel::update(
        applications::table
            .filter(applications::id.eq(&row.id))
            .filter(applications::row_version.eq(row.row_version - 1)),
    )
    .set(row)
}

/// Which deadline an [`open_within`] walk goes along. The two walks together are
/// [`Reach::may_move`], and no application is in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Along {
    /// Open and due on or after the reach's start (`applications_open_by_due`).
    Due,
    /// Open, due before the reach's start, with an answer after a hearing due on or after it
    /// (`applications_open_by_stage_due`): the few whose only counted days within reach are the answer's.
    Stage,
}

/// Where an [`open_within`] walk resumes: the deadline it goes along and the id, of the page's last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkCursor {
    pub at: NaiveDateTime,
    pub id: String,
}

impl Along {
    /// How the walk is named where its progress is stored (`calendar_recomputes.along`).
    pub fn key(self) -> &'static str {
        match self {
            Along::Due => "due",
            Along::Stage => "stage",
        }
    }

    pub fn from_key(key: &str) -> Option<Along> {
        match key {
            "due" => Some(Along::Due),
            "stage" => Some(Along::Stage),
            _ => None,
        }
    }

    /// The walk after this one, if any: the two together are [`Reach::may_move`].
    pub fn next(self) -> Option<Along> {
        match self {
            Along::Due => Some(Along::Stage),
            Along::Stage => None,
        }
    }

    /// The cursor after `app` on this walk.
    pub fn cursor_after(self, app: &Application) -> WalkCursor {
        let at = match self {
            Along::Due => app.due_at,
            Along::Stage => app.stage_due_at.unwrap_or(app.due_at),
        };
        WalkCursor { at: at.naive_utc(), id: app.id.clone() }
    }
}

/// A page of the open applications a change of the calendar may move ([`Reach::may_move`] in SQL),
/// latest deadline `along` first (then id, descending), after `after`. Keyset pages over the
/// partial indexes of open applications: a calendar change reads what it recomputes a page at a
/// time, in memory bounded by `limit` whatever the number of applications. Latest first, because
/// most changes move due dates later (a day off added), and a row the same transaction moved behind
/// the cursor is not read again; one moved earlier comes round again, and recomputing it again moves
/// nothing.
pub fn open_within(
    conn: &mut DbConnection,
    reach: &Reach,
    along: Along,
    after: Option<&WalkCursor>,
    limit: i64,
) -> Result<Vec<Application>, StoreError> {
    use applications::dsl as a;
    let (from, until) = (reach.from.naive_utc(), reach.until.naive_utc());
    let mut q = applications::table
        .filter(open_filter())
        .filter(a::submitted_at.lt(until))
        .select(ApplicationRow::as_select())
        .limit(limit)
        .into_boxed();
    q = match (along, after) {
        (Along::Due, None) => q.filter(a::due_at.ge(from)),
        (Along::Due, Some(c)) => {
            // `due_at <= c.at` as well, so that the index bounds the scan.
            q.filter(a::due_at.ge(from))
                .filter(a::due_at.le(c.at))
                .filter(a::due_at.lt(c.at).or(a::due_at.eq(c.at).and(a::id.lt(c.id.clone()))))
        }
        (Along::Stage, after) => {
            let q = q.filter(a::due_at.lt(from)).filter(a::stage_due_at.ge(from));
            match after {
                None => q,
                Some(c) => q
                    .filter(a::stage_due_at.le(c.at))
                    .filter(a::stage_due_at.lt(c.at).or(a::stage_due_at.eq(c.at).and(a::id.lt(c.id.clone())))),
            }
        }
    };
    q = match along {
        Along::Due => q.order((a::due_at.desc(), a::id.desc())),
        Along::Stage => q.order((a::stage_due_at.desc(), a::id.desc())),
    };
    load_all(q.load(conn)?)
}

/// One application, only if the caller may see it: otherwise `None`, exactly as if it did not exist.
pub fn find_visible(conn: &mut DbConnection, id: &str, who: &Visibility) -> Result<Option<Application>, StoreError> {
    let row = match who {
        Visibility::ReviewBody(_) => {
            let q = scoped(who).filter(applications::id.eq(id.to_string()));
            q.select(ApplicationRow::as_select()).first(conn).optional()?
        }
        // A static query (diesel prepares it once per connection; a boxed one is parsed and planned
        // on every read), and the caller's scope checked on the row it returns.
        _ => applications::table
            .find(id)
            .select(ApplicationRow::as_select())
            .first(conn)
            .optional()?
            .filter(|row| row.visible_to(who)),
    };
    row.map(ApplicationRow::into_domain).transpose()
}

/// [`find_visible`] and, when the caller may see the row, the read's entry in the access journal
/// (`reading`: who reads what kind of item, when). One statement on PostgreSQL for the scopes
/// checked on the row itself ([`Journaled`]); two elsewhere.
pub fn find_visible_journaled(
    conn: &mut DbConnection,
    id: &str,
    who: &Visibility,
    reading: &Reading,
) -> Result<Option<Application>, StoreError> {
    let seen = match who.check() {
        ScopeCheck::Owner(column, value) => Some(Seen::Where { column: column.name(), value }),
        ScopeCheck::Everything => Some(Seen::All),
        // Scopes that need another table or a list of services.
        ScopeCheck::ReviewBody(_) | ScopeCheck::Services(_) => None,
    };
    match seen {
        Some(seen) if matches!(conn, DbConnection::Postgresql(_)) => {
            let query = applications::table.find(id).select(ApplicationRow::as_select());
            let row: Option<ApplicationRow> =
                Journaled { query, reading, seen, limit: 1 }.get_result(conn).optional()?;
            row.filter(|r| r.visible_to(who)).map(ApplicationRow::into_domain).transpose()
        }
        _ => {
            let app = find_visible(conn, id, who)?;
            if let Some(a) = &app {
                access_log::record(conn, &entry_of(reading, a))?;
            }
            Ok(app)
        }
    }
}

/// The journal entry of `reading` one application: the application is the item and its applicant
/// the subject, as [`Journaled`] writes it from the row.
fn entry_of(reading: &Reading, app: &Application) -> access_log::NewAccess {
    reading.entry(&app.id, Some(&app.id), Some(&app.applicant_iin))
}

/// A column of `applications` that names whose an application is: the applicant, the provider it
/// is addressed to, the centre it was filed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OwnerColumn {
    ApplicantIin,
    ProviderId,
    IntakeOrgId,
}

impl OwnerColumn {
    /// Its name in SQL (the journal's `WHERE` in [`Journaled`]), as the schema names it.
    fn name(self) -> &'static str {
        use diesel::Column;
        match self {
            OwnerColumn::ApplicantIin => applications::applicant_iin::NAME,
            OwnerColumn::ProviderId => applications::provider_id::NAME,
            OwnerColumn::IntakeOrgId => applications::intake_org_id::NAME,
        }
    }

    /// Its value in a row read.
    fn of(self, row: &ApplicationRow) -> Option<&str> {
        match self {
            OwnerColumn::ApplicantIin => Some(&row.applicant_iin),
            OwnerColumn::ProviderId => Some(&row.provider_id),
            OwnerColumn::IntakeOrgId => row.intake_org_id.as_deref(),
        }
    }

    /// The rows whose column holds `value`.
    fn filter<'a>(
        self,
        q: applications::BoxedQuery<'a, crate::db::MultiBackend>,
        value: &str,
    ) -> applications::BoxedQuery<'a, crate::db::MultiBackend> {
        let value = value.to_string();
        match self {
            OwnerColumn::ApplicantIin => q.filter(applications::applicant_iin.eq(value)),
            OwnerColumn::ProviderId => q.filter(applications::provider_id.eq(value)),
            OwnerColumn::IntakeOrgId => q.filter(applications::intake_org_id.eq(value)),
        }
    }
}

/// How a scope is checked on an application: on one of its owner columns, not at all
/// (administrators), against the complaints forwarded to a review body, or against a list of
/// services.
#[derive(Debug, Clone, Copy)]
enum ScopeCheck<'a> {
    Owner(OwnerColumn, &'a str),
    Everything,
    ReviewBody(&'a str),
    Services(&'a [String]),
}

impl Visibility {
    /// The one place that says which column each scope is checked on, for [`scoped`] (the
    /// query), [`ApplicationRow::visible_to`] (a row read by id) and [`Journaled`] (its journal
    /// entry).
    fn check(&self) -> ScopeCheck<'_> {
        match self {
            Visibility::Applicant(iin) => ScopeCheck::Owner(OwnerColumn::ApplicantIin, iin),
            Visibility::Provider(org) => ScopeCheck::Owner(OwnerColumn::ProviderId, org),
            Visibility::IntakeCentre(org) => ScopeCheck::Owner(OwnerColumn::IntakeOrgId, org),
            Visibility::ReviewBody(org) => ScopeCheck::ReviewBody(org),
            Visibility::Services(keys) => ScopeCheck::Services(keys),
            Visibility::All => ScopeCheck::Everything,
        }
    }
}

impl ApplicationRow {
    /// [`scoped`] on one row, for every scope that needs no other table.
    fn visible_to(&self, who: &Visibility) -> bool {
        match who.check() {
            ScopeCheck::Owner(column, value) => column.of(self) == Some(value),
            ScopeCheck::Services(keys) => keys.contains(&self.service_key),
            ScopeCheck::ReviewBody(_) => false,
            ScopeCheck::Everything => true,
        }
    }
}

pub(crate) fn scoped<'a>(who: &Visibility) -> applications::BoxedQuery<'a, crate::db::MultiBackend> {
    let q = applications::table.into_boxed();
    match who.check() {
        ScopeCheck::Owner(column, value) => column.filter(q, value),
        ScopeCheck::ReviewBody(org) => q.filter(
            applications::id.eq_any(
                crate::schema::complaints::table
                    .filter(crate::schema::complaints::reviewer_org.eq(org.to_string()))
                    .select(crate::schema::complaints::application_id),
            ),
        ),
        ScopeCheck::Services(keys) => q.filter(applications::service_key.eq_any(keys.to_vec())),
        ScopeCheck::Everything => q,
    }
}

/// A page of applications visible to `who`, newest first, and whether more follow.
pub fn list(
    conn: &mut DbConnection,
    who: &Visibility,
    f: &ListFilter,
    reading: Option<&Reading>,
) -> Result<(Vec<Application>, bool), StoreError> {
    let limit = f.limit.clamp(1, 200);
    let unfiltered = f.service_key.is_none()
        && f.status.is_none()
        && f.channel.is_none()
        && f.provider_id.is_none()
        && f.assignee.is_none()
        && f.overdue_at.is_none();
    // With a reading, the page's entries in the access journal: on PostgreSQL in the page's own
    // statement ([`Journaled`]), elsewhere one statement after it.
    let pg = matches!(conn, DbConnection::Postgresql(_));
    macro_rules! load {
        ($query:expr) => {
            match reading {
                Some(reading) if pg => {
                    Journaled { query: $query, reading, seen: Seen::All, limit }.load::<ApplicationRow>(conn)?
                }
                _ => $query.load::<ApplicationRow>(conn)?,
            }
        };
    }
    // The provider's own pages, the list staff open most: static queries, prepared once per connection
    // (a boxed query is parsed and planned on every request).
    let rows = if let (Visibility::Provider(org), true) = (who, unfiltered) {
        let page = applications::table
            .filter(applications::provider_id.eq(org))
            .order(applications::id.desc())
            .limit(limit + 1)
            .select(ApplicationRow::as_select());
        match &f.before_id {
            None => load!(page),
            Some(c) => load!(page.filter(applications::id.lt(c))),
        }
    } else {
        let mut q = scoped(who);
        if let Some(v) = &f.service_key {
            q = q.filter(applications::service_key.eq(v.clone()));
        }
        if let Some(v) = f.status {
            q = q.filter(applications::status.eq(StatusCode(v)));
        }
        if let Some(v) = f.channel {
            q = q.filter(applications::channel.eq(ChannelCode(v)));
        }
        if let Some(v) = &f.provider_id {
            q = q.filter(applications::provider_id.eq(v.clone()));
        }
        if let Some(v) = &f.assignee {
            q = q.filter(applications::assignee.eq(v.clone()));
        }
        if let Some(at) = f.overdue_at {
            let at = at.naive_utc();
            q = q.filter(applications::due_at.lt(at).or(applications::stage_due_at.lt(at))).filter(open_filter());
        }
        if let Some(c) = &f.before_id {
            q = q.filter(applications::id.lt(c.clone()));
        }
        load!(q.order(applications::id.desc()).limit(limit + 1).select(ApplicationRow::as_select()))
    };
    let (apps, more) = page_of(rows, limit)?;
    if let (Some(reading), false) = (reading, pg) {
        let entries: Vec<_> = apps.iter().map(|a| entry_of(reading, a)).collect();
        access_log::record_all(conn, &entries)?;
    }
    Ok((apps, more))
}

/// A page of at most `limit` of `rows` (read with one more, to tell whether more follow).
fn page_of(mut rows: Vec<ApplicationRow>, limit: i64) -> Result<(Vec<Application>, bool), StoreError> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((load_all(rows)?, more))
}

/// The next position in an application's history.
fn next_seq(conn: &mut DbConnection, application_id: &str) -> Result<i64, StoreError> {
    let last: Option<i64> = application_history::table
        .filter(application_history::application_id.eq(application_id))
        .select(diesel::dsl::max(application_history::seq))
        .first(conn)?;
    Ok(last.unwrap_or(0) + 1)
}

/// Writes a history entry at position `seq` (unique per application: a race for one position fails).
fn insert_history(
    conn: &mut DbConnection,
    application_id: &str,
    seq: i64,
    r: &HistoryRecord,
) -> Result<(), StoreError> {
    diesel::insert_into(application_history::table).values(&history_row(application_id, seq, r)).execute(conn)?;
    Ok(())
}

fn history_row(application_id: &str, seq: i64, r: &HistoryRecord) -> HistoryRow {
    HistoryRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: application_id.to_string(),
        seq,
        at: r.at.naive_utc(),
        actor_sub: r.actor.sub.clone(),
        actor_role: ActorCode(r.actor.role),
        action: r.action.clone(),
        from_status: r.from_status.map(StatusCode),
        to_status: Some(StatusCode(r.to_status)),
        reason: r.reason.clone(),
        changes: r.changes.to_string(),
    }
}

pub fn history(conn: &mut DbConnection, application_id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    application_history::table
        .filter(application_history::application_id.eq(application_id))
        .order(application_history::seq.asc())
        .select(HistoryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(HistoryRow::into_entry)
        .collect()
}

/// The history of many applications at once (monitoring's time per stage), in order per application.
pub fn history_of(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut out = Vec::new();
    // Bounded IN lists: SQLite allows at most 32766 parameters per statement.
    for chunk in ids.chunks(500) {
        let rows: Vec<HistoryRow> = application_history::table
            .filter(application_history::application_id.eq_any(chunk))
            .order((application_history::application_id.asc(), application_history::seq.asc()))
            .select(HistoryRow::as_select())
            .load(conn)?;
        for r in rows {
            out.push(r.into_entry()?);
        }
    }
    Ok(out)
}

/// The events of an application that its stage terms are anchored on, read from its history.
pub fn timeline(history: &[HistoryEntry]) -> Timeline {
    let last = |action: &str| history.iter().rev().find(|h| h.record.action == action).map(|h| h.record.at);
    Timeline {
        accepted_at: last("accept"),
        hearing_recorded_at: history.iter().rev().find(|h| h.record.action == "record_hearing").map(|h| {
            h.record.changes["hearing"]["new"]["held_at"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map_or(h.record.at, |d| d.with_timezone(&Utc))
        }),
        stage_events: history
            .iter()
            .filter_map(|h| {
                let event = match h.record.action.as_str() {
                    "stage_started" => StageEvent::Started,
                    "stage_completed" => StageEvent::Completed,
                    _ => return None,
                };
                let term = h.record.changes.get("term")?.as_str()?.to_string();
                Some((term, event, h.record.at))
            })
            .collect(),
    }
}

/// Writes what goes with every change of an application, in the caller's transaction: the history
/// entry, the integrators' event and, when the status changed, the applicant's notification.
pub fn record(
    conn: &mut DbConnection,
    app: &Application,
    history: &HistoryRecord,
    event: &Event,
    notice: Option<&domain::application::notices::Notice>,
) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        lock_as_read(pg, app)?;
    }
    let seq = next_seq(conn, &app.id)?;
    if let DbConnection::Postgresql(pg) = conn {
        let (_, filed) = write_together(pg, Parts { app, history, event, notice }, seq, None, None)?;
        return filed.fan_out(conn);
    }
    insert_history(conn, &app.id, seq, history)?;
    record_rest(conn, app, history, event, notice)
}

/// Locks `app`'s row, unless it changed since it was read (then the change decided on it is refused
/// as a lost race). [`record`] takes the row before its history position, in the order a command's
/// update does: a complaint step or a queue move racing a command then waits for it and is told
/// 409, instead of each holding what the other needs (a deadlock, a 500). SQLite needs no lock:
/// its writes are serialised by the process.
fn lock_as_read(pg: &mut diesel::PgConnection, app: &Application) -> Result<(), StoreError> {
    applications::table
        .find(&app.id)
        .filter(applications::row_version.eq(app.version))
        .select(applications::id)
        .for_update()
        .first::<String>(pg)
        .optional()?
        .map(drop)
        .ok_or_else(|| changed_since(&app.id))
}

/// The event and the notice of a change whose history entry is written.
fn record_rest(
    conn: &mut DbConnection,
    app: &Application,
    history: &HistoryRecord,
    event: &Event,
    notice: Option<&domain::application::notices::Notice>,
) -> Result<(), StoreError> {
    events::append(conn, &event_row(app, history, event))?;
    if let Some(n) = notice {
        crate::notifications::insert(conn, &notice_row(app, history, n))?;
    }
    Ok(())
}

fn event_row(app: &Application, history: &HistoryRecord, event: &Event) -> events::NewEvent {
    events::NewEvent {
        occurred_at: history.at.naive_utc(),
        kind: event.kind.clone(),
        application_id: app.id.clone(),
        provider_id: app.provider_id.clone(),
        applicant_iin: app.applicant_iin.clone(),
        payload: event.payload.to_string(),
        service_key: Some(app.service_key.clone()),
    }
}

fn notice_row(app: &Application, history: &HistoryRecord, n: &domain::application::notices::Notice) -> NotificationRow {
    let [kk, ru, en] = n.texts.clone();
    NotificationRow {
        id: uuid::Uuid::now_v7().to_string(),
        recipient_iin: app.applicant_iin.clone(),
        application_id: app.id.clone(),
        kind: n.kind.clone(),
        text_kk: kk,
        text_ru: ru,
        text_en: en,
        created_at: history.at.naive_utc(),
        read_at: None,
    }
}

/// Stores a change the procedure decided: the application (optimistically, see [`update`]) with its
/// history entry, event and notice, in the caller's transaction.
pub fn save(conn: &mut DbConnection, change: &Change) -> Result<(), StoreError> {
    let app = &change.application;
    let seq = next_seq(conn, &app.id)?;
    if let DbConnection::Postgresql(pg) = conn {
        let row = ApplicationRow::of(app);
        let changed = optimistic_update(&row).returning(applications::id);
        // A change that won the race since `seq` was read took that position too: its history entry
        // is a unique violation here, the same lost race as an update that matched no row.
        let (guarded, filed) =
            write_together(pg, Parts::of(change), seq, None, Some(Box::new(changed))).map_err(|e| match e {
                StoreError::Conflict(_) => changed_since(&app.id),
                other => other,
            })?;
        if guarded != Some(1) {
            return Err(changed_since(&app.id));
        }
        if let Some(t) = &change.stage {
            crate::monitoring::record_stage(conn, app, t)?;
        }
        return filed.fan_out(conn);
    }
    update(conn, app)?;
    if let Some(t) = &change.stage {
        crate::monitoring::record_stage(conn, app, t)?;
    }
    insert_history(conn, &app.id, seq, &change.history)?;
    record_rest(conn, app, &change.history, &change.event, change.notice.as_ref())
}

/// Stores a new application with the history entry, event and notice of its filing.
pub fn save_new(conn: &mut DbConnection, change: &Change) -> Result<(), StoreError> {
    if let DbConnection::Postgresql(pg) = conn {
        let insert = diesel::insert_into(applications::table).values(ApplicationRow::of(&change.application));
        let (_, filed) = write_together(pg, Parts::of(change), 1, Some(Box::new(insert)), None)?;
        return filed.fan_out(conn);
    }
    insert(conn, &change.application)?;
    // The filing is the first entry of a new application's history: no need to look up the last one.
    insert_history(conn, &change.application.id, 1, &change.history)?;
    record_rest(conn, &change.application, &change.history, &change.event, change.notice.as_ref())
}

/// What goes with every change of an application, besides its own row.
struct Parts<'a> {
    app: &'a Application,
    history: &'a HistoryRecord,
    event: &'a Event,
    notice: Option<&'a domain::application::notices::Notice>,
}

impl<'a> Parts<'a> {
    fn of(change: &'a Change) -> Self {
        Parts {
            app: &change.application,
            history: &change.history,
            event: &change.event,
            notice: change.notice.as_ref(),
        }
    }
}

type PgWrite<'a> = Box<dyn diesel::query_builder::QueryFragment<diesel::pg::Pg> + 'a>;

/// An event written by [`write_together`], its id and the live subscriptions `(id, filter)`.
struct Filed {
    event_id: i64,
    event: events::NewEvent,
    live: Vec<(String, String)>,
}

/// [`save`], [`save_new`] and [`record`] on PostgreSQL: `first` (a new application's insert), the history entry
/// at `seq`, the notice and the event written by one statement ([`crate::together`]), which also
/// runs `guard` (the optimistic update, its rows counted for the caller) and reads the live
/// subscriptions for the fan-out.
fn write_together<'a>(
    pg: &mut diesel::PgConnection,
    Parts { app, history, event, notice }: Parts<'_>,
    seq: i64,
    first: Option<PgWrite<'a>>,
    guard: Option<PgWrite<'a>>,
) -> Result<(Option<i64>, Filed), StoreError> {
    use crate::schema::{events as events_table, notifications};
    let event = event_row(app, history, event);
    let mut writes: Vec<PgWrite<'a>> = first.into_iter().collect();
    writes.push(Box::new(diesel::insert_into(application_history::table).values(history_row(&app.id, seq, history))));
    if let Some(n) = notice {
        writes.push(Box::new(diesel::insert_into(notifications::table).values(notice_row(app, history, n))));
    }
    let rows = crate::together::WithEvent {
        guard,
        writes,
        event: Box::new(diesel::insert_into(events_table::table).values(event.clone()).returning(events_table::id)),
    }
    .run(pg)?;
    let first = rows.first().ok_or_else(|| StoreError::Corrupt("the change wrote no event".into()))?;
    let (event_id, guarded) = (first.event_id, first.guarded);
    let live = rows.into_iter().filter_map(|r| Some((r.subscription_id?, r.filter?))).collect();
    Ok((guarded, Filed { event_id, event, live }))
}

impl Filed {
    /// The deliveries of the event to the live subscriptions whose filter it matches.
    fn fan_out(self, conn: &mut DbConnection) -> Result<(), StoreError> {
        crate::outbox::fan_out_to(conn, self.event_id, &self.event, self.live).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_predicate_names_exactly_the_final_statuses_as_the_indexes_do() {
        let finals: Vec<String> = final_statuses().iter().map(|s| format!("'{}'", s.0.code())).collect();
        let mut sorted = finals.clone();
        sorted.sort();
        assert_eq!(OPEN, format!("status NOT IN ({})", sorted.join(", ")));
        for backend in ["postgres", "sqlite"] {
            let path = format!(
                "{}/../migrations/{backend}/2026-12-02-600002_open_deadlines/up.sql",
                env!("CARGO_MANIFEST_DIR")
            );
            let sql = std::fs::read_to_string(&path).unwrap();
            assert_eq!(sql.matches(&format!("WHERE {OPEN}")).count(), 4, "{path}");
        }
    }
}
