//! `GET /api/v1/services`: the services and the passport version of each in force on a date.

use actix_web::{get, web, HttpRequest, HttpResponse};
use domain::catalog::Service;

use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::state::AppState;
use crate::views::services::*;

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
    let at = q.at.unwrap_or_else(|| state.today());
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
