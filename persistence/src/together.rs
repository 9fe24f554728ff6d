//! Writes that commit together, sent to PostgreSQL as one statement (issue 11).
//!
//! A filing writes four rows (the application, its first history entry, its event, the applicant's
//! notice) and reads the subscriptions the event fans out to; every later change of an application
//! updates its row instead of inserting it. Statement by statement that is five
//! round trips inside the transaction, and on this workload each costs PostgreSQL about as much as
//! the row it writes (`bench/pgbench/filing.sql` against `filing_one_statement.sql`). Here the
//! very same diesel `INSERT`s, built and type-checked as the SQLite path builds them, are wrapped
//! in data-modifying CTEs (`WITH w0 AS (INSERT ...), ... SELECT ...`): one parse, one round trip.
//! Every part runs exactly once, whether or not anything reads its result, and the foreign keys
//! between the parts are checked at the end of the statement, so the history entry may name the
//! application inserted beside it. SQLite has no data-modifying CTEs and no round trips to save
//! (it is in process): it keeps the statements one by one.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable, Text, Untyped};
use diesel::{PgConnection, QueryResult, QueryableByName, RunQueryDsl};

/// `guard`, `writes`, then `event` (an `INSERT INTO events ... RETURNING id`), as one statement that
/// answers one row per live subscription (or one row without a subscription when there is none): the
/// event's id, how many rows `guard` returned, and each subscription's id and filter for the fan-out.
pub struct WithEvent<'a> {
    /// A write whose rows are counted (`... RETURNING` something): an optimistic update, which the
    /// caller rejects unless it changed exactly one row. Its rejection rolls the whole transaction
    /// back, so the other parts, which run whatever it matched, never commit without it.
    pub guard: Option<Box<dyn QueryFragment<Pg> + 'a>>,
    pub writes: Vec<Box<dyn QueryFragment<Pg> + 'a>>,
    pub event: Box<dyn QueryFragment<Pg> + 'a>,
}

/// A row of [`WithEvent`]'s answer.
#[derive(Debug, QueryableByName)]
pub struct EventAndSubscription {
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
    /// The rows `guard` returned; NULL without a guard.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub guarded: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub subscription_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub filter: Option<String>,
}

impl QueryFragment<Pg> for WithEvent<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH ");
        if let Some(guard) = &self.guard {
            out.push_sql("guard AS (");
            guard.walk_ast(out.reborrow())?;
            out.push_sql("), ");
        }
        for (i, write) in self.writes.iter().enumerate() {
            out.push_sql(&format!("w{i} AS ("));
            write.walk_ast(out.reborrow())?;
            out.push_sql("), ");
        }
        out.push_sql("event AS (");
        self.event.walk_ast(out.reborrow())?;
        // LEFT JOIN: the event's id comes back even when nobody subscribes.
        out.push_sql(") SELECT event.id AS event_id, ");
        out.push_sql(if self.guard.is_some() { "(SELECT count(*) FROM guard)" } else { "NULL::bigint" });
        out.push_sql(
            " AS guarded, s.id AS subscription_id, s.filter AS filter \
             FROM event LEFT JOIN subscriptions s ON s.deleted_at IS NULL ORDER BY s.id",
        );
        Ok(())
    }
}

impl QueryId for WithEvent<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for WithEvent<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for WithEvent<'_> {}

impl WithEvent<'_> {
    pub fn run(self, conn: &mut PgConnection) -> QueryResult<Vec<EventAndSubscription>> {
        self.load(conn)
    }
}
