//! The catalog of services: every passport version of `domain/catalog/services/*.yaml`, validated.
//!
//! Validation is strict because the catalog is the law the server applies: an unknown unit, a missing
//! source, a duplicate code, a term without a start or a condition on an undeclared question is an
//! error, and the server refuses to start on an invalid catalog. `cargo test -p domain` checks the
//! embedded files, so a broken data file cannot reach main.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::passport::{
    Channel, Completeness, Condition, JurisdictionLevel, Passport, RefusalGround, ServiceFile, SharedGround, Source,
    Stage, TermStart, TermUnit,
};
use crate::text::{Lang, Text};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

/// The legal texts the catalog cites, by the three-digit prefix used in sources, with their line counts
/// (a source pointing past the end of its text is an error).
pub const SEEDS: &[(&str, &str, u32)] = &[
    ("000", "000_e7ab30058c2573cd.txt", 756),
    ("001", "001_542f423657b8ec3a.txt", 518),
    ("002", "002_7c8c0d12a448bd19.txt", 2005),
    ("003", "003_f189daa100a561c9.txt", 2862),
    ("004", "004_97ea3aa64303c238.txt", 5400),
];

/// One problem found in the catalog: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    pub file: String,
    pub version: Option<String>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(v) = &self.version {
            write!(f, " [{v}]")?;
        }
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found, so that one run shows every error rather than the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} catalog error(s):", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

/// A service and its passport versions, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub key: String,
    pub title: Text,
    pub versions: Vec<Passport>,
}

impl Service {
    /// The version that governs on `date`: a national act wins over regional ones; among regional acts
    /// in force at once (different regions), the most recent. Use [`Service::versions_in_force`] to see
    /// every version in force on a date.
    pub fn in_force(&self, date: NaiveDate) -> Option<&Passport> {
        self.versions_in_force(date)
            .max_by_key(|p| (p.jurisdiction.level == JurisdictionLevel::National, p.effective_from, p.version.clone()))
    }

    pub fn versions_in_force(&self, date: NaiveDate) -> impl Iterator<Item = &Passport> {
        self.versions.iter().filter(move |p| p.in_force_on(date))
    }

    pub fn version(&self, id: &str) -> Option<&Passport> {
        self.versions.iter().find(|p| p.version == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SharedFile {
    refusal_grounds: Vec<SharedGround>,
}

/// The validated catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    services: BTreeMap<String, Service>,
    shared_grounds: BTreeMap<String, SharedGround>,
}

impl Catalog {
    /// The catalog embedded at build time. Panics with every error listed if it is invalid; the domain
    /// tests load it, so an invalid catalog fails the build's tests before it can be served.
    pub fn builtin() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| match Catalog::embedded() {
            Ok(c) => c,
            Err(e) => panic!("the embedded catalog is invalid:\n{e}"),
        })
    }

    /// Loads and validates the embedded files.
    pub fn embedded() -> Result<Catalog, CatalogErrors> {
        Catalog::load(embedded::SERVICE_FILES, embedded::SHARED_GROUNDS)
    }

    /// Loads and validates service files given as `(file stem, YAML text)` plus the shared grounds file.
    pub fn load(files: &[(&str, &str)], shared_grounds_yaml: &str) -> Result<Catalog, CatalogErrors> {
        let mut errors = Vec::new();
        let shared_grounds = match serde_yaml::from_str::<SharedFile>(shared_grounds_yaml) {
            Ok(f) => {
                let mut map = BTreeMap::new();
                for g in f.refusal_grounds {
                    if map.contains_key(&g.code) {
                        errors.push(err("shared/refusal_grounds.yaml", None, &g.code, "duplicate shared ground code"));
                    }
                    map.insert(g.code.clone(), g);
                }
                map
            }
            Err(e) => {
                errors.push(err("shared/refusal_grounds.yaml", None, "", &e.to_string()));
                BTreeMap::new()
            }
        };
        let mut services = BTreeMap::new();
        for (stem, text) in files {
            let file = format!("services/{stem}.yaml");
            match serde_yaml::from_str::<ServiceFile>(text) {
                Ok(mut sf) => {
                    // The forms again, with their keys in the file's order (see `FormOrder`).
                    let raw: serde_yaml::Value = serde_yaml::from_str(text).unwrap_or_default();
                    for (i, p) in sf.versions.iter_mut().enumerate() {
                        p.form_order = crate::passport::FormOrder(raw["versions"][i].get("form").cloned());
                    }
                    if sf.key != *stem {
                        errors.push(err(&file, None, "key", &format!("key `{}` differs from the file name", sf.key)));
                    }
                    let service = build_service(sf, &file, &shared_grounds, &mut errors);
                    services.insert(service.key.clone(), service);
                }
                Err(e) => errors.push(err(&file, None, "", &e.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(Catalog { services, shared_grounds })
        } else {
            Err(CatalogErrors(errors))
        }
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }

    pub fn service(&self, key: &str) -> Option<&Service> {
        self.services.get(key)
    }

    pub fn shared_grounds(&self) -> impl Iterator<Item = &SharedGround> {
        self.shared_grounds.values()
    }

    /// A catalog with one more version appended to a service (a new service when the key is new).
    /// Published versions are never rewritten: an existing version id is an error.
    pub fn with_version(&self, title: Option<Text>, mut passport: Passport) -> Result<Catalog, CatalogErrors> {
        let key = passport.key.clone();
        let file = format!("services/{key}.yaml");
        let mut errors = Vec::new();
        let mut next = self.clone();
        let service = next.services.entry(key.clone()).or_insert_with(|| Service {
            key: key.clone(),
            title: title.clone().unwrap_or_else(|| passport.title.clone()),
            versions: Vec::new(),
        });
        if service.version(&passport.version).is_some() {
            errors.push(err(
                &file,
                Some(&passport.version),
                "version",
                "a published version is never rewritten; publish a new version id",
            ));
        }
        validate_passport(&passport, &file, &self.shared_grounds, &mut errors);
        resolve_shared(&mut passport, &self.shared_grounds);
        if !errors.is_empty() {
            return Err(CatalogErrors(errors));
        }
        service.versions.push(passport);
        service.versions.sort_by(|a, b| a.effective_from.cmp(&b.effective_from).then(a.version.cmp(&b.version)));
        Ok(next)
    }
}

fn err(file: &str, version: Option<&str>, path: &str, message: &str) -> CatalogError {
    CatalogError { file: file.into(), version: version.map(Into::into), path: path.into(), message: message.into() }
}

fn build_service(
    sf: ServiceFile,
    file: &str,
    shared: &BTreeMap<String, SharedGround>,
    errors: &mut Vec<CatalogError>,
) -> Service {
    if !is_code(&sf.key) {
        errors.push(err(file, None, "key", "must be snake_case"));
    }
    if sf.title.get(Lang::En).is_none() {
        errors.push(err(file, None, "title.en", "missing English title"));
    }
    if sf.versions.is_empty() {
        errors.push(err(file, None, "versions", "a service needs at least one version"));
    }
    let mut seen = BTreeSet::new();
    let mut versions = Vec::new();
    for mut p in sf.versions {
        p.key = sf.key.clone();
        if !seen.insert(p.version.clone()) {
            errors.push(err(file, Some(&p.version), "version", "duplicate version id"));
        }
        validate_passport(&p, file, shared, errors);
        resolve_shared(&mut p, shared);
        versions.push(p);
    }
    versions.sort_by(|a, b| a.effective_from.cmp(&b.effective_from).then(a.version.cmp(&b.version)));
    Service { key: sf.key, title: sf.title, versions }
}

/// Copies the text of shared grounds into the passports that cite them, so readers get one shape.
fn resolve_shared(p: &mut Passport, shared: &BTreeMap<String, SharedGround>) {
    for g in p.refusal_to_accept.iter_mut().chain(p.refusal_grounds.iter_mut()) {
        if let Some(s) = g.shared.as_ref().and_then(|c| shared.get(c)) {
            if g.text.is_empty() {
                g.text = s.text.clone();
            }
        }
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
}

/// Checks one passport version; pushes every problem found.
pub fn validate_passport(
    p: &Passport,
    file: &str,
    shared: &BTreeMap<String, SharedGround>,
    errors: &mut Vec<CatalogError>,
) {
    let v = Some(p.version.as_str());
    let mut e = |path: String, msg: &str| errors.push(err(file, v, &path, msg));

    if !is_code(&p.version) {
        e("version".into(), "version id must be lowercase letters, digits, `-` or `_`");
    }
    if let Some(to) = p.effective_to {
        if to <= p.effective_from {
            e("effective_to".into(), "must be after effective_from");
        }
    }
    let full = p.completeness == Completeness::Full;
    if full && p.channels.is_empty() {
        e("channels".into(), "at least one channel");
    }
    if full && p.fee.is_none() {
        e("fee".into(), "state the fee (amount_kzt may be null when the text does not give it)");
    }
    if !full && p.open_questions.is_empty() {
        e("open_questions".into(), "a title-only version must say what the text lacks");
    }
    let channels: BTreeSet<Channel> = p.channels.iter().copied().collect();
    if channels.len() != p.channels.len() {
        e("channels".into(), "duplicate channel");
    }
    let subtypes: BTreeSet<&str> = p.subtypes.iter().map(|s| s.code.as_str()).collect();

    // Texts: English and the act's own language everywhere.
    let mut texts: Vec<(String, &Text)> = vec![
        ("title".into(), &p.title),
        ("act.title".into(), &p.act.title),
        ("act.issuer".into(), &p.act.issuer),
        ("automation.text".into(), &p.automation.text),
    ];
    texts.extend(p.fee.iter().map(|f| ("fee.text".to_string(), &f.text)));
    texts.extend(p.providers.iter().enumerate().map(|(i, x)| (format!("providers[{i}].name"), &x.name)));
    texts.extend(p.recipients.iter().enumerate().map(|(i, x)| (format!("recipients[{i}].name"), &x.name)));
    texts.extend(p.subtypes.iter().map(|x| (format!("subtypes.{}.name", x.code), &x.name)));
    texts.extend(p.terms.iter().map(|x| (format!("terms.{}.description", x.code), &x.description)));
    texts.extend(p.documents.iter().map(|x| (format!("documents.{}.name", x.code), &x.name)));
    texts.extend(p.results.iter().map(|x| (format!("results.{}.name", x.code), &x.name)));
    texts.extend(p.schedule.iter().map(|x| (format!("schedule.{}.text", x.channel.code()), &x.text)));
    texts.extend(p.questions.iter().map(|x| (format!("questions.{}.text", x.code), &x.text)));
    for (path, t) in texts {
        for lang in [Lang::En, p.language] {
            if t.get(lang).is_none() {
                e(format!("{path}.{}", lang.code()), "text missing in this language");
            }
        }
    }

    // Sources must point into a known seed text.
    let mut sources: Vec<(String, &Source)> =
        vec![("act.source".into(), &p.act.source), ("automation.source".into(), &p.automation.source)];
    sources.extend(p.fee.iter().map(|f| ("fee.source".to_string(), &f.source)));
    sources.extend(p.subtypes.iter().map(|x| (format!("subtypes.{}.source", x.code), &x.source)));
    sources.extend(p.terms.iter().map(|x| (format!("terms.{}.source", x.code), &x.source)));
    sources.extend(p.documents.iter().map(|x| (format!("documents.{}.source", x.code), &x.source)));
    sources.extend(p.refusal_to_accept.iter().map(|x| (format!("refusal_to_accept.{}.source", x.code), &x.source)));
    sources.extend(p.refusal_grounds.iter().map(|x| (format!("refusal_grounds.{}.source", x.code), &x.source)));
    sources.extend(p.results.iter().map(|x| (format!("results.{}.source", x.code), &x.source)));
    sources.extend(p.schedule.iter().map(|x| (format!("schedule.{}.source", x.channel.code()), &x.source)));
    sources
        .extend(p.open_questions.iter().enumerate().map(|(i, x)| (format!("open_questions[{i}].source"), &x.source)));
    for (path, s) in sources {
        match SEEDS.iter().find(|(prefix, _, _)| *prefix == s.seed) {
            None => e(path, &format!("unknown seed `{}`", s.seed)),
            Some((_, name, lines)) if s.to_line > *lines => {
                e(path, &format!("line {} is past the end of {name} ({lines} lines)", s.to_line))
            }
            _ => {}
        }
    }

    // Terms.
    let mut codes = BTreeSet::new();
    for t in &p.terms {
        let path = format!("terms.{}", t.code);
        if !is_code(&t.code) || !codes.insert(&t.code) {
            e(path.clone(), "term code must be snake_case and unique");
        }
        if t.value == 0 {
            e(format!("{path}.value"), "a term of zero is not a term");
        }
        if t.channels.iter().any(|c| !channels.contains(c)) {
            e(format!("{path}.channels"), "names a channel the passport does not offer");
        }
        if let Some(s) = &t.subtype {
            if !subtypes.contains(s.as_str()) {
                e(format!("{path}.subtype"), "unknown subtype");
            }
        }
    }
    // Every channel (and every subtype, where there are subtypes) has a whole-service term.
    let subtype_list: Vec<Option<&str>> =
        if subtypes.is_empty() { vec![None] } else { subtypes.iter().map(|s| Some(*s)).collect() };
    if !p.service_term_stated && p.terms.iter().any(|t| t.stage == Stage::Service) {
        e("service_term_stated".into(), "false, yet a `stage: service` term is given");
    }
    if !p.service_term_stated && p.open_questions.is_empty() {
        e("open_questions".into(), "say why the text states no service term");
    }
    for c in p.channels.iter().filter(|_| p.service_term_stated) {
        for s in &subtype_list {
            if p.service_term(*c, *s).is_none() {
                e(
                    "terms".into(),
                    &format!(
                        "no `stage: service` term for channel {}{}",
                        c.code(),
                        s.map(|s| format!(", subtype {s}")).unwrap_or_default()
                    ),
                );
            }
        }
    }

    // Questions and documents.
    let mut qcodes = BTreeMap::new();
    for q in &p.questions {
        if !is_code(&q.code) || qcodes.insert(q.code.as_str(), q).is_some() {
            e(format!("questions.{}", q.code), "question code must be snake_case and unique");
        }
    }
    let form_props = p.form.get("properties").and_then(|v| v.as_object());
    for q in &p.questions {
        if !form_props.is_some_and(|props| props.contains_key(&q.code)) {
            e(
                format!("questions.{}", q.code),
                "the form has no property of this name, so a submission cannot answer it",
            );
        }
    }
    let mut dcodes = BTreeSet::new();
    for d in &p.documents {
        let path = format!("documents.{}", d.code);
        if !is_code(&d.code) || !dcodes.insert(&d.code) {
            e(path.clone(), "document code must be snake_case and unique");
        }
        if d.channels.iter().any(|c| !channels.contains(c)) {
            e(format!("{path}.channels"), "names a channel the passport does not offer");
        }
        if d.subtypes.iter().any(|s| !subtypes.contains(s.as_str())) {
            e(format!("{path}.subtypes"), "unknown subtype");
        }
        if let Some(c) = &d.when {
            check_condition(c, &qcodes, &mut |m| e(format!("{path}.when"), m));
            if d.condition.is_none() {
                e(format!("{path}.condition"), "a machine condition needs the law's wording beside it");
            }
        }
    }

    // Grounds.
    for (list, grounds) in [("refusal_to_accept", &p.refusal_to_accept), ("refusal_grounds", &p.refusal_grounds)] {
        let mut gcodes = BTreeSet::new();
        for g in grounds.iter() {
            check_ground(g, list, &mut gcodes, shared, &subtypes, &channels, p.language, &mut e);
        }
    }

    if full && p.results.is_empty() {
        e("results".into(), "a service produces at least one result");
    }
    for r in &p.results {
        if r.delivery.is_empty() {
            e(format!("results.{}.delivery", r.code), "at least one delivery form");
        }
    }
    for h in &p.schedule {
        let path = format!("schedule.{}", h.channel.code());
        if !channels.contains(&h.channel) {
            e(path.clone(), "hours for a channel the passport does not offer");
        }
        if p.schedule.iter().filter(|x| x.channel == h.channel).count() > 1 {
            e(path.clone(), "one row per channel");
        }
        if let Err(m) = crate::calendar::schedule::intake_of(h) {
            e(path, &m);
        }
    }
    // A text that states hours states them for every channel it offers (order No 414, row 7): a channel
    // left out would silently fall back to the general rule.
    if !p.schedule.is_empty() {
        for c in p.channels.iter().filter(|c| !p.schedule.iter().any(|h| h.channel == **c)) {
            e("schedule".into(), &format!("no hours for channel {}", c.code()));
        }
    }
    for t in &p.terms {
        let path = format!("terms.{}", t.code);
        let day_unit =
            matches!(t.unit, TermUnit::WorkingDays | TermUnit::CalendarDays | TermUnit::Months | TermUnit::Years);
        if t.excludes_issue_day && !day_unit {
            e(
                format!("{path}.excludes_issue_day"),
                "only a term in days, months or years has a day of issue to exclude",
            );
        }
        if t.stage == Stage::PreliminaryRefusalNotice && t.starts != TermStart::ServiceTermEnd {
            e(
                format!("{path}.starts"),
                "a preliminary refusal notice is counted back from the end of the service term",
            );
        }
    }

    // The form must be a JSON Schema object whose required fields exist.
    match p.form.as_object() {
        Some(f) if f.get("type").and_then(|t| t.as_str()) == Some("object") => {
            if let Some(req) = f.get("required").and_then(|r| r.as_array()) {
                for r in req {
                    let name = r.as_str().unwrap_or_default();
                    if !form_props.is_some_and(|props| props.contains_key(name)) {
                        e(format!("form.required.{name}"), "required field has no property");
                    }
                }
            }
        }
        _ => e("form".into(), "must be a JSON Schema with `type: object`"),
    }
    if let Err(m) = crate::form::compile(&p.form) {
        e("form".into(), &format!("not a valid JSON Schema: {m}"));
    }
    for (at, m) in crate::form::label_errors(&p.form) {
        e(format!("form{at}"), &m);
    }
}

#[allow(clippy::too_many_arguments)]
fn check_ground(
    g: &RefusalGround,
    list: &str,
    codes: &mut BTreeSet<String>,
    shared: &BTreeMap<String, SharedGround>,
    subtypes: &BTreeSet<&str>,
    channels: &BTreeSet<Channel>,
    language: Lang,
    e: &mut impl FnMut(String, &str),
) {
    let path = format!("{list}.{}", g.code);
    if !is_code(&g.code) || !codes.insert(g.code.clone()) {
        e(path.clone(), "ground code must be snake_case and unique in its list");
    }
    match &g.shared {
        Some(s) if !shared.contains_key(s) => e(format!("{path}.shared"), &format!("no shared ground `{s}`")),
        Some(_) => {}
        None => {
            for lang in [Lang::En, language] {
                if g.text.get(lang).is_none() {
                    e(format!("{path}.text.{}", lang.code()), "text missing in this language");
                }
            }
        }
    }
    if let Some(s) = &g.subtype {
        if !subtypes.contains(s.as_str()) {
            e(format!("{path}.subtype"), "unknown subtype");
        }
    }
    if g.channels.iter().any(|c| !channels.contains(c)) {
        e(format!("{path}.channels"), "names a channel the passport does not offer");
    }
}

fn check_condition(c: &Condition, questions: &BTreeMap<&str, &crate::passport::Question>, e: &mut impl FnMut(&str)) {
    match c {
        Condition::Yes(q) | Condition::No(q) => match questions.get(q.as_str()) {
            None => e(&format!("refers to undeclared question `{q}`")),
            Some(q) if !q.options.is_empty() => e(&format!("`{}` is a choice question, not yes/no", q.code)),
            _ => {}
        },
        Condition::OneOf { question, options } => match questions.get(question.as_str()) {
            None => e(&format!("refers to undeclared question `{question}`")),
            Some(q) => {
                for o in options {
                    if !q.options.iter().any(|x| &x.code == o) {
                        e(&format!("`{o}` is not an option of `{question}`"));
                    }
                }
            }
        },
        Condition::All(cs) | Condition::Any(cs) => {
            for c in cs {
                check_condition(c, questions, e);
            }
        }
    }
}

/// Every stage a passport's terms use, for monitoring views.
pub fn stages_of(p: &Passport) -> BTreeSet<Stage> {
    p.terms.iter().map(|t| t.stage).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_is_valid() {
        if let Err(e) = Catalog::embedded() {
            panic!("{e}");
        }
    }

    #[test]
    fn every_service_has_a_source_on_every_term_document_and_ground() {
        // Sources are mandatory by type; this checks they also resolve inside their seed text.
        let c = Catalog::builtin();
        for s in c.services() {
            for p in &s.versions {
                for src in p.terms.iter().map(|t| &t.source).chain(p.documents.iter().map(|d| &d.source)) {
                    assert!(SEEDS.iter().any(|(k, _, n)| *k == src.seed && src.to_line <= *n));
                }
            }
        }
    }

    /// Words by which a text names the event a term starts at, in the act's language (kk or ru). A term's
    /// description is the text's own words (catalog README), so a term whose description carries the words
    /// of another start, or none, is caught by `every_term_starts_at_the_event_its_text_names`.
    fn start_phrases(start: TermStart) -> &'static [&'static str] {
        match start {
            TermStart::Filing => &[
                "тапсырған сәттен",
                "өтініш берген",
                "өтініш жасаған",
                "қабылдау және беру күндері",
                "сдачи документов",
            ],
            TermStart::ReceiptByProvider => &["құжаттарды алған күннен"],
            TermStart::PreviousStage => &["тексеру қорытындысы бойынша", "қорытындының негізінде"],
            TermStart::RequestReceived => &["сұрау түскен"],
            TermStart::Decision => &["қабылдаған күннен", "қол қойылған күннен", "берген күннен"],
            TermStart::Hearing => &["Тыңдау нәтижелері бойынша"],
            TermStart::Arrival => &["күтудің", "қызмет көрсетудің"],
            TermStart::ComplaintRegistered => &["тіркелген күнінен", "шағым келіп түскен күннен"],
            TermStart::ServiceTermEnd => &["қызметті көрсету мерзімі аяқталғанға дейін"],
            TermStart::ExpiryOfStatus => &["аккредиттеу мерзімі аяқталғанға дейін"],
            TermStart::Interview => &["әңгімелесу өткізгеннен кейін"],
            TermStart::Placement => &["отбасына тәрбиелеуге қабылдаған кезден"],
        }
    }

    /// Terms whose text names no start event, each with why its start is the one recorded. Reviewed
    /// against the seeds; a listed term that now names a start, or no longer exists, fails the test.
    const UNNAMED_STARTS: &[(&str, &str, &str, &str)] = &[
        ("adoption_agency_accreditation", "order-414-2022", "send_to_state_bodies",
         "paragraph 11 (004:81-83) names no start; it is the first step after the application is accepted (paragraphs 5 and 9, office or portal), i.e. the filing"),
        ("adoption_candidate_registration", "aktobe-2016", "service_term",
         "paragraph 8 subparagraph 11 (001:475-477) follows the routing of the request to the provider and its check (subparagraphs 8-10): the provider's receipt"),
        ("foster_family_placement", "aktobe-2016", "service_term",
         "paragraph 8 subparagraph 11 (001:246-248) follows the routing of the request to the provider and its check (subparagraphs 8-10): the provider's receipt"),
        ("adoption_candidate_registration", "order-414-2022", "service_term",
         "row 3 (004:1530-1533) gives only the length; the service term runs from the filing, as row 3 of the other services words it ('from the moment documents are handed over ..., and when applying on the portal')"),
        ("guardianship_certificate", "order-414-2022", "service_term",
         "row 3 (004:1905-1908) gives only the length; the service term runs from the filing, as row 3 of the other services words it"),
        ("minor_property_certificate", "order-414-2022", "service_term",
         "row 3 (004:2110-2113) gives only the length; the service term runs from the filing, as row 3 of the other services words it"),
        ("minor_property_certificate", "order-414-2022", "preparation",
         "paragraph 7 (004:359-368) names no start; the only channel is the portal (paragraph 3), so the provider has the application from the filing"),
        ("foster_family_placement", "order-414-2022", "notification_preparation",
         "paragraph 8 (004:474-479) names no start; it follows paragraph 3 (the application filed with the provider or on the portal): the provider's receipt"),
        ("guardianship_establishment", "order-414-2022", "order_issue",
         "paragraph 11 (004:419-424) names no start; it follows paragraph 3 (the application filed at the State Corporation, which hands the file over, or on the portal): the provider's receipt"),
        ("school_camp_referral", "order-414-2022", "counter_service_state_corporation",
         "the second half of row 3 subparagraph 3 (004:4718-4722), whose first half names the counter service time ('қызмет көрсетудің ... ең ұзақ уақыты'): from arrival at the counter"),
    ];

    /// The number of the action of a table or of a numbered list of actions a term is, from its source.
    fn step_number(reference: &str) -> Option<u32> {
        let after = |key: &str| {
            reference.find(key).and_then(|i| {
                let rest = &reference[i + key.len()..];
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                digits.parse().ok()
            })
        };
        after("action ").or_else(|| after("paragraph 5, subparagraph "))
    }

    #[test]
    fn every_term_starts_at_the_event_its_text_names() {
        let mut wrong = Vec::new();
        let mut listed_seen = BTreeSet::new();
        for s in Catalog::builtin().services() {
            for p in &s.versions {
                for t in &p.terms {
                    let desc = t.description.get(p.language).unwrap_or_default();
                    let at = format!("{} [{}] {} (starts {})", s.key, p.version, t.code, t.starts.code());
                    let names = |start: TermStart| start_phrases(start).iter().any(|w| desc.contains(w));
                    let listed =
                        UNNAMED_STARTS.iter().find(|(k, v, c, _)| *k == s.key && *v == p.version && *c == t.code);
                    if let Some(l) = listed {
                        listed_seen.insert((l.0, l.1, l.2));
                        if let Some(other) = TermStart::ALL.into_iter().find(|x| names(*x)) {
                            wrong.push(format!("{at}: listed as naming no start, but its text names {}", other.code()));
                        }
                        continue;
                    }
                    match step_number(&t.source.reference) {
                        // An action of a table ("Next action: N") or of paragraph 5's numbered list: the first
                        // starts with the filing or the arrival, each later one where the previous ends.
                        Some(n) if t.stage != Stage::Service => {
                            let ok = if n == 1 {
                                matches!(t.starts, TermStart::Filing | TermStart::Arrival)
                            } else {
                                t.starts == TermStart::PreviousStage
                            };
                            if !ok {
                                wrong.push(format!(
                                    "{at}: action {n} of its table starts {}",
                                    if n == 1 { "at the filing" } else { "after the previous action" }
                                ));
                            }
                        }
                        // A whole-service term derived from a table of actions sums them from the first, the intake.
                        _ if t.derived && t.stage == Stage::Service && t.starts == TermStart::Filing => {}
                        _ if names(t.starts) => {}
                        _ => {
                            let named: Vec<_> =
                                TermStart::ALL.into_iter().filter(|x| names(*x)).map(TermStart::code).collect();
                            wrong.push(format!("{at}: its text names {named:?}"));
                        }
                    }
                }
            }
        }
        for (k, v, c, _) in UNNAMED_STARTS {
            if !listed_seen.contains(&(*k, *v, *c)) {
                wrong.push(format!("{k} [{v}] {c}: listed in UNNAMED_STARTS but no such term"));
            }
        }
        assert!(wrong.is_empty(), "terms whose start is not the one their text names:\n{}", wrong.join("\n"));
    }

    #[test]
    fn every_start_kind_is_used_by_some_term() {
        // ALL is complete: this match has no wildcard, so a new start kind fails to compile until listed.
        for start in TermStart::ALL {
            match start {
                TermStart::Filing
                | TermStart::ReceiptByProvider
                | TermStart::PreviousStage
                | TermStart::RequestReceived
                | TermStart::Decision
                | TermStart::Hearing
                | TermStart::Arrival
                | TermStart::ComplaintRegistered
                | TermStart::ServiceTermEnd
                | TermStart::ExpiryOfStatus
                | TermStart::Interview
                | TermStart::Placement => {}
            }
        }
        let used: BTreeSet<&str> = Catalog::builtin()
            .services()
            .flat_map(|s| &s.versions)
            .flat_map(|p| &p.terms)
            .map(|t| t.starts.code())
            .collect();
        let unused: Vec<_> = TermStart::ALL.into_iter().map(TermStart::code).filter(|c| !used.contains(c)).collect();
        assert!(unused.is_empty(), "start kinds no term uses: {unused:?}");
    }

    fn version<'a>(key: &str, id: &str) -> &'a Passport {
        Catalog::builtin().service(key).and_then(|s| s.version(id)).unwrap_or_else(|| panic!("{key} {id}"))
    }

    fn term<'a>(p: &'a Passport, code: &str) -> &'a crate::passport::Term {
        p.terms.iter().find(|t| t.code == code).unwrap_or_else(|| panic!("{} has no term {code}", p.key))
    }

    #[test]
    fn the_child_opinion_decision_counts_from_the_interview_and_the_training_year_from_the_placement() {
        // 004:784-788: "әңгімелесу өткізгеннен кейін 4 (төрт) жұмыс күні ішінде".
        let t = term(version("child_opinion_decision", "order-414-2022"), "decision_preparation");
        assert_eq!((t.value, t.unit, t.starts), (4, TermUnit::WorkingDays, TermStart::Interview));
        assert_eq!((t.source.from_line, t.source.to_line), (784, 788));
        // 004:2807-2810: "баланы отбасына тәрбиелеуге қабылдаған кезден бастап күнтізбелік бір жыл ішінде".
        let t = term(version("guardianship_establishment", "order-414-2022"), "relative_training_deadline");
        assert_eq!((t.value, t.unit, t.starts), (1, TermUnit::Years, TermStart::Placement));
        assert!(t.source.from_line <= 2807 && 2810 <= t.source.to_line);
    }

    #[test]
    fn complaint_terms_cite_paragraph_38_only_for_the_accreditation() {
        use crate::passport::{Citation, LAW_ON_PUBLIC_SERVICES_ART_25};
        let in_para_38 = |s: &Source| s.seed == "004" && 169 <= s.from_line && s.to_line <= 192;
        for s in Catalog::builtin().services() {
            for p in &s.versions {
                for c in &p.channels {
                    let subtypes: Vec<Option<&str>> = if p.subtypes.is_empty() {
                        vec![None]
                    } else {
                        p.subtypes.iter().map(|x| Some(x.code.as_str())).collect()
                    };
                    for sub in subtypes {
                        let terms = p.complaint_terms(*c, sub);
                        assert_eq!(terms.each_ref().map(|t| t.value), [3, 5, 15], "{} {}", s.key, p.version);
                        for t in terms {
                            match (&t.citation, s.key == "adoption_agency_accreditation") {
                                (Citation::Seed { source }, true) => assert!(in_para_38(source), "{source}"),
                                (Citation::Outside { act, .. }, false) => {
                                    assert_eq!(*act, LAW_ON_PUBLIC_SERVICES_ART_25)
                                }
                                (other, _) => panic!("{} {} {}: {other}", s.key, p.version, t.code),
                            }
                            assert!(
                                !t.citation.to_string().contains("004:169") || s.key == "adoption_agency_accreditation"
                            );
                        }
                    }
                }
                if s.key != "adoption_agency_accreditation" {
                    for t in &p.terms {
                        assert!(
                            !in_para_38(&t.source),
                            "{} {} {} cites the accreditation rules",
                            s.key,
                            p.version,
                            t.code
                        );
                    }
                }
            }
        }
        let outside = LAW_ON_PUBLIC_SERVICES_ART_25.to_string();
        assert!(
            outside.starts_with("outside the seeds: ") && outside.contains("No 88-V") && outside.contains("article 25")
        );
    }

    #[test]
    fn the_preliminary_refusal_notice_is_where_the_rules_state_it_and_nowhere_else() {
        // The rewritten paragraphs that state "no later than 3 working days before the service term ends"
        // (004:101, 144, 262, 373, 429, 484, 543, 597, 680, 739, 796); the rules of the guardianship
        // certificate (rewritten paragraphs 3 and 7-1, 004:302-343) state none.
        let mut with: Vec<(String, String, u32)> = Vec::new();
        for s in Catalog::builtin().services() {
            for p in &s.versions {
                for t in p.terms.iter().filter(|t| t.stage == Stage::PreliminaryRefusalNotice) {
                    assert_eq!((t.value, t.unit, t.starts), (3, TermUnit::WorkingDays, TermStart::ServiceTermEnd));
                    assert!(t
                        .description
                        .get(p.language)
                        .unwrap_or_default()
                        .contains("3 (үш) жұмыс күнінен кешіктірмей"));
                    assert_eq!(t.source.seed, "004");
                    with.push((s.key.clone(), p.version.clone(), t.source.from_line));
                }
            }
        }
        let keys: BTreeSet<&str> = with.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            keys.into_iter().collect::<Vec<_>>(),
            [
                "adoption_agency_accreditation",
                "adoption_candidate_registration",
                "child_opinion_decision",
                "deprived_parent_meeting_permission",
                "foster_family_placement",
                "free_school_meals",
                "free_school_transport",
                "guardianship_establishment",
                "minor_property_certificate",
                "school_camp_referral",
            ]
        );
        assert_eq!(with.len(), 11, "{with:?}");
        assert!(with.iter().all(|(_, v, _)| v == "order-414-2022"));
        let cert = version("guardianship_certificate", "order-414-2022");
        assert!(cert.is_fully_automated());
        assert!(cert.preliminary_refusal_notice(Channel::Portal, None).is_none());
    }

    #[test]
    fn every_schedule_row_states_the_order_414_hours() {
        let cal = crate::calendar::BusinessCalendar::kazakhstan();
        let mut rows = 0;
        for s in Catalog::builtin().services() {
            for p in &s.versions {
                for h in &p.schedule {
                    let ours = p.schedule(h.channel, cal);
                    assert_eq!(ours.origin, crate::calendar::ScheduleOrigin::Passport);
                    assert_eq!(
                        ours.intake,
                        cal.channel_schedule(h.channel).intake,
                        "{} {} {}",
                        s.key,
                        p.version,
                        h.channel.code()
                    );
                    rows += 1;
                }
                for c in &p.channels {
                    let sch = p.schedule(*c, cal);
                    let stated = p.schedule.iter().any(|h| h.channel == *c);
                    assert_eq!(sch.origin == crate::calendar::ScheduleOrigin::Passport, stated);
                }
            }
        }
        assert!(rows >= 20, "{rows}");
        // The State Corporation rows say Saturdays, 20:00 and no lunch; the portal rows the next working day.
        let p = version("school_camp_referral", "order-414-2022");
        let sc = p.schedule(Channel::StateCorporation, cal);
        assert!(
            matches!(sc.intake, crate::calendar::Intake::Office { saturdays: true, hours, .. } if hours.lunch.is_none() && hours.end.format("%H:%M").to_string() == "20:00")
        );
        assert_eq!(
            p.schedule(Channel::Portal, cal).intake,
            crate::calendar::Intake::AroundTheClock { next_working_day: true }
        );
    }

    #[test]
    fn the_accreditation_provider_obtains_the_identity_document_data_itself() {
        let p = version("adoption_agency_accreditation", "order-414-2022");
        let d = p.documents.iter().find(|d| d.code == "identity_document_data").expect("paragraph 9, 004:66-72");
        assert_eq!(d.registry, Some(crate::passport::Registry::Persons));
        assert_eq!((d.source.from_line, d.source.to_line), (66, 72));
        assert!(d.subtypes.is_empty(), "paragraph 9 names no subtype");
    }

    const SHARED: &str = "refusal_grounds: []";

    fn minimal(extra: &str) -> String {
        format!(
            r#"
key: demo
title: {{en: Demo, kk: Демо}}
versions:
  - version: order-1-2022
    title: {{en: Demo, kk: Демо}}
    language: kk
    act: {{kind: order, issuer: {{en: Minister, kk: Министр}}, number: "1", date: 2022-10-03, title: {{en: Order, kk: Бұйрық}}, source: "004:1-5 | preamble"}}
    jurisdiction: {{level: national}}
    effective_from: 2022-10-15
    automation: {{level: partially_automated, text: {{en: partly, kk: ішінара}}, source: "004:1-5 | row 4"}}
    providers: [{{code: akimat, name: {{en: Akimat, kk: Әкімдік}}}}]
    recipients: [{{code: individuals, name: {{en: Individuals, kk: Жеке тұлғалар}}}}]
    channels: [portal]
    terms:
      - {{code: service_term, stage: service, value: 5, unit: working_days, starts: filing, description: {{en: five days, kk: бес күн}}, source: "004:10-12 | row 3"}}
    documents:
      - {{code: application, name: {{en: Application, kk: Өтініш}}, source: "004:20-21 | row 8"}}
    results: [{{code: cert, name: {{en: Certificate, kk: Анықтама}}, delivery: [electronic], source: "004:30-31 | row 5"}}]
    fee: {{amount_kzt: 0, text: {{en: free, kk: тегін}}, source: "004:40-40 | row 6"}}
    schedule: []
    form: {{type: object, properties: {{}}}}
{extra}
"#
        )
    }

    fn load(yaml: &str) -> Result<Catalog, CatalogErrors> {
        Catalog::load(&[("demo", yaml)], SHARED)
    }

    #[test]
    fn minimal_passport_is_valid() {
        load(&minimal("")).unwrap();
    }

    #[test]
    fn unknown_unit_is_an_error() {
        let y = minimal("").replace("unit: working_days", "unit: fortnights");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("fortnights"), "{e}");
    }

    #[test]
    fn term_without_start_is_an_error() {
        let y = minimal("").replace("starts: filing, ", "");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("starts"), "{e}");
    }

    #[test]
    fn missing_source_is_an_error() {
        let y = minimal("").replace(r#", source: "004:20-21 | row 8""#, "");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("source"), "{e}");
    }

    #[test]
    fn source_past_the_end_of_its_text_is_an_error() {
        let y = minimal("").replace("004:20-21", "004:20-9999");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("past the end"), "{e}");
    }

    #[test]
    fn duplicate_codes_are_errors() {
        let y = minimal("").replace(
            "documents:\n",
            "documents:\n      - {code: application, name: {en: Again, kk: Тағы}, source: \"004:22-22 | row 8\"}\n",
        );
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("documents.application"), "{e}");
    }

    #[test]
    fn condition_on_undeclared_question_is_an_error() {
        let y = minimal("").replace(
            r#"name: {en: Application, kk: Өтініш}, "#,
            r#"name: {en: Application, kk: Өтініш}, when: {yes: married}, condition: {en: if married, kk: некеде болса}, "#,
        );
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("undeclared question `married`"), "{e}");
    }

    #[test]
    fn channel_without_service_term_is_an_error() {
        let y = minimal("")
            .replace("channels: [portal]", "channels: [portal, provider_office]")
            .replace("stage: service,", "stage: service, channels: [portal],");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("no `stage: service` term for channel provider_office"), "{e}");
    }

    #[test]
    fn missing_language_is_an_error() {
        let y = minimal("").replace("{en: five days, kk: бес күн}", "{en: five days}");
        let e = load(&y).unwrap_err();
        assert!(e.to_string().contains("terms.service_term.description.kk"), "{e}");
    }

    #[test]
    fn published_versions_are_never_rewritten() {
        let c = load(&minimal("")).unwrap();
        let p = c.service("demo").unwrap().versions[0].clone();
        let e = c.with_version(None, p.clone()).unwrap_err();
        assert!(e.to_string().contains("never rewritten"), "{e}");
        let mut next = p;
        next.version = "order-2-2024".into();
        next.effective_from = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let c2 = c.with_version(None, next).unwrap();
        let s = c2.service("demo").unwrap();
        assert_eq!(s.versions.len(), 2);
        assert_eq!(s.in_force(NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()).unwrap().version, "order-1-2022");
        // Both are in force from 2024 (no repeal given); the later national version governs.
        assert_eq!(s.in_force(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()).unwrap().version, "order-2-2024");
    }
}
