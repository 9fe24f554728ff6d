//! `POST /api/v1/applications/{id}/complaints`: the applicant files a complaint.

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use domain::complaint::{self, Complaint, NewComplaint, Subject};
use persistence::applications::{self as apps, Visibility};
use persistence::complaints::{self as repo, ComplaintScope};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::idempotency::Idempotency;
use crate::procedure::{concurrent, official};
use crate::state::AppState;
use crate::views::complaints::ComplaintView;

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "decision", "text": "The refusal ignores the income certificate I brought to the hearing."}))]
pub struct FileComplaint {
    /// What is complained about: the provider's `decision`, `action` or `inaction`.
    #[schema(schema_with = crate::views::codes::complaint_subject)]
    pub subject: String,
    #[validate(length(min = 1, max = 8000))]
    #[schema(min_length = 1, max_length = 8000)]
    pub text: String,
}

/// The applicant complains about the provider's decision, action or inaction on their application.
/// The complaint is registered now; the provider satisfies or forwards it within 3 working days and
/// reviews it within 5 (order No 414, rules para 38). `Idempotency-Key` replays the first complaint.
#[utoipa::path(
    tag = "complaints", operation_id = "fileComplaint",
    params(("id" = String, Path, description = "Application id"), crate::views::IdempotencyKey),
    request_body(content = FileComplaint, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered, with its terms", body = ComplaintView,
         headers(("Location" = String, description = "The complaint's URL"))),
        (status = 404, description = "No such application of the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`concurrent_change`: the application changed while this was written; read it again and retry", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem. Beyond the schema: an \
`Idempotency-Key` already used by the caller for another request (`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications/{id}/complaints")]
pub async fn file_complaint(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<FileComplaint>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let body = body.0;
    let subject = Subject::parse(&body.subject)
        .ok_or_else(|| ApiError::field("subject", "enum", "one of: decision, action, inaction"))?;
    let application_id = id.into_inner();
    let fingerprint = json!({"application_id": application_id, "subject": body.subject, "text": body.text});
    let idem = Idempotency::of(&req, &who, "complaint", &fingerprint)?;
    let filer = official(&who);
    let now = state.clock.now();
    let state2 = state.clone();
    let (filed, replayed) = web::block(move || -> Result<(Complaint, bool), ApiError> {
        let (cal, catalog) = (state2.calendar(), state2.catalog());
        idem.run(|| {
            state2.db.write_with(|c| -> Result<(Complaint, bool), ApiError> {
                if let Some(id) = idem.replayed(c)? {
                    let first = repo::find_visible(c, &id, &ComplaintScope::All)?
                        .ok_or_else(|| ApiError::not_found("the first complaint is gone"))?;
                    return Ok((first, true));
                }
                let app = apps::find_visible(c, &application_id, &Visibility::Applicant(filer.sub.clone()))?
                    .ok_or_else(|| ApiError::not_found("no such application"))?;
                let passport = catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version));
                let new = NewComplaint { id: uuid::Uuid::now_v7().to_string(), subject, text: body.text.clone() };
                let change = complaint::file(&app, passport, &cal, &filer, new, now)?;
                repo::insert(c, &change.complaint)?;
                apps::record(c, &app, &change.history, &change.event, Some(&change.notice))
                    .map_err(concurrent("application"))?;
                idem.remember(c, &change.complaint.id, now)?;
                Ok((change.complaint, false))
            })
        })
    })
    .await??;
    let view = ComplaintView::new(filed, &who, now);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/complaints/{}", view.id)));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(view))
}
