//! Idempotency-Key records: an integrator that retries a submission gets the first result, never a
//! second application.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::idempotency_keys;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRecord {
    pub principal: String,
    pub idem_key: String,
    pub request_hash: String,
    pub resource_type: String,
    pub resource_id: String,
    pub created_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConnection, principal: &str, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
    Ok(idempotency_keys::table
        .filter(idempotency_keys::principal.eq(principal))
        .filter(idempotency_keys::idem_key.eq(key))
        .select(IdempotencyRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Records a key. A concurrent request that recorded the same key first makes this fail with
/// [`StoreError::Conflict`]; the caller's transaction then rolls back and the caller replays.
pub fn insert(conn: &mut DbConnection, record: &IdempotencyRecord) -> Result<(), StoreError> {
    diesel::insert_into(idempotency_keys::table).values(record).execute(conn)?;
    Ok(())
}
