//! The preschool queue over HTTP (issue 13): administrators record the priority categories and the
//! referral term from the act in force (an outside source: the seeds give neither) and which
//! organisations are preschools of which territory; a preschool's staff record free places, which go
//! to the head of the queue as signed referrals; the applicant follows their entries (position and how
//! it moved), declines a referral or withdraws; the preschool records an enrolment; monitoring sums
//! each queue in SQL.
//!
//! The child is placed in the queue by the approval of an application of the queue service
//! (`POST /applications/{id}/approve`, see [`crate::queue::register_on_approval`]).

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use domain::queue::{EntryState, Move, PriorityCategory, QueueEntry, ReferralTerm};
use domain::text::{Lang, Text};
use persistence::queue as store;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::extract::{request_lang, ValidJson, ValidQuery};
use crate::procedure::official;
use crate::queue::Offered;
use crate::state::AppState;

const CODE_PATTERN: &str = "^[a-z0-9_]{1,64}$";

fn code_ok(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

// ---------------------------------------------------------------------------------------------
// Administrators' data
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TextInput {
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub kk: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub ru: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub en: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rank": 1, "name": {"kk": "Мүгедек балалар", "ru": "Дети с инвалидностью", "en": "Children with disabilities"},
    "source": "outside source (not in the seeds): Rules of the state service «Постановка на очередь детей дошкольного возраста (до 7 лет) для направления в детские дошкольные организации», order of the Minister of Education No 172 of 19.05.2020, current wording"}))]
pub struct CategoryInput {
    /// Lower is served first; a child in no category comes after every category.
    #[validate(range(min = 1, max = 999_999))]
    #[schema(minimum = 1, maximum = 999_999)]
    pub rank: i32,
    #[validate(nested)]
    pub name: TextInput,
    /// The provision the category comes from. The seeds give no ordering rules: cite the act in force.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    #[schema(example = "disability")]
    pub code: String,
    pub rank: i32,
    pub name: TextInput,
    pub source: String,
}

impl From<PriorityCategory> for CategoryView {
    fn from(c: PriorityCategory) -> Self {
        let t = |s: Option<String>| s.unwrap_or_default();
        let name = TextInput { kk: t(c.name.kk), ru: t(c.name.ru), en: t(c.name.en) };
        CategoryView { code: c.code, rank: c.rank, name, source: c.source }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryList {
    pub items: Vec<CategoryView>,
    /// What the seeds say about the order of the queue.
    pub basis: String,
}

/// The priority categories, in the order they are served.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "listPriorityCategories",
    responses((status = 200, description = "Categories", body = CategoryList)),
)]
#[get("/preschool/priority-categories")]
pub async fn list_categories(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let items = web::block(move || state.db.read(store::categories)).await??;
    Ok(HttpResponse::Ok().json(CategoryList {
        items: items.into_iter().map(CategoryView::from).collect(),
        basis: domain::queue::basis::ORDER.into(),
    }))
}

/// Record or replace a priority category (administrators), citing the act it comes from.
///
/// Entries keep the rank they were registered with.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "putPriorityCategory",
    params(("code" = String, Path, description = "Category code", pattern = "^[a-z0-9_]{1,64}$", max_length = 64)),
    request_body(content = CategoryInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = CategoryView),
        (status = 403, description = "Not an administrator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`errors[].rule`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/preschool/priority-categories/{code}")]
pub async fn put_category(
    state: web::Data<AppState>,
    who: Principal,
    code: web::Path<String>,
    body: ValidJson<CategoryInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let code = code.into_inner();
    if !code_ok(&code) {
        return Err(ApiError::field("path.code", "pattern", format!("must match {CODE_PATTERN}")));
    }
    let b = body.0;
    let cat =
        PriorityCategory { code, rank: b.rank, name: Text::new(&b.name.kk, &b.name.ru, &b.name.en), source: b.source };
    let now = state.clock.now();
    let saved = cat.clone();
    web::block(move || state.db.write(|c| store::put_category(c, &saved, &who.sub, now))).await??;
    Ok(HttpResponse::Ok().json(CategoryView::from(cat)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"effective_from": "2020-05-19", "valid_days": 5,
    "source": "outside source (not in the seeds): order of the Minister of Education No 172 of 19.05.2020, Rules, the term of a referral (current wording)"}))]
pub struct ReferralTermInput {
    pub effective_from: NaiveDate,
    /// Calendar days; a term ending on a day off ends on the next working day, 18:30 Astana.
    #[validate(range(min = 1, max = 365))]
    #[schema(minimum = 1, maximum = 365)]
    pub valid_days: u32,
    /// The provision it comes from. The seeds give no validity of a referral: cite the act in force.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub source: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralTermView {
    pub effective_from: NaiveDate,
    pub valid_days: u32,
    pub unit: String,
    pub source: String,
}

/// Record the validity of referrals from a date on (administrators; append-only).
#[utoipa::path(
    tag = "preschool-queue", operation_id = "addReferralTerm",
    request_body(content = ReferralTermInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Recorded", body = ReferralTermView),
        (status = 403, description = "Not an administrator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`errors[].rule`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/preschool/referral-terms")]
pub async fn add_referral_term(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<ReferralTermInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let b = body.0;
    let term = ReferralTerm { effective_from: b.effective_from, valid_days: b.valid_days, source: b.source };
    let now = state.clock.now();
    let saved = term.clone();
    web::block(move || state.db.write(|c| store::add_referral_term(c, &saved, &who.sub, now))).await??;
    Ok(HttpResponse::Created().json(ReferralTermView {
        effective_from: term.effective_from,
        valid_days: term.valid_days,
        unit: "calendar_days".into(),
        source: term.source,
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"territory": "astana-education"}))]
pub struct PreschoolInput {
    /// The provider whose queues the preschool's places serve (the territory's education department
    /// or akim's office).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub territory: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreschoolView {
    pub org_id: String,
    pub territory: String,
}

/// Record an organisation as a preschool of a territory (administrators).
#[utoipa::path(
    tag = "preschool-queue", operation_id = "putPreschool",
    params(("org_id" = String, Path, description = "The preschool's organisation id", max_length = 64)),
    request_body(content = PreschoolInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded", body = PreschoolView),
        (status = 403, description = "Not an administrator", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`territory` is not an organisation of kind `provider` (`errors[].rule` `not_a_provider`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[put("/preschool/organizations/{org_id}")]
pub async fn put_preschool(
    state: web::Data<AppState>,
    who: Principal,
    org_id: web::Path<String>,
    body: ValidJson<PreschoolInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let (org_id, territory) = (org_id.into_inner(), body.0.territory);
    let now = state.clock.now();
    let (o, t) = (org_id.clone(), territory.clone());
    web::block(move || {
        state.db.write_with(|c| {
            if o.len() > 64 || persistence::organizations::find(c, &o)?.is_none() {
                return Err(ApiError::not_found("no such organisation"));
            }
            match persistence::organizations::find(c, &t)? {
                Some(row) if row.kind == "provider" => {}
                _ => {
                    return Err(ApiError::field(
                        "territory",
                        "not_a_provider",
                        "name the provider that keeps the territory's queues",
                    ))
                }
            }
            store::put_preschool(c, &o, &t, &who.sub, now)?;
            Ok(())
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(PreschoolView { org_id, territory }))
}

// ---------------------------------------------------------------------------------------------
// Places and referrals
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"birth_year": 2023, "count": 2}))]
pub struct PlacesInput {
    /// The age group: the year of birth of the children the places are for.
    #[validate(range(min = 1900, max = 2200))]
    #[schema(minimum = 1900, maximum = 2200)]
    pub birth_year: i32,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub count: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub queue_entry_id: String,
    pub entry_number: i64,
    pub referral_id: String,
    pub place_id: String,
    pub preschool_id: String,
    pub valid_until: DateTime<Utc>,
    /// The signed referral (`GET /documents/{id}`).
    pub document_id: String,
}

impl From<Offered> for OfferView {
    fn from(o: Offered) -> Self {
        OfferView {
            queue_entry_id: o.entry.id,
            entry_number: o.entry.number,
            referral_id: o.referral_id,
            place_id: o.place_id,
            preschool_id: o.preschool_id,
            valid_until: o.valid_until,
            document_id: o.document_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlacesResult {
    /// The places recorded.
    pub places: Vec<String>,
    /// The referrals expired before the offers (their places offered again).
    pub expired: Vec<String>,
    /// The referrals issued, in the queue's order.
    pub offers: Vec<OfferView>,
}

/// Record free places of the caller's preschool (its staff) for an age group: they are offered at once,
/// in the queue's order, as signed referrals valid for the referral term in force.
///
/// The queue's referrals whose term ended are expired first, and their places offered again. A place no child
/// waits for stays free until one registers and the next places are recorded.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "recordFreePlaces",
    request_body(content = PlacesInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Places recorded and offered", body = PlacesResult),
        (status = 403, description = "Not the staff of a recorded preschool", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`referral_term_not_recorded`: no referral term in force", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input (`errors[].rule`)", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/preschool/places")]
pub async fn record_places(
    state: web::Data<AppState>,
    who: Principal,
    body: ValidJson<PlacesInput>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head])?;
    let b = body.0;
    let now = state.clock.now();
    let result = web::block(move || {
        state.db.write_with(|c| {
            // First, before any queue row is locked: the calendar a referral's validity counts on.
            let law = state.law_for_write(c)?;
            let cal = &law.calendar;
            let org = who.org().to_string();
            let territory = store::preschool_territory(c, &org)?
                .ok_or_else(|| ApiError::Forbidden(format!("`{org}` is not recorded as a preschool organisation")))?;
            let key = domain::queue::QueueKey { territory, birth_year: b.birth_year };
            let queue_id = store::lock_queue(c, &key, now)?;
            let (expired, mut offers) = crate::queue::expire_lapsed(c, &state.signer, cal, Some(&queue_id), now)?;
            let places = (0..b.count)
                .map(|_| store::insert_place(c, &org, &queue_id, &who.sub, now))
                .collect::<Result<Vec<_>, _>>()?;
            offers.extend(crate::queue::offer_free_places(c, &state.signer, cal, &queue_id, now)?);
            Ok::<_, ApiError>(PlacesResult {
                places,
                expired: expired.into_iter().map(|e| e.id).collect(),
                offers: offers.into_iter().map(OfferView::from).collect(),
            })
        })
    })
    .await??;
    Ok(HttpResponse::Created().json(result))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiryResult {
    /// The queue entries whose referral expired.
    pub expired: Vec<String>,
    /// The referrals issued for the places they freed.
    pub offers: Vec<OfferView>,
}

/// Expire the referrals whose term ended (provider staff, administrators): each place goes to the next
/// child in the queue. Deterministic with the server's clock; also run before every recording of places.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "expireReferrals",
    responses(
        (status = 200, description = "Expired and offered again", body = ExpiryResult),
        (status = 403, description = "Not staff or an administrator", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/preschool/referrals/expire")]
pub async fn expire_referrals(state: web::Data<AppState>, who: Principal) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head, Role::Admin])?;
    let now = state.clock.now();
    let (expired, offers) = web::block(move || {
        state.db.write_with(|c| {
            let law = state.law_for_write(c)?;
            crate::queue::expire_lapsed(c, &state.signer, &law.calendar, None, now)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(ExpiryResult {
        expired: expired.into_iter().map(|e| e.id).collect(),
        offers: offers.into_iter().map(OfferView::from).collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// The applicant's entries
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    #[schema(example = "astana-education")]
    pub territory: String,
    #[schema(example = 2023)]
    pub birth_year: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionMoveView {
    pub at: DateTime<Utc>,
    /// -1: moved forward; +1: moved back.
    pub delta: i64,
    /// The position after this move.
    pub position: i64,
    /// `offered` or `withdrawn` (a child ahead stopped waiting), `registered` (a child with priority
    /// came before).
    pub because: String,
    /// In the requested language.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    pub id: String,
    pub place_id: String,
    pub preschool_id: String,
    pub issued_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// `issued`, `used`, `expired`, `declined`, `withdrawn`.
    pub state: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub document_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntryView {
    pub id: String,
    pub application_id: String,
    pub queue: QueueView,
    pub entry_number: i64,
    pub child_iin: String,
    pub priority_category: Option<String>,
    /// `waiting`, `offered`, `enrolled`, `declined`, `withdrawn`, `expired`.
    #[schema(example = "waiting")]
    pub state: String,
    /// The state in the requested language.
    pub state_text: String,
    pub registered_at: DateTime<Utc>,
    pub position_at_issue: i64,
    /// 1 = the head of the queue; null once the child no longer waits.
    pub position: Option<i64>,
    /// How the position moved since registration (at most the latest 50), oldest first.
    pub moves: Vec<PositionMoveView>,
    pub moves_total: i64,
    /// The position and its moves in one sentence, in the requested language.
    pub summary: String,
    pub referrals: Vec<ReferralView>,
    /// The signed registration slip (`GET /documents/{id}`).
    pub slip_document_id: Option<String>,
    pub version: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntryList {
    pub items: Vec<QueueEntryView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// Language of the texts (`kk`, `ru`, `en`); else `Accept-Language`, else `kk`.
    #[param(pattern = "^(kk|ru|en)$")]
    pub lang: Option<String>,
}

fn pick(lang: Lang, kk: String, ru: String, en: String) -> String {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

fn move_text(lang: Lang, m: &store::PositionMove, position: i64) -> String {
    let (kk, ru, en) = match (m.because.as_str(), m.delta) {
        ("registered", _) => (
            "басымдығы бар бала алдыңызға тіркелді",
            "впереди встал ребёнок с правом первоочерёдности",
            "a child with priority was registered ahead",
        ),
        ("withdrawn", _) => {
            ("алдыңыздағы бала кезектен шықты", "ребёнок впереди снят с очереди", "a child ahead was withdrawn")
        }
        _ => (
            "алдыңыздағы балаға жолдама берілді",
            "ребёнку впереди выдано направление",
            "a child ahead received a referral",
        ),
    };
    pick(
        lang,
        format!("{kk}: орын {position}"),
        format!("{ru}: место {position}"),
        format!("{en}: position {position}"),
    )
}

fn entry_view(c: &mut persistence::DbConnection, e: QueueEntry, lang: Lang) -> Result<QueueEntryView, ApiError> {
    let position = store::position(c, &e)?;
    let (moves, total) = store::moves(c, &e, 50)?;
    // The running position: from the current one (or the last while waiting) back over the shown moves.
    let end = position.unwrap_or_else(|| e.position_at_issue + moves.iter().map(|m| m.delta).sum::<i64>());
    let start = if total as usize == moves.len() {
        e.position_at_issue
    } else {
        end - moves.iter().map(|m| m.delta).sum::<i64>()
    };
    let mut p = start;
    let moves: Vec<PositionMoveView> = moves
        .into_iter()
        .map(|m| {
            p += m.delta;
            PositionMoveView { text: move_text(lang, &m, p), at: m.at, delta: m.delta, position: p, because: m.because }
        })
        .collect();
    let st = e.state.text().resolve(lang).to_string();
    let summary = match position {
        Some(p) => pick(
            lang,
            format!("№ {} кезек: қазір {p}-орын (тіркелгенде {}-орын).", e.number, e.position_at_issue),
            format!("Очередь № {}: сейчас место {p} (при постановке — {}).", e.number, e.position_at_issue),
            format!("Queue No {}: position {p} now ({} at registration).", e.number, e.position_at_issue),
        ),
        None => pick(
            lang,
            format!("№ {} кезек: {st}.", e.number),
            format!("Очередь № {}: {st}.", e.number),
            format!("Queue No {}: {st}.", e.number),
        ),
    };
    let referrals = store::referrals_of(c, &e.id)?
        .into_iter()
        .map(|r| -> Result<ReferralView, ApiError> {
            Ok(ReferralView {
                preschool_id: store::place_preschool(c, &r.place_id)?,
                id: r.id,
                place_id: r.place_id,
                issued_at: r.issued_at.and_utc(),
                valid_until: r.valid_until.and_utc(),
                state: r.state,
                closed_at: r.closed_at.map(|d| d.and_utc()),
                document_id: r.document_id,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueueEntryView {
        slip_document_id: store::slip_of(c, &e.id)?,
        id: e.id,
        application_id: e.application_id,
        queue: QueueView { territory: e.queue.territory, birth_year: e.queue.birth_year },
        entry_number: e.number,
        child_iin: e.child_iin,
        priority_category: e.category,
        state: e.state.code().into(),
        state_text: st,
        registered_at: e.registered_at,
        position_at_issue: e.position_at_issue,
        position,
        moves,
        moves_total: total,
        summary,
        referrals,
        version: e.version,
    })
}

/// The caller's queue entries (applicants), newest first: the current position and how it moved,
/// the referrals, the registration slip, in kk/ru/en.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "listMyQueueEntries",
    params(LangQuery),
    responses(
        (status = 200, description = "Entries", body = QueueEntryList),
        (status = 403, description = "Not an applicant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/queue-entries")]
pub async fn list_entries(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let lang = request_lang(&req, q.lang.as_deref())?;
    let items = web::block(move || {
        state.db.read(|c| {
            let entries = store::entries_of_applicant(c, &who.sub)?;
            Ok(entries.into_iter().map(|e| entry_view(c, e, lang)).collect::<Result<Vec<_>, ApiError>>())
        })
    })
    .await???;
    Ok(HttpResponse::Ok().insert_header(("Content-Language", lang.code())).json(QueueEntryList { items }))
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "We moved to another district"}))]
pub struct LeaveInput {
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MoveResult {
    pub entry: QueueEntryView,
    /// The referrals issued for a place this move freed.
    pub offers: Vec<OfferView>,
}

async fn leave(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: String,
    is_decline: bool,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Applicant])?;
    let lang = request_lang(&req, None)?;
    let now = state.clock.now();
    let result = web::block(move || {
        state.db.write_with(|c| {
            // First, before any queue row is locked: the calendar a referral's validity counts on.
            let law = state.law_for_write(c)?;
            let cal = &law.calendar;
            let entry = store::find_entry(c, &id)?
                .filter(|e| e.applicant_iin == who.sub)
                .ok_or_else(|| ApiError::not_found("no such queue entry"))?;
            let mv = if is_decline { Move::Decline { reason } } else { Move::Withdraw { reason } };
            let (moved, offers) = crate::queue::leave(c, &state.signer, cal, &entry, mv, &official(&who), now)?;
            Ok::<_, ApiError>(MoveResult {
                entry: entry_view(c, moved, lang)?,
                offers: offers.into_iter().map(OfferView::from).collect(),
            })
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(result))
}

/// Decline the referral (the applicant): the place goes to the next child at once.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "declineReferral",
    params(("id" = String, Path, description = "Queue entry id")),
    request_body(content = LeaveInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Declined", body = MoveResult),
        (status = 404, description = "No such entry of the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`queue_move_not_allowed`: no referral is out", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/queue-entries/{id}/decline")]
pub async fn decline(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<LeaveInput>,
) -> Result<HttpResponse, ApiError> {
    leave(req, state, who, id.into_inner(), true, body.0.reason).await
}

/// Withdraw the child from the queue (the applicant): an open referral's place goes to the next child.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "withdrawFromQueue",
    params(("id" = String, Path, description = "Queue entry id")),
    request_body(content = LeaveInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Withdrawn", body = MoveResult),
        (status = 404, description = "No such entry of the caller", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`queue_move_not_allowed`: the entry is final", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/queue-entries/{id}/withdraw")]
pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
    body: ValidJson<LeaveInput>,
) -> Result<HttpResponse, ApiError> {
    leave(req, state, who, id.into_inner(), false, body.0.reason).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrolResult {
    pub queue_entry_id: String,
    #[schema(example = "enrolled")]
    pub state: String,
    pub version: i64,
}

/// Record that the referral was used (the staff of the preschool it names): the child is enrolled.
#[utoipa::path(
    tag = "preschool-queue", operation_id = "recordEnrolment",
    params(("id" = String, Path, description = "Queue entry id")),
    responses(
        (status = 200, description = "Enrolled", body = EnrolResult),
        (status = 404, description = "No referral of the caller's preschool for this entry", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`referral_expired`, or `queue_move_not_allowed`", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[post("/queue-entries/{id}/enrol")]
pub async fn enrol(
    state: web::Data<AppState>,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head])?;
    let now = state.clock.now();
    let id = id.into_inner();
    let e = web::block(move || {
        state.db.write_with(|c| {
            let law = state.law_for_write(c)?;
            crate::queue::enrol(c, &law.calendar, &id, &official(&who), who.org(), now)
        })
    })
    .await??;
    Ok(HttpResponse::Ok().json(EnrolResult { queue_entry_id: e.id, state: e.state.code().into(), version: e.version }))
}

// ---------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueMonitoringQuery {
    /// One territory (administrators and the review body; provider staff see their own).
    pub territory: Option<String>,
    pub birth_year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralFigures {
    /// Every referral issued (whatever became of it).
    pub issued: i64,
    /// Still out, within their term.
    pub open: i64,
    pub used: i64,
    pub expired: i64,
    pub declined: i64,
    pub withdrawn: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueFiguresView {
    pub territory: String,
    pub birth_year: i32,
    /// The children waiting.
    pub length: i64,
    /// Entries by state.
    pub entries: std::collections::BTreeMap<String, i64>,
    /// The average days the waiting children have waited so far (Astana days); null when none waits.
    pub average_days_waiting: Option<f64>,
    /// The average days from registration to a referral (or withdrawal); null when none left yet.
    pub average_days_to_leave_waiting: Option<f64>,
    pub referrals: ReferralFigures,
    pub free_places: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueMonitoring {
    pub today: NaiveDate,
    pub queues: Vec<QueueFiguresView>,
}

/// Each queue's length, waiting times and referrals (issued, used, expired, declined, withdrawn), per
/// territory and age group: SQL aggregates over indexes.
#[utoipa::path(
    tag = "monitoring", operation_id = "queueMonitoring",
    params(QueueMonitoringQuery),
    responses(
        (status = 200, description = "Figures", body = QueueMonitoring),
        (status = 403, description = "Not staff, the review body or an administrator", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
)]
#[get("/monitoring/queues")]
pub async fn queue_monitoring(
    state: web::Data<AppState>,
    who: Principal,
    q: ValidQuery<QueueMonitoringQuery>,
) -> Result<HttpResponse, ApiError> {
    who.require(&[Role::Employee, Role::Head, Role::Reviewer, Role::Admin])?;
    let territory = match who.role {
        Role::Employee | Role::Head => Some(who.org().to_string()),
        _ => q.territory.clone(),
    };
    let birth_year = q.birth_year;
    let today = state.today();
    let rows = web::block(move || state.db.read(|c| store::figures(c, territory.as_deref(), birth_year))).await??;
    let day = crate::queue::epoch_day(today);
    let queues = rows
        .into_iter()
        .map(|f| {
            let n = |s: EntryState| f.entries.get(s.code()).copied().unwrap_or(0);
            let r = |s: &str| f.referrals.get(s).copied().unwrap_or(0);
            let waiting = n(EntryState::Waiting);
            QueueFiguresView {
                length: waiting,
                average_days_waiting: (waiting > 0)
                    .then(|| (day * waiting - f.sum_registered_day_waiting) as f64 / waiting as f64),
                average_days_to_leave_waiting: (f.left_with_wait > 0)
                    .then(|| f.sum_waited_days as f64 / f.left_with_wait as f64),
                referrals: ReferralFigures {
                    issued: f.referrals.values().sum(),
                    open: r(store::REFERRAL_ISSUED),
                    used: r(store::REFERRAL_USED),
                    expired: r(EntryState::Expired.code()),
                    declined: r(EntryState::Declined.code()),
                    withdrawn: r(EntryState::Withdrawn.code()),
                },
                free_places: f.free_places,
                territory: f.territory,
                birth_year: f.birth_year,
                entries: f.entries,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(QueueMonitoring { today, queues }))
}
