//! Passport versions published by administrators: append-only, replayed over the shipped catalog at
//! start so that a published version survives restarts and is never rewritten.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::published_passports;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = published_passports)]
pub struct PublishedPassport {
    pub service_key: String,
    pub version: String,
    /// The passport version as JSON (the shape of `domain::passport::Passport`).
    pub document: String,
    /// JSON `{kk, ru, en}`: the service's title, when the publication creates a new service.
    pub service_title: Option<String>,
    pub published_at: NaiveDateTime,
    pub published_by: String,
}

/// Records a publication; a second publication of the same key and version is a
/// [`StoreError::Conflict`] whatever the process, because the pair is the primary key.
pub fn insert(conn: &mut DbConnection, p: &PublishedPassport) -> Result<(), StoreError> {
    diesel::insert_into(published_passports::table).values(p).execute(conn)?;
    Ok(())
}

/// Every publication, in the order it was made.
pub fn all(conn: &mut DbConnection) -> Result<Vec<PublishedPassport>, StoreError> {
    Ok(published_passports::table
        .order((published_passports::published_at.asc(), published_passports::service_key.asc()))
        .select(PublishedPassport::as_select())
        .load(conn)?)
}

/// The catalog with every published passport version replayed over `base`, in the order published.
pub fn replay(
    conn: &mut DbConnection,
    mut catalog: domain::catalog::Catalog,
) -> Result<domain::catalog::Catalog, StoreError> {
    for row in all(conn)? {
        let what = format!("{}/{}", row.service_key, row.version);
        let passport: domain::passport::Passport =
            serde_json::from_str(&row.document).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
        let title = row.service_title.as_deref().and_then(|t| serde_json::from_str::<domain::text::Text>(t).ok());
        catalog = catalog.with_version(title, passport).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
    }
    Ok(catalog)
}
