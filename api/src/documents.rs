//! Documents: checking uploaded attachments, and rendering, signing and verifying result documents.
//!
//! A *result document* (the result of the service, a motivated refusal, an intake refusal receipt, a
//! preliminary refusal notice) is a JSON document rendered from the application, its passport and the
//! decision, with a plain-text rendering in Kazakh, Russian and English inside it. Its bytes are the
//! canonical JSON (object keys sorted, no whitespace); they are signed as a compact JWS with Ed25519
//! (`alg: EdDSA`, `kid` the RFC 7638 thumbprint of the public key) and stored as a document of kind
//! `result`: `content` holds the JSON, `signature` the JWS whose payload is exactly that JSON.
//!
//! Anyone can check a result: `GET /api/v1/documents/{id}/verify` checks the stored copy,
//! `POST /api/v1/documents/verify` a copy someone holds. The public key is at
//! `GET /api/v1/documents/signing-key` (JWK).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use domain::application::Application;
use domain::text::Lang;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use persistence::documents::{self as repo, DocumentRow, KIND_RESULT};
use persistence::{organizations, DbConnection};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};

/// Content types an attachment may have; each is also recognised by its first bytes.
pub const ALLOWED_CONTENT_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// The content type the first bytes of a file show, among [`ALLOWED_CONTENT_TYPES`].
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `Digest` (RFC 3230) value of content: `sha-256=<base64>`.
pub fn digest_header(bytes: &[u8]) -> String {
    format!("sha-256={}", STANDARD.encode(Sha256::digest(bytes)))
}

/// Which result document is issued: the procedure decides it (`domain::application::DocumentKind`).
pub use domain::application::DocumentKind as ResultDocumentKind;

// ---------------------------------------------------------------------------------------------
// The signing key
// ---------------------------------------------------------------------------------------------

/// The server's document signing key (Ed25519). Cheap to clone; never printed.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    kid: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// The id of the generated development key in `document_signing_keys`.
const GENERATED_KEY_ID: &str = "generated";

/// A public key as a JSON Web Key (RFC 8037: `kty: OKP`, `crv: Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"}))]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// The key id: the RFC 7638 thumbprint; result documents name it in their JWS header.
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl Signer {
    /// The key from a 32-byte Ed25519 seed.
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
        // RFC 7638: the SHA-256 of the required members in lexicographic order, no whitespace.
        let thumbprint = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint.as_bytes()));
        Signer { key, kid }
    }

    /// The key from 64 hex digits (the `DOCUMENT_SIGNING_KEY` format).
    pub fn from_hex(hex_seed: &str) -> Result<Signer, String> {
        crate::config::parse_seed(hex_seed).map(Signer::from_seed).map_err(|e| e.0)
    }

    /// The configured key, or else the development key kept in the database (generated on first use,
    /// so results stay verifiable across restarts), with a warning.
    pub fn configured_or_stored(
        seed: Option<[u8; 32]>,
        db: &persistence::Database,
        now: DateTime<Utc>,
    ) -> Result<Signer, String> {
        if let Some(seed) = seed {
            return Ok(Signer::from_seed(seed));
        }
        let (stored, created) = db
            .write(|c| {
                repo::signing_seed_or_create(
                    c,
                    GENERATED_KEY_ID,
                    || {
                        let mut seed = [0u8; 32];
                        getrandom::fill(&mut seed).expect("the operating system's random source works");
                        seed.to_vec()
                    },
                    now.naive_utc(),
                )
            })
            .map_err(|e| format!("the stored document signing key: {e}"))?;
        let seed: [u8; 32] =
            stored.try_into().map_err(|_| "the stored document signing key is not 32 bytes".to_string())?;
        let signer = Signer::from_seed(seed);
        tracing::warn!(
            kid = %signer.kid,
            generated_now = created,
            "DOCUMENT_SIGNING_KEY is not set: result documents are signed with a development key kept in the \
             database; configure DOCUMENT_SIGNING_KEY (64 hex digits) in production"
        );
        Ok(signer)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn jwk(&self) -> Jwk {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: URL_SAFE_NO_PAD.encode(self.public_key().as_bytes()),
            kid: self.kid.clone(),
            alg: "EdDSA".into(),
            use_: "sig".into(),
        }
    }

    /// Signs `payload` as a compact JWS (`alg: EdDSA`, this key's `kid`). Result documents are signed
    /// through it; integrators' test tooling may sign arbitrary payloads with a test key.
    pub fn sign(&self, payload: &[u8]) -> String {
        let header = json!({"alg": "EdDSA", "kid": self.kid, "typ": "JOSE"}).to_string();
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.as_bytes()), URL_SAFE_NO_PAD.encode(payload));
        let signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

/// A JWS with its payload detached (`header..signature`, RFC 7515 appendix F).
pub fn detached(jws: &str) -> String {
    let mut parts = jws.splitn(3, '.');
    let (h, _, s) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
    format!("{h}..{s}")
}

/// Sorted-key, whitespace-free JSON: the bytes a result document is signed as, so a copy re-serialised
/// by any JSON tool verifies as long as its content is unchanged.
pub fn canonical_bytes(v: &Value) -> Vec<u8> {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    canonical(v).to_string().into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Issuing
// ---------------------------------------------------------------------------------------------

/// The `format` member of every result document.
pub const RESULT_FORMAT: &str = "kz-family-services/result-document/v1";

/// Renders, signs and stores a result document for `app`, inside the caller's transaction.
///
/// Called by the lifecycle when an application is approved (`ApprovalResult`), refused
/// (`MotivatedRefusal`), refused at intake (`IntakeRefusalReceipt`) or preliminarily refused
/// (`PreliminaryRefusalNotice`), with `conn` being that command's transaction, so the decision and its
/// document commit together or not at all.
///
/// - `body`: the decision as a JSON object, copied verbatim into the document's `decision` and
///   rendered in its texts: e.g. `result` (the result code), `grounds` (`[{code, number?, text:
///   {kk,ru,en}, source}]`, the passport's text and source of each cited ground), `hearing` (`{at,
///   place}`), `missing_documents` / `expired_documents` (`[{code, name: {kk,ru,en}, source}]`),
///   `motivation` / `comment`. Unknown members are rendered as they are.
/// - `decided_by`: the deciding employee's `(sub, role)`.
/// - `now`: the issue moment (the injectable clock).
///
/// The stored document: kind `result`, `result_kind` = `kind`'s code, content type
/// `application/json`, content = the canonical JSON `{format, document_id, kind, application_id,
/// registration_number, service {key, title}, passport_version, applicant_iin, provider {id, name},
/// decision, decided_by {sub, role}, issued_at, text {kk, ru, en}}`, `sha256` of that content, and
/// `signature` = the compact JWS over it. It writes no history entry: the caller's own entry for the
/// decision should name the returned document's `id` and `sha256`.
///
/// Errors: only storage failures (and a `body` that is not an object, a programming error: 500).
pub fn issue(
    conn: &mut DbConnection,
    signer: &Signer,
    app: &Application,
    kind: ResultDocumentKind,
    body: Value,
    decided_by: (&str, &str),
    now: DateTime<Utc>,
) -> Result<DocumentRow, ApiError> {
    if !body.is_object() {
        return Err(ApiError::Internal(format!("documents::issue: the {} body must be a JSON object", kind.code())));
    }
    let id = uuid::Uuid::now_v7().to_string();
    let provider_name = organizations::find(conn, &app.provider_id)?
        .map(|o| json!({"kk": o.name_kk, "ru": o.name_ru, "en": o.name_en}))
        .unwrap_or(Value::Null);
    let title = service_title(conn, &app.service_key, &app.passport_version)?;
    let mut doc = json!({
        "format": RESULT_FORMAT,
        "document_id": id,
        "kind": kind.code(),
        "application_id": app.id,
        "registration_number": app.registration_number,
        "service": {"key": app.service_key, "title": title},
        "passport_version": app.passport_version,
        "applicant_iin": app.applicant_iin,
        "provider": {"id": app.provider_id, "name": provider_name},
        "decision": body,
        "decided_by": {"sub": decided_by.0, "role": decided_by.1},
        "issued_at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
    });
    let texts: Map<String, Value> =
        Lang::ALL.iter().map(|l| (l.code().to_string(), Value::String(render_text(&doc, kind, *l, now)))).collect();
    doc["text"] = Value::Object(texts);
    let content = canonical_bytes(&doc);
    let row = DocumentRow {
        id,
        application_id: app.id.clone(),
        kind: KIND_RESULT.into(),
        requirement_code: None,
        result_kind: Some(kind.code().into()),
        file_name: format!("{}-{}.json", app.registration_number, kind.code()),
        content_type: "application/json".into(),
        size_bytes: content.len() as i64,
        sha256: sha256_hex(&content),
        signature: Some(signer.sign(&content)),
        content,
        created_by: decided_by.0.into(),
        created_by_role: decided_by.1.into(),
        created_at: now.naive_utc(),
    };
    repo::insert(conn, &row)?;
    Ok(row)
}

/// The service's title in the passport version: the embedded catalog, else a published version.
fn service_title(conn: &mut DbConnection, key: &str, version: &str) -> Result<Value, ApiError> {
    if let Some(p) = domain::catalog::Catalog::builtin().service(key).and_then(|s| s.version(version)) {
        return Ok(serde_json::to_value(&p.title).unwrap_or(Value::Null));
    }
    let published = persistence::passports::all(conn)?;
    Ok(published
        .iter()
        .find(|p| p.service_key == key && p.version == version)
        .and_then(|p| serde_json::from_str::<Value>(&p.document).ok())
        .and_then(|d| d.get("title").cloned())
        .unwrap_or(Value::Null))
}

fn label(key: &str, lang: Lang) -> String {
    let (kk, ru, en) = match key {
        "registration_number" => ("Тіркеу нөмірі", "Регистрационный номер", "Registration number"),
        "service" => ("Мемлекеттік қызмет", "Государственная услуга", "State service"),
        "passport_version" => ("Қызмет паспортының нұсқасы", "Версия паспорта услуги", "Passport version"),
        "applicant_iin" => ("Өтініш берушінің ЖСН", "ИИН услугополучателя", "Applicant IIN"),
        "provider" => ("Көрсетілетін қызметті беруші", "Услугодатель", "Provider"),
        "decision" => ("Шешім", "Решение", "Decision"),
        "decided_by" => ("Шешім қабылдаған", "Решение принял", "Decided by"),
        "issued_at" => ("Берілген уақыты (Астана)", "Дата и время выдачи (Астана)", "Issued at (Astana time)"),
        "result" | "result_code" | "outcome" => ("Нәтиже", "Результат", "Result"),
        "grounds" => ("Бас тарту негіздері", "Основания для отказа", "Grounds"),
        "missing_documents" => ("Жетіспейтін құжаттар", "Недостающие документы", "Missing documents"),
        "expired_documents" => ("Мерзімі өткен құжаттар", "Документы с истекшим сроком", "Expired documents"),
        "hearing" => ("Тыңдау", "Заслушивание", "Hearing"),
        "hearing_at" => ("Тыңдау уақыты", "Время заслушивания", "Hearing time"),
        "hearing_place" => ("Тыңдау орны", "Место заслушивания", "Hearing place"),
        "motivation" => ("Дәлелдеме", "Мотивировка", "Motivation"),
        "comment" => ("Түсініктеме", "Комментарий", "Comment"),
        "at" => ("Уақыты", "Время", "Time"),
        "place" => ("Орны", "Место", "Place"),
        other => return other.replace('_', " "),
    };
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
    .to_string()
}

/// A value in one language: a `{kk, ru, en}` text picks the language (else any present), a string is
/// itself, a cited item is its text with its number and source, anything else compact JSON.
fn text_of(v: &Value, lang: Lang) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".into(),
        Value::Object(m) if !m.is_empty() && m.keys().all(|k| matches!(k.as_str(), "kk" | "ru" | "en")) => {
            [lang, Lang::En, Lang::Ru, Lang::Kk]
                .iter()
                .find_map(|l| m.get(l.code()).and_then(|x| x.as_str()))
                .unwrap_or("")
                .to_string()
        }
        Value::Object(m) if m.contains_key("text") || m.contains_key("name") => {
            let main = text_of(m.get("text").or_else(|| m.get("name")).unwrap_or(&Value::Null), lang);
            let mut out = match m.get("number").and_then(|n| n.as_u64()) {
                Some(n) => format!("{n}) {main}"),
                None => main,
            };
            if let Some(code) = m.get("code").and_then(|c| c.as_str()) {
                out.push_str(&format!(" ({code})"));
            }
            if let Some(source) = m.get("source").filter(|s| !s.is_null()) {
                out.push_str(&format!(" [{}]", text_of(source, lang)));
            }
            out
        }
        Value::Object(m) => {
            m.iter().map(|(k, x)| format!("{}: {}", label(k, lang), text_of(x, lang))).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

fn render_member(out: &mut String, key: &str, v: &Value, lang: Lang, indent: &str) {
    match v {
        Value::Array(items) => {
            out.push_str(&format!("{indent}{}:\n", label(key, lang)));
            if items.is_empty() {
                out.push_str(&format!("{indent}  —\n"));
            }
            for (i, item) in items.iter().enumerate() {
                out.push_str(&format!("{indent}  {}. {}\n", i + 1, text_of(item, lang)));
            }
        }
        _ => out.push_str(&format!("{indent}{}: {}\n", label(key, lang), text_of(v, lang))),
    }
}

/// The plain-text rendering of a result document in one language.
fn render_text(doc: &Value, kind: ResultDocumentKind, lang: Lang, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    out.push_str(kind.title().get(lang).unwrap_or(""));
    out.push_str("\n\n");
    let service_title = text_of(&doc["service"]["title"], lang);
    let service_key = doc["service"]["key"].as_str().unwrap_or("");
    render_member(&mut out, "registration_number", &doc["registration_number"], lang, "");
    out.push_str(&format!("{}: {service_title} ({service_key})\n", label("service", lang)));
    render_member(&mut out, "passport_version", &doc["passport_version"], lang, "");
    render_member(&mut out, "applicant_iin", &doc["applicant_iin"], lang, "");
    let provider = match &doc["provider"]["name"] {
        Value::Null => doc["provider"]["id"].as_str().unwrap_or("").to_string(),
        name => text_of(name, lang),
    };
    out.push_str(&format!("{}: {provider}\n", label("provider", lang)));
    out.push_str(&format!("{}:\n", label("decision", lang)));
    if let Some(m) = doc["decision"].as_object() {
        for (k, v) in m {
            render_member(&mut out, k, v, lang, "  ");
        }
    }
    out.push_str(&format!(
        "{}: {} ({})\n",
        label("decided_by", lang),
        doc["decided_by"]["sub"].as_str().unwrap_or(""),
        doc["decided_by"]["role"].as_str().unwrap_or("")
    ));
    let local = domain::calendar::BusinessCalendar::kazakhstan().to_local(now);
    out.push_str(&format!("{}: {}\n", label("issued_at", lang), local.format("%Y-%m-%d %H:%M")));
    out
}

// ---------------------------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------------------------

/// Why a document does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationProblem {
    /// Stable: `signature_invalid`, `unknown_key`, `algorithm_not_allowed`, `header_invalid`,
    /// `payload_invalid`, `payload_differs_from_document`, `content_hash_mismatch`,
    /// `content_differs_from_signed_payload`, `not_a_result_document`.
    #[schema(example = "signature_invalid")]
    pub code: String,
    pub message: String,
}

fn problem(code: &str, message: impl Into<String>) -> VerificationProblem {
    VerificationProblem { code: code.into(), message: message.into() }
}

/// Who decided, as the document states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DecidedBy {
    pub sub: String,
    pub role: String,
}

/// The outcome of verifying a result document. The document's own statements (`kind`,
/// `registration_number`, ...) are reported as the document makes them; trust them only when `valid`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"valid": true, "document_id": "01936f5e-8a4b-7c2d-9e1f-0a1b2c3d4e5f", "kind": "approval_result",
    "registration_number": "2026-000042", "issued_at": "2026-11-27T09:30:00Z", "decided_by": {"sub": "emp-1", "role": "employee"},
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "problems": []}))]
pub struct Verification {
    /// True when the signature is this server's and the content is exactly what was signed.
    pub valid: bool,
    pub document_id: Option<String>,
    /// The result kind: `approval_result`, `motivated_refusal`, `intake_refusal_receipt`,
    /// `preliminary_refusal_notice`, `queue_registration_slip`, `preschool_referral`.
    pub kind: Option<String>,
    pub registration_number: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub decided_by: Option<DecidedBy>,
    /// The key id the signature names.
    pub kid: Option<String>,
    /// SHA-256 (hex) of the signed document bytes.
    pub sha256: Option<String>,
    /// Empty when valid.
    pub problems: Vec<VerificationProblem>,
}

impl Verification {
    fn from_problems(problems: Vec<VerificationProblem>) -> Self {
        Verification {
            valid: problems.is_empty(),
            document_id: None,
            kind: None,
            registration_number: None,
            issued_at: None,
            decided_by: None,
            kid: None,
            sha256: None,
            problems,
        }
    }

    fn fill_from(&mut self, payload: &[u8]) {
        self.sha256 = Some(sha256_hex(payload));
        let Ok(doc) = serde_json::from_slice::<Value>(payload) else { return };
        let s = |k: &str| doc.get(k).and_then(|v| v.as_str()).map(String::from);
        self.document_id = s("document_id");
        self.kind = s("kind");
        self.registration_number = s("registration_number");
        self.issued_at =
            s("issued_at").and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc));
        self.decided_by = doc.get("decided_by").and_then(|v| serde_json::from_value(v.clone()).ok());
    }
}

fn is_b64url(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A compact JWS split into its three segments, or a 422 naming `field` when it is not shaped as one.
fn split_jws<'a>(jws: &'a str, field: &str, allow_empty_payload: bool) -> Result<[&'a str; 3], ApiError> {
    // Exactly [`JWS_PATTERN`] (or [`SIGNATURE_PATTERN`]): no surrounding whitespace either.
    let parts: Vec<&str> = jws.split('.').collect();
    let shaped = parts.len() == 3
        && !parts[0].is_empty()
        && !parts[2].is_empty()
        && (allow_empty_payload || !parts[1].is_empty())
        && parts.iter().all(|p| is_b64url(p));
    if !shaped {
        return Err(ApiError::field(
            field,
            "format",
            "must be a compact JWS: three base64url segments separated by dots (header.payload.signature)",
        ));
    }
    Ok([parts[0], parts[1], parts[2]])
}

/// Verifies the signature segments against `signer`'s public key, for the payload segment `payload_b64`.
fn check_signature(signer: &Signer, header_b64: &str, payload_b64: &str, sig_b64: &str, v: &mut Verification) {
    match URL_SAFE_NO_PAD.decode(header_b64).ok().and_then(|h| serde_json::from_slice::<Value>(&h).ok()) {
        None => v.problems.push(problem("header_invalid", "the protected header is not base64url-encoded JSON")),
        Some(h) => {
            if h.get("alg").and_then(|a| a.as_str()) != Some("EdDSA") {
                v.problems
                    .push(problem("algorithm_not_allowed", "only `alg: EdDSA` (Ed25519) signatures are accepted"));
            }
            v.kid = h.get("kid").and_then(|k| k.as_str()).map(String::from);
            if v.kid.as_deref() != Some(signer.kid()) {
                v.problems.push(problem(
                    "unknown_key",
                    format!(
                        "signed with key `{}`, not this server's key `{}` (GET /api/v1/documents/signing-key)",
                        v.kid.as_deref().unwrap_or("(none)"),
                        signer.kid()
                    ),
                ));
            }
        }
    }
    let signature = URL_SAFE_NO_PAD.decode(sig_b64).ok().and_then(|b| Signature::from_slice(&b).ok());
    let ok = signature.is_some_and(|s| {
        signer.public_key().verify_strict(format!("{header_b64}.{payload_b64}").as_bytes(), &s).is_ok()
    });
    if !ok {
        v.problems.push(problem(
            "signature_invalid",
            "the signature does not match the signed content: the document or its signature was altered, or another key signed it",
        ));
    }
}

/// Verifies a compact JWS carrying its payload. 422 when it is not shaped as a JWS at all.
pub fn verify_jws(signer: &Signer, jws: &str) -> Result<Verification, ApiError> {
    let [h, p, s] = split_jws(jws, "jws", false)?;
    let mut v = Verification::from_problems(vec![]);
    check_signature(signer, h, p, s, &mut v);
    match URL_SAFE_NO_PAD.decode(p) {
        Ok(payload) => {
            if serde_json::from_slice::<Value>(&payload)
                .map_or(true, |d| d.get("format").and_then(|f| f.as_str()) != Some(RESULT_FORMAT))
            {
                v.problems.push(problem(
                    "payload_invalid",
                    format!("the payload is not a result document (`format: {RESULT_FORMAT}`)"),
                ));
            }
            v.fill_from(&payload);
        }
        Err(_) => v.problems.push(problem("payload_invalid", "the payload is not base64url")),
    }
    v.valid = v.problems.is_empty();
    Ok(v)
}

/// Verifies a document someone holds (its exact bytes, or its JSON re-serialised canonically) against a
/// detached (`header..signature`) or complete JWS.
pub fn verify_detached(signer: &Signer, document: &[u8], signature: &str) -> Result<Verification, ApiError> {
    let [h, p, s] = split_jws(signature, "signature", true)?;
    let mut v = Verification::from_problems(vec![]);
    let document_b64 = URL_SAFE_NO_PAD.encode(document);
    if !p.is_empty() && p != document_b64 {
        v.problems.push(problem("payload_differs_from_document", "the signature's payload is not this document"));
    }
    check_signature(signer, h, &document_b64, s, &mut v);
    v.fill_from(document);
    v.valid = v.problems.is_empty();
    Ok(v)
}

/// Verifies a stored result document: its signature, that the signed payload is the stored content, and
/// that the content still has the recorded SHA-256.
pub fn verify_stored(signer: &Signer, doc: &DocumentRow) -> Verification {
    let mut v = Verification::from_problems(vec![]);
    if sha256_hex(&doc.content) != doc.sha256 {
        v.problems
            .push(problem("content_hash_mismatch", "the stored content no longer has the SHA-256 recorded at issue"));
    }
    match doc.signature.as_deref().map(|s| split_jws(s, "signature", false)) {
        Some(Ok([h, p, s])) => {
            check_signature(signer, h, p, s, &mut v);
            if URL_SAFE_NO_PAD.decode(p).ok().as_deref() != Some(doc.content.as_slice()) {
                v.problems
                    .push(problem("content_differs_from_signed_payload", "the stored content is not what was signed"));
            }
        }
        _ => v.problems.push(problem("signature_invalid", "the document carries no well-formed signature")),
    }
    v.fill_from(&doc.content);
    v.document_id = Some(doc.id.clone());
    v.valid = v.problems.is_empty();
    v
}

/// A compact JWS (header.payload.signature, each base64url) as the verification takes it.
pub const JWS_PATTERN: &str = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$";
/// A signature to check against a document: a detached JWS (`header..signature`) or a complete one.
pub const SIGNATURE_PATTERN: &str = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$";

/// The request of `POST /api/v1/documents/verify`: either `jws`, or `document` with `signature`,
/// never both. A member that is present counts as given, `null` included (then 422 `type`), exactly
/// as the request's schema says ([`VerifyRequest::schema`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The complete compact JWS (header.payload.signature) of a result document.
    #[serde(default, deserialize_with = "present")]
    pub jws: Option<Value>,
    /// Or: the result document as downloaded, either as a JSON object or as the exact downloaded text ...
    #[serde(default, deserialize_with = "present")]
    pub document: Option<Value>,
    /// ... with its signature: the detached JWS (`header..signature`, the download's
    /// `Document-Signature` header) or the complete one.
    #[serde(default, deserialize_with = "present")]
    pub signature: Option<Value>,
}

/// A member that is present, whatever its value (`null` too); an absent one is `None` (`serde(default)`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl utoipa::PartialSchema for VerifyRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
        let string = |pattern: &str, description: &str| {
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .pattern(Some(pattern))
                .description(Some(description))
        };
        let closed = |b: ObjectBuilder| {
            b.schema_type(SchemaType::Type(Type::Object))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
                .build()
        };
        let complete = closed(
            ObjectBuilder::new()
                .title(Some("A complete JWS"))
                .property(
                    "jws",
                    string(JWS_PATTERN, "The complete compact JWS (header.payload.signature) of a result document"),
                )
                .required("jws"),
        );
        let document = OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).description(Some("The JSON object")))
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .description(Some("The exact downloaded text")),
            )
            .description(Some("The result document as downloaded: its JSON object, or its exact text"));
        let detached = closed(
            ObjectBuilder::new()
                .title(Some("A document with its signature"))
                .property("document", document)
                .property(
                    "signature",
                    string(
                        SIGNATURE_PATTERN,
                        "Its signature: the detached JWS (`header..signature`, the download's `Document-Signature` \
header) or the complete one",
                    ),
                )
                .required("document")
                .required("signature"),
        );
        Schema::OneOf(
            OneOfBuilder::new()
                .item(complete)
                .item(detached)
                .description(Some("Either `jws`, or `document` with `signature`, never both"))
                .examples([json!({"jws": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiIsInR5cCI6IkpPU0UifQ.eyJmb3JtYXQiOiIuLi4ifQ.c2lnbmF0dXJl"})])
                .build(),
        )
        .into()
    }
}

impl ToSchema for VerifyRequest {}

impl validator::Validate for VerifyRequest {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// A member that must be a string.
fn text<'a>(field: &str, v: &'a Value) -> Result<&'a str, ApiError> {
    v.as_str().ok_or_else(|| ApiError::field(field, "type", "must be a string"))
}

/// Verifies what `POST /api/v1/documents/verify` received; 422 for malformed input.
pub fn verify_request(signer: &Signer, req: &VerifyRequest) -> Result<Verification, ApiError> {
    match (&req.jws, &req.document, &req.signature) {
        (Some(jws), None, None) => verify_jws(signer, text("jws", jws)?),
        (None, Some(doc), Some(sig)) => {
            let bytes = match doc {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Object(_) => canonical_bytes(doc),
                _ => {
                    return Err(ApiError::field(
                        "document",
                        "type",
                        "must be the result document: a JSON object or its text",
                    ))
                }
            };
            verify_detached(signer, &bytes, text("signature", sig)?)
        }
        (None, Some(_), None) => {
            Err(ApiError::field("signature", "required", "a document is verified with its signature"))
        }
        (None, None, Some(_)) => {
            Err(ApiError::field("document", "required", "a signature is verified with its document"))
        }
        (None, None, None) => Err(ApiError::validation(vec![FieldError::new(
            "jws",
            "required",
            "send `jws`, or `document` with `signature`",
        )])),
        (Some(_), _, _) => {
            Err(ApiError::field("jws", "exclusive", "send either `jws`, or `document` with `signature`, not both"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 6, 30, 0).unwrap()
    }

    struct Db {
        db: persistence::Database,
        dir: std::path::PathBuf,
    }

    impl Drop for Db {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn database() -> Db {
        let dir = std::env::temp_dir().join(format!("kz-documents-unit-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = persistence::Database::connect(&dir.join("app.db").to_string_lossy(), 2).unwrap();
        Db { db, dir }
    }

    /// An application as filed, read back from the database (so the test does not depend on the row's
    /// every column).
    fn application(db: &persistence::Database) -> Application {
        use diesel::RunQueryDsl;
        db.write(|c| {
            diesel::sql_query(
                "INSERT INTO applications (id, registration_number, service_key, passport_version, channel, status, \
                 applicant_iin, filed_by, filed_by_role, provider_id, form_data, submitted_at, counted_from, due_at, \
                 due_date, row_version, created_at, updated_at) VALUES ('app-1', '2026-000042', 'free_school_meals', \
                 'order-414-2022', 'portal', 'in_progress', '900101300123', '900101300123', 'applicant', \
                 'astana-education', '{}', '2026-11-23 05:00:00', '2026-11-23 05:00:00', '2026-11-30 13:30:00', \
                 '2026-11-30', 1, '2026-11-23 05:00:00', '2026-11-23 05:00:00')",
            )
            .execute(c)?;
            Ok(persistence::applications::find(c, "app-1")?.unwrap())
        })
        .unwrap()
    }

    fn decision() -> Value {
        json!({
            "result": "refused",
            "grounds": [{"code": "unreliable_documents", "number": 1,
                "text": {"kk": "құжаттардың анық еместігі", "ru": "недостоверность документов", "en": "the documents are unreliable"},
                "source": "order-414 p.9"}],
            "hearing": {"at": "2026-11-30T05:00:00Z", "place": "Astana, Mangilik El 8, room 101"}
        })
    }

    fn issued(kind: ResultDocumentKind) -> (Db, Signer, DocumentRow) {
        let db = database();
        let app = application(&db.db);
        let signer = Signer::from_seed([7; 32]);
        let row = db
            .db
            .write(|c| Ok(issue(c, &signer, &app, kind, decision(), ("emp-1", "employee"), now())))
            .unwrap()
            .unwrap();
        (db, signer, row)
    }

    #[test]
    fn issue_renders_signs_and_stores_a_verifiable_result() {
        let (db, signer, row) = issued(ResultDocumentKind::MotivatedRefusal);
        assert_eq!(row.kind, "result");
        assert_eq!(row.result_kind.as_deref(), Some("motivated_refusal"));
        assert_eq!(row.content_type, "application/json");
        assert_eq!(row.sha256, sha256_hex(&row.content));
        let doc: Value = serde_json::from_slice(&row.content).unwrap();
        assert_eq!(doc["registration_number"], "2026-000042");
        assert_eq!(doc["applicant_iin"], "900101300123");
        assert_eq!(doc["passport_version"], "order-414-2022");
        assert_eq!(doc["provider"]["id"], "astana-education");
        assert_eq!(doc["decided_by"], json!({"sub": "emp-1", "role": "employee"}));
        assert_eq!(doc["issued_at"], "2026-11-27T06:30:00Z");
        assert_eq!(doc["decision"], decision());
        assert!(doc["service"]["title"]["en"].is_string(), "{doc}");
        let ru = doc["text"]["ru"].as_str().unwrap();
        assert!(ru.starts_with("Мотивированный отказ"), "{ru}");
        assert!(ru.contains("недостоверность документов") && ru.contains("order-414 p.9"), "{ru}");
        assert!(ru.contains("2026-11-27 11:30"), "local Astana time: {ru}");
        assert!(doc["text"]["kk"].as_str().unwrap().contains("құжаттардың анық еместігі"));
        assert!(doc["text"]["en"].as_str().unwrap().contains("Astana, Mangilik El 8"));
        // Stored, and the stored copy verifies.
        let stored = db.db.read(|c| repo::find(c, &row.id)).unwrap().unwrap();
        assert_eq!(stored, row);
        let v = verify_stored(&signer, &stored);
        assert!(v.valid, "{v:?}");
        assert_eq!(v.kind.as_deref(), Some("motivated_refusal"));
        assert_eq!(v.registration_number.as_deref(), Some("2026-000042"));
        assert_eq!(v.issued_at, Some(now()));
        assert_eq!(v.decided_by, Some(DecidedBy { sub: "emp-1".into(), role: "employee".into() }));
        assert_eq!(v.document_id.as_deref(), Some(row.id.as_str()));
        // And so does the JWS a holder has, and the document with its detached signature.
        let jws = row.signature.clone().unwrap();
        assert!(verify_jws(&signer, &jws).unwrap().valid);
        assert!(verify_detached(&signer, &row.content, &detached(&jws)).unwrap().valid);
        // Re-serialised in another key order, the document still verifies (canonical form).
        let req = VerifyRequest { jws: None, document: Some(doc), signature: Some(detached(&jws).into()) };
        assert!(verify_request(&signer, &req).unwrap().valid);
    }

    #[test]
    fn a_tampered_payload_fails() {
        let (_db, signer, row) = issued(ResultDocumentKind::ApprovalResult);
        let jws = row.signature.clone().unwrap();
        // One byte of the document changed, re-encoded into the JWS.
        let mut content = row.content.clone();
        let at = content.windows(11).position(|w| w == b"2026-000042").unwrap() + 10;
        content[at] = b'9';
        let parts: Vec<&str> = jws.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(&content), parts[2]);
        let v = verify_jws(&signer, &tampered).unwrap();
        assert!(!v.valid);
        assert_eq!(v.problems.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), vec!["signature_invalid"]);
        assert_eq!(v.registration_number.as_deref(), Some("2026-000049"), "reported as the document claims");
        assert!(!verify_detached(&signer, &content, &detached(&jws)).unwrap().valid);
        // A changed stored copy is caught by its hash and by the signature.
        let mut stored = row.clone();
        stored.content = content;
        let v = verify_stored(&signer, &stored);
        let codes: Vec<&str> = v.problems.iter().map(|p| p.code.as_str()).collect();
        assert!(
            codes.contains(&"content_hash_mismatch") && codes.contains(&"content_differs_from_signed_payload"),
            "{codes:?}"
        );
        // A changed signature byte fails too.
        let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        sig[0] ^= 1;
        let v = verify_jws(&signer, &format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig))).unwrap();
        assert!(!v.valid);
    }

    #[test]
    fn another_key_fails() {
        let (_db, _signer, row) = issued(ResultDocumentKind::IntakeRefusalReceipt);
        let other = Signer::from_seed([8; 32]);
        let v = verify_jws(&other, row.signature.as_deref().unwrap()).unwrap();
        assert!(!v.valid);
        let codes: Vec<&str> = v.problems.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, vec!["unknown_key", "signature_invalid"]);
        assert!(!verify_stored(&other, &row).valid);
        // A forger who reuses the server's kid in the header still fails on the signature.
        let forged = Signer { key: other.key.clone(), kid: _signer.kid.clone() }.sign(&row.content);
        let v = verify_jws(&_signer, &forged).unwrap();
        assert_eq!(v.problems.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(), vec!["signature_invalid"]);
    }

    #[test]
    fn malformed_input_is_422_and_combinations_are_checked() {
        let s = Signer::from_seed([1; 32]);
        for bad in ["", "abc", "a.b", "a.b.c.d", "a b.c.d", "a..c"] {
            let e = verify_jws(&s, bad).unwrap_err();
            assert!(matches!(e, ApiError::Validation { .. }), "{bad}: {e:?}");
        }
        let none = VerifyRequest { jws: None, document: None, signature: None };
        assert!(verify_request(&s, &none).is_err());
        let both = VerifyRequest { jws: Some("a.b.c".into()), document: Some(json!({})), signature: None };
        assert!(verify_request(&s, &both).is_err());
        // Present is given, `null` included: neither a missing member nor a string.
        let null = VerifyRequest { jws: Some(Value::Null), document: None, signature: None };
        assert!(matches!(verify_request(&s, &null), Err(ApiError::Validation { .. })));
        let with_null: VerifyRequest = serde_json::from_value(json!({"jws": "a.b.c", "document": null})).unwrap();
        assert!(with_null.document.is_some() && verify_request(&s, &with_null).is_err());
        // The segments exactly: no whitespace around them.
        assert!(verify_jws(&s, " a.b.c\n").is_err());
    }

    #[test]
    fn keys_jwk_and_sniffing() {
        let s = Signer::from_hex(&"07".repeat(32)).unwrap();
        assert_eq!(s.kid(), Signer::from_seed([7; 32]).kid());
        let jwk = s.jwk();
        assert_eq!((jwk.kty.as_str(), jwk.crv.as_str(), jwk.alg.as_str()), ("OKP", "Ed25519", "EdDSA"));
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.x).unwrap().len(), 32);
        assert!(Signer::from_hex("abcd").is_err());
        assert!(!format!("{s:?}").contains("07070707"));
        // RFC 8037 appendix A.1/A.3: the test key's public key and thumbprint.
        let rfc = Signer::from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").unwrap();
        assert_eq!(rfc.jwk().x, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(rfc.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"MZ\x90\x00"), None);
    }

    #[test]
    fn the_generated_key_is_kept_across_restarts() {
        let db = database();
        let a = Signer::configured_or_stored(None, &db.db, now()).unwrap();
        let b = Signer::configured_or_stored(None, &db.db, now()).unwrap();
        assert_eq!(a.kid(), b.kid());
        let c = Signer::configured_or_stored(Some([3; 32]), &db.db, now()).unwrap();
        assert_ne!(a.kid(), c.kid());
    }
}
