//! Documents: attachments uploaded to an application, downloads, the result documents' signing key and
//! their public verification.

use actix_multipart::{Multipart, MultipartError};
use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use domain::application::{Event, HistoryRecord};
use futures_util::StreamExt;
use persistence::applications as apps;
use persistence::documents::{self as repo, DocumentMeta, DocumentRow, KIND_ATTACHMENT};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Principal, Role};
use crate::documents::{self as docs, Jwk, Verification, VerifyRequest, ALLOWED_CONTENT_TYPES};
use crate::error::{ApiError, FieldError};
use crate::extract::{ValidJson, ValidQuery};
use crate::idempotency::Idempotency;
use crate::procedure::{official, passport_of, visibility};
use crate::state::AppState;
use crate::views::applications::Actor;

/// A file to attach (`multipart/form-data`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({"requirement_code": "birth_certificate", "file": "(the PDF scan's bytes)"}))]
pub struct UploadDocumentForm {
    /// The code of a document of the application's passport version (`GET /api/v1/services/{key}`,
    /// `documents[].code`), e.g. `identity_document`.
    #[schema(example = "identity_document")]
    pub requirement_code: String,
    /// The file: PDF, JPEG or PNG (declared in the part's `Content-Type` and recognised by its first
    /// bytes), at most `MAX_UPLOAD_BYTES` (10 MiB by default).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
}

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
    /// Results: `approval_result`, `motivated_refusal`, `intake_refusal_receipt`, `preliminary_refusal_notice`.
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
    fn from_meta(m: DocumentMeta) -> Self {
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

    fn from_row(r: &DocumentRow) -> Self {
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

/// Room for the form's other fields and the multipart framing around the file.
const FORM_OVERHEAD: usize = 64 * 1024;
const MAX_CODE_BYTES: usize = 256;

struct Upload {
    requirement_code: String,
    file_name: Option<String>,
    content_type: String,
    bytes: Vec<u8>,
}

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!("the file may be at most {limit} bytes"))
}

fn multipart_error(e: MultipartError, limit: usize) -> ApiError {
    match e {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => {
            ApiError::UnsupportedMediaType("send the form as `Content-Type: multipart/form-data`".into())
        }
        MultipartError::Payload(actix_web::error::PayloadError::Overflow) => too_large(limit),
        other => ApiError::BadRequest {
            code: "malformed_multipart",
            detail: format!("the multipart body is malformed: {other}"),
            errors: vec![],
        },
    }
}

/// A file name safe to store and to send back: the last path segment, no control characters.
fn clean_file_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// Reads the form field by field, keeping at most `limit` bytes of the file; the rest of an oversized
/// body is read and dropped (up to a bound) so that the client receives the 413 instead of a reset.
async fn read_upload(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<Upload, ApiError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|m| m == "multipart/form-data");
    if !is_form {
        return Err(ApiError::UnsupportedMediaType(
            "send the form as `Content-Type: multipart/form-data` with fields `requirement_code` and `file`".into(),
        ));
    }
    let drain_bound = limit.saturating_mul(2).saturating_add(FORM_OVERHEAD);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_bound) {
        return Err(too_large(limit));
    }
    let mut form = Multipart::new(req.headers(), payload);
    let mut total = 0usize;
    let mut code: Option<String> = None;
    let mut file: Option<(Option<String>, String, Vec<u8>)> = None;
    let mut oversized = false;
    let mut unsupported: Option<String> = None;
    let mut errors = Vec::new();
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| multipart_error(e, limit))?;
        let name = field.name().unwrap_or_default().to_string();
        // What this field keeps: the code (up to MAX_CODE_BYTES), the file (up to `limit`), or nothing.
        let keep = match name.as_str() {
            "requirement_code" if code.is_none() => MAX_CODE_BYTES,
            "file" if file.is_none() => {
                let declared = field.content_type().map(|m| m.essence_str().to_ascii_lowercase()).unwrap_or_default();
                if ALLOWED_CONTENT_TYPES.contains(&declared.as_str()) {
                    limit
                } else {
                    unsupported = Some(format!(
                        "the file's declared type `{}` is not accepted; send one of: {}",
                        if declared.is_empty() { "(none)" } else { &declared },
                        ALLOWED_CONTENT_TYPES.join(", ")
                    ));
                    0
                }
            }
            "requirement_code" | "file" => {
                errors.push(FieldError::new(name.clone(), "single", "send this field once"));
                0
            }
            _ => {
                errors.push(FieldError::new(
                    name.clone(),
                    "unknown_field",
                    "the form has fields `requirement_code` and `file`",
                ));
                0
            }
        };
        let mut buf = Vec::new();
        let mut over = false;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| multipart_error(e, limit))?;
            total += chunk.len();
            if total > drain_bound {
                return Err(too_large(limit));
            }
            if !over && buf.len() + chunk.len() <= keep {
                buf.extend_from_slice(&chunk);
            } else if keep > 0 {
                over = true;
                buf = Vec::new();
            }
        }
        match name.as_str() {
            "requirement_code" if keep > 0 => match String::from_utf8(buf) {
                Ok(s) if !over && !s.trim().is_empty() => code = Some(s.trim().to_string()),
                _ => errors.push(FieldError::new(
                    "requirement_code",
                    "format",
                    "must be a document code (text, at most 256 bytes)",
                )),
            },
            "file" if keep > 0 => {
                oversized |= over;
                let file_name = field.content_disposition().and_then(|cd| cd.get_filename()).and_then(clean_file_name);
                let declared = field.content_type().map(|m| m.essence_str().to_ascii_lowercase()).unwrap_or_default();
                file = Some((file_name, declared, buf));
            }
            _ => {}
        }
    }
    if oversized {
        return Err(too_large(limit));
    }
    if let Some(msg) = unsupported {
        return Err(ApiError::UnsupportedMediaType(msg));
    }
    if let Some((_, declared, bytes)) = &file {
        if docs::sniff(bytes) != Some(declared.as_str()) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the file's content is not {declared}: its first bytes {}",
                match docs::sniff(bytes) {
                    Some(t) => format!("show {t}"),
                    None => "match none of the accepted types (PDF, JPEG, PNG)".to_string(),
                }
            )));
        }
    }
    if code.is_none() && !errors.iter().any(|e| e.field == "requirement_code") {
        errors.push(FieldError::new(
            "requirement_code",
            "required",
            "name the passport's document code the file answers",
        ));
    }
    if file.as_ref().is_some_and(|(_, _, b)| b.is_empty()) {
        errors.push(FieldError::new("file", "empty", "the file is empty"));
    }
    if file.is_none() {
        errors.push(FieldError::new("file", "required", "attach the file in the field `file`"));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (file_name, content_type, bytes) = file.expect("checked");
    Ok(Upload { requirement_code: code.expect("checked"), file_name, content_type, bytes })
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/json" => "json",
        _ => "bin",
    }
}

/// Attach a document to an application.
///
/// The applicant on their own application, the State Corporation operator of its intake centre, and
/// the provider's staff may attach; others get 404. `requirement_code` must be a document of the
/// application's passport version. The file must be a PDF, JPEG or PNG both by its declared type and by
/// its first bytes (else 415), at most `MAX_UPLOAD_BYTES` (else 413). Its SHA-256 is recorded and the
/// upload is written to the application's history (`document_attached`) in the same transaction.
#[utoipa::path(
    tag = "documents",
    operation_id = "uploadDocument",
    params(
        ("id" = String, Path, description = "Application id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and file return the first upload"),
    ),
    request_body(content = UploadDocumentForm, content_type = "multipart/form-data",
        description = "Fields `requirement_code` and `file` (with its own `Content-Type`: application/pdf, image/jpeg or image/png)"),
    responses(
        (status = 201, description = "Attached", body = DocumentView,
         headers(("Location" = String, description = "The download URL"), ("ETag" = String, description = "The content's SHA-256"))),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file exceeds MAX_UPLOAD_BYTES", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data, or the file is not a PDF, JPEG or PNG by its declared type and its content", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing field, or a requirement code that is not a document of the passport", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/documents")]
pub async fn upload_document(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant, Role::Operator, Role::Employee, Role::Head])?;
    let id = id.into_inner();
    let scope = visibility(&who);
    // Whether the caller may see the application is answered before the body is read: nothing about a
    // foreign application is revealed by how its uploads fail.
    let (st, id2, scope2) = (state.clone(), id.clone(), scope.clone());
    let app = web::block(move || st.db.read(|c| apps::find_visible(c, &id2, &scope2)))
        .await??
        .ok_or_else(|| ApiError::not_found("no such application"))?;
    // Provider employees attach only to applications assigned to them (the head to any).
    domain::application::commands::check_assignee(&app, &official(&who))?;
    let upload = read_upload(&req, payload, state.max_upload_bytes).await?;

    let catalog = state.catalog();
    let passport = passport_of(&catalog, &app)?;
    if !passport.documents.iter().any(|d| d.code == upload.requirement_code) {
        return Err(ApiError::field(
            "requirement_code",
            "not_a_document_of_the_passport",
            format!(
                "`{}` is not a document of {} ({}); one of: {}",
                upload.requirement_code,
                passport.key,
                passport.version,
                passport.documents.iter().map(|d| d.code.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }

    let now = state.clock.now().naive_utc();
    let sha256 = docs::sha256_hex(&upload.bytes);
    let row = DocumentRow {
        id: uuid::Uuid::now_v7().to_string(),
        application_id: app.id.clone(),
        kind: KIND_ATTACHMENT.into(),
        file_name: upload
            .file_name
            .clone()
            .unwrap_or_else(|| format!("{}.{}", upload.requirement_code, extension(&upload.content_type))),
        requirement_code: Some(upload.requirement_code),
        result_kind: None,
        content_type: upload.content_type,
        size_bytes: upload.bytes.len() as i64,
        sha256,
        content: upload.bytes,
        signature: None,
        created_by: who.sub.clone(),
        created_by_role: who.role.code().into(),
        created_at: now,
    };
    let fingerprint = json!({
        "application_id": row.application_id,
        "requirement_code": row.requirement_code,
        "sha256": row.sha256,
    });
    let idem = Idempotency::of(&req, &who, "document", &fingerprint)?;
    let uploader = official(&who);
    let st = state.clone();
    let (stored, replayed) = web::block(move || -> Result<(DocumentRow, bool), ApiError> {
        idem.run(|| {
            st.db.write_with(|c| -> Result<(DocumentRow, bool), ApiError> {
                // Checked again inside the transaction that writes.
                let app = apps::find_visible(c, &row.application_id, &scope)?
                    .ok_or_else(|| ApiError::not_found("no such application"))?;
                if let Some(id) = idem.replayed(c)? {
                    let first = repo::find(c, &id)?.ok_or_else(|| ApiError::not_found("the first upload is gone"))?;
                    return Ok((first, true));
                }
                repo::insert(c, &row)?;
                let history = HistoryRecord {
                    action: "document_attached".into(),
                    actor: uploader.clone(),
                    at: now.and_utc(),
                    from_status: Some(app.status),
                    to_status: app.status,
                    reason: None,
                    changes: json!({"document": {"old": null, "new": {
                        "id": row.id,
                        "requirement_code": row.requirement_code,
                        "file_name": row.file_name,
                        "content_type": row.content_type,
                        "size_bytes": row.size_bytes,
                        "sha256": row.sha256,
                    }}}),
                };
                apps::record(c, &app, &history, &Event::of(&app, "document_attached"), None)?;
                idem.remember(c, &row.id, now.and_utc())?;
                Ok((row.clone(), false))
            })
        })
    })
    .await??;
    let view = DocumentView::from_row(&stored);
    let mut res = HttpResponse::Created();
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res
        .insert_header((header::LOCATION, view.download_url.clone()))
        .insert_header((header::ETAG, format!("\"{}\"", view.sha256)))
        .json(view))
}

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
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scope = visibility(&who);
    let id = id.into_inner();
    let rows = web::block(move || {
        state.db.read(|c| match apps::find_visible(c, &id, &scope)? {
            Some(_) => repo::list_for_application(c, &id).map(Some),
            None => Ok(None),
        })
    })
    .await??
    .ok_or_else(|| ApiError::not_found("no such application"))?;
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
    let doc = web::block(move || {
        state.db.read(|c| {
            let Some(doc) = repo::find(c, &id)? else { return Ok(None) };
            Ok(apps::find_visible(c, &doc.application_id, &scope)?.map(|_| doc))
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

/// The public key that signs result documents, as a JWK (`kid` is its RFC 7638 thumbprint).
#[utoipa::path(
    tag = "documents",
    operation_id = "getSigningKey",
    responses((status = 200, description = "The Ed25519 public key", body = Jwk)),
)]
#[get("/documents/signing-key")]
pub async fn signing_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(state.signer.jwk())
}

/// Verify a stored result document (public: no token needed).
///
/// Checks its signature against this server's key, that the signed payload is the stored content, and
/// that the content still has the SHA-256 recorded at issue. Answers 200 with `valid` and the reasons
/// when it is not; 404 for an unknown id or a document that is not a signed result.
#[utoipa::path(
    tag = "documents",
    operation_id = "verifyDocument",
    params(("id" = String, Path, description = "Document id")),
    responses(
        (status = 200, description = "The outcome", body = Verification),
        (status = 404, description = "No such result document", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/{id}/verify")]
pub async fn verify_document(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let st = state.clone();
    let doc = web::block(move || st.db.read(|c| repo::find(c, &id)))
        .await??
        // Attachments are not signed; their existence is not revealed to the public either.
        .filter(|d| d.kind == persistence::documents::KIND_RESULT)
        .ok_or_else(|| ApiError::not_found("no such result document"))?;
    Ok(HttpResponse::Ok().json(docs::verify_stored(&state.signer, &doc)))
}

/// Verify a copy of a result document someone holds (public: no token needed).
///
/// Send the complete compact JWS as `jws`, or the document (its JSON object, or its exact downloaded
/// text) as `document` with its `signature` (the detached JWS from `Document-Signature`, or the complete
/// one). A tampered document or signature answers 200 with `valid: false` and the reasons; input that
/// is not shaped as a JWS is 422.
#[utoipa::path(
    tag = "documents",
    operation_id = "verifyPostedDocument",
    request_body(content = VerifyRequest, content_type = "application/json"),
    responses((status = 200, description = "The outcome", body = Verification)),
)]
#[post("/documents/verify")]
pub async fn verify_posted(
    state: web::Data<AppState>,
    body: ValidJson<VerifyRequest>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(docs::verify_request(&state.signer, &body.0)?))
}
