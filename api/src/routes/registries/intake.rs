//! `/api/v1/applications/{id}/intake-check`: which documents the registries spare the applicant, and
//! what the applicant must still bring (`domain::registry::intake_check`).

use std::collections::BTreeMap;

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use domain::registry::{self as reg, IntakeCheck, Subjects};
use persistence::applications as apps;
use persistence::registries::{self as repo, EmbeddedRegistries};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::{self, AccessKind, Reader};
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::procedure::{passport_of, visibility};
use crate::schema::{channel_schema, registry_schema};
use crate::state::AppState;
use domain::application::Application;

/// Roles that read registries for their work.
const READERS: [Role; 4] = [Role::Admin, Role::Employee, Role::Head, Role::Operator];

/// A registry record an obtained document is taken from.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordSummaryView {
    pub subject_iin: String,
    #[schema(example = "marriage")]
    pub kind: String,
    /// The act record or certificate number, when the record has one.
    #[schema(example = "АЗ-2014-000731")]
    pub record_number: Option<String>,
    pub valid_until: Option<NaiveDate>,
}

/// A document the provider obtains from a registry instead of asking the applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObtainedView {
    /// The passport's document code.
    #[schema(example = "marriage_certificate_portal")]
    pub code: String,
    #[schema(schema_with = registry_schema)]
    pub registry: String,
    /// The valid records it is taken from; empty for a register of adverse entries with none on file
    /// (criminal records, narcological and psychiatric registers: "no entries" is the certificate).
    pub records: Vec<RecordSummaryView>,
}

/// The people whose records were consulted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectsView {
    pub applicant: String,
    pub spouse: Option<String>,
    pub children: Vec<String>,
}

/// The intake check of an application: its document set against the passport's checklist, with the
/// documents the state registries provide taken off the applicant's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeCheckView {
    pub application_id: String,
    pub service_key: String,
    pub passport_version: String,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    pub subtype: Option<String>,
    /// The day the records' validity was judged on (today in Kazakhstan).
    pub checked_on: NaiveDate,
    /// The answers to the passport's questions, taken from the form.
    pub answers: BTreeMap<String, String>,
    pub subjects: SubjectsView,
    /// Documents the applicant must provide (applicable, not obtainable from a registry), in the
    /// passport's order.
    pub required_from_applicant: Vec<String>,
    /// Checklist documents attached to the application.
    pub provided: Vec<String>,
    /// Documents obtained from registries that hold a valid record.
    pub obtained_from_registry: Vec<ObtainedView>,
    /// Required from the applicant and not attached.
    pub missing: Vec<String>,
    /// Documents whose requirement depends on an answer the form does not give.
    pub depends_on_answers: Vec<String>,
    /// Registries that did not answer: their documents are demanded from the applicant.
    pub unavailable_registries: Vec<String>,
    /// Nothing missing and nothing undecided.
    pub complete: bool,
}

/// Check an application's documents against the registries.
///
/// Runs the intake check on the application's passport version, channel, subtype and the answers in
/// its form: a document the passport lets the provider obtain from a state registry is not demanded
/// from the applicant when the registry has a valid record (for a child's birth certificate, of every
/// child named in the form); when it has none, the applicant must provide it. Attached documents
/// count by their requirement code. For provider staff of the application's provider, operators of
/// the centre where it was filed, and administrators; the application is not found for other staff.
#[utoipa::path(
    tag = "registries",
    operation_id = "getIntakeCheck",
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The intake check", body = IntakeCheckView),
        (status = 404, description = "No such application visible to the caller", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/applications/{id}/intake-check")]
pub async fn intake_check(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require(&READERS)?;
    let scope = visibility(&who);
    let id = id.into_inner();
    let catalog = state.catalog();
    let today = state.today();
    let state2 = state.clone();
    let reader = Reader::of(&req, &who);
    let (row, check, subjects, answers, unavailable) = web::block(move || {
        state2.db.read(|c| {
            let Some(row) = apps::find_visible(c, &id, &scope)? else {
                return Ok(Err(ApiError::not_found("no such application")));
            };
            let now = state2.clock.now();
            access::journal(
                c,
                &reader,
                AccessKind::IntakeCheck,
                &row.id,
                Some(&row.id),
                Some(&row.applicant_iin),
                now,
            )?;
            let passport = match passport_of(&catalog, &row) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let channel = row.channel;
            let form: &Value = &row.form;
            let subjects = Subjects::of_form(&row.applicant_iin, form);
            let answers = reg::answers_from_form(passport, form);
            let provided = repo::provided_requirement_codes(c, &row.id)?;
            let needed = reg::registries_needed(passport, channel, row.subtype.as_deref());
            let (records, errors) = reg::gather(&EmbeddedRegistries::new(c), &needed, &subjects);
            let provided_refs: Vec<&str> = provided.iter().map(String::as_str).collect();
            let check = reg::intake_check(
                passport,
                channel,
                row.subtype.as_deref(),
                &answers,
                &provided_refs,
                &records,
                &subjects,
                today,
            );
            let unavailable: Vec<String> =
                needed.iter().filter(|r| !records.contains_key(r)).map(|r| r.code().to_string()).collect();
            if !errors.is_empty() {
                tracing::warn!(application = %row.id, errors = ?errors, "registries did not answer the intake check");
            }
            Ok(Ok((row, check, subjects, answers, unavailable)))
        })
    })
    .await???;
    Ok(HttpResponse::Ok().json(view(row, check, subjects, answers, unavailable, today)))
}

fn view(
    row: Application,
    check: IntakeCheck,
    subjects: Subjects,
    answers: domain::passport::Answers,
    unavailable: Vec<String>,
    today: NaiveDate,
) -> IntakeCheckView {
    let complete = check.complete();
    IntakeCheckView {
        application_id: row.id,
        service_key: row.service_key,
        passport_version: row.passport_version,
        channel: row.channel.code().into(),
        subtype: row.subtype,
        checked_on: today,
        answers,
        subjects: SubjectsView { applicant: subjects.applicant, spouse: subjects.spouse, children: subjects.children },
        required_from_applicant: check.required_from_applicant,
        provided: check.provided,
        obtained_from_registry: check
            .obtained_from_registry
            .into_iter()
            .map(|o| ObtainedView {
                code: o.code,
                registry: o.registry.code().to_string(),
                records: o
                    .records
                    .into_iter()
                    .map(|r| RecordSummaryView {
                        subject_iin: r.subject_iin,
                        kind: r.kind,
                        record_number: r.record_number,
                        valid_until: r.valid_until,
                    })
                    .collect(),
            })
            .collect(),
        missing: check.missing,
        depends_on_answers: check.depends_on_answers,
        unavailable_registries: unavailable,
        complete,
    }
}
