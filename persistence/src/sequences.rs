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
