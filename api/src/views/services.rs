//! The catalog's shapes as the caller reads them: services, passport versions with every value's
//! source, the document checklist; and reading the catalog for a request (a service or 404, the
//! version governing a date).

use actix_web::{http::header, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use domain::catalog::Service;
use domain::passport::{Passport, Source, Stage, Term};
use domain::text::{Lang, Text};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::extract::request_lang;
use crate::schema::{channel_schema, channels_schema};
pub use crate::views::{code, localized};

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

pub fn t(text: &Text, lang: Lang) -> String {
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
    pub fn new(term: &Term, lang: Lang) -> Self {
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

pub fn jurisdiction(p: &Passport, lang: Lang) -> JurisdictionView {
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
    pub fn new(p: &Passport, lang: Lang) -> Self {
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

pub fn grounds(list: &[domain::passport::RefusalGround], lang: Lang) -> Vec<GroundView> {
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

pub fn service_or_404<'a>(catalog: &'a domain::catalog::Catalog, key: &str) -> Result<&'a Service, ApiError> {
    catalog.service(key).ok_or_else(|| ApiError::not_found(format!("no service `{key}`")))
}

pub fn governing_version<'a>(
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
pub fn form_lang(req: &HttpRequest, explicit: Option<&str>) -> Result<Option<Lang>, ApiError> {
    if explicit.is_some() {
        return request_lang(req, explicit).map(Some);
    }
    Ok(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language))
}

/// A passport's form as served ([`domain::form::served`]).
pub fn form_response(p: &Passport, lang: Option<Lang>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.content_type("application/schema+json")
        .insert_header(("X-Passport-Version", p.version.clone()))
        .insert_header((header::VARY, "Accept-Language"));
    if let Some(lang) = lang {
        res.insert_header((header::CONTENT_LANGUAGE, lang.code()));
    }
    res.body(domain::form::served(p, lang))
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
pub const CHECKLIST_PARAMS: [&str; 4] = ["channel", "subtype", "at", "lang"];
