//! Documents: attachments (upload, list, download, refusals) and public verification of signed result
//! documents, on both databases.
//!
//! The server of every test here signs with a fixed `DOCUMENT_SIGNING_KEY` and accepts uploads up to a
//! small `MAX_UPLOAD_BYTES`, both set before any server of this test binary starts.

use api::auth::Role;
use api::documents::{canonical_bytes, detached, sha256_hex, Signer, RESULT_FORMAT};
use e2e::{form_for, Backend, TestApp};
use serde_json::{json, Value};

const APPLICANT: &str = "900101300116";
const OTHER_APPLICANT: &str = "850505400127";
const SERVICE: &str = "free_school_meals";
const SIGNING_SEED: &str = "5f1d0c3a9b8e7d6c5b4a39281706f5e4d3c2b1a0918273645546372819a0b1c2";
const MAX_UPLOAD: usize = 256 * 1024;

/// Sets the environment once, before the first server of this binary reads it.
fn configure() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::env::set_var("DOCUMENT_SIGNING_KEY", SIGNING_SEED);
        std::env::set_var("MAX_UPLOAD_BYTES", MAX_UPLOAD.to_string());
    });
}

/// Like `e2e!`, with [`configure`] run before the server starts.
macro_rules! docs_e2e {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($app: TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                configure();
                scenario(TestApp::spawn(Backend::Sqlite).await.expect("sqlite is always available")).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                configure();
                if let Some(app) = TestApp::spawn(Backend::Postgres).await {
                    scenario(app).await;
                }
            }
        }
    };
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

async fn file_application(app: &TestApp, token: &str) -> String {
    let body = json!({"service_key": SERVICE, "channel": "portal", "provider_id": "astana-education", "form": form_for(SERVICE, today(), APPLICANT)});
    let (s, a) = app.post("/api/v1/applications", Some(token), &body, None).await;
    assert_eq!(s, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

/// One part of a multipart form.
struct Part<'a> {
    name: &'a str,
    file_name: Option<&'a str>,
    content_type: Option<&'a str>,
    bytes: &'a [u8],
}

const BOUNDARY: &str = "----e2e-boundary-7MA4YWxkTrZu0gW";

fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = p.file_name {
            disposition.push_str(&format!("; filename=\"{f}\""));
        }
        out.extend_from_slice(format!("{disposition}\r\n").as_bytes());
        if let Some(ct) = p.content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(p.bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

async fn upload(app: &TestApp, token: &str, application_id: &str, parts: &[Part<'_>]) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(&format!("/api/v1/applications/{application_id}/documents")))
        .bearer_auth(token)
        .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(parts))
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

fn file<'a>(code: &'a str, content_type: &'a str, bytes: &'a [u8]) -> [Part<'a>; 2] {
    [
        Part { name: "requirement_code", file_name: None, content_type: None, bytes: code.as_bytes() },
        Part { name: "file", file_name: Some("birth certificate.pdf"), content_type: Some(content_type), bytes },
    ]
}

fn pdf() -> Vec<u8> {
    let mut b = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    b.extend((0..4096u32).map(|i| (i % 251) as u8));
    b.extend_from_slice(b"\n%%EOF\n");
    b
}

docs_e2e!(upload_list_download_and_history, |app| {
    let t = app.applicant(APPLICANT);
    let id = file_application(&app, &t).await;
    let content = pdf();
    let (s, d) = upload(&app, &t, &id, &file("birth_certificate", "application/pdf", &content)).await;
    assert_eq!(s, 201, "{d}");
    assert_eq!(d["kind"], "attachment");
    assert_eq!(d["requirement_code"], "birth_certificate");
    assert_eq!(d["file_name"], "birth certificate.pdf");
    assert_eq!(d["content_type"], "application/pdf");
    assert_eq!(d["size_bytes"], content.len());
    assert_eq!(d["sha256"], sha256_hex(&content));
    assert_eq!(d["created_by"], json!({"sub": APPLICANT, "role": "applicant"}));
    let doc_id = d["id"].as_str().unwrap().to_string();

    let (s, list) = app.get(&format!("/api/v1/applications/{id}/documents"), Some(&t)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], doc_id.as_str());
    assert_eq!(list[0]["requirement_code"], "birth_certificate");
    assert_eq!(list[0]["sha256"], sha256_hex(&content));

    let res = app.client.get(app.url(&format!("/api/v1/documents/{doc_id}"))).bearer_auth(&t).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["etag"].to_str().unwrap(), format!("\"{}\"", sha256_hex(&content)));
    assert!(res.headers()["digest"].to_str().unwrap().starts_with("sha-256="));
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    let downloaded = res.bytes().await.unwrap();
    assert_eq!(sha256_hex(&downloaded), sha256_hex(&content));
    assert_eq!(downloaded.as_ref(), content.as_slice());
    // A client holding the same version gets 304.
    let res = app
        .client
        .get(app.url(&format!("/api/v1/documents/{doc_id}")))
        .bearer_auth(&t)
        .header("If-None-Match", format!("\"{}\"", sha256_hex(&content)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 304);

    // The upload is in the application's history, naming the file and its hash.
    let (_, h) = app.get(&format!("/api/v1/applications/{id}/history"), Some(&t)).await;
    let entry = h.as_array().unwrap().iter().find(|e| e["action"] == "document_attached").expect("a history entry");
    assert_eq!(entry["changes"]["document"]["new"]["sha256"], sha256_hex(&content));
    assert_eq!(entry["changes"]["document"]["new"]["file_name"], "birth certificate.pdf");
    assert_eq!(entry["actor"], json!({"sub": APPLICANT, "role": "applicant"}));

    // Another applicant sees nothing: 404 everywhere, and cannot attach.
    let other = app.applicant(OTHER_APPLICANT);
    for path in [format!("/api/v1/applications/{id}/documents"), format!("/api/v1/documents/{doc_id}")] {
        let (s, b) = app.get(&path, Some(&other)).await;
        assert_eq!(s, 404, "{path}: {b}");
        assert_eq!(b["code"], "not_found");
    }
    let (s, b) = upload(&app, &other, &id, &file("birth_certificate", "application/pdf", &content)).await;
    assert_eq!(s, 404, "{b}");

    // The provider's staff read it; another provider's staff do not; the public verify endpoint does not
    // reveal attachments.
    let staff = app.token(Role::Employee, "emp-1", Some("astana-education"));
    let (s, list) = app.get(&format!("/api/v1/applications/{id}/documents"), Some(&staff)).await;
    assert_eq!((s, list.as_array().map(|l| l.len())), (200, Some(1)));
    let res = app.client.get(app.url(&format!("/api/v1/documents/{doc_id}"))).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let foreign = app.token(Role::Employee, "emp-2", Some("almaty-education"));
    let (s, _) = app.get(&format!("/api/v1/documents/{doc_id}"), Some(&foreign)).await;
    assert_eq!(s, 404);
    let (s, _) = app.get(&format!("/api/v1/documents/{doc_id}/verify"), None).await;
    assert_eq!(s, 404);
    // Without a token: 401.
    let (s, _) = app.get(&format!("/api/v1/documents/{doc_id}"), None).await;
    assert_eq!(s, 401);
});

docs_e2e!(refused_uploads, |app| {
    let t = app.applicant(APPLICANT);
    let id = file_application(&app, &t).await;

    // A Windows executable declared as a PDF: the content decides.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF".to_vec();
    exe.extend_from_slice(b"This program cannot be run in DOS mode.");
    let (s, b) = upload(&app, &t, &id, &file("birth_certificate", "application/pdf", &exe)).await;
    assert_eq!(s, 415, "{b}");
    assert_eq!(b["code"], "unsupported_media_type");
    // A type outside the allowlist, even with PDF bytes.
    let (s, b) = upload(&app, &t, &id, &file("birth_certificate", "application/x-msdownload", &pdf())).await;
    assert_eq!(s, 415, "{b}");
    // PNG bytes declared as a PDF.
    let (s, _) = upload(&app, &t, &id, &file("birth_certificate", "application/pdf", b"\x89PNG\r\n\x1a\n0000")).await;
    assert_eq!(s, 415);
    // Not a form at all.
    let (s, b) = app.post(&format!("/api/v1/applications/{id}/documents"), Some(&t), &json!({"file": "x"}), None).await;
    assert_eq!(s, 415, "{b}");

    // One byte over MAX_UPLOAD_BYTES.
    let mut big = b"%PDF-".to_vec();
    big.resize(MAX_UPLOAD + 1, b'0');
    let (s, b) = upload(&app, &t, &id, &file("birth_certificate", "application/pdf", &big)).await;
    assert_eq!(s, 413, "{b}");
    assert_eq!(b["code"], "payload_too_large");
    // Exactly the limit is accepted.
    big.truncate(MAX_UPLOAD);
    let (s, b) = upload(&app, &t, &id, &file("birth_certificate", "application/pdf", &big)).await;
    assert_eq!(s, 201, "{b}");

    // A code that is not a document of the passport.
    let (s, b) = upload(&app, &t, &id, &file("diploma_of_a_wizard", "application/pdf", &pdf())).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "requirement_code");
    assert_eq!(b["errors"][0]["rule"], "not_a_document_of_the_passport");
    // Missing fields.
    let only_code =
        [Part { name: "requirement_code", file_name: None, content_type: None, bytes: b"birth_certificate" }];
    let (s, b) = upload(&app, &t, &id, &only_code).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["field"], "file");

    // Only the accepted upload was stored.
    let (_, list) = app.get(&format!("/api/v1/applications/{id}/documents"), Some(&t)).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    // An unknown application is 404.
    let (s, _) =
        upload(&app, &t, "00000000-0000-0000-0000-000000000000", &file("birth_certificate", "application/pdf", &pdf()))
            .await;
    assert_eq!(s, 404);
});

fn result_document() -> Value {
    json!({
        "format": RESULT_FORMAT,
        "document_id": "01936f5e-8a4b-7c2d-9e1f-0a1b2c3d4e5f",
        "kind": "approval_result",
        "application_id": "01936f5e-0000-7000-8000-000000000001",
        "registration_number": "2026-000042",
        "service": {"key": SERVICE, "title": {"en": "Free school meals"}},
        "passport_version": "order-414-2022",
        "applicant_iin": APPLICANT,
        "provider": {"id": "astana-education", "name": {"en": "Astana City Education Department"}},
        "decision": {"result": "approved"},
        "decided_by": {"sub": "emp-1", "role": "employee"},
        "issued_at": "2026-11-27T06:30:00Z",
        "text": {"en": "Result of the state service", "kk": "Мемлекеттік көрсетілетін қызметтің нәтижесі", "ru": "Результат оказания государственной услуги"}
    })
}

docs_e2e!(signing_key_and_verifying_a_held_copy, |app| {
    let signer = Signer::from_hex(SIGNING_SEED).unwrap();
    // The public key, without a token.
    let (s, jwk) = app.get("/api/v1/documents/signing-key", None).await;
    assert_eq!(s, 200, "{jwk}");
    assert_eq!(jwk["kid"], signer.kid());
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert_eq!(jwk["x"], signer.jwk().x);

    let doc = result_document();
    let bytes = canonical_bytes(&doc);
    let jws = signer.sign(&bytes);
    let (s, v) = app.post("/api/v1/documents/verify", None, &json!({"jws": jws}), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["kind"], "approval_result");
    assert_eq!(v["registration_number"], "2026-000042");
    assert_eq!(v["issued_at"], "2026-11-27T06:30:00Z");
    assert_eq!(v["decided_by"], json!({"sub": "emp-1", "role": "employee"}));
    assert_eq!(v["problems"], json!([]));

    // The document as JSON with its detached signature (any key order).
    let (s, v) =
        app.post("/api/v1/documents/verify", None, &json!({"document": doc, "signature": detached(&jws)}), None).await;
    assert_eq!((s, &v["valid"]), (200, &json!(true)), "{v}");

    // A tampered payload: one byte of the document changed.
    let mut tampered_doc = doc.clone();
    tampered_doc["registration_number"] = json!("2026-000043");
    let (s, v) = app
        .post("/api/v1/documents/verify", None, &json!({"document": tampered_doc, "signature": detached(&jws)}), None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["valid"], false);
    assert_eq!(v["problems"][0]["code"], "signature_invalid", "{v}");
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], base64_url::encode(&canonical_bytes(&tampered_doc)), parts[2]);
    let (s, v) = app.post("/api/v1/documents/verify", None, &json!({"jws": tampered}), None).await;
    assert_eq!((s, &v["valid"]), (200, &json!(false)), "{v}");

    // A tampered signature.
    let mut sig = base64_url::decode(parts[2]).unwrap();
    sig[10] ^= 0x01;
    let (s, v) = app
        .post(
            "/api/v1/documents/verify",
            None,
            &json!({"jws": format!("{}.{}.{}", parts[0], parts[1], base64_url::encode(&sig))}),
            None,
        )
        .await;
    assert_eq!((s, &v["valid"]), (200, &json!(false)), "{v}");

    // Signed by someone else's key.
    let forger = Signer::from_seed([9; 32]);
    let (s, v) = app.post("/api/v1/documents/verify", None, &json!({"jws": forger.sign(&bytes)}), None).await;
    assert_eq!((s, &v["valid"]), (200, &json!(false)), "{v}");
    let codes: Vec<&str> = v["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"unknown_key") && codes.contains(&"signature_invalid"), "{codes:?}");

    // Malformed input is 422.
    for body in [
        json!({"jws": "not a jws"}),
        json!({}),
        json!({"document": doc}),
        json!({"jws": jws, "document": doc, "signature": "a..b"}),
        json!({"jws": 5}),
        // A member that is present is given, `null` too (the spec's `oneOf` of two closed objects says so).
        json!({"jws": null}),
        json!({"jws": jws, "document": null}),
        json!({"document": doc, "signature": null}),
        json!({"document": 5, "signature": detached(&jws)}),
        // The segments exactly, as the spec's pattern: no white space around them.
        json!({"jws": format!("{jws}\n")}),
        json!([jws]),
    ] {
        let (s, b) = app.post("/api/v1/documents/verify", None, &body, None).await;
        assert_eq!(s, 422, "{body}: {b}");
    }
    // An unknown document id.
    let (s, _) = app.get("/api/v1/documents/00000000-0000-0000-0000-000000000000/verify", None).await;
    assert_eq!(s, 404);
});

docs_e2e!(retried_uploads_with_the_same_idempotency_key_store_one_document, |app| {
    let t = app.applicant(APPLICANT);
    let id = file_application(&app, &t).await;
    let content = pdf();
    let send = |key: &'static str, code: &'static str| {
        let body = multipart(&file(code, "application/pdf", &content));
        app.client
            .post(app.url(&format!("/api/v1/applications/{id}/documents")))
            .bearer_auth(&t)
            .header("Content-Type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .header("Idempotency-Key", key)
            .body(body)
            .send()
    };
    let first = send("upload-1", "birth_certificate").await.unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let first: Value = first.json().await.unwrap();
    let again = send("upload-1", "birth_certificate").await.unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    // The same key for another upload is refused, naming the header.
    let other = send("upload-1", "identity_document").await.unwrap();
    assert_eq!(other.status().as_u16(), 422);
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["errors"][0]["field"], "header.Idempotency-Key");
    let (_, list) = app.get(&format!("/api/v1/applications/{id}/documents"), Some(&t)).await;
    let attachments =
        list.as_array().or(list["items"].as_array()).unwrap().iter().filter(|d| d["kind"] == "attachment").count();
    assert_eq!(attachments, 1);
});
