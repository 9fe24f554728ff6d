//! The access journal: who read whose personal data, append-only (the database refuses UPDATE and
//! DELETE on `access_log`), read newest first with keyset pagination on the row id.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Timestamp};

use crate::db::MultiBackend;
use crate::schema::access_log;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Insertable)]
#[diesel(table_name = access_log)]
// `None` is NULL, never SQL `DEFAULT` (SQLite has no DEFAULT in a multi-row VALUES list).
#[diesel(treat_none_as_default_value = false)]
pub struct NewAccess {
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    /// What was read: `application`, `application_history`, `document`, `document_list`,
    /// `registry_record`, `intake_check`, ...
    pub kind: String,
    pub resource_id: String,
    pub application_id: Option<String>,
    pub subject_iin: Option<String>,
    pub request_id: Option<String>,
}

/// Who reads, when and what kind of item: an entry of the journal before the row read names the
/// item (its id and its subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    pub kind: String,
    pub request_id: Option<String>,
}

impl Reading {
    /// This reading's entry for one item.
    pub fn entry(&self, resource_id: &str, application_id: Option<&str>, subject_iin: Option<&str>) -> NewAccess {
        NewAccess {
            at: self.at,
            actor_sub: self.actor_sub.clone(),
            actor_role: self.actor_role.clone(),
            actor_org: self.actor_org.clone(),
            kind: self.kind.clone(),
            resource_id: resource_id.chars().take(64).collect(),
            application_id: application_id.map(str::to_string),
            subject_iin: subject_iin.map(str::to_string),
            request_id: self.request_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = access_log)]
pub struct AccessRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_org: Option<String>,
    pub kind: String,
    pub resource_id: String,
    pub application_id: Option<String>,
    pub subject_iin: Option<String>,
    pub request_id: Option<String>,
}

/// Appends one entry.
pub fn record(conn: &mut DbConnection, entry: &NewAccess) -> Result<(), StoreError> {
    diesel::insert_into(access_log::table).values(entry).execute(conn)?;
    Ok(())
}

/// Appends a page's entries in one statement (one commit for a list of 20, not 20).
pub fn record_all(conn: &mut DbConnection, entries: &[NewAccess]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Postgresql(c) => Unnested::of(entries).execute(c)?,
        // A multi-row insert is not generic over `MultiConnection`; SQLite is in process, with no
        // statement to parse per page worth saving.
        DbConnection::Sqlite(c) => diesel::insert_into(access_log::table).values(entries).execute(c)?,
    };
    Ok(())
}

/// A page's entries as one PostgreSQL statement whose text does not depend on how many there are:
/// `INSERT ... SELECT * FROM unnest($1, ..., $9)`, one array per column. diesel never caches a
/// multi-row `VALUES` insert (its text changes with the row count), so a list of 20 sent 180
/// parameters that PostgreSQL parsed and planned on every request; this text is prepared once per
/// connection (profile of `GET /applications?limit=20` in bench/RESULTS.md).
struct Unnested<'a> {
    at: Vec<NaiveDateTime>,
    actor_sub: Vec<&'a str>,
    actor_role: Vec<&'a str>,
    actor_org: Vec<Option<&'a str>>,
    kind: Vec<&'a str>,
    resource_id: Vec<&'a str>,
    application_id: Vec<Option<&'a str>>,
    subject_iin: Vec<Option<&'a str>>,
    request_id: Vec<Option<&'a str>>,
}

impl<'a> Unnested<'a> {
    fn of(entries: &'a [NewAccess]) -> Self {
        Unnested {
            at: entries.iter().map(|e| e.at).collect(),
            actor_sub: entries.iter().map(|e| e.actor_sub.as_str()).collect(),
            actor_role: entries.iter().map(|e| e.actor_role.as_str()).collect(),
            actor_org: entries.iter().map(|e| e.actor_org.as_deref()).collect(),
            kind: entries.iter().map(|e| e.kind.as_str()).collect(),
            resource_id: entries.iter().map(|e| e.resource_id.as_str()).collect(),
            application_id: entries.iter().map(|e| e.application_id.as_deref()).collect(),
            subject_iin: entries.iter().map(|e| e.subject_iin.as_deref()).collect(),
            request_id: entries.iter().map(|e| e.request_id.as_deref()).collect(),
        }
    }
}

impl QueryFragment<Pg> for Unnested<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, \
             application_id, subject_iin, request_id) SELECT * FROM unnest(",
        );
        out.push_bind_param::<Array<Timestamp>, _>(&self.at)?;
        for column in [&self.actor_sub, &self.actor_role] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(column)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.actor_org)?;
        for column in [&self.kind, &self.resource_id] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Text>, _>(column)?;
        }
        for column in [&self.application_id, &self.subject_iin, &self.request_id] {
            out.push_sql(", ");
            out.push_bind_param::<Array<Nullable<Text>>, _>(column)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

// No static id and no `unsafe_to_cache_prepared`: diesel caches the statement by its text.
impl QueryId for Unnested<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<PgConnection> for Unnested<'_> {}

/// Which of the rows read are the caller's to see, and so journaled: all of them (the query has
/// filtered already), or those whose `column` holds `value` (a read by primary key whose scope is
/// checked on the row).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Seen<'a> {
    All,
    Where { column: &'static str, value: &'a str },
}

/// A read of applications and its journal entries as one PostgreSQL statement: `WITH rows_read
/// AS (<query>), entries AS (INSERT INTO access_log ... SELECT ... FROM rows_read) SELECT * FROM
/// rows_read`.
/// One round trip and one commit instead of two: on the bench's 1M database the read by id's work
/// went from 8,800-9,000 to 10,700-12,100 statements a second and a list page's from 3,160-3,270
/// to 3,760-4,890 (pgbench, 8 clients, bench/RESULTS.md). The journal takes the first `limit` rows
/// of `query` in its order, newest first (a list reads one more than its page, to tell whether
/// more follow). PostgreSQL only: SQLite has no writes in `WITH`.
pub(crate) struct Journaled<'a, Q> {
    pub query: Q,
    pub reading: &'a Reading,
    pub seen: Seen<'a>,
    pub limit: i64,
}

impl<Q: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for Journaled<'_, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("WITH rows_read AS (");
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(
            "), entries AS (INSERT INTO access_log (at, actor_sub, actor_role, actor_org, kind, resource_id, \
             application_id, subject_iin, request_id) SELECT ",
        );
        let r = self.reading;
        out.push_bind_param::<Timestamp, _>(&r.at)?;
        for value in [&r.actor_sub, &r.actor_role] {
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(value)?;
        }
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&r.actor_org)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&r.kind)?;
        out.push_sql(", rows_read.id, rows_read.id, rows_read.applicant_iin, ");
        out.push_bind_param::<Nullable<Text>, _>(&r.request_id)?;
        out.push_sql(" FROM rows_read");
        if let Seen::Where { column, value } = &self.seen {
            out.push_sql(" WHERE rows_read.");
            out.push_identifier(column)?;
            out.push_sql(" = ");
            out.push_bind_param::<Text, _>(*value)?;
        }
        out.push_sql(" ORDER BY rows_read.id DESC LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        out.push_sql(") SELECT * FROM rows_read ORDER BY id DESC");
        Ok(())
    }
}

// As `Unnested`: cached by its text, one text per shape of `query` and `seen`.
impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Journaled<'_, Q> {
    type SqlType = Q::SqlType;
}

impl<Q> QueryId for Journaled<'_, Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> RunQueryDsl<DbConnection> for Journaled<'_, Q> {}

/// What an administrator may filter the journal by; every filter is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFilter {
    pub subject_iin: Option<String>,
    pub actor_sub: Option<String>,
    pub actor_org: Option<String>,
    pub application_id: Option<String>,
    pub kind: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Leave out what the subject read about themselves (the applicant's own view).
    pub exclude_actor: Option<String>,
}

/// Entries matching `filter`, newest first, with ids below `before` (the keyset cursor), at most
/// `limit`.
pub fn query(
    conn: &mut DbConnection,
    filter: &AccessFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AccessRow>, StoreError> {
    let mut q = access_log::table.into_boxed();
    if let Some(v) = &filter.subject_iin {
        q = q.filter(access_log::subject_iin.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_sub {
        q = q.filter(access_log::actor_sub.eq(v.clone()));
    }
    if let Some(v) = &filter.actor_org {
        q = q.filter(access_log::actor_org.eq(v.clone()));
    }
    if let Some(v) = &filter.application_id {
        q = q.filter(access_log::application_id.eq(v.clone()));
    }
    if let Some(v) = &filter.kind {
        q = q.filter(access_log::kind.eq(v.clone()));
    }
    if let Some(v) = filter.from {
        q = q.filter(access_log::at.ge(v));
    }
    if let Some(v) = filter.to {
        q = q.filter(access_log::at.lt(v));
    }
    if let Some(v) = &filter.exclude_actor {
        q = q.filter(access_log::actor_sub.ne(v.clone()));
    }
    if let Some(before) = before {
        q = q.filter(access_log::id.lt(before));
    }
    Ok(q.order(access_log::id.desc()).limit(limit).select(AccessRow::as_select()).load(conn)?)
}
