//! The law's data as the database holds it: the shipped catalog and calendar with every
//! administrator's change replayed over them, and the generation that tells every instance when to
//! reload. Every instance serves what the database says, so a change made through one takes effect on
//! all (issue 11); changes serialise on the generation row, not on a process mutex.

use diesel::prelude::*;
use domain::calendar::BusinessCalendar;
use domain::catalog::Catalog;

use crate::schema::law_generation;
use crate::{DbConnection, StoreError};

/// The law's data in force, and the generation it was read at.
#[derive(Debug, Clone)]
pub struct Law {
    pub generation: i64,
    pub catalog: Catalog,
    pub calendar: BusinessCalendar,
}

/// The generation of the law's data: one indexed single-row read, cheap enough to poll.
pub fn generation(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(law_generation::table.filter(law_generation::id.eq(1)).select(law_generation::generation).first(conn)?)
}

/// The PostgreSQL advisory lock between writes that depend on the law's data (shared) and
/// administrators' changes of it (exclusive). An arbitrary constant: "kz-law" in ASCII.
pub const LAW_LOCK_KEY: i64 = 0x6b7a_2d6c_6177;

/// Pins the law's data for a write that depends on it (a filing's due date, a term's cut-off), inside
/// its transaction, and returns the generation in force. On PostgreSQL a shared advisory lock, held
/// until commit: a change of the law waits for every such write in flight, and the writes that start
/// during the change wait for it, then see its generation. So no write commits a due date computed
/// on a calendar that a committed change had replaced, and a change's recomputation of open
/// applications sees every filing committed before it. Shared locks do not wait for each other and
/// write nothing: filings stay concurrent. Call it first in the transaction, before any row lock, so
/// the lock order is always the same (no deadlock with a change). SQLite runs one write transaction
/// at a time, so the generation read inside it is enough.
pub fn pin(conn: &mut DbConnection) -> Result<i64, StoreError> {
    if matches!(conn, DbConnection::Postgresql(_)) {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!("SELECT pg_advisory_xact_lock_shared({LAW_LOCK_KEY})"))?;
    }
    generation(conn)
}

/// Starts an administrator's change of the law's data, inside its transaction: bumps the generation
/// and returns it. The exclusive advisory lock waits for the writes that pinned the old generation
/// ([`pin`]); the update locks the row until commit, so two changes, through any instances, run one
/// after the other and each builds on the other's result.
pub fn begin_change(conn: &mut DbConnection) -> Result<i64, StoreError> {
    if matches!(conn, DbConnection::Postgresql(_)) {
        use diesel::connection::SimpleConnection;
        conn.batch_execute(&format!("SELECT pg_advisory_xact_lock({LAW_LOCK_KEY})"))?;
    }
    diesel::update(law_generation::table.filter(law_generation::id.eq(1)))
        .set(law_generation::generation.eq(law_generation::generation + 1))
        .execute(conn)?;
    generation(conn)
}

/// The law as the database holds it now: `shipped` with every published passport version and every
/// recorded calendar year replayed over it.
pub fn load(
    conn: &mut DbConnection,
    shipped_catalog: &Catalog,
    shipped_calendar: &BusinessCalendar,
) -> Result<Law, StoreError> {
    let generation = generation(conn)?;
    let catalog = crate::passports::replay(conn, shipped_catalog.clone())?;
    let calendar = crate::calendar::replay(conn, shipped_calendar.clone())?;
    Ok(Law { generation, catalog, calendar })
}
