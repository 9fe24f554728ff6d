//! Storage for applications, their history, idempotency records and the event feed.
//!
//! One code path for SQLite (the embedded default) and PostgreSQL (production): every query is written
//! once against [`db::DbConnection`], diesel's `MultiConnection` over both backends.

pub mod access_log;
pub mod applications;
pub mod calendar;
pub mod codes;
pub mod complaints;
pub mod db;
pub mod documents;
pub mod events;
pub mod idempotency;
pub mod law;
pub mod monitoring;
pub mod notifications;
pub mod organizations;
pub mod outbox;
pub mod passports;
pub mod queue;
pub mod registries;
pub mod schema;
pub mod sequences;
pub mod staff;
pub mod together;

pub use db::{Backend, Database, DbConnection, DbOptions};
/// The driver error, so callers can convert it without depending on diesel themselves.
pub use diesel::result::Error as DieselError;

/// What can go wrong in storage, in terms the API maps to HTTP in one place.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key was taken, or a row changed since it was read (optimistic concurrency).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database setup failed: {0}")]
    Setup(String),
    #[error("database error: {0}")]
    Database(diesel::result::Error),
    /// A stored value no longer reads as the domain type it was written as.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_string())
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Conflict(info.message().to_string())
            }
            other => StoreError::Database(other),
        }
    }
}

/// Runs `f` inside a savepoint, so that an expected failure (a unique key already taken) can be
/// handled without aborting the surrounding transaction (PostgreSQL aborts it otherwise).
pub(crate) fn savepoint<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    diesel::Connection::transaction(conn, f)
}
