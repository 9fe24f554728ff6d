//! State registries (мемлекеттік ақпараттық жүйелер) as ports, and the intake check that uses them.
//!
//! The law lets the provider obtain some documents itself "from the state information systems through
//! the e-government gateway" instead of asking the applicant for them; a passport marks such a document
//! with [`DocumentRequirement::registry`](crate::passport::DocumentRequirement::registry). The applicant
//! must still bring it "if the registry has no record" (a marriage registered abroad, a child born
//! outside Kazakhstan). Each registry is reached through [`RegistryPort`]; this crate only defines it.
//! The embedded adapter backed by the database is `persistence::registries::EmbeddedRegistries`; a real
//! gateway adapter can replace it without touching the rules here.
//!
//! [`intake_check`] is the rule itself, pure: given the passport, the channel, the answers, the codes
//! of the documents attached, and what the registries returned, it says which documents are obtained
//! from a registry, which the applicant must provide, which of those are missing, and which depend on
//! answers not given yet.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::passport::{Answers, Applies, Channel, Passport, Registry};

impl Registry {
    pub const ALL: [Registry; 16] = [
        Registry::Persons,
        Registry::LegalEntities,
        Registry::CivilRegistryBirths,
        Registry::CivilRegistryMarriages,
        Registry::CivilRegistryDeaths,
        Registry::RealEstate,
        Registry::Vehicles,
        Registry::CriminalRecords,
        Registry::NarcologyRegister,
        Registry::PsychiatryRegister,
        Registry::Health,
        Registry::SocialProtection,
        Registry::Education,
        Registry::EmploymentIncome,
        Registry::FamilyRegisters,
        Registry::Notary,
    ];

    /// The name used in URLs, the database and the passports' data (`civil_registry_births`).
    pub fn code(self) -> &'static str {
        match self {
            Registry::Persons => "persons",
            Registry::LegalEntities => "legal_entities",
            Registry::CivilRegistryBirths => "civil_registry_births",
            Registry::CivilRegistryMarriages => "civil_registry_marriages",
            Registry::CivilRegistryDeaths => "civil_registry_deaths",
            Registry::RealEstate => "real_estate",
            Registry::Vehicles => "vehicles",
            Registry::CriminalRecords => "criminal_records",
            Registry::NarcologyRegister => "narcology_register",
            Registry::PsychiatryRegister => "psychiatry_register",
            Registry::Health => "health",
            Registry::SocialProtection => "social_protection",
            Registry::Education => "education",
            Registry::EmploymentIncome => "employment_income",
            Registry::FamilyRegisters => "family_registers",
            Registry::Notary => "notary",
        }
    }

    pub fn parse(s: &str) -> Option<Registry> {
        Registry::ALL.into_iter().find(|r| r.code() == s)
    }

    /// Registers of adverse entries (convictions, dispensary registration): the registry's answer is the
    /// certificate itself, and "no entries" is a complete answer ("not registered", "no criminal
    /// record"). For every other registry an empty answer means the registry has no record and the
    /// applicant must bring the document.
    pub fn answers_by_absence(self) -> bool {
        matches!(self, Registry::CriminalRecords | Registry::NarcologyRegister | Registry::PsychiatryRegister)
    }

    /// Whose records the registry is consulted about for an application: the children named in the
    /// application for birth records (a child's birth certificate), otherwise the applicant. Every one of
    /// these subjects must have a record for the document to be obtained from the registry.
    pub fn subjects(self, subjects: &Subjects) -> Vec<&str> {
        match self {
            Registry::CivilRegistryBirths if !subjects.children.is_empty() => {
                subjects.children.iter().map(String::as_str).collect()
            }
            _ => vec![subjects.applicant.as_str()],
        }
    }
}

/// One record a registry holds about a person (the subject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryRecord {
    pub registry: Registry,
    /// The IIN of the person the record is about (the child for a birth record).
    pub subject_iin: String,
    /// What the record is: `person`, `birth`, `marriage`, `divorce`, `guardianship`, `criminal_record`,
    /// `narcology`, `psychiatry`, `real_estate`, `disability`, ...
    pub kind: String,
    /// The record's content as the registry gives it (names, act record number, parents, spouse, ...).
    pub data: serde_json::Value,
    /// The last day the record (or the document it stands for) is valid; `None`: no end.
    pub valid_until: Option<NaiveDate>,
}

impl RegistryRecord {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_until.is_none_or(|until| date <= until)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The registry did not answer (gateway down, timeout): the document cannot be obtained now.
    #[error("registry `{}` is unavailable: {}", .0.code(), .1)]
    Unavailable(Registry, String),
    /// This adapter does not reach that registry.
    #[error("registry `{}` is not connected", .0.code())]
    NotConnected(Registry),
}

/// A state registry the provider queries itself. Implemented by the embedded adapter over the database
/// (demo and test data, edited by administrators) and, later, by a gateway adapter.
pub trait RegistryPort {
    /// Every record `registry` holds about the person with `subject_iin` (expired ones included; the
    /// caller judges validity on its own date). An empty list: the registry has no record.
    fn lookup(&self, registry: Registry, subject_iin: &str) -> Result<Vec<RegistryRecord>, RegistryError>;
}

/// The people an application is about, whose records the registries are consulted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subjects {
    pub applicant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spouse: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
}

impl Subjects {
    /// The subjects of a submitted form: the applicant, `spouse.iin`, and the IINs of `children[]` and
    /// `child` where the form has them.
    pub fn of_form(applicant_iin: &str, form: &serde_json::Value) -> Subjects {
        let iin = |v: &serde_json::Value| v.get("iin").and_then(|i| i.as_str()).map(str::to_string);
        let mut children: Vec<String> =
            form.get("children").and_then(|c| c.as_array()).into_iter().flatten().filter_map(iin).collect();
        children.extend(form.get("child").and_then(iin));
        children.dedup();
        Subjects { applicant: applicant_iin.to_string(), spouse: form.get("spouse").and_then(iin), children }
    }
}

impl Subjects {
    /// Whether `iin` is one of the persons the application names.
    pub fn names(&self, iin: &str) -> bool {
        self.applicant == iin || self.spouse.as_deref() == Some(iin) || self.children.iter().any(|c| c == iin)
    }
}

/// Purpose binding (the Law on personal data and their protection, art. 7 and 8: data are collected
/// and used only for the purpose stated): staff read a person's registry records only for an
/// application they may see that names that person. Administrators, who keep the records, are not
/// bound to an application.
pub fn may_read_records_for(application: &crate::application::Application, subject_iin: &str) -> bool {
    Subjects::of_form(&application.applicant_iin, &application.form).names(subject_iin)
}

/// The answers to the passport's questions found in a form: top-level properties named like a
/// question. Booleans become `true`/`false`, strings and numbers are taken as written.
pub fn answers_from_form(passport: &Passport, form: &serde_json::Value) -> Answers {
    passport
        .questions
        .iter()
        .filter_map(|q| {
            let v = form.get(&q.code)?;
            let a = match v {
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((q.code.clone(), a))
        })
        .collect()
}

/// The registries whose records an intake check needs for this channel and subtype: one per document
/// the passport marks with a registry.
pub fn registries_needed(passport: &Passport, channel: Channel, subtype: Option<&str>) -> Vec<Registry> {
    let mut out: Vec<Registry> = Vec::new();
    for d in passport.documents.iter().filter(|d| d.applies_to(channel, subtype)) {
        if let Some(r) = d.registry {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// What the registries returned for an application's subjects. A registry absent from the map was not
/// consulted or did not answer: its documents are demanded from the applicant.
pub type RecordsByRegistry = HashMap<Registry, Vec<RegistryRecord>>;

/// Asks `port` about every subject each needed registry is consulted for. A registry that fails is
/// left out of the map (its documents are then demanded from the applicant) and reported.
pub fn gather(
    port: &dyn RegistryPort,
    registries: &[Registry],
    subjects: &Subjects,
) -> (RecordsByRegistry, Vec<RegistryError>) {
    let mut records = RecordsByRegistry::new();
    let mut errors = Vec::new();
    'registries: for &r in registries {
        let mut found = Vec::new();
        for subject in r.subjects(subjects) {
            match port.lookup(r, subject) {
                Ok(rs) => found.extend(rs),
                Err(e) => {
                    errors.push(e);
                    continue 'registries;
                }
            }
        }
        records.insert(r, found);
    }
    (records, errors)
}

/// The short form of a registry record shown in an intake check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub subject_iin: String,
    pub kind: String,
    /// The act record or certificate number, when the record's data carry `record_number`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

impl RecordSummary {
    pub fn of(r: &RegistryRecord) -> RecordSummary {
        RecordSummary {
            subject_iin: r.subject_iin.clone(),
            kind: r.kind.clone(),
            record_number: r.data.get("record_number").and_then(|n| n.as_str()).map(str::to_string),
            valid_until: r.valid_until,
        }
    }
}

/// A document the provider obtains from a registry instead of asking the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obtained {
    /// The passport's document code.
    pub code: String,
    pub registry: Registry,
    /// The valid records the document is taken from; empty for a register of adverse entries that has
    /// none (the answer "no entries" is the certificate).
    pub records: Vec<RecordSummary>,
}

/// The outcome of checking an application's document set at intake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeCheck {
    /// Codes of the documents the applicant must provide (applicable, and not obtainable from a
    /// registry), in the passport's order.
    pub required_from_applicant: Vec<String>,
    /// Codes of the checklist's documents that are attached, in the passport's order.
    pub provided: Vec<String>,
    /// Documents the provider obtains itself from a registry that has a valid record.
    pub obtained_from_registry: Vec<Obtained>,
    /// `required_from_applicant` minus `provided`: what the set lacks (the refusal receipt's list).
    pub missing: Vec<String>,
    /// Codes whose requirement depends on an answer the application does not give.
    pub depends_on_answers: Vec<String>,
}

impl IntakeCheck {
    /// Every document required from the applicant is there, and no requirement is left undecided.
    pub fn complete(&self) -> bool {
        self.missing.is_empty() && self.depends_on_answers.is_empty()
    }
}

/// The intake check: which documents of the checklist (channel, subtype, answers) the provider obtains
/// from a registry, which the applicant must provide, and which of those are missing.
///
/// A document the passport marks with a registry is obtained from it when the registry has a record
/// valid on `on` for every subject it is consulted about ([`Registry::subjects`]); a register of adverse
/// entries ([`Registry::answers_by_absence`]) answers even with no entries. Otherwise (no record, or
/// the registry absent from `records`: not consulted or unavailable) the applicant must provide it.
/// `provided` are the requirement codes of the attached documents.
#[allow(clippy::too_many_arguments)]
pub fn intake_check(
    passport: &Passport,
    channel: Channel,
    subtype: Option<&str>,
    answers: &Answers,
    provided: &[&str],
    records: &RecordsByRegistry,
    subjects: &Subjects,
    on: NaiveDate,
) -> IntakeCheck {
    let mut out = IntakeCheck::default();
    for (doc, applies) in passport.checklist(channel, subtype, answers) {
        if provided.contains(&doc.code.as_str()) {
            out.provided.push(doc.code.clone());
        }
        if applies == Applies::Unknown {
            out.depends_on_answers.push(doc.code.clone());
            continue;
        }
        let from_registry = doc.registry.and_then(|registry| {
            let found = records.get(&registry)?;
            let valid: Vec<&RegistryRecord> =
                found.iter().filter(|r| r.registry == registry && r.valid_on(on)).collect();
            if registry.answers_by_absence() {
                return Some(Obtained {
                    code: doc.code.clone(),
                    registry,
                    records: valid.into_iter().map(RecordSummary::of).collect(),
                });
            }
            let wanted = registry.subjects(subjects);
            let every_subject = wanted.iter().all(|s| valid.iter().any(|r| r.subject_iin == *s));
            let used: Vec<RecordSummary> =
                valid.into_iter().filter(|r| wanted.contains(&r.subject_iin.as_str())).map(RecordSummary::of).collect();
            (every_subject && !used.is_empty()).then(|| Obtained { code: doc.code.clone(), registry, records: used })
        });
        match from_registry {
            Some(o) => out.obtained_from_registry.push(o),
            None => {
                out.required_from_applicant.push(doc.code.clone());
                if !provided.contains(&doc.code.as_str()) {
                    out.missing.push(doc.code.clone());
                }
            }
        }
    }
    out
}

/// Registry records in memory: the port for unit tests and for callers that already hold the records.
#[derive(Debug, Clone, Default)]
pub struct InMemoryRegistries(pub Vec<RegistryRecord>);

impl RegistryPort for InMemoryRegistries {
    fn lookup(&self, registry: Registry, subject_iin: &str) -> Result<Vec<RegistryRecord>, RegistryError> {
        Ok(self.0.iter().filter(|r| r.registry == registry && r.subject_iin == subject_iin).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    const APPLICANT: &str = "900101300123";
    const CHILD: &str = "150321650010";
    const OTHER_CHILD: &str = "900101300126";

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn record(registry: Registry, subject: &str, kind: &str, valid_until: Option<NaiveDate>) -> RegistryRecord {
        RegistryRecord {
            registry,
            subject_iin: subject.into(),
            kind: kind.into(),
            data: json!({"record_number": format!("{kind}-{subject}")}),
            valid_until,
        }
    }

    fn guardianship() -> Passport {
        let c = Catalog::builtin();
        c.service("guardianship_establishment").and_then(|s| s.in_force(day(2026, 11, 23))).expect("in force").clone()
    }

    fn answers(pairs: &[(&str, &str)]) -> Answers {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn married_relative() -> Answers {
        answers(&[
            ("married", "true"),
            ("applicant_relation", "close_relative"),
            ("owns_home", "true"),
            ("child_in_orphan_institution", "false"),
        ])
    }

    fn subjects(children: &[&str]) -> Subjects {
        Subjects {
            applicant: APPLICANT.into(),
            spouse: None,
            children: children.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn check(port: &InMemoryRegistries, a: &Answers, provided: &[&str], s: &Subjects, on: NaiveDate) -> IntakeCheck {
        let p = guardianship();
        let (records, errors) = gather(port, &registries_needed(&p, Channel::Portal, None), s);
        assert!(errors.is_empty());
        intake_check(&p, Channel::Portal, None, a, provided, &records, s, on)
    }

    #[test]
    fn registry_codes_round_trip_and_match_serde() {
        for r in Registry::ALL {
            assert_eq!(Registry::parse(r.code()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.code()));
        }
        assert_eq!(Registry::parse("births"), None);
    }

    #[test]
    fn records_in_the_registries_spare_the_applicant_those_documents() {
        let port = InMemoryRegistries(vec![
            record(Registry::CivilRegistryMarriages, APPLICANT, "marriage", None),
            record(Registry::CivilRegistryBirths, CHILD, "birth", None),
        ]);
        let c = check(
            &port,
            &married_relative(),
            &["application_portal", "income_documents_portal"],
            &subjects(&[CHILD]),
            day(2026, 11, 23),
        );
        let obtained: Vec<(&str, Registry)> =
            c.obtained_from_registry.iter().map(|o| (o.code.as_str(), o.registry)).collect();
        assert_eq!(
            obtained,
            vec![
                ("marriage_certificate_portal", Registry::CivilRegistryMarriages),
                ("child_birth_certificate_portal", Registry::CivilRegistryBirths)
            ]
        );
        assert_eq!(c.obtained_from_registry[0].records[0].record_number.as_deref(), Some("marriage-900101300123"));
        assert_eq!(c.obtained_from_registry[1].records[0].subject_iin, CHILD);
        assert_eq!(
            c.required_from_applicant,
            vec![
                "application_portal",
                "spouse_consent_portal",
                "health_certificates_portal",
                "income_documents_portal",
                "absence_of_parental_care_documents_portal",
                "kinship_documents_portal"
            ]
        );
        assert_eq!(c.provided, vec!["application_portal", "income_documents_portal"]);
        assert_eq!(
            c.missing,
            vec![
                "spouse_consent_portal",
                "health_certificates_portal",
                "absence_of_parental_care_documents_portal",
                "kinship_documents_portal"
            ]
        );
        assert!(c.depends_on_answers.is_empty());
        assert!(!c.complete());
    }

    #[test]
    fn no_record_means_the_applicant_brings_the_document() {
        // A marriage registered abroad: the civil registry has nothing; the child's birth is there.
        let port = InMemoryRegistries(vec![record(Registry::CivilRegistryBirths, CHILD, "birth", None)]);
        let c = check(&port, &married_relative(), &[], &subjects(&[CHILD]), day(2026, 11, 23));
        assert_eq!(
            c.obtained_from_registry.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(),
            vec!["child_birth_certificate_portal"]
        );
        assert!(c.required_from_applicant.contains(&"marriage_certificate_portal".to_string()));
        assert!(c.missing.contains(&"marriage_certificate_portal".to_string()));
    }

    #[test]
    fn every_child_needs_a_record_and_the_applicants_own_birth_does_not_count() {
        let port = InMemoryRegistries(vec![
            record(Registry::CivilRegistryBirths, CHILD, "birth", None),
            record(Registry::CivilRegistryBirths, APPLICANT, "birth", None),
        ]);
        let c = check(&port, &married_relative(), &[], &subjects(&[CHILD, OTHER_CHILD]), day(2026, 11, 23));
        assert!(c.obtained_from_registry.is_empty(), "{c:?}");
        assert!(c.required_from_applicant.contains(&"child_birth_certificate_portal".to_string()));
    }

    #[test]
    fn an_expired_record_does_not_count() {
        let port = InMemoryRegistries(vec![
            record(Registry::CivilRegistryMarriages, APPLICANT, "marriage", Some(day(2026, 11, 22))),
            record(Registry::CivilRegistryBirths, CHILD, "birth", Some(day(2026, 11, 23))),
        ]);
        let c = check(&port, &married_relative(), &[], &subjects(&[CHILD]), day(2026, 11, 23));
        assert_eq!(
            c.obtained_from_registry.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(),
            vec!["child_birth_certificate_portal"],
            "valid through its last day"
        );
        assert!(c.missing.contains(&"marriage_certificate_portal".to_string()));
    }

    #[test]
    fn unanswered_questions_leave_documents_undecided_and_no_is_not_asked() {
        let port = InMemoryRegistries(vec![record(Registry::CivilRegistryMarriages, APPLICANT, "marriage", None)]);
        // Not married, child in an orphans' institution, no relation given, owns a home.
        let a = answers(&[("married", "false"), ("child_in_orphan_institution", "true"), ("owns_home", "true")]);
        let c = check(&port, &a, &["application_portal"], &subjects(&[CHILD]), day(2026, 11, 23));
        assert!(c.obtained_from_registry.is_empty(), "a marriage certificate is not needed at all");
        assert_eq!(
            c.required_from_applicant,
            vec!["application_portal", "health_certificates_portal", "income_documents_portal"]
        );
        assert_eq!(c.missing, vec!["health_certificates_portal", "income_documents_portal"]);
        assert_eq!(c.depends_on_answers, vec!["kinship_documents_portal", "training_certificate_portal"]);
    }

    #[test]
    fn a_registry_that_did_not_answer_leaves_the_document_to_the_applicant() {
        struct Down;
        impl RegistryPort for Down {
            fn lookup(&self, registry: Registry, _: &str) -> Result<Vec<RegistryRecord>, RegistryError> {
                Err(RegistryError::Unavailable(registry, "timeout".into()))
            }
        }
        let p = guardianship();
        let s = subjects(&[CHILD]);
        let (records, errors) = gather(&Down, &registries_needed(&p, Channel::Portal, None), &s);
        assert!(records.is_empty());
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].to_string(), "registry `civil_registry_marriages` is unavailable: timeout");
        let c = intake_check(&p, Channel::Portal, None, &married_relative(), &[], &records, &s, day(2026, 11, 23));
        assert!(c.obtained_from_registry.is_empty());
        assert!(c.missing.contains(&"marriage_certificate_portal".to_string()));
        assert!(c.missing.contains(&"child_birth_certificate_portal".to_string()));
    }

    #[test]
    fn registers_of_adverse_entries_answer_even_when_empty() {
        let c = Catalog::builtin();
        let p = c.service("adoption_candidate_registration").and_then(|s| s.in_force(day(2026, 11, 23))).unwrap();
        let s = subjects(&[]);
        // A conviction on file is still the registry's answer; an expired one is not shown.
        let port = InMemoryRegistries(vec![
            record(Registry::NarcologyRegister, APPLICANT, "narcology", None),
            record(Registry::CriminalRecords, APPLICANT, "criminal_record", Some(day(2020, 1, 1))),
        ]);
        let (records, _) = gather(&port, &registries_needed(p, Channel::Portal, None), &s);
        let a = answers(&[("married", "false"), ("owns_housing", "true"), ("close_relative_of_child", "true")]);
        let check = intake_check(p, Channel::Portal, None, &a, &[], &records, &s, day(2026, 11, 23));
        let obtained: Vec<(&str, usize)> =
            check.obtained_from_registry.iter().map(|o| (o.code.as_str(), o.records.len())).collect();
        assert_eq!(obtained, vec![("criminal_record_certificate", 0), ("dispensary_certificate", 1)]);
        // No real estate record, no birth record: the applicant brings those documents.
        assert_eq!(
            check.required_from_applicant,
            vec![
                "application",
                "close_relatives_consent",
                "income_certificate",
                "health_and_dispensary_certificates",
                "housing_ownership_data",
                "children_birth_certificates"
            ]
        );
        assert_eq!(check.missing, check.required_from_applicant);
    }

    #[test]
    fn subjects_and_answers_come_from_the_form() {
        let form = json!({
            "applicant": {"iin": APPLICANT}, "spouse": {"iin": "850505400125"},
            "children": [{"iin": CHILD}, {"iin": OTHER_CHILD}],
            "married": true, "applicant_relation": "close_relative", "owns_home": false, "unrelated": "x"
        });
        let s = Subjects::of_form(APPLICANT, &form);
        assert_eq!(
            s,
            Subjects {
                applicant: APPLICANT.into(),
                spouse: Some("850505400125".into()),
                children: vec![CHILD.into(), OTHER_CHILD.into()]
            }
        );
        assert_eq!(Registry::CivilRegistryBirths.subjects(&s), vec![CHILD, OTHER_CHILD]);
        assert_eq!(Registry::CivilRegistryMarriages.subjects(&s), vec![APPLICANT]);
        let a = answers_from_form(&guardianship(), &form);
        assert_eq!(
            a,
            answers(&[("married", "true"), ("applicant_relation", "close_relative"), ("owns_home", "false")])
        );
    }
}
