//! The embedded state registries: the records a gateway would return, kept in `registry_records`
//! (seeded with demo records, edited by administrators), and the adapter that serves them through the
//! domain's [`RegistryPort`].

use std::cell::RefCell;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::passport::Registry;
use domain::registry::{RegistryError, RegistryPort, RegistryRecord};

use crate::schema::{documents, registry_records};
use crate::{DbConnection, StoreError};

/// One stored registry record.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset, Identifiable)]
#[diesel(table_name = registry_records)]
#[diesel(treat_none_as_null = true)]
pub struct RegistryRecordRow {
    pub id: String,
    /// [`Registry::code`].
    pub registry: String,
    pub subject_iin: String,
    pub kind: String,
    /// JSON object: the record's content.
    pub data: String,
    pub valid_until: Option<NaiveDate>,
    pub updated_at: NaiveDateTime,
    /// The administrator who last changed it (`seed` for the shipped demo records).
    pub updated_by: String,
}

impl RegistryRecordRow {
    /// The record as the domain sees it; `None` for a row naming a registry this build does not know.
    pub fn to_record(&self) -> Option<RegistryRecord> {
        Some(RegistryRecord {
            registry: Registry::parse(&self.registry)?,
            subject_iin: self.subject_iin.clone(),
            kind: self.kind.clone(),
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
            valid_until: self.valid_until,
        })
    }
}

/// Every record `registry` holds about `subject_iin`, oldest first.
pub fn lookup(
    conn: &mut DbConnection,
    registry: Registry,
    subject_iin: &str,
) -> Result<Vec<RegistryRecordRow>, StoreError> {
    Ok(registry_records::table
        .filter(registry_records::registry.eq(registry.code()))
        .filter(registry_records::subject_iin.eq(subject_iin))
        .order(registry_records::id.asc())
        .select(RegistryRecordRow::as_select())
        .load(conn)?)
}

/// One record of `registry` by id.
pub fn find(conn: &mut DbConnection, registry: Registry, id: &str) -> Result<Option<RegistryRecordRow>, StoreError> {
    Ok(registry_records::table
        .filter(registry_records::registry.eq(registry.code()))
        .filter(registry_records::id.eq(id))
        .select(RegistryRecordRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn insert(conn: &mut DbConnection, row: &RegistryRecordRow) -> Result<(), StoreError> {
    diesel::insert_into(registry_records::table).values(row).execute(conn)?;
    Ok(())
}

/// Replaces the record `row.id` of `row.registry`; [`StoreError::NotFound`] when there is none.
pub fn update(conn: &mut DbConnection, row: &RegistryRecordRow) -> Result<(), StoreError> {
    let n = diesel::update(
        registry_records::table
            .filter(registry_records::id.eq(&row.id))
            .filter(registry_records::registry.eq(&row.registry)),
    )
    .set(row)
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Deletes the record `id` of `registry`; [`StoreError::NotFound`] when there is none.
pub fn delete(conn: &mut DbConnection, registry: Registry, id: &str) -> Result<(), StoreError> {
    let n = diesel::delete(
        registry_records::table
            .filter(registry_records::id.eq(id))
            .filter(registry_records::registry.eq(registry.code())),
    )
    .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// The requirement codes of the documents attached to an application (uploaded attachments that name
/// the passport's document they answer), deduplicated, in code order.
pub fn provided_requirement_codes(conn: &mut DbConnection, application_id: &str) -> Result<Vec<String>, StoreError> {
    let codes: Vec<Option<String>> = documents::table
        .filter(documents::application_id.eq(application_id))
        .filter(documents::kind.eq(crate::documents::KIND_ATTACHMENT))
        .filter(documents::requirement_code.is_not_null())
        .select(documents::requirement_code)
        .load(conn)?;
    let mut codes: Vec<String> = codes.into_iter().flatten().collect();
    codes.sort();
    codes.dedup();
    Ok(codes)
}

/// The embedded adapter: every registry answered from `registry_records` on one connection.
pub struct EmbeddedRegistries<'c> {
    conn: RefCell<&'c mut DbConnection>,
}

impl<'c> EmbeddedRegistries<'c> {
    pub fn new(conn: &'c mut DbConnection) -> Self {
        EmbeddedRegistries { conn: RefCell::new(conn) }
    }
}

impl RegistryPort for EmbeddedRegistries<'_> {
    fn lookup(&self, registry: Registry, subject_iin: &str) -> Result<Vec<RegistryRecord>, RegistryError> {
        let mut conn = self.conn.borrow_mut();
        let rows = lookup(&mut conn, registry, subject_iin)
            .map_err(|e| RegistryError::Unavailable(registry, e.to_string()))?;
        Ok(rows.iter().filter_map(RegistryRecordRow::to_record).collect())
    }
}
