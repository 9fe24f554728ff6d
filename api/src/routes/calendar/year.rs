//! `GET /api/v1/calendar/{year}`: a year of the Kazakh business calendar in the caller's language.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::extract::{request_lang, ValidQuery};
use crate::state::AppState;
use crate::views::calendar::*;

/// A year of the business calendar: every day off with its reason (holiday, the day off for a holiday
/// that fell on a weekend, a decree's transfer with its citation), the weekend days a decree made
/// working days, the decrees, working hours and the time zone.
///
/// Years without data (outside 2012-2027 unless an administrator added one) are answered from the
/// rules alone and say so with `coverage: rules_only`.
#[utoipa::path(
    tag = "calendar",
    operation_id = "getCalendarYear",
    params(("year" = i32, Path, description = "The year, 1991 to 2100", example = 2026, minimum = 1991, maximum = 2100), LangQuery),
    responses((status = 200, description = "The year's calendar", body = CalendarYearView)),
)]
#[get("/calendar/{year:[0-9]+}")]
pub async fn get_year(
    req: HttpRequest,
    state: web::Data<AppState>,
    year: web::Path<String>,
    q: ValidQuery<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let year = check_year(&year)?;
    Ok(localized(lang, CalendarYearView::new(&state.calendar(), year, lang)))
}
