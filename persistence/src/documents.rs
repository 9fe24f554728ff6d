//! Documents of an application (uploaded attachments and signed result documents), with their
//! content, and the development signing key.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{document_signing_keys, documents};
use crate::{DbConnection, StoreError};

/// `documents.kind` of an uploaded file.
pub const KIND_ATTACHMENT: &str = "attachment";
/// `documents.kind` of a result document rendered and signed by the server.
pub const KIND_RESULT: &str = "result";

/// A document with its content.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = documents)]
pub struct DocumentRow {
    pub id: String,
    pub application_id: String,
    /// [`KIND_ATTACHMENT`] or [`KIND_RESULT`].
    pub kind: String,
    /// Attachments: the passport's document code the file answers.
    pub requirement_code: Option<String>,
    /// Results: `approval_result`, `motivated_refusal`, `intake_refusal_receipt`, `preliminary_refusal_notice`,
    /// `queue_registration_slip`, `preschool_referral`.
    pub result_kind: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    /// Lowercase hex SHA-256 of `content`.
    pub sha256: String,
    pub content: Vec<u8>,
    /// Results: the compact JWS whose payload is `content`.
    pub signature: Option<String>,
    pub created_by: String,
    pub created_by_role: String,
    pub created_at: NaiveDateTime,
}

/// A document without its content, for lists.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = documents)]
pub struct DocumentMeta {
    pub id: String,
    pub application_id: String,
    pub kind: String,
    pub requirement_code: Option<String>,
    pub result_kind: Option<String>,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub signature: Option<String>,
    pub created_by: String,
    pub created_by_role: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, row: &DocumentRow) -> Result<(), StoreError> {
    diesel::insert_into(documents::table).values(row).execute(conn)?;
    Ok(())
}

/// One document with its content; visibility is the caller's business (through its application).
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<DocumentRow>, StoreError> {
    Ok(documents::table.filter(documents::id.eq(id)).select(DocumentRow::as_select()).first(conn).optional()?)
}

/// The documents of an application, oldest first, without their content.
pub fn list_for_application(conn: &mut DbConnection, application_id: &str) -> Result<Vec<DocumentMeta>, StoreError> {
    Ok(documents::table
        .filter(documents::application_id.eq(application_id))
        .order(documents::id.asc())
        .select(DocumentMeta::as_select())
        .load(conn)?)
}

/// The stored signing key seed named `id`, creating it with `generate` when there is none. Two servers
/// starting at once agree on one key: the loser of the insert reads the winner's.
pub fn signing_seed_or_create(
    conn: &mut DbConnection,
    id: &str,
    generate: impl FnOnce() -> Vec<u8>,
    now: NaiveDateTime,
) -> Result<(Vec<u8>, bool), StoreError> {
    let read = |c: &mut DbConnection| -> Result<Option<Vec<u8>>, StoreError> {
        Ok(document_signing_keys::table
            .filter(document_signing_keys::id.eq(id))
            .select(document_signing_keys::seed)
            .first(c)
            .optional()?)
    };
    if let Some(seed) = read(conn)? {
        return Ok((seed, false));
    }
    let seed = generate();
    let inserted = crate::savepoint(conn, |c| {
        diesel::insert_into(document_signing_keys::table)
            .values((
                document_signing_keys::id.eq(id),
                document_signing_keys::seed.eq(&seed),
                document_signing_keys::created_at.eq(now),
            ))
            .execute(c)
            .map_err(StoreError::from)
    });
    match inserted {
        Ok(_) => Ok((seed, true)),
        Err(StoreError::Conflict(_)) => read(conn)?.map(|s| (s, false)).ok_or(StoreError::NotFound),
        Err(e) => Err(e),
    }
}
