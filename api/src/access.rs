//! Recording reads of personal data in the access journal (`persistence::access_log`).
//!
//! Every route that returns personal data (an application, its history or documents, a registry
//! record, an intake check) records the read before answering, with [`journal`] inside the route's
//! own database work, or [`journal_with`] on its own:
//!
//! ```ignore
//! let reader = access::Reader::of(&req, &who);          // before web::block: HttpRequest is not Send
//! web::block(move || state.db.read(|c| {
//!     let row = ...;
//!     access::journal(c, &reader, AccessKind::Application, &row.id, Some(&row.id), Some(&row.applicant_iin), now)?;
//!     Ok(row)
//! })).await??;
//! ```
//!
//! A read that cannot be journalled is not answered: the error propagates.

use actix_web::{HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use persistence::access_log::{self, NewAccess, Reading};
use persistence::{Database, DbConnection, StoreError};

use crate::auth::Principal;
use crate::guard::RequestId;

/// What was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// An application: its form, status and parties (`GET /applications/{id}`, a list item).
    Application,
    /// Its history.
    ApplicationHistory,
    /// The list of its documents.
    DocumentList,
    /// One document (an attachment or a result document).
    Document,
    /// A state registry record about a person.
    RegistryRecord,
    /// The intake check: what the registries hold about the persons an application names.
    IntakeCheck,
    /// A complaint about an application.
    Complaint,
}

impl AccessKind {
    pub fn code(self) -> &'static str {
        match self {
            AccessKind::Application => "application",
            AccessKind::ApplicationHistory => "application_history",
            AccessKind::DocumentList => "document_list",
            AccessKind::Document => "document",
            AccessKind::RegistryRecord => "registry_record",
            AccessKind::IntakeCheck => "intake_check",
            AccessKind::Complaint => "complaint",
        }
    }

    pub const ALL: [AccessKind; 7] = [
        AccessKind::Application,
        AccessKind::ApplicationHistory,
        AccessKind::DocumentList,
        AccessKind::Document,
        AccessKind::RegistryRecord,
        AccessKind::IntakeCheck,
        AccessKind::Complaint,
    ];
}

/// Who reads, in which request: taken from the request before the database work moves to a blocking
/// thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub sub: String,
    pub role: &'static str,
    pub org: Option<String>,
    pub request_id: Option<String>,
}

impl Reader {
    pub fn of(req: &HttpRequest, who: &Principal) -> Reader {
        Reader {
            sub: who.sub.clone(),
            role: who.role.code(),
            org: who.org.clone(),
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        }
    }
}

/// Records that `reader` read `resource_id` (of `kind`, part of `application_id`, about the person
/// `subject_iin`) at `now`, on `conn` (inside the caller's transaction or read).
pub fn journal(
    conn: &mut DbConnection,
    reader: &Reader,
    kind: AccessKind,
    resource_id: &str,
    application_id: Option<&str>,
    subject_iin: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    access_log::record(conn, &entry(reader, kind, resource_id, application_id, subject_iin, now))
}

/// One read of many items (a page of a list): each item is an entry, written in one statement.
/// `items` are `(resource_id, application_id, subject_iin)`.
pub fn journal_page<'a>(
    conn: &mut DbConnection,
    reader: &Reader,
    kind: AccessKind,
    items: impl IntoIterator<Item = (&'a str, Option<&'a str>, Option<&'a str>)>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let entries: Vec<NewAccess> =
        items.into_iter().map(|(id, app, iin)| entry(reader, kind, id, app, iin, now)).collect();
    access_log::record_all(conn, &entries)
}

fn entry(
    reader: &Reader,
    kind: AccessKind,
    resource_id: &str,
    application_id: Option<&str>,
    subject_iin: Option<&str>,
    now: DateTime<Utc>,
) -> NewAccess {
    reading(reader, kind, now).entry(resource_id, application_id, subject_iin)
}

/// What the journal records of `reader` reading items of `kind` at `now`, for a read that names
/// the item from the row it reads (`persistence::applications::find_visible_journaled`, `list`).
pub fn reading(reader: &Reader, kind: AccessKind, now: DateTime<Utc>) -> Reading {
    Reading {
        at: now.naive_utc(),
        actor_sub: reader.sub.clone(),
        actor_role: reader.role.to_string(),
        actor_org: reader.org.clone(),
        kind: kind.code().to_string(),
        request_id: reader.request_id.clone(),
    }
}

/// [`journal`] in a transaction of its own (blocking: call it inside `web::block`).
pub fn journal_with(
    db: &Database,
    reader: &Reader,
    kind: AccessKind,
    resource_id: &str,
    application_id: Option<&str>,
    subject_iin: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    db.write(|c| journal(c, reader, kind, resource_id, application_id, subject_iin, now))
}
