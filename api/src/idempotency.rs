//! The Idempotency-Key protocol, one implementation for every POST that creates something
//! (applications, complaints, uploads): the same key with the same request returns what the first
//! request created (`Idempotent-Replayed: true`); the same key with another request is 422.

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use persistence::idempotency::{self as repo, IdempotencyRecord};
use persistence::DbConnection;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::{ApiError, FieldError};

/// The key a request carries, bound to its caller and its content.
#[derive(Debug, Clone)]
pub struct Idempotency {
    key: Option<String>,
    principal: String,
    request_hash: String,
    resource_type: &'static str,
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
pub fn key_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(v) = req.headers().get("Idempotency-Key") else { return Ok(None) };
    let key =
        v.to_str().map_err(|_| ApiError::field("header.Idempotency-Key", "format", "must be visible ASCII"))?.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::field("header.Idempotency-Key", "length", "must be 1 to 255 characters"));
    }
    Ok(Some(key.to_string()))
}

impl Idempotency {
    /// The request's key for creating a `resource_type`, fingerprinted by the canonical JSON of
    /// `request` (sorted keys, so the same body hashes the same whatever its key order).
    pub fn of(
        req: &HttpRequest,
        who: &Principal,
        resource_type: &'static str,
        request: &Value,
    ) -> Result<Self, ApiError> {
        Ok(Idempotency {
            key: key_of(req)?,
            principal: format!("{}:{}", who.role.code(), who.sub),
            request_hash: crate::documents::sha256_hex(&crate::documents::canonical_bytes(request)),
            resource_type,
        })
    }

    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }

    /// Inside the writing transaction: the id of what the first request with this key created, or
    /// `None` for a new key; 422 when the key was used for a different request.
    pub fn replayed(&self, c: &mut DbConnection) -> Result<Option<String>, ApiError> {
        let Some(key) = &self.key else { return Ok(None) };
        let Some(rec) = repo::find(c, &self.principal, key)? else { return Ok(None) };
        if rec.request_hash != self.request_hash || rec.resource_type != self.resource_type {
            return Err(ApiError::Validation {
                code: "idempotency_key_reused",
                detail: format!("this Idempotency-Key was used with a different {}", self.resource_type),
                errors: vec![FieldError::new(
                    "header.Idempotency-Key",
                    "reused_with_different_body",
                    "use a new key for a different request",
                )],
            });
        }
        Ok(Some(rec.resource_id))
    }

    /// Inside the writing transaction: remembers what this key created.
    pub fn remember(&self, c: &mut DbConnection, resource_id: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        let Some(key) = &self.key else { return Ok(()) };
        repo::insert(
            c,
            &IdempotencyRecord {
                principal: self.principal.clone(),
                idem_key: key.clone(),
                request_hash: self.request_hash.clone(),
                resource_type: self.resource_type.into(),
                resource_id: resource_id.to_string(),
                created_at: now.naive_utc(),
            },
        )?;
        Ok(())
    }

    /// Runs a writing transaction, once more when a concurrent request with the same key committed
    /// between our look-up and our insert: ours then failed on the key and rolled back whole, and the
    /// second run replays theirs.
    pub fn run<T>(&self, mut attempt: impl FnMut() -> Result<T, ApiError>) -> Result<T, ApiError> {
        match attempt() {
            Err(ApiError::Conflict { code: "conflict", .. }) if self.is_keyed() => attempt(),
            other => other,
        }
    }
}
