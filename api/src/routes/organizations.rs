//! `/api/v1/organizations`: providers, State Corporation centres and the review body, so that front
//! ends can offer the applicant a provider to address.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::state::AppState;
use domain::text::Lang;

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    #[schema(example = "astana-education")]
    pub id: String,
    /// `provider`, `state_corporation` or `review_body`.
    #[schema(example = "provider")]
    pub kind: String,
    pub region: Option<String>,
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationsQuery {
    /// Only organisations of this kind.
    #[param(pattern = "^(provider|state_corporation|review_body)$")]
    pub kind: Option<String>,
    /// Language of the names (`kk`, `ru`, `en`).
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

/// List the organisations.
#[utoipa::path(
    tag = "organizations",
    operation_id = "listOrganizations",
    params(OrganizationsQuery),
    responses((status = 200, description = "Organisations", body = Vec<OrganizationView>)),
)]
#[get("/organizations")]
pub async fn list_organizations(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: ValidQuery<OrganizationsQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let kind = q.kind.clone();
    if kind.as_deref().is_some_and(|k| !matches!(k, "provider" | "state_corporation" | "review_body")) {
        return Err(ApiError::field("query.kind", "enum", "must be provider, state_corporation or review_body"));
    }
    let rows = web::block(move || state.db.read(persistence::organizations::list)).await??;
    let items: Vec<OrganizationView> = rows
        .into_iter()
        .filter(|o| kind.as_deref().is_none_or(|k| o.kind == k))
        .map(|o| OrganizationView {
            id: o.id,
            kind: o.kind,
            region: o.region,
            name: match lang {
                Lang::Kk => o.name_kk,
                Lang::Ru => o.name_ru,
                Lang::En => o.name_en,
            },
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}
