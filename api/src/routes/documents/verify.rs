//! The result documents' signing key and their public verification (no token needed).

use actix_web::{get, http::header, post, web, HttpResponse};
use persistence::documents as repo;

use crate::documents::{self as docs, Jwk, Verification, VerifyRequest};
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::state::AppState;

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
