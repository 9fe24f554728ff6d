//! Named counters (registration numbers per year), portable across both backends.

use diesel::prelude::*;

use crate::schema::counters::dsl::*;
use crate::{savepoint, DbConnection, StoreError};

/// The next value of the counter `counter` (1 for a new counter). Call inside a write transaction: the
/// row stays locked until commit, so two transactions never draw the same number.
pub fn next(conn: &mut DbConnection, counter: &str) -> Result<i64, StoreError> {
    for _ in 0..2 {
        let updated = diesel::update(counters.filter(name.eq(counter))).set(value.eq(value + 1)).execute(conn)?;
        if updated == 1 {
            return Ok(counters.filter(name.eq(counter)).select(value).first(conn)?);
        }
        let inserted = savepoint(conn, |c| {
            diesel::insert_into(counters)
                .values((name.eq(counter), value.eq(1i64)))
                .execute(c)
                .map_err(StoreError::from)
        });
        match inserted {
            Ok(_) => return Ok(1),
            // Another transaction created the counter first: take the update path again.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict(format!("counter {counter} is contended")))
}

#[derive(diesel::QueryableByName)]
struct NextVal {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
    n: Option<i64>,
}

/// The next registration number's sequence within `year`, unique across every instance.
///
/// PostgreSQL: a sequence per year (`registration_2026`), created on first use and starting after
/// whatever the counters table already gave out, so that concurrent filings never queue on one row;
/// a number drawn by a transaction that rolls back is skipped, never reused. SQLite, which has one
/// writer at a time anyway, keeps the counters row.
pub fn next_registration(conn: &mut DbConnection, year: i32) -> Result<i64, StoreError> {
    let counter = format!("registration:{year}");
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return next(conn, &counter);
    }
    let seq = format!("registration_{year}");
    // `to_regclass` is NULL for a sequence that does not exist, and `nextval(NULL)` is NULL: a missing
    // sequence is an answer, not an error that would abort the transaction (no savepoint needed).
    let draw = |c: &mut DbConnection| -> Result<Option<i64>, StoreError> {
        Ok(diesel::sql_query(format!("SELECT nextval(to_regclass('{seq}')) AS n")).get_result::<NextVal>(c)?.n)
    };
    if let Some(n) = draw(conn)? {
        return Ok(n);
    }
    // The first filing of a year no start-up prepared ([`prepare_registration_years`]).
    create_registration_sequence(conn, year)?;
    draw(conn)?.ok_or_else(|| StoreError::Conflict(format!("the sequence {seq} is being created; retry")))
}

/// Creates the registration sequence of `year` when it does not exist, starting after the numbers the
/// counters table already gave out (PostgreSQL; nothing to do on SQLite). Another transaction may be
/// creating it at the same moment: then ours cannot see it until that one commits, and it is left to
/// that one.
fn create_registration_sequence(conn: &mut DbConnection, year: i32) -> Result<(), StoreError> {
    let (counter, seq) = (format!("registration:{year}"), format!("registration_{year}"));
    let given: Option<i64> = counters.filter(name.eq(&counter)).select(value).first(conn).optional()?;
    let start = given.unwrap_or(0) + 1;
    let created = savepoint(conn, |c| {
        diesel::sql_query(format!("CREATE SEQUENCE IF NOT EXISTS {seq} START WITH {start}"))
            .execute(c)
            .map_err(StoreError::from)
    });
    if let Err(e) = created {
        // Created by another transaction at the same moment (a unique violation or "already exists"
        // in the catalog), or by a start-up with more rights: then it is there to draw from. Anything
        // else (no right to create a missing one) is no reason to retry: an error the operator sees.
        if !sequence_exists(conn, &seq)? && !matches!(e, StoreError::Conflict(_)) {
            return Err(e);
        }
        tracing::debug!(error = %e, sequence = %seq, "sequence not created here");
    }
    // An existing sequence never hands out a number the counters row says was given (numbers loaded or
    // imported with their counter while it existed): its next value is raised past the counter.
    if let Some(g) = given.filter(|g| *g > 0) {
        let raised = savepoint(conn, |c| {
            diesel::sql_query(format!(
                "SELECT setval('{seq}', {g}) FROM {seq} \
                 WHERE (CASE WHEN is_called THEN last_value + 1 ELSE last_value END) <= {g}"
            ))
            .execute(c)
            .map_err(StoreError::from)
        });
        if let Err(e) = raised {
            tracing::warn!(error = %e, sequence = %seq, "cannot raise the sequence past its counter");
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    exists: bool,
}

fn sequence_exists(conn: &mut DbConnection, seq: &str) -> Result<bool, StoreError> {
    let found: Exists =
        diesel::sql_query(format!("SELECT to_regclass('{seq}') IS NOT NULL AS exists")).get_result(conn)?;
    Ok(found.exists)
}

/// Creates, at start-up, the registration sequences of `years` (this year and the next), so that the
/// first filing of a year neither needs the right to create a sequence nor races another instance's
/// first filing. Call inside a write transaction; a no-op on SQLite.
pub fn prepare_registration_years(conn: &mut DbConnection, years: &[i32]) -> Result<(), StoreError> {
    if !matches!(conn, DbConnection::Postgresql(_)) {
        return Ok(());
    }
    for &year in years {
        create_registration_sequence(conn, year)?;
    }
    Ok(())
}
