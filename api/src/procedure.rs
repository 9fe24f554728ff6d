//! What every route shares between HTTP and the domain's procedure: who the caller is in the
//! procedure's terms and what they may see, loading an application's passport, `If-Match`, turning a
//! store conflict into the API's 409, and storing a change with its signed document.

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use domain::application::{decide, Action, Actor, Application, Change, Command, Context, Official};
use domain::catalog::Catalog;
use domain::passport::Passport;
use persistence::applications::Visibility;
use persistence::complaints::ComplaintScope;
use persistence::{DbConnection, StoreError};
use serde_json::json;

use crate::access::{self, AccessKind, Reader};
use crate::auth::{Principal, Role};
use crate::documents::Signer;
use crate::error::ApiError;
use crate::state::AppState;
use crate::views::applications::ApplicationView;

/// The procedure's name for a caller's role.
pub fn actor(role: Role) -> Actor {
    match role {
        Role::Applicant => Actor::Applicant,
        Role::Operator => Actor::Operator,
        Role::Employee => Actor::Employee,
        Role::Head => Actor::Head,
        Role::Reviewer => Actor::Reviewer,
        Role::Admin => Actor::Admin,
        // Never reaches a step: `auth` refuses a service account's writes before any route runs.
        Role::System => Actor::System,
    }
}

/// The caller as the official who takes a step.
pub fn official(p: &Principal) -> Official {
    Official::new(p.sub.clone(), actor(p.role))
}

/// Which applications a caller may see; everything else answers 404, never 403, so ids do not leak.
pub fn visibility(p: &Principal) -> Visibility {
    match p.role {
        Role::Applicant => Visibility::Applicant(p.sub.clone()),
        Role::Operator => Visibility::IntakeCentre(p.org().to_string()),
        Role::Employee | Role::Head => Visibility::Provider(p.org().to_string()),
        Role::Admin => Visibility::All,
        // A service account sees the applications of the services its scopes name.
        Role::System => match p.scoped_services("applications:read") {
            None => Visibility::All,
            Some(keys) => Visibility::Services(keys),
        },
        // The review body sees the file of an application once a complaint about it is forwarded.
        Role::Reviewer => Visibility::ReviewBody(p.org().to_string()),
    }
}

/// Which complaints a caller sees; everything else answers 404.
pub fn complaint_scope(p: &Principal) -> ComplaintScope {
    match p.role {
        Role::Applicant => ComplaintScope::Applicant(p.sub.clone()),
        Role::Employee | Role::Head => ComplaintScope::Provider(p.org().to_string()),
        Role::Reviewer => ComplaintScope::Reviewer(p.org().to_string()),
        Role::Admin => ComplaintScope::All,
        Role::Operator | Role::System => ComplaintScope::Nothing,
    }
}

/// The passport version an application is bound to. Versions are append-only, so a missing one is
/// a broken installation, not a client error.
pub fn passport_of<'c>(catalog: &'c Catalog, app: &Application) -> Result<&'c Passport, ApiError> {
    catalog.service(&app.service_key).and_then(|s| s.version(&app.passport_version)).ok_or_else(|| {
        ApiError::Internal(format!("passport {}/{} is not in the catalog", app.service_key, app.passport_version))
    })
}

/// The version the caller read (`If-Match: "3"`, or `W/"3"`), if they sent one; `*` matches any. Any
/// other value (a list, an unquoted number, `null`) is 422: the spec's pattern of the header,
/// `^(\*|(W/)?"[0-9]{1,18}")$`, says the same.
pub fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let raw = v.to_str().unwrap_or_default().trim();
    if raw == "*" {
        return Ok(None);
    }
    let tag = raw.strip_prefix("W/").unwrap_or(raw);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|n| (1..=18).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::field("header.If-Match", "format", "send the ETag of the application, e.g. \"3\", or *")
        })
}

/// 412 when the caller acted on a version that is no longer current.
pub fn check_version(app: &Application, expected: Option<i64>) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != app.version => Err(ApiError::PreconditionFailed(format!(
            "the application is at version {} (you sent {v}); read it again before acting",
            app.version
        ))),
        _ => Ok(()),
    }
}

/// A store conflict (a concurrent change won the optimistic update) as the API's 409.
pub fn concurrent(what: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::Conflict(m) => ApiError::Conflict {
            code: "concurrent_change",
            detail: format!("another change won first ({m}); read the {what} again"),
            state: None,
            allowed_actions: None,
        },
        other => other.into(),
    }
}

/// Stores a change the procedure decided, in the caller's transaction: the signed document it issues
/// (named in the history entry), the application, its history entry, event and notice.
pub fn store(c: &mut DbConnection, signer: &Signer, mut change: Change) -> Result<Application, ApiError> {
    if let Some((kind, body)) = change.document.take() {
        let a = &change.application;
        let by = (change.history.actor.sub.as_str(), change.history.actor.role.code());
        let doc = crate::documents::issue(c, signer, a, kind, body, by, change.history.at)?;
        change.history.changes["document"] =
            json!({"old": null, "new": {"id": doc.id, "kind": kind.code(), "sha256": doc.sha256}});
    }
    persistence::applications::save(c, &change).map_err(concurrent("application"))?;
    Ok(change.application)
}

/// Runs one command: parse `If-Match`, load what the caller may see (404), check the version (412),
/// let the domain decide (403/409/422 naming the rule), store the change with its document, render.
pub async fn run_command(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    who: Principal,
    id: String,
    cmd: Command,
) -> Result<HttpResponse, ApiError> {
    let expected = if_match(req)?;
    let state = state.clone();
    let app = web::block(move || {
        let now = state.clock.now();
        let (scope, actor) = (visibility(&who), official(&who));
        // Any error below rolls the whole transaction back, including after the first write.
        state.db.write_with(|c| {
            // First, before any row is locked: the law the command's terms are computed on.
            let law = state.law_for_write(c)?;
            let (calendar, catalog) = (&law.calendar, &law.catalog);
            let app = persistence::applications::find_visible(c, &id, &scope)?
                .ok_or_else(|| ApiError::not_found("no such application"))?;
            check_version(&app, expected)?;
            let passport = passport_of(catalog, &app)?;
            let cmd = with_facts(c, &app, passport, cmd)?;
            let change = decide(&app, cmd, &Context { passport, calendar, actor: &actor, now })?;
            // The approval of a queue service places the child in the queue, in this transaction.
            if domain::queue::is_queue_service(passport) && change.history.action == Action::Approve.code() {
                return crate::queue::register_on_approval(c, &state.signer, calendar, change);
            }
            store(c, &state.signer, change)
        })
    })
    .await??;
    let view = ApplicationView::new(app);
    Ok(HttpResponse::Ok().insert_header((header::ETAG, view.etag())).json(view))
}

/// Fills in what a command needs to know from the store, beyond the application: for an assignment,
/// whether the assignee is an active employee of the application's provider (its staff directory); for
/// the approval of a queue service, the result it issues (the registration slip).
fn with_facts(c: &mut DbConnection, app: &Application, passport: &Passport, cmd: Command) -> Result<Command, ApiError> {
    Ok(match cmd {
        Command::Assign { assignee, .. } => {
            let on_staff =
                persistence::staff::is_active_member(c, &app.provider_id, &assignee, &[Actor::Employee, Actor::Head])?;
            Command::Assign { assignee, on_staff }
        }
        Command::Approve { result_code, comment } if domain::queue::is_queue_service(passport) => {
            let result = domain::queue::approval_result(result_code.as_deref())?;
            Command::Approve { result_code: Some(result.to_string()), comment }
        }
        other => other,
    })
}

/// Reads something of one application the caller may see, on a blocking thread: `f` gets the
/// application, and the caller gets 404 when they may not see it (never 403, so ids do not leak).
/// The read is written to the access journal (`journal`: who reads, and what) before `f` runs; a read
/// that cannot be journalled is not answered. Every read of an application's file goes through here.
///
/// A service account is the exception to 404: like ZGW's Autorisaties, it is told which scope it
/// lacks (403 `applications:read:<service>`), as the integrating system's operators need to know.
pub async fn read_visible<T: Send + 'static>(
    state: &web::Data<AppState>,
    who: &Principal,
    id: String,
    journal: Option<(Reader, AccessKind)>,
    f: impl FnOnce(&mut DbConnection, Application) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let system = (who.role == Role::System).then(|| who.clone());
    let scope = if system.is_some() { Visibility::All } else { visibility(who) };
    let state = state.clone();
    web::block(move || {
        state.db.read(|c| {
            let found = match (&journal, &system) {
                // The row and its journal entry in one statement (the reader's scope is the row's).
                (Some((reader, kind)), None) => {
                    let reading = access::reading(reader, *kind, state.clock.now());
                    persistence::applications::find_visible_journaled(c, &id, &scope, &reading)?
                }
                // A service account's scope is checked on the service before the read is journaled.
                _ => match persistence::applications::find_visible(c, &id, &scope)? {
                    Some(app) => {
                        if let Some(account) = &system {
                            if let Err(e) = account.require_scope(&format!("applications:read:{}", app.service_key)) {
                                return Ok(Some(Err(e)));
                            }
                        }
                        if let Some((reader, kind)) = &journal {
                            let now = state.clock.now();
                            access::journal(c, reader, *kind, &app.id, Some(&app.id), Some(&app.applicant_iin), now)?;
                        }
                        Some(app)
                    }
                    None => None,
                },
            };
            Ok(found.map(|app| f(c, app)))
        })
    })
    .await??
    .unwrap_or_else(|| Err(ApiError::not_found("no such application")))
}
