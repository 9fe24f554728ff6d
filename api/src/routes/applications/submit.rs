//! `POST /api/v1/applications`: filing an application (`domain::application::submission`), and the
//! system's own decision of a fully automated service right after.

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use chrono::Datelike;
use domain::application::submission::{self, Filer, Filing, NewIds, RepresentativeFacts};
use domain::application::{registration_number, Application, Context, Official, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::idempotency::Idempotency;
use crate::procedure::{actor, passport_of, store};
use crate::schema::channel_schema;
use crate::state::AppState;
use crate::views::applications::{ApplicationView, Representative};

/// A new application.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "service_key": "free_school_meals",
    "channel": "portal",
    "provider_id": "astana-education",
    "form": {
        "applicant": {"iin": "900101300126", "last_name": "Nurlanova", "first_name": "Aliya"},
        "child_category": "targeted_social_assistance",
        "children": [{"iin": "150312500019", "last_name": "Nurlanov", "first_name": "Arman", "school": "School-lyceum No 65, Astana"}],
        "personal_data_consent": true
    }
}))]
pub struct SubmitApplication {
    /// The service key from `GET /api/v1/services`.
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "foster_family_placement", min_length = 1, max_length = 64)]
    pub service_key: String,
    /// `portal` for applicants, `state_corporation` for operators, `provider_office` for provider staff.
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    /// The provider the application is addressed to (`GET /api/v1/organizations`).
    #[validate(length(min = 1, max = 64))]
    #[schema(example = "astana-education", min_length = 1, max_length = 64)]
    pub provider_id: String,
    /// The service subtype, for services that have subtypes.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub subtype: Option<String>,
    /// The applicant's IIN: required when staff file for a person; an applicant files for themselves
    /// (and may only give their own).
    #[schema(pattern = "^[0-9]{12}$", format = "iin", example = "900101300126")]
    pub applicant_iin: Option<String>,
    #[validate(nested)]
    pub representative: Option<Representative>,
    /// The application form, as the passport's form schema (`GET /api/v1/services/{key}`) describes.
    #[schema(value_type = Object)]
    pub form: Value,
}

impl SubmitApplication {
    fn filing(&self) -> Filing {
        Filing {
            service_key: self.service_key.clone(),
            channel: self.channel.clone(),
            provider_id: self.provider_id.clone(),
            subtype: self.subtype.clone(),
            applicant_iin: self.applicant_iin.clone(),
            representative: self.representative.as_ref().map(|r| RepresentativeFacts {
                iin: r.iin.clone(),
                power_of_attorney_issued_on: r.power_of_attorney.issued_on,
                power_of_attorney_valid_until: r.power_of_attorney.valid_until,
            }),
            representative_json: self.representative.as_ref().and_then(|r| serde_json::to_value(r).ok()),
            form: self.form.clone(),
        }
    }
}

/// File an application.
///
/// Applicants file on the portal for themselves; State Corporation operators file at their centre for
/// a person (with a representative's power of attorney when one applies); provider staff file at their
/// office. The application binds to the passport version in force at filing, and its due date comes
/// from that passport's term on the business calendar. Send an `Idempotency-Key` to make retries safe:
/// the same key with the same body returns the first application, never a second one.
#[utoipa::path(
    tag = "applications",
    operation_id = "submitApplication",
    request_body(content = SubmitApplication, content_type = "application/json"),
    params(crate::views::IdempotencyKey),
    responses(
        (status = 201, description = "Filed (or, with a repeated Idempotency-Key, the application filed first)", body = ApplicationView,
         headers(("Location" = String, description = "The application's URL"), ("ETag" = String, description = "The application's version"))),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem. Beyond the schema, the rules of the \
filer, the catalog and the service's passport in force: the channel of the caller's role (`channel_not_allowed_for_role`: \
applicants file on `portal`, operators through `state_corporation`, provider staff at `provider_office`), a service of the \
catalog in force today (`unknown_service`, `service_not_in_force`) offered through that channel (`channel_not_offered`, \
`no_service_term`), `subtype` one of the service's own (`required`, `enum`, `not_applicable`), `applicant_iin` required \
when staff file for a person (`required`) and the caller's own IIN when an applicant gives it (`must_be_caller`), a valid \
IIN (`iin_*`: check digit, date of birth) for `applicant_iin` and `representative.iin`, a power of attorney not valid \
until before its issue (`after_issue`), `form` fitting the form schema of the passport in force (`form.<path>` with the \
JSON Schema rule; `GET /api/v1/services/{key}/form`) and naming the same applicant (`must_match_applicant`) and subtype \
(`must_match_subtype`), `provider_id` an organisation of kind `provider` (`unknown_provider`) and the caller's own for \
provider staff (`own_organization`); an `Idempotency-Key` already used by the caller for another request \
(`idempotency_key_reused`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/applications")]
pub async fn submit_application(
    req: HttpRequest,
    state: web::Data<AppState>,
    orgs: web::Data<crate::auth::OrgDirectory>,
    who: Principal,
    body: ValidJson<SubmitApplication>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant, Role::Operator, Role::Employee, Role::Head])?;
    let body = body.0;
    let idem = Idempotency::of(&req, &who, "application", &serde_json::to_value(&body).unwrap_or(Value::Null))?;
    let filer = Filer { sub: who.sub.clone(), role: actor(who.role), org: who.org.clone() };
    let filing = body.filing();
    let now = state.clock.now();
    let served = state.in_force();
    let (generation, catalog) = (served.generation, served.catalog.clone());
    let today = served.calendar.to_local(now).date();
    let state2 = state.clone();
    let (app, replayed) = web::block(move || -> Result<(Application, bool), ApiError> {
        // Everything that needs no database is checked first, and every problem is listed at once.
        let checked = submission::check(&filing, &filer, &catalog, today)?;
        // An organisation's kind never changes (the directory every token is checked against holds
        // it): no round trip inside the filing's transaction; the foreign key holds the reference.
        submission::check_provider(orgs.kind_of(&state2.db, &filing.provider_id)?.as_deref())?;
        idem.run(|| {
            state2.db.write_with(|c| -> Result<(Application, bool), ApiError> {
                if let Some(id) = idem.replayed(c)? {
                    let first = persistence::applications::find(c, &id)?.ok_or_else(|| ApiError::not_found("gone"))?;
                    return Ok((first, true));
                }
                // The law this filing's due date is computed on, pinned until commit; when it moved
                // since the snapshot checked above, the filing is checked again on what is in force.
                let law = state2.law_for_write(c)?;
                let rechecked;
                let checked = if law.generation == generation {
                    &checked
                } else {
                    rechecked = submission::check(&filing, &filer, &law.catalog, law.calendar.to_local(now).date())?;
                    &rechecked
                };
                if domain::queue::is_queue_service(checked.passport) {
                    crate::queue::check_intake(c, &filing.provider_id, &filing.form, today)?;
                }
                let seq = persistence::sequences::next_registration(c, today.year())?;
                let ids = NewIds {
                    id: uuid::Uuid::now_v7().to_string(),
                    registration_number: registration_number(today.year(), seq),
                };
                let change = submission::new_application(checked, &filing, &filer, &law.calendar, ids, now)?;
                persistence::applications::save_new(c, &change)?;
                idem.remember(c, &change.application.id, now)?;
                Ok((change.application, false))
            })
        })
    })
    .await??;

    let app = if !replayed {
        let state3 = state.clone();
        let filed = app.clone();
        // Decided by the system at once, in its own transaction: the filing stands even if the
        // automated step fails (the application then waits, `submitted`, for a person).
        match web::block(move || decide_automatically(&state3, filed)).await? {
            Ok(decided) => decided,
            Err(e) => {
                tracing::error!(error = %e, application = %app.id, "automated decision failed");
                app
            }
        }
    } else {
        app
    };
    let view = ApplicationView::new(app);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, format!("/api/v1/applications/{}", view.id)))
        .insert_header((header::ETAG, view.etag()));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(res.json(view))
}

/// Decides a just-filed application of a fully automated service (the 2022 guardianship
/// certificate) from registry data: the system accepts it, takes it into work and approves or
/// refuses it (`domain::automated`), each step with its history entry and notice, the result signed,
/// in one transaction. An application the rules cannot decide stays `submitted` for a person.
fn decide_automatically(state: &AppState, app: Application) -> Result<Application, ApiError> {
    let now = state.clock.now();
    let calendar = state.calendar();
    let today = calendar.to_local(now).date();
    let catalog = state.catalog();
    let passport = passport_of(&catalog, &app)?;
    if !passport.is_fully_automated() || app.status != Status::Submitted {
        return Ok(app);
    }
    let system = Official::system();
    state.db.write_with(|c| -> Result<Application, ApiError> {
        let mut records = Vec::new();
        for registry in domain::automated::registries_for(&app.service_key) {
            records.extend(
                persistence::registries::lookup(c, *registry, &app.applicant_iin)?.iter().filter_map(|r| r.to_record()),
            );
        }
        let Some(outcome) = domain::automated::decide(&app.service_key, &records, today) else { return Ok(app) };
        let mut current = app;
        for step in domain::automated::steps(outcome, &records) {
            let ctx = Context { passport, calendar: &calendar, actor: &system, now };
            let change = domain::application::decide(&current, step, &ctx)?;
            current = store(c, &state.signer, change)?;
        }
        Ok(current)
    })
}
