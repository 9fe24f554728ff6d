//! `/api/v1/services`: the catalog of service passports, in the language the caller asks for.

use actix_web::{get, http::header, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use domain::catalog::Service;
use domain::passport::{Passport, Source, Stage, Term};
use domain::text::{Lang, Text};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::schema::{channel_schema, channels_schema};
use crate::state::AppState;

/// Where a value comes from in the law.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceView {
    /// The seed text's three-digit prefix (shared/seeds).
    #[schema(example = "004")]
    pub seed: String,
    /// Line range in that text.
    #[schema(example = "2431-2440")]
    pub lines: String,
    /// Paragraph or appendix row as the act numbers it.
    #[schema(example = "Order 414, Appendix 6, row 3")]
    pub reference: String,
    /// The whole citation in one string.
    #[schema(example = "004:2431-2440 | Order 414, Appendix 6, row 3")]
    pub citation: String,
}

impl From<&Source> for SourceView {
    fn from(s: &Source) -> Self {
        SourceView {
            seed: s.seed.clone(),
            lines: format!("{}-{}", s.from_line, s.to_line),
            reference: s.reference.clone(),
            citation: s.to_string(),
        }
    }
}

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn t(text: &Text, lang: Lang) -> String {
    text.resolve(lang).to_string()
}

/// A time limit of the passport.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermView {
    #[schema(example = "service_term")]
    pub code: String,
    /// What the term bounds: `service`, `queue_wait`, `counter_service`, `intake`, `delivery`,
    /// `send_to_state_bodies`, `state_bodies_answer`, `examination`, `result_issue`,
    /// `preliminary_refusal_notice`, `hearing`, `result_after_hearing`, `complaint_forwarding`,
    /// `complaint_review_provider`, `complaint_review_body`, `other`.
    #[schema(example = "service")]
    pub stage: String,
    /// Channels it applies to; empty means all.
    #[schema(schema_with = channels_schema)]
    pub channels: Vec<String>,
    pub subtype: Option<String>,
    #[schema(example = 10)]
    pub value: u32,
    /// `working_days`, `calendar_days`, `hours`, `working_hours`, `minutes`, `seconds`, `months` or `years`.
    #[schema(example = "working_days")]
    pub unit: String,
    /// The event the term is counted from: `filing`, `receipt_by_provider`, `previous_stage`,
    /// `request_received`, `decision`, `hearing`, `arrival`, `complaint_registered`,
    /// `service_term_end` (counted backwards), `expiry_of_status` (counted backwards), `interview`,
    /// `placement`.
    #[schema(example = "filing")]
    pub starts: String,
    /// The text states no such term: the value is derived (see the description and open questions).
    pub derived: bool,
    pub description: String,
    pub source: SourceView,
}

impl TermView {
    fn new(term: &Term, lang: Lang) -> Self {
        TermView {
            code: term.code.clone(),
            stage: code(&term.stage),
            channels: term.channels.iter().map(|c| c.code().to_string()).collect(),
            subtype: term.subtype.clone(),
            value: term.value,
            unit: term.unit.code().into(),
            starts: code(&term.starts),
            derived: term.derived,
            description: t(&term.description, lang),
            source: (&term.source).into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JurisdictionView {
    /// `national`, `region` or `district`.
    #[schema(example = "national")]
    pub level: String,
    /// The region or district of a regional act.
    pub name: Option<String>,
}

fn jurisdiction(p: &Passport, lang: Lang) -> JurisdictionView {
    JurisdictionView { level: code(&p.jurisdiction.level), name: p.jurisdiction.name.as_ref().map(|n| t(n, lang)) }
}

/// A service with the version in force on the requested date.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceSummary {
    #[schema(example = "foster_family_placement")]
    pub key: String,
    pub title: String,
    /// The version in force on the requested date.
    #[schema(example = "order-414-2022")]
    pub version: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub jurisdiction: JurisdictionView,
    /// `fully_automated`, `partially_automated` or `non_automated`.
    pub automation: String,
    #[schema(schema_with = channels_schema)]
    pub channels: Vec<String>,
    /// The whole-service terms (per channel or subtype where they differ).
    pub service_terms: Vec<TermView>,
}

impl ServiceSummary {
    fn new(p: &Passport, lang: Lang) -> Self {
        ServiceSummary {
            key: p.key.clone(),
            title: t(&p.title, lang),
            version: p.version.clone(),
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            jurisdiction: jurisdiction(p, lang),
            automation: code(&p.automation.level),
            channels: p.channels.iter().map(|c| c.code().to_string()).collect(),
            service_terms: p
                .terms
                .iter()
                .filter(|x| x.stage == Stage::Service)
                .map(|x| TermView::new(x, lang))
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    /// The date the versions are in force on.
    pub at: NaiveDate,
    /// The language of the texts.
    #[schema(example = "ru")]
    pub lang: String,
    pub items: Vec<ServiceSummary>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Versions in force on this date (default: today in Kazakhstan).
    pub at: Option<NaiveDate>,
    /// Only services offered through this channel.
    #[param(schema_with = channel_schema)]
    pub channel: Option<String>,
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
    /// `in_force` (default): services with a version in force on `at`; `all`: every service in the
    /// catalog, repealed ones with their latest version.
    #[param(pattern = "^(in_force|all)$")]
    pub scope: Option<String>,
}

/// The form carries its labels in all three languages (`x-title`); with a language it also carries
/// the standard `title` in that language, which any JSON Schema form renderer shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormQuery {
    /// The version in force on this date (default: today in Kazakhstan).
    pub at: Option<NaiveDate>,
    /// Language of the labels: each node with `x-title` gets `title` in it (`kk`, `ru`, `en`); else
    /// `Accept-Language`; with neither naming one of these, the form as the passport stores it.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormLangQuery {
    /// Language of the labels: each node with `x-title` gets `title` in it (`kk`, `ru`, `en`); else
    /// `Accept-Language`; with neither naming one of these, the form as the passport stores it.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PassportQuery {
    /// The version in force on this date (default: today in Kazakhstan).
    pub at: Option<NaiveDate>,
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

fn today(state: &AppState) -> NaiveDate {
    state.today()
}

fn localized(lang: Lang, body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_LANGUAGE, lang.code())).json(body)
}

/// List the services and the passport version of each in force on a date (or, with `scope=all`,
/// every service of the catalog).
#[utoipa::path(
    tag = "services",
    operation_id = "listServices",
    params(ListQuery),
    responses((status = 200, description = "Services in force on the date", body = ServiceList)),
)]
#[get("/services")]
pub async fn list_services(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: ValidQuery<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let channel = match q.channel.as_deref() {
        Some(c) => Some(
            domain::passport::Channel::parse(c)
                .ok_or_else(|| ApiError::field("channel", "enum", "not a known channel"))?,
        ),
        None => None,
    };
    let at = q.at.unwrap_or_else(|| today(&state));
    let all = match q.scope.as_deref() {
        None | Some("in_force") => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::field("query.scope", "enum", "must be in_force or all")),
    };
    let catalog = state.catalog();
    let items = catalog
        .services()
        .filter_map(|s: &Service| s.in_force(at).or_else(|| if all { s.versions.last() } else { None }))
        .filter(|p| channel.is_none_or(|c| p.channels.contains(&c)))
        .map(|p| ServiceSummary::new(p, lang))
        .collect();
    Ok(localized(lang, ServiceList { at, lang: lang.code().into(), items }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartyView {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActView {
    #[schema(example = "order")]
    pub kind: String,
    pub issuer: String,
    #[schema(example = "414")]
    pub number: String,
    pub date: NaiveDate,
    pub title: String,
    pub justice_registration_number: Option<String>,
    pub justice_registration_date: Option<NaiveDate>,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AutomationView {
    /// `fully_automated`, `partially_automated` or `non_automated`.
    pub level: String,
    pub text: String,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubtypeView {
    pub code: String,
    pub name: String,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionOptionView {
    pub code: String,
    pub text: String,
}

/// A fact the applicant states that changes the document checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub code: String,
    pub text: String,
    /// Empty for a yes/no question.
    pub options: Vec<QuestionOptionView>,
}

/// A document the passport requires (or the provider obtains itself), with its source.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequiredDocumentView)]
pub struct DocumentView {
    pub code: String,
    pub name: String,
    #[schema(schema_with = channels_schema)]
    pub channels: Vec<String>,
    pub subtypes: Vec<String>,
    /// The condition as the law words it; absent when always required.
    pub condition: Option<String>,
    /// The condition over the answers to `questions`, e.g. `{"yes": "married"}`.
    #[schema(value_type = Option<Object>)]
    pub when: Option<serde_json::Value>,
    /// The state registry the provider obtains it from itself, if any.
    pub registry: Option<String>,
    pub for_identification_only: bool,
    /// A copy is kept; the original is shown for verification and returned.
    pub original_for_verification: bool,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroundView {
    pub code: String,
    /// The subparagraph number in the act's list.
    pub number: Option<u32>,
    /// The shared general ground this one repeats, if any.
    pub shared: Option<String>,
    pub text: String,
    pub subtype: Option<String>,
    /// Channels where the ground applies; empty means all.
    #[schema(schema_with = channels_schema)]
    pub channels: Vec<String>,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    pub code: String,
    pub name: String,
    /// `electronic` and/or `paper`.
    pub delivery: Vec<String>,
    pub subtype: Option<String>,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeeView {
    /// Tenge; 0 for a free service; null when the text does not state it.
    pub amount_kzt: Option<u32>,
    pub text: String,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    pub around_the_clock: bool,
    pub opens: Option<String>,
    pub closes: Option<String>,
    /// Lunch break start and end.
    pub lunch: Option<Vec<String>>,
    pub saturdays: bool,
    pub after_hours_next_working_day: bool,
    pub text: String,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenQuestionView {
    pub text: String,
    pub source: SourceView,
}

/// One version of a service passport.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassportView {
    #[schema(example = "guardianship_certificate")]
    pub key: String,
    #[schema(example = "order-414-2022")]
    pub version: String,
    pub title: String,
    /// The language the act is published in; other languages are translations.
    #[schema(example = "kk")]
    pub language: String,
    /// `in_force`, `repealed` or `not_yet_in_force` on the requested date.
    pub status: String,
    /// `full`, or `title_only` when the texts keep only the title of this version (never open for filing).
    pub completeness: String,
    pub act: ActView,
    pub jurisdiction: JurisdictionView,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub repealed_by: Option<String>,
    pub automation: AutomationView,
    pub providers: Vec<PartyView>,
    pub recipients: Vec<PartyView>,
    pub subtypes: Vec<SubtypeView>,
    #[schema(schema_with = channels_schema)]
    pub channels: Vec<String>,
    pub terms: Vec<TermView>,
    pub questions: Vec<QuestionView>,
    pub documents: Vec<DocumentView>,
    pub refusal_to_accept: Vec<GroundView>,
    pub refusal_grounds: Vec<GroundView>,
    pub results: Vec<ResultView>,
    /// Absent for a title-only version.
    pub fee: Option<FeeView>,
    pub schedule: Vec<ScheduleView>,
    /// The application form as JSON Schema (draft 2020-12).
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    pub open_questions: Vec<OpenQuestionView>,
}

fn grounds(list: &[domain::passport::RefusalGround], lang: Lang) -> Vec<GroundView> {
    list.iter()
        .map(|g| GroundView {
            code: g.code.clone(),
            number: g.number,
            shared: g.shared.clone(),
            text: t(&g.text, lang),
            subtype: g.subtype.clone(),
            channels: g.channels.iter().map(|c| c.code().to_string()).collect(),
            source: (&g.source).into(),
        })
        .collect()
}

impl PassportView {
    pub fn new(p: &Passport, lang: Lang, at: NaiveDate) -> Self {
        let party = |x: &domain::passport::Party| PartyView { code: x.code.clone(), name: t(&x.name, lang) };
        PassportView {
            key: p.key.clone(),
            version: p.version.clone(),
            title: t(&p.title, lang),
            language: p.language.code().into(),
            status: code(&p.status_on(at)),
            completeness: code(&p.completeness),
            act: ActView {
                kind: p.act.kind.clone(),
                issuer: t(&p.act.issuer, lang),
                number: p.act.number.clone(),
                date: p.act.date,
                title: t(&p.act.title, lang),
                justice_registration_number: p.act.justice_registration.as_ref().map(|j| j.number.clone()),
                justice_registration_date: p.act.justice_registration.as_ref().map(|j| j.date),
                source: (&p.act.source).into(),
            },
            jurisdiction: jurisdiction(p, lang),
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            repealed_by: p.repealed_by.as_ref().map(|r| t(r, lang)),
            automation: AutomationView {
                level: code(&p.automation.level),
                text: t(&p.automation.text, lang),
                source: (&p.automation.source).into(),
            },
            providers: p.providers.iter().map(party).collect(),
            recipients: p.recipients.iter().map(party).collect(),
            subtypes: p
                .subtypes
                .iter()
                .map(|s| SubtypeView { code: s.code.clone(), name: t(&s.name, lang), source: (&s.source).into() })
                .collect(),
            channels: p.channels.iter().map(|c| c.code().to_string()).collect(),
            terms: p.terms.iter().map(|x| TermView::new(x, lang)).collect(),
            questions: p
                .questions
                .iter()
                .map(|q| QuestionView {
                    code: q.code.clone(),
                    text: t(&q.text, lang),
                    options: q
                        .options
                        .iter()
                        .map(|o| QuestionOptionView { code: o.code.clone(), text: t(&o.text, lang) })
                        .collect(),
                })
                .collect(),
            documents: p
                .documents
                .iter()
                .map(|d| DocumentView {
                    code: d.code.clone(),
                    name: t(&d.name, lang),
                    channels: d.channels.iter().map(|c| c.code().to_string()).collect(),
                    subtypes: d.subtypes.clone(),
                    condition: d.condition.as_ref().map(|c| t(c, lang)),
                    when: d.when.as_ref().and_then(|w| serde_json::to_value(w).ok()),
                    registry: d.registry.as_ref().map(code),
                    for_identification_only: d.for_identification_only,
                    original_for_verification: d.original_for_verification,
                    source: (&d.source).into(),
                })
                .collect(),
            refusal_to_accept: grounds(&p.refusal_to_accept, lang),
            refusal_grounds: grounds(&p.refusal_grounds, lang),
            results: p
                .results
                .iter()
                .map(|r| ResultView {
                    code: r.code.clone(),
                    name: t(&r.name, lang),
                    delivery: r.delivery.iter().map(code).collect(),
                    subtype: r.subtype.clone(),
                    source: (&r.source).into(),
                })
                .collect(),
            fee: p.fee.as_ref().map(|f| FeeView {
                amount_kzt: f.amount_kzt,
                text: t(&f.text, lang),
                source: (&f.source).into(),
            }),
            schedule: p
                .schedule
                .iter()
                .map(|h| ScheduleView {
                    channel: h.channel.code().into(),
                    around_the_clock: h.around_the_clock,
                    opens: h.opens.clone(),
                    closes: h.closes.clone(),
                    lunch: h.lunch.as_ref().map(|(a, b)| vec![a.clone(), b.clone()]),
                    saturdays: h.saturdays,
                    after_hours_next_working_day: h.after_hours_next_working_day,
                    text: t(&h.text, lang),
                    source: (&h.source).into(),
                })
                .collect(),
            form: p.form.clone(),
            open_questions: p
                .open_questions
                .iter()
                .map(|o| OpenQuestionView { text: o.text.clone(), source: (&o.source).into() })
                .collect(),
        }
    }
}

/// Read the passport of a service: the version in force today, or on `at`. Where regional acts of
/// several regions were in force at once, a national act governs, else the most recent; every version
/// in force is listed by `GET /api/v1/services/{key}/versions`.
#[utoipa::path(
    tag = "services",
    operation_id = "getService",
    params(("key" = String, Path, description = "Service key", example = "guardianship_certificate"), PassportQuery),
    responses(
        (status = 200, description = "The passport version in force", body = PassportView),
        (status = 404, description = "No such service, or no version in force on that date", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/services/{key}")]
pub async fn get_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| today(&state));
    let catalog = state.catalog();
    let p = governing_version(&catalog, &key, at)?;
    Ok(localized(lang, PassportView::new(p, lang, at)))
}

/// One version of a passport, in the list of versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    #[schema(example = "order-414-2022")]
    pub version: String,
    pub title: String,
    pub jurisdiction: JurisdictionView,
    pub act_number: String,
    pub act_date: NaiveDate,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    /// `in_force`, `repealed` or `not_yet_in_force` on the requested date.
    pub status: String,
    /// Whether this is the version that governs on the requested date.
    pub governing: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    pub key: String,
    pub title: String,
    pub at: NaiveDate,
    pub versions: Vec<VersionSummary>,
}

fn service_or_404<'a>(catalog: &'a domain::catalog::Catalog, key: &str) -> Result<&'a Service, ApiError> {
    catalog.service(key).ok_or_else(|| ApiError::not_found(format!("no service `{key}`")))
}

/// List every version of a service's passport, oldest first, with its status on a date.
#[utoipa::path(
    tag = "services",
    operation_id = "listServiceVersions",
    params(("key" = String, Path, description = "Service key", example = "guardianship_certificate"), PassportQuery),
    responses((status = 200, description = "All versions", body = VersionList)),
)]
#[get("/services/{key}/versions")]
pub async fn list_versions(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| today(&state));
    let catalog = state.catalog();
    let service = service_or_404(&catalog, &key)?;
    let governing = service.in_force(at).map(|p| p.version.clone());
    let versions = service
        .versions
        .iter()
        .map(|p| VersionSummary {
            version: p.version.clone(),
            title: t(&p.title, lang),
            jurisdiction: jurisdiction(p, lang),
            act_number: p.act.number.clone(),
            act_date: p.act.date,
            effective_from: p.effective_from,
            effective_to: p.effective_to,
            status: code(&p.status_on(at)),
            governing: governing.as_deref() == Some(p.version.as_str()),
        })
        .collect();
    Ok(localized(lang, VersionList { key: service.key.clone(), title: t(&service.title, lang), at, versions }))
}

/// Read one version of a passport by its id.
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceVersion",
    params(
        ("key" = String, Path, description = "Service key", example = "guardianship_certificate"),
        ("version" = String, Path, description = "Version id", example = "order-414-2022"),
        PassportQuery,
    ),
    responses((status = 200, description = "The passport version", body = PassportView)),
)]
#[get("/services/{key}/versions/{version}")]
pub async fn get_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: ValidQuery<PassportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let lang = request_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| today(&state));
    let catalog = state.catalog();
    let p = service_or_404(&catalog, &key)?
        .version(&version)
        .ok_or_else(|| ApiError::not_found(format!("service `{key}` has no version `{version}`")))?;
    Ok(localized(lang, PassportView::new(p, lang, at)))
}

fn governing_version<'a>(
    catalog: &'a domain::catalog::Catalog,
    key: &str,
    at: NaiveDate,
) -> Result<&'a Passport, ApiError> {
    service_or_404(catalog, key)?
        .in_force(at)
        .ok_or_else(|| ApiError::not_found(format!("service `{key}` has no version in force on {at}")))
}

/// The language of a form's labels: `?lang=`, else the first of ours in `Accept-Language`; none
/// when neither names one (`Accept-Language: *` included): then the form carries all three.
fn form_lang(req: &HttpRequest, explicit: Option<&str>) -> Result<Option<Lang>, ApiError> {
    if explicit.is_some() {
        return request_lang(req, explicit).map(Some);
    }
    Ok(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language))
}

/// A passport's form as served ([`domain::form::served`]).
fn form_response(p: &Passport, lang: Option<Lang>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type("application/schema+json")
        .insert_header(("X-Passport-Version", p.version.clone()))
        .insert_header((header::VARY, "Accept-Language"));
    if let Some(lang) = lang {
        res.insert_header((header::CONTENT_LANGUAGE, lang.code()));
    }
    res.body(domain::form::served(p, lang))
}

/// The application form of the version in force (or on `at`), as JSON Schema draft 2020-12.
///
/// Each property carries `x-title` with its label in Kazakh, Russian and English; with `lang` (or
/// `Accept-Language`) also `title` in that language. `examples[0]` is a complete form the server
/// accepts (required fields only). The server checks a filed form against this schema (`format: iin`
/// and `format: bin` also check the number's check digit).
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceForm",
    params(("key" = String, Path, description = "Service key", example = "free_school_meals"), FormQuery),
    responses((status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object)),
)]
#[get("/services/{key}/form")]
pub async fn get_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
    q: ValidQuery<FormQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = form_lang(&req, q.lang.as_deref())?;
    let at = q.at.unwrap_or_else(|| today(&state));
    let catalog = state.catalog();
    let p = governing_version(&catalog, &key, at)?;
    Ok(form_response(p, lang))
}

/// The application form of one version of a passport, as JSON Schema draft 2020-12: the form that
/// applications bound to that version were checked against (`title`, `examples` as for the form in force).
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceVersionForm",
    params(
        ("key" = String, Path, description = "Service key", example = "free_school_meals"),
        ("version" = String, Path, description = "Version id", example = "order-414-2022"),
        FormLangQuery,
    ),
    responses((status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object)),
)]
#[get("/services/{key}/versions/{version}/form")]
pub async fn get_version_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: ValidQuery<FormLangQuery>,
) -> Result<HttpResponse, ApiError> {
    let (key, version) = path.into_inner();
    let lang = form_lang(&req, q.lang.as_deref())?;
    let catalog = state.catalog();
    let p = service_or_404(&catalog, &key)?
        .version(&version)
        .ok_or_else(|| ApiError::not_found(format!("service `{key}` has no version `{version}`")))?;
    Ok(form_response(p, lang))
}

/// One line of the document checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistItem {
    pub code: String,
    pub name: String,
    /// `required`: the applicant submits it; `obtained_by_provider`: the provider takes it from a state
    /// registry itself and does not ask for it; `depends_on_answers`: the answers given do not settle
    /// whether it is needed (see `condition`).
    #[schema(example = "required")]
    pub requirement: String,
    pub condition: Option<String>,
    pub registry: Option<String>,
    pub for_identification_only: bool,
    pub original_for_verification: bool,
    pub source: SourceView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Checklist {
    pub key: String,
    pub version: String,
    #[schema(schema_with = channel_schema)]
    pub channel: String,
    pub subtype: Option<String>,
    /// Questions not answered in the request that would settle `depends_on_answers` items.
    pub unanswered_questions: Vec<QuestionView>,
    pub items: Vec<ChecklistItem>,
}

/// The named parameters of the checklist query (the rest are answers, read from the raw query string).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DocumentsQuery {
    /// The channel of filing; one the passport offers (else 422 `channel_not_offered`).
    #[param(value_type = crate::schema::ChannelCode, inline)]
    pub channel: String,
    /// The service subtype: required for, and one of, the subtypes of services that have them.
    pub subtype: Option<String>,
    /// The version in force on this date (default: today in Kazakhstan).
    pub at: Option<NaiveDate>,
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

/// Keys of the checklist query that are not answers to the passport's questions.
const CHECKLIST_PARAMS: [&str; 4] = ["channel", "subtype", "at", "lang"];

/// The document checklist for a channel, subtype and the applicant's answers (e.g. `married=true`):
/// what the applicant must bring, and what the provider obtains from registries itself.
#[utoipa::path(
    tag = "services",
    operation_id = "getServiceDocuments",
    params(
        ("key" = String, Path, description = "Service key", example = "guardianship_establishment"),
        DocumentsQuery,
        ("answers" = Option<std::collections::HashMap<String, String>>, Query, style = Form, explode,
         description = "Answers to the passport's questions, one parameter each: `married=true`, `applicant_relation=close_relative`"),
    ),
    responses(
        (status = 200, description = "The checklist", body = Checklist),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem. Beyond the schema, the rules of the \
passport in force (a schema of this operation cannot know them): `channel_not_offered` (`query.channel` is not a channel of \
this passport), `required` / `enum` on `query.subtype` (a service with subtypes needs one of its own), `unknown_question` \
(a parameter that is none of this passport's questions), `enum` / `type` on `query.<question>` (an answer the question \
does not allow; yes/no questions take `true` or `false`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/services/{key}/documents")]
pub async fn get_documents(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let lang = request_lang(&req, get("lang").as_deref())?;
    let at = match get("at") {
        Some(v) => NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|_| ApiError::BadRequest {
            code: "invalid_query",
            detail: "query parameter `at` must be a date YYYY-MM-DD".into(),
            errors: vec![crate::error::FieldError::new("query.at", "format", "must be a date YYYY-MM-DD")],
        })?,
        None => today(&state),
    };
    let catalog = state.catalog();
    let p = governing_version(&catalog, &key, at)?;
    let channel_code =
        get("channel").ok_or_else(|| ApiError::field("query.channel", "required", "name the channel of filing"))?;
    let channel =
        domain::passport::Channel::parse(&channel_code).filter(|c| p.channels.contains(c)).ok_or_else(|| {
            ApiError::field(
                "query.channel",
                "channel_not_offered",
                format!("`{key}` is not offered through `{channel_code}`"),
            )
        })?;
    let subtype = get("subtype");
    match (&subtype, p.subtypes.is_empty()) {
        (None, false) => return Err(ApiError::field("query.subtype", "required", "this service has subtypes")),
        (Some(s), _) if !p.subtypes.iter().any(|x| &x.code == s) => {
            return Err(ApiError::field("query.subtype", "enum", "not a subtype of this service"))
        }
        _ => {}
    }
    let mut answers = domain::passport::Answers::new();
    let mut errors = Vec::new();
    for (k, v) in pairs.iter().filter(|(k, _)| !CHECKLIST_PARAMS.contains(&k.as_str())) {
        match p.questions.iter().find(|q| &q.code == k) {
            None => errors.push(crate::error::FieldError::new(
                format!("query.{k}"),
                "unknown_question",
                "not a question of this passport",
            )),
            Some(q) if !q.options.is_empty() && !q.options.iter().any(|o| &o.code == v) => errors.push(
                crate::error::FieldError::new(format!("query.{k}"), "enum", "not an answer this question allows"),
            ),
            Some(q) if q.options.is_empty() && !matches!(v.as_str(), "true" | "false") => {
                errors.push(crate::error::FieldError::new(format!("query.{k}"), "type", "answer true or false"))
            }
            Some(_) => {
                answers.insert(k.clone(), v.clone());
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let items = p
        .checklist(channel, subtype.as_deref(), &answers)
        .map(|(d, applies)| ChecklistItem {
            code: d.code.clone(),
            name: t(&d.name, lang),
            requirement: match (applies, d.registry.is_some()) {
                (domain::passport::Applies::Unknown, _) => "depends_on_answers",
                (_, true) => "obtained_by_provider",
                _ => "required",
            }
            .into(),
            condition: d.condition.as_ref().map(|c| t(c, lang)),
            registry: d.registry.as_ref().map(code),
            for_identification_only: d.for_identification_only,
            original_for_verification: d.original_for_verification,
            source: (&d.source).into(),
        })
        .collect();
    let unanswered_questions = p
        .questions
        .iter()
        .filter(|q| !answers.contains_key(&q.code))
        .map(|q| QuestionView {
            code: q.code.clone(),
            text: t(&q.text, lang),
            options: q
                .options
                .iter()
                .map(|o| QuestionOptionView { code: o.code.clone(), text: t(&o.text, lang) })
                .collect(),
        })
        .collect();
    Ok(localized(
        lang,
        Checklist {
            key: p.key.clone(),
            version: p.version.clone(),
            channel: channel.code().into(),
            subtype,
            unanswered_questions,
            items,
        },
    ))
}

/// A passport version to publish: the shape of the catalog's data files
/// (`domain/catalog/services/*.yaml`, one element of `versions`), as JSON.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct PassportDocument(pub serde_json::Value);

impl utoipa::ToSchema for PassportDocument {}

/// The shape of a passport version (`domain::passport::Passport`) at its top level: the fields it must
/// have, their types, and no others. What a schema cannot say (every value sourced to lines of a seed
/// text, codes unique, channels and subtypes consistent, the form a valid JSON Schema) is checked by
/// the catalog validator, which answers 422 `invalid_passport` listing every problem.
impl utoipa::PartialSchema for PassportDocument {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let text = serde_json::json!({"type": "object", "additionalProperties": false, "minProperties": 1,
            "properties": {"kk": {"type": "string"}, "ru": {"type": "string"}, "en": {"type": "string"}}});
        let object = serde_json::json!({"type": "object"});
        let array = serde_json::json!({"type": "array", "items": {"type": "object"}});
        let schema = serde_json::json!({
            "type": "object",
            "description": "One passport version, in the shape of an element of `versions` in domain/catalog/services/*.yaml",
            "required": ["version", "title", "language", "act", "jurisdiction", "effective_from", "automation", "form"],
            "additionalProperties": false,
            "properties": {
                "key": {"type": "string", "description": "The service key; when given, it must equal the path's"},
                "version": {"type": "string", "minLength": 1, "description": "Version id, unique within the service"},
                "title": text,
                "language": {"type": "string", "enum": ["kk", "ru", "en"], "description": "The language of the act"},
                "completeness": {"type": "string", "enum": ["full", "title_only"]},
                "service_term_stated": {"type": "boolean"},
                "act": object,
                "jurisdiction": object,
                "effective_from": {"type": "string", "format": "date"},
                "effective_to": {"type": ["string", "null"], "format": "date"},
                "repealed_by": {"type": ["object", "null"]},
                "automation": object,
                "providers": array,
                "recipients": array,
                "subtypes": array,
                "channels": {"type": "array", "items": serde_json::to_value(channel_schema()).unwrap_or_default()},
                "terms": array,
                "questions": array,
                "documents": array,
                "refusal_to_accept": array,
                "refusal_grounds": array,
                "results": array,
                "fee": {"type": ["object", "null"]},
                "schedule": array,
                "form": {"type": "object", "description": "The application form, a JSON Schema (draft 2020-12) with `type: object`"},
                "open_questions": array,
            },
        });
        serde_json::from_value(schema).expect("a valid schema")
    }
}

impl validator::Validate for PassportDocument {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        // Checked in full by the catalog's own validator, which reports every problem at once.
        Ok(())
    }
}

/// Maps catalog validation errors (`terms.service_term.source`) to API field errors.
fn catalog_errors(e: domain::catalog::CatalogErrors) -> ApiError {
    ApiError::Validation {
        code: "invalid_passport",
        detail: format!("{} problem(s) in the passport", e.0.len()),
        errors: e
            .0
            .into_iter()
            .map(|x| {
                crate::error::FieldError::new(
                    if x.path.is_empty() { "body".into() } else { x.path },
                    "catalog_rule",
                    x.message,
                )
            })
            .collect(),
    }
}

/// Publish a new version of a service's passport (administrators).
///
/// Versions are append-only: publishing validates the whole passport as the shipped catalog is
/// validated (units, sources, codes, conditions, the form schema), never rewrites a published version
/// (409), and takes effect at once: applications filed from its `effective_from` bind to it.
#[utoipa::path(
    tag = "services",
    operation_id = "publishServiceVersion",
    params(("key" = String, Path, description = "Service key (a new key creates the service)", example = "free_school_meals")),
    request_body(content = PassportDocument, content_type = "application/json",
        description = "One passport version, in the shape of an element of `versions` in domain/catalog/services/*.yaml"),
    responses(
        (status = 201, description = "Published", body = PassportView, headers(("Location" = String, description = "The version's URL"))),
        (status = 409, description = "This version id is already published", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid passport: `invalid_passport` with every problem the catalog validator finds \
(texts in English and the act's language, every value sourced to existing lines of a seed text, codes unique, terms, \
documents and grounds on channels and subtypes the passport has, the form a JSON Schema of an object), or \
`validation_failed` with rule `must_match_path` (the body's `key` differs from the path)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/services/{key}/versions")]
pub async fn publish_version(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: crate::auth::Principal,
    key: web::Path<String>,
    body: crate::extract::ValidJson<PassportDocument>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[crate::auth::Role::Admin])?;
    let key = key.into_inner();
    let lang = request_lang(&req, None)?;
    let mut doc = body.0 .0;
    match doc.get("key").and_then(|k| k.as_str()) {
        Some(k) if k != key => {
            return Err(ApiError::field("key", "must_match_path", "the body's key differs from the path"))
        }
        _ => {}
    }
    if let Some(o) = doc.as_object_mut() {
        o.insert("key".into(), serde_json::Value::String(key.clone()));
    }
    let passport: Passport = serde_path_to_error::deserialize(doc.clone()).map_err(|e| {
        let path = e.path().to_string();
        ApiError::Validation {
            code: "invalid_passport",
            detail: format!("`{path}`: {}", e.inner()),
            errors: vec![crate::error::FieldError::new(path, "type", e.inner().to_string())],
        }
    })?;
    let now = state.clock.now();
    let state2 = state.clone();
    let published = web::block(move || -> Result<Passport, ApiError> {
        let _one_at_a_time = state2.publishing.lock().unwrap_or_else(|p| p.into_inner());
        let catalog = state2.catalog();
        if catalog.service(&key).and_then(|s| s.version(&passport.version)).is_some() {
            return Err(ApiError::Conflict {
                code: "version_exists",
                detail: format!(
                    "`{key}` version `{}` is published; publish a new version id instead",
                    passport.version
                ),
                state: None,
                allowed_actions: None,
            });
        }
        let next = catalog.with_version(None, passport.clone()).map_err(catalog_errors)?;
        let row = persistence::passports::PublishedPassport {
            service_key: key.clone(),
            version: passport.version.clone(),
            document: serde_json::to_string(&passport).map_err(|e| ApiError::Internal(e.to_string()))?,
            service_title: catalog
                .service(&key)
                .is_none()
                .then(|| serde_json::to_string(&passport.title).unwrap_or_default()),
            published_at: now.naive_utc(),
            published_by: who.sub.clone(),
        };
        state2.db.write(|c| persistence::passports::insert(c, &row)).map_err(|e| match e {
            persistence::StoreError::Conflict(_) => ApiError::Conflict {
                code: "version_exists",
                detail: "this version was published concurrently".into(),
                state: None,
                allowed_actions: None,
            },
            other => other.into(),
        })?;
        let stored = next.service(&key).and_then(|s| s.version(&passport.version)).cloned().expect("just added");
        state2.replace_catalog(next);
        Ok(stored)
    })
    .await??;
    let at = state.today();
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/services/{}/versions/{}", published.key, published.version)))
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .json(PassportView::new(&published, lang, at)))
}
