//! `/api/v1/organizations/{org_id}/staff`: the staff directory of each organisation. Administrators
//! enrol and deactivate staff; a head reads their own organisation's list. An application is assigned
//! only to an active employee of its provider (`persistence::staff::is_active_employee`).

use actix_web::{delete, get, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role, MAX_ID_LEN};
use crate::error::ApiError;
use crate::extract::{ValidJson, ValidQuery};
use crate::state::AppState;
use persistence::staff::StaffRow;

#[derive(Debug, Serialize, ToSchema)]
pub struct StaffMember {
    #[schema(example = "astana-education")]
    pub org_id: String,
    /// The `sub` of the person's tokens.
    #[schema(example = "emp-1")]
    pub sub: String,
    /// `operator`, `employee`, `head` or `reviewer`, fitting the organisation's kind.
    #[schema(example = "employee")]
    pub role: String,
    #[schema(example = "Aigerim Nurlanovna Sadykova")]
    pub full_name: String,
    /// Deactivated staff stay listed (history names them) but cannot be assigned.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StaffRow> for StaffMember {
    fn from(r: StaffRow) -> Self {
        StaffMember {
            org_id: r.org_id,
            sub: r.sub,
            role: r.role,
            full_name: r.full_name,
            active: r.active,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "employee", "full_name": "Aigerim Nurlanovna Sadykova"}))]
pub struct StaffInput {
    /// `operator` (State Corporation centre), `employee` or `head` (provider), `reviewer` (review body).
    #[schema(example = "employee", pattern = "^(operator|employee|head|reviewer)$")]
    pub role: String,
    /// Not blank: at least one character other than white space (Unicode `White_Space`, as `str::trim`).
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
    )]
    pub full_name: String,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    /// Also list deactivated staff.
    pub include_inactive: Option<bool>,
}

fn staff_sub_ok(sub: &str) -> Result<(), ApiError> {
    if sub.is_empty() || sub.len() > MAX_ID_LEN || sub.trim() != sub || sub.chars().any(char::is_control) {
        return Err(ApiError::not_found("no such staff member"));
    }
    Ok(())
}

/// 404 unless the organisation exists; its kind.
fn org_kind(c: &mut persistence::DbConnection, org_id: &str) -> Result<String, ApiError> {
    persistence::organizations::find(c, org_id)?
        .map(|o| o.kind)
        .ok_or_else(|| ApiError::not_found("no such organisation"))
}

/// The organisation's staff (administrators; a head, their own organisation's).
#[utoipa::path(
    tag = "organizations", operation_id = "listStaff",
    params(("org_id" = String, Path, description = "Organisation id"), StaffQuery),
    responses((status = 200, description = "Staff, active first", body = Vec<StaffMember>)),
    security(("bearer" = [])),
)]
#[get("/organizations/{org_id}/staff")]
pub async fn list_staff(
    state: web::Data<AppState>,
    who: Principal,
    org_id: web::Path<String>,
    q: ValidQuery<StaffQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin, Role::Head])?;
    let org_id = org_id.into_inner();
    if who.role == Role::Head && who.org() != org_id {
        return Err(ApiError::not_found("no such organisation among yours"));
    }
    let include_inactive = q.include_inactive.unwrap_or(false);
    let rows = web::block(move || {
        state.db.read(|c| {
            org_kind(c, &org_id).map_err(|_| persistence::StoreError::NotFound)?;
            persistence::staff::list(c, &org_id, include_inactive)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(StaffMember::from).collect::<Vec<_>>()))
}

/// Enrol a staff member, or change their role, name or state (administrators).
#[utoipa::path(
    tag = "organizations", operation_id = "putStaffMember",
    params(("org_id" = String, Path, description = "Organisation id"), ("sub" = String, Path, description = "The `sub` of the person's tokens")),
    request_body = StaffInput,
    responses(
        (status = 200, description = "The entry as stored", body = StaffMember),
        (status = 422, description = "Invalid input, `errors[].rule` naming each problem. Beyond the schema: the role \
must be one of the organisation's kind (`role_for_organisation`: operators work for a State Corporation centre, \
employees and heads for a provider, reviewers for the review body)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/organizations/{org_id}/staff/{sub}")]
pub async fn put_staff(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
    body: ValidJson<StaffInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let (org_id, sub) = path.into_inner();
    staff_sub_ok(&sub)?;
    let input = body.0;
    let role = Role::parse(&input.role)
        .filter(|r| r.needs_org())
        .ok_or_else(|| ApiError::field("role", "enum", "must be operator, employee, head or reviewer"))?;
    if input.full_name.trim().is_empty() {
        return Err(ApiError::field("full_name", "length", "must not be blank"));
    }
    let now = state.clock.now().naive_utc();
    let by = who.sub.clone();
    let row = web::block(move || {
        state.db.write_with(|c| -> Result<StaffRow, ApiError> {
            let kind = org_kind(c, &org_id)?;
            if role.org_kind() != Some(kind.as_str()) {
                return Err(ApiError::field(
                    "role",
                    "role_for_organisation",
                    format!(
                        "a `{}` works for a {}; `{org_id}` is a {kind}",
                        role.code(),
                        role.org_kind().unwrap_or("")
                    ),
                ));
            }
            let row = StaffRow {
                org_id,
                sub,
                role: role.code().to_string(),
                full_name: input.full_name.trim().to_string(),
                active: input.active.unwrap_or(true),
                created_at: now,
                updated_at: now,
                updated_by: by,
            };
            Ok(persistence::staff::upsert(c, &row)?)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(StaffMember::from(row)))
}

/// Deactivate a staff member (administrators): the entry stays, the person can no longer be
/// assigned applications.
#[utoipa::path(
    tag = "organizations", operation_id = "deactivateStaffMember",
    params(("org_id" = String, Path, description = "Organisation id"), ("sub" = String, Path, description = "The `sub` of the person's tokens")),
    responses((status = 200, description = "The deactivated entry", body = StaffMember)),
    security(("bearer" = [])),
)]
#[delete("/organizations/{org_id}/staff/{sub}")]
pub async fn deactivate_staff(
    state: web::Data<AppState>,
    who: Principal,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let (org_id, sub) = path.into_inner();
    staff_sub_ok(&sub)?;
    let now = state.clock.now().naive_utc();
    let by = who.sub.clone();
    let row = web::block(move || {
        state.db.write_with(|c| -> Result<StaffRow, ApiError> {
            let existing = persistence::staff::find(c, &org_id, &sub)?
                .ok_or_else(|| ApiError::not_found("no such staff member"))?;
            let row = StaffRow { active: false, updated_at: now, updated_by: by, ..existing };
            Ok(persistence::staff::upsert(c, &row)?)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(StaffMember::from(row)))
}
