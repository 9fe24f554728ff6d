//! Filing an application (өтініш беру): who files through which channel, the passport version it
//! binds to, the form checked against that version's schema, and the new application with its due
//! moment. Every problem with a filing is reported at once, field by field.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::commands::{Change, Event, HistoryRecord};
use super::decision::Official;
use super::notices::status_notice;
use super::states::{Actor, Status};
use super::timing;
use super::Application;
use crate::calendar::BusinessCalendar;
use crate::catalog::Catalog;
use crate::identity::Iin;
use crate::passport::{Channel, Passport};
use crate::violation::{FieldViolation, Violation};

pub const BASIS_CHANNELS: &str = "order No 414, rules para 3 and the passport's list of channels";
pub const BASIS_IN_FORCE: &str = "an application binds to the passport version in force on the filing date";

/// Who files: the person or official behind the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filer {
    pub sub: String,
    pub role: Actor,
    /// The organisation of staff (State Corporation centre, provider).
    pub org: Option<String>,
}

impl Filer {
    pub fn official(&self) -> Official {
        Official::new(self.sub.clone(), self.role)
    }
}

/// The representative's details that the rules check (the rest is kept as filed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepresentativeFacts {
    pub iin: String,
    pub power_of_attorney_issued_on: NaiveDate,
    pub power_of_attorney_valid_until: Option<NaiveDate>,
}

/// A filing as the request states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Filing {
    pub service_key: String,
    pub channel: String,
    pub provider_id: String,
    pub subtype: Option<String>,
    pub applicant_iin: Option<String>,
    pub representative: Option<RepresentativeFacts>,
    /// As filed, to keep with the application.
    pub representative_json: Option<Value>,
    pub form: Value,
}

/// A filing that passed every rule that needs no database.
#[derive(Debug, Clone)]
pub struct Checked<'c> {
    pub passport: &'c Passport,
    pub channel: Channel,
    pub applicant_iin: String,
    pub intake_org_id: Option<String>,
}

/// The channel each role files through: a citizen on the portal, an operator at a State Corporation
/// centre, provider staff at their office.
pub fn channel_of(role: Actor) -> Option<Channel> {
    match role {
        Actor::Applicant => Some(Channel::Portal),
        Actor::Operator => Some(Channel::StateCorporation),
        Actor::Employee | Actor::Head => Some(Channel::ProviderOffice),
        Actor::Reviewer | Actor::Admin | Actor::System => None,
    }
}

/// The passport a new application binds to: the version in force on the filing date that accepts
/// applications.
pub fn passport_for<'c>(catalog: &'c Catalog, key: &str, on: NaiveDate) -> Result<&'c Passport, FieldViolation> {
    let service = catalog.service(key).ok_or_else(|| {
        FieldViolation::new("service_key", "unknown_service", format!("no service `{key}`; see GET /api/v1/services"))
    })?;
    service.in_force(on).filter(|p| p.accepts_applications()).ok_or_else(|| {
        FieldViolation::new(
            "service_key",
            "service_not_in_force",
            format!("`{key}` has no passport version in force on {on}; new applications are not accepted"),
        )
    })
}

/// A well-formed IIN standing in for the applicant's own IIN during schema validation.
const VOUCHED_IIN_PLACEHOLDER: &str = "150321650010";

/// Checks everything that can be checked before touching the database, and lists every problem.
pub fn check<'c>(
    filing: &Filing,
    filer: &Filer,
    catalog: &'c Catalog,
    today: NaiveDate,
) -> Result<Checked<'c>, Violation> {
    let mut errors = Vec::new();
    let channel = match Channel::parse(&filing.channel) {
        None => {
            errors.push(FieldViolation::new("channel", "enum", "not a known channel"));
            None
        }
        Some(c) if channel_of(filer.role) != Some(c) => {
            errors.push(FieldViolation::new(
                "channel",
                "channel_not_allowed_for_role",
                format!(
                    "a `{}` files through `{}`",
                    filer.role.code(),
                    channel_of(filer.role).map_or("no channel", |c| c.code())
                ),
            ));
            None
        }
        Some(c) => Some(c),
    };
    let passport = match passport_for(catalog, &filing.service_key, today) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if let (Some(p), Some(c)) = (passport, channel) {
        if !p.channels.contains(&c) {
            errors.push(FieldViolation::new(
                "channel",
                "channel_not_offered",
                format!(
                    "`{}` is offered through: {}",
                    p.key,
                    p.channels.iter().map(|c| c.code()).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    if let Some(p) = passport {
        match (&filing.subtype, p.subtypes.is_empty()) {
            (Some(_), true) => {
                errors.push(FieldViolation::new("subtype", "not_applicable", "this service has no subtypes"))
            }
            (None, false) => errors.push(FieldViolation::new(
                "subtype",
                "required",
                format!("one of: {}", p.subtypes.iter().map(|s| s.code.as_str()).collect::<Vec<_>>().join(", ")),
            )),
            (Some(s), false) if !p.subtypes.iter().any(|x| &x.code == s) => {
                errors.push(FieldViolation::new("subtype", "enum", "not a subtype of this service"))
            }
            _ => {}
        }
    }
    let applicant_iin = match (filer.role, &filing.applicant_iin) {
        (Actor::Applicant, Some(iin)) if iin != &filer.sub => {
            errors.push(FieldViolation::new(
                "applicant_iin",
                "must_be_caller",
                "an applicant files only for themselves",
            ));
            String::new()
        }
        (Actor::Applicant, _) => filer.sub.clone(),
        (_, None) => {
            errors.push(FieldViolation::new(
                "applicant_iin",
                "required",
                "staff filing for a person must give the person's IIN",
            ));
            String::new()
        }
        (_, Some(iin)) => match Iin::parse(iin) {
            Ok(i) => i.as_str().to_string(),
            Err(e) => {
                errors.push(FieldViolation::new("applicant_iin", format!("iin_{}", e.code()), e.to_string()));
                String::new()
            }
        },
    };
    if let Some(r) = &filing.representative {
        if let Err(e) = Iin::parse(&r.iin) {
            errors.push(FieldViolation::new("representative.iin", format!("iin_{}", e.code()), e.to_string()));
        }
        if r.power_of_attorney_valid_until.is_some_and(|until| until < r.power_of_attorney_issued_on) {
            errors.push(FieldViolation::new(
                "representative.power_of_attorney.valid_until",
                "after_issue",
                "cannot precede the issue date",
            ));
        }
    }
    if !filing.form.is_object() {
        errors.push(FieldViolation::new("form", "type", "must be a JSON object"));
    } else if let Some(p) = passport {
        errors.extend(check_form(p, filing, &applicant_iin));
    }
    if matches!(filer.role, Actor::Employee | Actor::Head) && Some(filing.provider_id.as_str()) != filer.org.as_deref()
    {
        errors.push(FieldViolation::new(
            "provider_id",
            "own_organization",
            "provider staff file applications to their own organisation",
        ));
    }
    if !errors.is_empty() {
        return Err(Violation::Invalid { fields: errors, basis: None });
    }
    let (passport, channel) = (passport.expect("checked above"), channel.expect("checked above"));
    Ok(Checked {
        passport,
        channel,
        applicant_iin,
        intake_org_id: match filer.role {
            Actor::Operator | Actor::Employee | Actor::Head => filer.org.clone(),
            _ => None,
        },
    })
}

/// Checks the form against the passport's JSON Schema, and that it agrees with the rest of the
/// filing: the form's applicant is the person filed for, its subtype the subtype filed.
fn check_form(p: &Passport, filing: &Filing, applicant_iin: &str) -> Vec<FieldViolation> {
    // The applicant's own IIN is vouched for by the identity provider (the token's `sub`) or was
    // checked above for staff filings; it is validated as a known-good placeholder here and compared
    // with the filer below.
    let mut form = filing.form.clone();
    if let Some(v) = form.pointer_mut("/applicant/iin") {
        if v.as_str() == Some(applicant_iin) {
            *v = Value::String(VOUCHED_IIN_PLACEHOLDER.into());
        }
    }
    let mut errors: Vec<FieldViolation> =
        match crate::form::validate(&format!("{}/{}", p.key, p.version), &p.form, &form) {
            Ok(found) => found
                .into_iter()
                .map(|e| {
                    let field = if e.path.is_empty() { "form".to_string() } else { format!("form.{}", e.path) };
                    FieldViolation::new(field, e.rule, e.message)
                })
                .collect(),
            Err(e) => vec![FieldViolation::new("form", "form_schema_unavailable", e)],
        };
    if let Some(iin) = filing.form.pointer("/applicant/iin").and_then(|v| v.as_str()) {
        if !applicant_iin.is_empty() && iin != applicant_iin {
            errors.push(FieldViolation::new(
                "form.applicant.iin",
                "must_match_applicant",
                "the form's applicant must be the person the application is filed for",
            ));
        }
    }
    if let Some(sub) = filing.form.get("subtype").and_then(|v| v.as_str()) {
        if filing.subtype.as_deref().is_some_and(|s| s != sub) {
            errors.push(FieldViolation::new(
                "form.subtype",
                "must_match_subtype",
                "the form's subtype differs from `subtype`",
            ));
        }
    }
    errors
}

/// The provider addressed must be an organisation of kind `provider`.
pub fn check_provider(kind: Option<&str>) -> Result<(), Violation> {
    match kind {
        Some("provider") => Ok(()),
        _ => Err(Violation::field(
            "provider_id",
            "unknown_provider",
            "no provider with this id; see GET /api/v1/organizations",
        )),
    }
}

/// The identifiers the store hands out for a new application.
#[derive(Debug, Clone)]
pub struct NewIds {
    pub id: String,
    pub registration_number: String,
}

/// The new application, `submitted`, with its due moment from the passport's service term for the
/// channel, and the history entry, event and notice of its filing.
pub fn new_application(
    checked: &Checked<'_>,
    filing: &Filing,
    filer: &Filer,
    cal: &BusinessCalendar,
    ids: NewIds,
    now: DateTime<Utc>,
) -> Result<Change, Violation> {
    let (term, deadline) =
        timing::due_at_filing(cal, checked.passport, checked.channel, filing.subtype.as_deref(), now).ok_or_else(
            || {
                Violation::field("channel", "no_service_term", "the passport states no service term for this channel")
                    .citing(BASIS_CHANNELS)
            },
        )?;
    let app = Application {
        id: ids.id,
        registration_number: ids.registration_number,
        service_key: checked.passport.key.clone(),
        passport_version: checked.passport.version.clone(),
        subtype: filing.subtype.clone(),
        channel: checked.channel,
        status: Status::Submitted,
        applicant_iin: checked.applicant_iin.clone(),
        filed_by: filer.official(),
        intake_org_id: checked.intake_org_id.clone(),
        provider_id: filing.provider_id.clone(),
        assignee: None,
        representative: filing.representative_json.clone(),
        form: filing.form.clone(),
        submitted_at: now,
        counted_from: cal.from_local(deadline.counted_from),
        due_at: deadline.due_at,
        due_date: deadline.due_date,
        decided_at: None,
        stage_due_at: None,
        hearing_at: None,
        hearing_place: None,
        decision: None,
        status_since: now,
        term_working_days: 0,
        working_days_to_decision: None,
        decided_on_time: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let app = Application { term_working_days: timing::term_working_days(cal, &app), ..app };
    let history = HistoryRecord {
        action: "submit".into(),
        actor: filer.official(),
        at: now,
        from_status: None,
        to_status: Status::Submitted,
        reason: None,
        changes: json!({
            "status": {"old": null, "new": app.status},
            "passport_version": {"old": null, "new": app.passport_version},
            "due_at": {"old": null, "new": deadline.due_at},
            "due_date": {"old": null, "new": deadline.due_date},
            "term": {"old": null, "new": {"code": term.code, "value": term.value, "unit": term.unit.code(), "source": term.source.to_string()}},
        }),
    };
    let event = Event::of(&app, "submit");
    let notice = Some(status_notice(Status::Submitted, &app.registration_number));
    Ok(Change { application: app, history, event, notice, document: None, stage: None })
}
