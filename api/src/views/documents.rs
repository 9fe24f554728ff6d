//! Documents of an application as listed: attachments and signed results, without their content.

use chrono::{DateTime, Utc};
use persistence::documents::{DocumentMeta, DocumentRow};
use serde::Serialize;
use utoipa::ToSchema;

use crate::documents as docs;
use crate::views::applications::Actor;

/// The bytes of a file.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// A document of an application (without its content; download it at `download_url`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub application_id: String,
    /// `attachment` (uploaded) or `result` (issued and signed by the server).
    #[schema(example = "attachment")]
    pub kind: String,
    /// Attachments: the passport's document code the file answers.
    #[schema(example = "identity_document")]
    pub requirement_code: Option<String>,
    /// Results: `approval_result`, `motivated_refusal`, `intake_refusal_receipt`, `preliminary_refusal_notice`,
    /// `queue_registration_slip`, `preschool_referral`.
    pub result_kind: Option<String>,
    #[schema(example = "passport.pdf")]
    pub file_name: String,
    #[schema(example = "application/pdf")]
    pub content_type: String,
    pub size_bytes: i64,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Results: the detached JWS (`header..signature`) to verify a downloaded copy with.
    pub signature: Option<String>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    #[schema(example = "/api/v1/documents/01936f5e-8a4b-7c2d-9e1f-0a1b2c3d4e5f")]
    pub download_url: String,
}

impl DocumentView {
    pub fn from_meta(m: DocumentMeta) -> Self {
        DocumentView {
            download_url: format!("/api/v1/documents/{}", m.id),
            id: m.id,
            application_id: m.application_id,
            kind: m.kind,
            requirement_code: m.requirement_code,
            result_kind: m.result_kind,
            file_name: m.file_name,
            content_type: m.content_type,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            signature: m.signature.as_deref().map(docs::detached),
            created_by: Actor { sub: m.created_by, role: m.created_by_role },
            created_at: m.created_at.and_utc(),
        }
    }

    pub fn from_row(r: &DocumentRow) -> Self {
        DocumentView::from_meta(DocumentMeta {
            id: r.id.clone(),
            application_id: r.application_id.clone(),
            kind: r.kind.clone(),
            requirement_code: r.requirement_code.clone(),
            result_kind: r.result_kind.clone(),
            file_name: r.file_name.clone(),
            content_type: r.content_type.clone(),
            size_bytes: r.size_bytes,
            sha256: r.sha256.clone(),
            signature: r.signature.clone(),
            created_by: r.created_by.clone(),
            created_by_role: r.created_by_role.clone(),
            created_at: r.created_at,
        })
    }
}
