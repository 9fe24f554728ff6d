//! `POST /api/v1/calendar/deadline`: count a term on the business calendar through a channel (and for
//! a service), explained step by step; the same arithmetic that gives applications their due dates.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use domain::calendar::Schedule;
use domain::deadline::{self};
use domain::passport::{Channel, TermUnit};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::openapi::schema::Schema;
use validator::Validate;

use crate::error::{ApiError, FieldError};
use crate::extract::{request_lang, ValidJson, ValidQuery};
use crate::state::AppState;
use crate::views::calendar::*;

/// A term to count: from a moment, so many units, through a channel (and for a service). Its schema is
/// written out below ([`utoipa::PartialSchema`]): one object per unit with that unit's bound.
#[derive(Debug, Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct DeadlineRequest {
    /// The moment of filing, RFC 3339 with its UTC offset.
    pub start: DateTime<FixedOffset>,
    /// How many units; the largest accepted depends on the unit (ten years of it). Leave `value` and
    /// `unit` out with a `service_key` to count that service's whole-service term for the channel.
    pub value: Option<u32>,
    pub unit: Option<TermUnit>,
    /// The channel the filing comes through: its hours decide from when the filing counts (the State
    /// Corporation takes filings Monday to Saturday 09:00-20:00, the provider's office Monday to Friday
    /// 09:00-18:30; on the portal a filing after 18:30, on a weekend or holiday counts from the next working
    /// day). With a `service_key`, the hours that service's passport states; without one, the hours order
    /// No 414 gives the channel in every service. Left out (and no service): the portal's rule, as before
    /// channels were distinguished.
    pub channel: Option<Channel>,
    /// A service (`GET /api/v1/services`): its passport version in force on the filing date gives the
    /// channel's hours and, when `value` and `unit` are left out, the term. Needs `channel`.
    #[validate(length(min = 1, max = 64))]
    pub service_key: Option<String>,
    /// The service's subtype, where its passport distinguishes subtypes (their terms differ).
    #[validate(length(min = 1, max = 64))]
    pub subtype: Option<String>,
}

impl utoipa::ToSchema for DeadlineRequest {}

/// `start` must fall in a year the calendar covers ([`YEARS`], 1991-2100, in Kazakhstan's time). JSON
/// Schema has no bounds for date-times, so a pattern says it: any date from 1991-01-02 to 2100-12-30,
/// which lies in 1991-2100 whatever the UTC offset (the two edge days depend on it and are left out).
const START_PATTERN: &str = "^(?:(?:199[2-9]|20[0-9]{2})-|1991-(?:0[2-9]|1[0-2])-|1991-01-(?:0[2-9]|[12][0-9]|3[01])T|\
                             2100-(?:0[1-9]|1[01])-|2100-12-(?:[012][0-9]|30)T)";

/// One object schema per unit, each with that unit's largest `value` ([`max_value`]), so the spec says
/// exactly what the server accepts (`{"value": 2147483646, "unit": "working_days"}` is outside it).
impl utoipa::PartialSchema for DeadlineRequest {
    fn schema() -> utoipa::openapi::RefOr<Schema> {
        let start = json!({"type": "string", "format": "date-time", "pattern": START_PATTERN,
                           "description": "The moment of filing, RFC 3339 with its UTC offset, in 1991-2100."});
        let mut channels: Vec<Value> = Channel::ALL.iter().map(|c| json!(c.code())).collect();
        channels.push(Value::Null);
        let channel = json!({"type": ["string", "null"], "enum": channels,
                             "description": "The channel the filing comes through: its hours decide from when the filing counts. \
                                             Left out (and no service): the portal's rule."});
        let service_key = json!({"type": ["string", "null"], "minLength": 1, "maxLength": 64,
                                 "description": "A service: its passport in force on the filing date gives the channel's hours \
                                                 and, without `value` and `unit`, the term. Needs `channel`."});
        let subtype = json!({"type": ["string", "null"], "minLength": 1, "maxLength": 64,
                             "description": "The service's subtype, where its passport distinguishes subtypes."});
        let mut variants: Vec<Value> = UNITS
            .iter()
            .map(|u| {
                json!({
                    "type": "object",
                    "title": u.code(),
                    "required": ["start", "value", "unit"],
                    "additionalProperties": false,
                    "properties": {
                        "start": start,
                        "value": {"type": "integer", "format": "int32", "minimum": 0, "maximum": max_value(*u),
                                  "description": format!("How many {}; at most {} (ten years of it).", u.code(), max_value(*u))},
                        "unit": {"type": "string", "enum": [u.code()]},
                        "channel": channel,
                        "service_key": service_key,
                        "subtype": subtype,
                    },
                })
            })
            .collect();
        variants.push(json!({
            "type": "object",
            "title": "service_term",
            "description": "The service's own whole-service term for the channel.",
            "required": ["start", "channel", "service_key"],
            "additionalProperties": false,
            "properties": {"start": start, "channel": channel, "service_key": service_key, "subtype": subtype},
        }));
        let schema = json!({
            "description": "A term to count: from a moment, so many units (the largest `value` depends on the unit: \
                            one schema per unit), through a channel and for a service; or a service's own term.",
            "oneOf": variants,
            "example": {"start": "2026-11-21T10:00:00+05:00", "channel": "state_corporation", "service_key": "deprived_parent_meeting_permission"},
        });
        serde_json::from_value(schema).expect("a valid schema")
    }
}

/// Count a term on the business calendar: the due moment and an explanation of every day counted or
/// skipped and why (the same arithmetic that gives applications their due dates).
///
/// The filing counts on the hours of its `channel`: at the State Corporation (Monday to Saturday
/// 09:00-20:00) a filing on a Saturday or at 19:00 counts from that day; at the provider's office (Monday
/// to Friday 09:00-18:30) and on the portal one after 18:30, or on a day off, counts from the next working
/// day at 09:00 (an office takes it at its next opening). With a `service_key` the passport in force on the
/// filing date gives the channel's hours and, without `value` and `unit`, the whole-service term, so the
/// due date is the one an application filed then would get. The filing day is not counted; a term in days
/// ends at 18:30 local time of its last day (the provider's working time).
#[utoipa::path(
    tag = "calendar",
    operation_id = "computeDeadline",
    params(LangQuery),
    request_body(content = DeadlineRequest, content_type = "application/json"),
    responses((status = 200, description = "The due moment and its explanation", body = DeadlineView)),
)]
#[post("/calendar/deadline")]
pub async fn compute_deadline(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: ValidQuery<LangQuery>,
    body: ValidJson<DeadlineRequest>,
) -> Result<HttpResponse, ApiError> {
    let lang = request_lang(&req, q.lang.as_deref())?;
    let body = body.0;
    let cal = state.calendar();
    let catalog = state.catalog();
    let start = body.start.with_timezone(&Utc);
    let mut errors = Vec::new();
    let filed_on = cal.to_local(start).date();
    if !YEARS.contains(&filed_on.year()) {
        errors.push(FieldError::new(
            "start",
            "range",
            format!("must lie between {} and {}", YEARS.start(), YEARS.end()),
        ));
    }
    let passport = match body.service_key.as_deref() {
        None => None,
        Some(key) => match catalog.service(key) {
            None => {
                errors.push(FieldError::new(
                    "service_key",
                    "unknown_service",
                    format!("no service `{key}`; see GET /api/v1/services"),
                ));
                None
            }
            Some(service) => {
                let p = service.in_force(filed_on);
                if p.is_none() {
                    errors.push(FieldError::new(
                        "service_key",
                        "service_not_in_force",
                        format!("`{key}` has no passport version in force on {filed_on}"),
                    ));
                }
                p
            }
        },
    };
    if let Some(p) = passport {
        match body.channel {
            None => errors.push(FieldError::new(
                "channel",
                "required",
                "give the channel the application comes through: the service's hours differ by channel",
            )),
            Some(c) if !p.channels.contains(&c) => errors.push(FieldError::new(
                "channel",
                "channel_not_offered",
                format!(
                    "`{}` is not offered through {}; its channels: {}",
                    p.key,
                    c.code(),
                    p.channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
                ),
            )),
            Some(_) => {}
        }
        if body.subtype.is_none() && !p.subtypes.is_empty() && body.value.is_none() && body.unit.is_none() {
            errors.push(FieldError::new(
                "subtype",
                "required",
                format!(
                    "`{}` has a term per subtype: give one of {}",
                    p.key,
                    p.subtypes.iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if let Some(sub) = body.subtype.as_deref() {
            if !p.subtypes.iter().any(|s| s.code == sub) {
                errors.push(FieldError::new(
                    "subtype",
                    "unknown_subtype",
                    format!("`{}` has no subtype `{sub}`", p.key),
                ));
            }
        }
    } else if body.subtype.is_some() && body.service_key.is_none() {
        errors.push(FieldError::new("subtype", "requires_service_key", "a subtype needs its service_key"));
    }
    let term = match (passport, body.channel, body.value, body.unit) {
        (Some(p), Some(c), None, None) if errors.is_empty() => {
            let t = p.service_term(c, body.subtype.as_deref());
            if t.is_none() {
                errors.push(FieldError::new(
                    "value",
                    "required",
                    format!(
                        "`{}` states no whole-service term for {}{}; give value and unit",
                        p.key,
                        c.code(),
                        body.subtype.as_deref().map(|s| format!(", subtype {s}")).unwrap_or_default()
                    ),
                ));
            }
            t
        }
        _ => None,
    };
    let (value, unit) = match (term, body.value, body.unit) {
        (Some(t), _, _) => (t.value, t.unit),
        (None, Some(v), Some(u)) => (v, u),
        (None, Some(_), None) => {
            errors.push(FieldError::new("unit", "required", "give unit with value"));
            (0, TermUnit::WorkingDays)
        }
        (None, None, Some(_)) => {
            errors.push(FieldError::new("value", "required", "give value with unit"));
            (0, TermUnit::WorkingDays)
        }
        (None, None, None) => {
            // With a service_key the reason is already reported (unknown service, no channel, no term).
            if body.service_key.is_none() {
                errors.push(FieldError::new(
                    "value",
                    "required",
                    "give value and unit, or a service_key and channel to count the service's term",
                ));
            }
            (0, TermUnit::WorkingDays)
        }
    };
    if value > max_value(unit) {
        errors.push(FieldError::new("value", "range", format!("at most {} {}", max_value(unit), unit.code())));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let schedule = match (passport, body.channel) {
        (Some(p), Some(c)) => p.schedule(c, &cal),
        (None, Some(c)) => cal.channel_schedule(c),
        _ => Schedule::general(&cal),
    };
    let d = match term {
        Some(t) => deadline::due_for(&cal, &schedule, start, t),
        None => deadline::due_on(&cal, &schedule, start, value, unit),
    };
    let asked = Asked { channel: body.channel, passport, subtype: body.subtype.clone(), term };
    Ok(localized(lang, DeadlineView::new(&cal, &d, &schedule, &asked, lang)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::calendar::BusinessCalendar;

    #[test]
    fn the_start_pattern_admits_only_moments_the_server_accepts() {
        let re = regex::Regex::new(START_PATTERN).unwrap();
        let cal = BusinessCalendar::kazakhstan();
        let accepted = |s: &str| {
            let start = DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            YEARS.contains(&cal.to_local(start).year())
        };
        let mut matched = 0;
        for year in [1990, 1991, 1992, 2026, 2099, 2100, 2101] {
            for (m, d) in [(1, 1), (1, 2), (1, 31), (2, 1), (6, 15), (12, 1), (12, 30), (12, 31)] {
                for time in ["00:00:00", "12:00:00", "23:59:59"] {
                    for offset in ["-12:00", "Z", "+05:00", "+14:00"] {
                        let s = format!("{year:04}-{m:02}-{d:02}T{time}{offset}");
                        if re.is_match(&s) {
                            matched += 1;
                            assert!(accepted(&s), "{s} fits the schema but the server refuses it");
                        }
                    }
                }
            }
        }
        assert!(re.is_match("2025-03-21T18:31:00+05:00") && !re.is_match("0001-01-01T00:00:00Z"));
        assert!(matched > 400, "{matched}");
    }
}
