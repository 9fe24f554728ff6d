//! `GET /api/v1/services/{key}/documents`: the document checklist for a channel, subtype and answers.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;

use crate::error::ApiError;
use crate::extract::request_lang;
use crate::state::AppState;
use crate::views::services::*;

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
        None => state.today(),
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
