//! Notifications to applicants: one per status change, in Kazakh, Russian and English.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::notifications;
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub recipient_iin: String,
    pub application_id: String,
    pub kind: String,
    pub text_kk: String,
    pub text_ru: String,
    pub text_en: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, n: &NotificationRow) -> Result<(), StoreError> {
    diesel::insert_into(notifications::table).values(n).execute(conn)?;
    Ok(())
}

/// A recipient's notifications, newest first, before the keyset cursor `before_id`.
pub fn for_recipient(
    conn: &mut DbConnection,
    iin: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    let mut q = notifications::table.filter(notifications::recipient_iin.eq(iin.to_string())).into_boxed();
    if let Some(c) = before_id {
        q = q.filter(notifications::id.lt(c.to_string()));
    }
    Ok(q.order(notifications::id.desc()).limit(limit).select(NotificationRow::as_select()).load(conn)?)
}

/// Marks a recipient's notification read; false when it is not theirs.
pub fn mark_read(conn: &mut DbConnection, iin: &str, id: &str, at: NaiveDateTime) -> Result<bool, StoreError> {
    let n = diesel::update(
        notifications::table.filter(notifications::id.eq(id)).filter(notifications::recipient_iin.eq(iin)),
    )
    .set(notifications::read_at.eq(Some(at)))
    .execute(conn)?;
    Ok(n == 1)
}
