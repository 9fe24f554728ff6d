//! Listing an application's documents and downloading one.

use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use persistence::applications as apps;
use persistence::documents as repo;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{self, AccessKind, Reader};
use crate::auth::Principal;
use crate::documents as docs;
use crate::error::ApiError;
use crate::extract::ValidQuery;
use crate::procedure::{read_visible, visibility};
use crate::state::AppState;
use crate::views::documents::{DocumentView, FileBytes};

/// List an application's documents: attachments with their requirement code, and issued results.
#[utoipa::path(
    tag = "documents",
    operation_id = "listDocuments",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The documents, oldest first", body = Vec<DocumentView>),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}/documents")]
pub async fn list_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let journal = Some((Reader::of(&req, &who), AccessKind::DocumentList));
    let rows =
        read_visible(&state, &who, id.into_inner(), journal, |c, app| Ok(repo::list_for_application(c, &app.id)?))
            .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(DocumentView::from_meta).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// `jws`: a result document as its complete compact JWS (`application/jose`) instead of its JSON.
    #[param(pattern = "^jws$")]
    pub format: Option<String>,
}

/// `filename="..."` (ASCII fallback) and `filename*=UTF-8''...` (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{}\"; filename*=UTF-8''{encoded}", ascii.replace('\\', "_"))
}

/// Download a document: its stored content with its content type, `ETag` (the SHA-256) and `Digest`.
///
/// Visible to whoever may see its application; others get 404. Result documents carry their detached
/// signature in `Document-Signature`; `?format=jws` gives the complete JWS instead.
#[utoipa::path(
    tag = "documents",
    operation_id = "downloadDocument",
    params(("id" = String, Path, description = "Document id"), DownloadQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 when unchanged")),
    responses(
        (status = 200, description = "The content, with its stored content type",
         content((FileBytes = "application/pdf"), (FileBytes = "image/jpeg"), (FileBytes = "image/png"), (Object = "application/json"), (String = "application/jose")),
         headers(
            ("ETag" = String, description = "The SHA-256 of the content (hex), quoted"),
            ("Digest" = String, description = "`sha-256=<base64>` (RFC 3230)"),
            ("Repr-Digest" = String, description = "`sha-256=:<base64>:` (RFC 9530)"),
            ("Content-Disposition" = String, description = "attachment; the stored file name"),
            ("Document-Signature" = String, description = "Result documents: the detached JWS (`header..signature`)"),
         )),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 404, description = "No such document visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/documents/{id}")]
pub async fn download_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    q: ValidQuery<DownloadQuery>,
) -> Result<HttpResponse, ApiError> {
    let as_jws = match q.0.format.as_deref() {
        None => false,
        Some("jws") => true,
        Some(_) => return Err(ApiError::field("query.format", "enum", "the only format is `jws`")),
    };
    let scope = visibility(&who);
    let id = id.into_inner();
    let reader = Reader::of(&req, &who);
    let doc = web::block(move || {
        state.db.read(|c| {
            let Some(doc) = repo::find(c, &id)? else { return Ok(None) };
            let Some(app) = apps::find_visible(c, &doc.application_id, &scope)? else { return Ok(None) };
            let now = state.clock.now();
            access::journal(c, &reader, AccessKind::Document, &doc.id, Some(&app.id), Some(&app.applicant_iin), now)?;
            Ok(Some(doc))
        })
    })
    .await??
    .ok_or_else(|| ApiError::not_found("no such document"))?;
    if as_jws {
        let jws = doc
            .signature
            .clone()
            .ok_or_else(|| ApiError::field("query.format", "not_signed", "only result documents are signed"))?;
        return Ok(HttpResponse::Ok()
            .content_type("application/jose")
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .insert_header((header::CONTENT_DISPOSITION, content_disposition(&doc.file_name.replace(".json", ".jws"))))
            .body(jws));
    }
    let etag = format!("\"{}\"", doc.sha256);
    let digest = docs::digest_header(&doc.content);
    let not_modified = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::ETAG, etag))
        .insert_header(("Digest", digest.clone()))
        .insert_header(("Repr-Digest", format!("{}:", digest.replacen('=', "=:", 1))))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if let Some(sig) = &doc.signature {
        res.insert_header(("Document-Signature", docs::detached(sig)));
    }
    if not_modified {
        return Ok(res.finish());
    }
    Ok(res
        .content_type(doc.content_type.as_str())
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&doc.file_name)))
        .body(doc.content))
}
