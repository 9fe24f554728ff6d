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
    Stage,
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

fn is_hhmm(s: &str) -> bool {
    chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok()
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
        let times = [h.opens.as_deref(), h.closes.as_deref()]
            .into_iter()
            .flatten()
            .chain(h.lunch.iter().flat_map(|(a, b)| [a.as_str(), b.as_str()]));
        for t in times {
            if !is_hhmm(t) {
                e(path.clone(), &format!("`{t}` is not a HH:MM time"));
            }
        }
        if !h.around_the_clock && (h.opens.is_none() || h.closes.is_none()) {
            e(path, "give opens and closes, or around_the_clock");
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
