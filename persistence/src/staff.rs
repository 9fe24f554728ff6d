//! The staff directory: who works for which organisation, in which role, and whether they still do.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::staff_members;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = staff_members)]
pub struct StaffRow {
    pub org_id: String,
    pub sub: String,
    /// `operator`, `employee`, `head` or `reviewer`.
    pub role: String,
    pub full_name: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub updated_by: String,
}

pub fn find(conn: &mut DbConnection, org_id: &str, sub: &str) -> Result<Option<StaffRow>, StoreError> {
    Ok(staff_members::table
        .filter(staff_members::org_id.eq(org_id))
        .filter(staff_members::sub.eq(sub))
        .select(StaffRow::as_select())
        .first(conn)
        .optional()?)
}

/// The organisation's staff, active first, by `sub`.
pub fn list(conn: &mut DbConnection, org_id: &str, include_inactive: bool) -> Result<Vec<StaffRow>, StoreError> {
    let mut q = staff_members::table.filter(staff_members::org_id.eq(org_id.to_string())).into_boxed();
    if !include_inactive {
        q = q.filter(staff_members::active.eq(true));
    }
    Ok(q.order((staff_members::active.desc(), staff_members::sub.asc())).select(StaffRow::as_select()).load(conn)?)
}

/// Creates the entry, or replaces its role, name and state (keeping when it was created).
pub fn upsert(conn: &mut DbConnection, row: &StaffRow) -> Result<StaffRow, StoreError> {
    match find(conn, &row.org_id, &row.sub)? {
        Some(existing) => {
            let next = StaffRow { created_at: existing.created_at, ..row.clone() };
            diesel::update(staff_members::table.find((&row.org_id, &row.sub))).set(&next).execute(conn)?;
            Ok(next)
        }
        None => {
            diesel::insert_into(staff_members::table).values(row).execute(conn)?;
            Ok(row.clone())
        }
    }
}

/// Whether `sub` is an active employee (role `employee`) of `org_id`: the only people an application
/// of that provider may be assigned to.
pub fn is_active_employee(conn: &mut DbConnection, org_id: &str, sub: &str) -> Result<bool, StoreError> {
    Ok(find(conn, org_id, sub)?.is_some_and(|r| r.active && r.role == "employee"))
}

/// Whether `sub` is an active member of `org_id` in any of `roles`.
pub fn is_active_member(
    conn: &mut DbConnection,
    org_id: &str,
    sub: &str,
    roles: &[domain::application::Actor],
) -> Result<bool, StoreError> {
    Ok(find(conn, org_id, sub)?
        .is_some_and(|r| r.active && domain::application::Actor::parse(&r.role).is_some_and(|a| roles.contains(&a))))
}
