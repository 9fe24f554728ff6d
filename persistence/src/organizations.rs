//! Providers, State Corporation centres and the review body.

use diesel::prelude::*;

use crate::schema::organizations;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = organizations)]
pub struct OrganizationRow {
    pub id: String,
    pub kind: String,
    pub region: Option<String>,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: String,
}

pub fn find(conn: &mut DbConnection, org_id: &str) -> Result<Option<OrganizationRow>, StoreError> {
    Ok(organizations::table
        .filter(organizations::id.eq(org_id))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection) -> Result<Vec<OrganizationRow>, StoreError> {
    Ok(organizations::table.order(organizations::id).select(OrganizationRow::as_select()).load(conn)?)
}

/// Adds an organisation (operations and tests; the shipped ones come with the migrations).
pub fn insert(conn: &mut DbConnection, row: &OrganizationRow) -> Result<(), StoreError> {
    diesel::insert_into(organizations::table).values(row).execute(conn)?;
    Ok(())
}
