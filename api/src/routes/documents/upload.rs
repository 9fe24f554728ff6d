//! `POST /api/v1/applications/{id}/documents`: attaching a file to an application (multipart), with
//! its size, declared type and first bytes checked, its SHA-256 recorded, and the upload written to
//! the application's history in the same transaction.

use actix_multipart::{Multipart, MultipartError};
use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use domain::application::{Event, HistoryRecord};
use futures_util::StreamExt;
use persistence::applications as apps;
use persistence::documents::{self as repo, DocumentRow, KIND_ATTACHMENT};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::{Principal, Role};
use crate::documents::{self as docs, ALLOWED_CONTENT_TYPES};
use crate::error::{ApiError, FieldError};
use crate::idempotency::Idempotency;
use crate::procedure::{concurrent, official, passport_of, visibility};
use crate::state::AppState;
use crate::views::documents::DocumentView;

/// A file to attach (`multipart/form-data`).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[allow(dead_code)]
// The form has these two fields and no other (`unknown_field`): `additionalProperties: false` in the spec.
#[serde(deny_unknown_fields)]
#[schema(example = json!({"requirement_code": "birth_certificate", "file": "(the PDF scan's bytes)"}))]
pub struct UploadDocumentForm {
    /// The code of a document of the application's passport version (`GET /api/v1/services/{key}`,
    /// `documents[].code`), e.g. `identity_document` (at most 256 bytes).
    #[schema(example = "identity_document", min_length = 1, max_length = 256)]
    pub requirement_code: String,
    /// The file: PDF, JPEG or PNG (declared in the part's `Content-Type` and recognised by its first
    /// bytes), at most `MAX_UPLOAD_BYTES` (10 MiB by default).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub file: Vec<u8>,
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
        crate::views::IdempotencyKey,
    ),
    request_body(content = UploadDocumentForm, content_type = "multipart/form-data",
        description = "Fields `requirement_code` and `file` (with its own `Content-Type`: application/pdf, image/jpeg or image/png)"),
    responses(
        (status = 201, description = "Attached", body = DocumentView,
         headers(("Location" = String, description = "The download URL"), ("ETag" = String, description = "The content's SHA-256"))),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`concurrent_change`: the application changed while this was written; read it again and retry", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The file exceeds MAX_UPLOAD_BYTES", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not multipart/form-data, or the file is not a PDF, JPEG or PNG by its declared type and its content", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem: a missing, repeated or unknown field \
(`required`, `single`, `unknown_field`), an empty file (`empty`), and beyond the schema a `requirement_code` that is not a \
document of the application's passport (`not_a_document_of_the_passport`) or an `Idempotency-Key` already used by the \
caller for another request (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
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
                apps::record(c, &app, &history, &Event::of(&app, "document_attached"), None)
                    .map_err(concurrent("application"))?;
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
