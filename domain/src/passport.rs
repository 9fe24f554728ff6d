//! The service passport (мемлекеттік көрсетілетін қызметтің паспорты): one version of the law for one
//! state service, as the "list of main requirements" (мемлекеттік қызмет көрсетуге қойылатын негізгі
//! талаптардың тізбесі) and the rules around it set it.
//!
//! Passports are data (`domain/catalog/services/*.yaml`); this module is their shape. Every term,
//! document and ground carries a [`Source`]: the seed text, its lines, and the paragraph or appendix row.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::calendar::schedule::office_hours_of;
use crate::calendar::{BusinessCalendar, DayHours, Schedule, ScheduleOrigin};
use crate::text::{Lang, Text};

/// Where in the law a value comes from: `"004:2431-2440 | Appendix 6, row 3"` in the data files.
///
/// `seed` names the act's text in `shared/seeds` by its three-digit prefix; `lines` are the lines of that
/// text; `reference` is the paragraph (тармақ/пункт), subparagraph or appendix row as the act numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub seed: String,
    pub from_line: u32,
    pub to_line: u32,
    pub reference: String,
}

impl Source {
    pub fn parse(s: &str) -> Result<Source, String> {
        let (loc, reference) = s
            .split_once('|')
            .ok_or_else(|| format!("source `{s}` must read `SEED:FROM-TO | paragraph or appendix row`"))?;
        let (seed, lines) =
            loc.trim().split_once(':').ok_or_else(|| format!("source `{s}` lacks `SEED:` before the line range"))?;
        let (from, to) = lines.split_once('-').unwrap_or((lines, lines));
        let from_line: u32 = from.trim().parse().map_err(|_| format!("source `{s}`: bad first line"))?;
        let to_line: u32 = to.trim().parse().map_err(|_| format!("source `{s}`: bad last line"))?;
        let seed = seed.trim().to_string();
        if seed.len() != 3 || !seed.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("source `{s}`: seed must be the three-digit prefix of a file in shared/seeds"));
        }
        if from_line == 0 || to_line < from_line {
            return Err(format!("source `{s}`: line range must be ascending and start at 1 or later"));
        }
        let reference = reference.trim().to_string();
        if reference.is_empty() {
            return Err(format!("source `{s}`: name the paragraph or appendix row after `|`"));
        }
        Ok(Source { seed, from_line, to_line, reference })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}-{} | {}", self.seed, self.from_line, self.to_line, self.reference)
    }
}

impl Serialize for Source {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Source::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An act that is not among the seed texts, cited by name and article: it has no seed lines, so it is
/// never written as a [`Source`] (and never as the lines of another act that repeats it for one service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OutsideSource {
    /// Stable id, e.g. `law_on_public_services_art_25`.
    pub id: &'static str,
    /// The act as it is cited.
    pub act: &'static str,
    /// The article (and paragraph) relied on.
    pub article: &'static str,
    /// The act's document code on adilet.zan.kz.
    pub adilet: &'static str,
}

impl fmt::Display for OutsideSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "outside the seeds: {}, {} (adilet {})", self.act, self.article, self.adilet)
    }
}

/// The Law on public services, article 25 (review of complaints): the complaint terms of every service
/// whose own rules do not state them. Of the seeds, only paragraph 38 of the adoption-agency
/// accreditation rules repeats them (004:169-192); the law itself is not among the seeds.
pub const LAW_ON_PUBLIC_SERVICES_ART_25: OutsideSource = OutsideSource {
    id: "law_on_public_services_art_25",
    act: "Law of the Republic of Kazakhstan of 15 April 2013 No 88-V \"On public services\"",
    article: "article 25 (review of complaints)",
    adilet: "Z1300000088",
};

/// Where a value comes from: lines of a seed text, or an act outside the seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Citation {
    Seed { source: Source },
    Outside { act: OutsideSource, reference: String },
}

impl Citation {
    pub fn is_outside(&self) -> bool {
        matches!(self, Citation::Outside { .. })
    }
}

impl fmt::Display for Citation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Citation::Seed { source } => write!(f, "{source}"),
            Citation::Outside { act, reference } => write!(f, "{act}: {reference}"),
        }
    }
}

/// A complaint term as it applies to an application: from the passport when its rules state it, else
/// from the Law on public services (art. 25) as an outside source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComplaintTerm {
    /// `complaint_forwarding`, `complaint_review_provider` or `complaint_review_body`.
    pub code: &'static str,
    pub stage: Stage,
    pub value: u32,
    pub unit: TermUnit,
    pub starts: TermStart,
    pub citation: Citation,
}

/// The three complaint terms of the Law on public services, art. 25, in the order forwarding (3 working
/// days from receipt), review by the provider (5 from registration), review by the review body (15 from
/// registration), cited as an outside source. Prefer [`Passport::complaint_terms`], which takes a
/// passport's own terms where its rules state them; this is for a complaint without a passport at hand.
pub fn law_complaint_terms() -> [ComplaintTerm; 3] {
    let outside =
        |reference: &str| Citation::Outside { act: LAW_ON_PUBLIC_SERVICES_ART_25, reference: reference.into() };
    [
        ComplaintTerm {
            code: "complaint_forwarding",
            stage: Stage::ComplaintForwarding,
            value: 3,
            unit: TermUnit::WorkingDays,
            starts: TermStart::ComplaintRegistered,
            citation: outside("the provider forwards a complaint it does not fully satisfy to the review body no later than 3 working days from its receipt"),
        },
        ComplaintTerm {
            code: "complaint_review_provider",
            stage: Stage::ComplaintReviewProvider,
            value: 5,
            unit: TermUnit::WorkingDays,
            starts: TermStart::ComplaintRegistered,
            citation: outside("paragraph 2: a complaint to the provider is reviewed within 5 working days of its registration"),
        },
        ComplaintTerm {
            code: "complaint_review_body",
            stage: Stage::ComplaintReviewBody,
            value: 15,
            unit: TermUnit::WorkingDays,
            starts: TermStart::ComplaintRegistered,
            citation: outside("a complaint to the authorised body for the quality of state services is reviewed within 15 working days of its registration"),
        },
    ]
}

/// How an application reaches the provider (мемлекеттік қызметті ұсыну тәсілдері).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The e-government portal www.egov.kz ("электрондық үкімет" веб-порталы).
    Portal,
    /// The State Corporation "Government for Citizens" (Азаматтарға арналған үкімет), formerly ЦОН/ХҚКО.
    StateCorporation,
    /// The provider's own office or chancellery (көрсетілетін қызметті берушінің кеңсесі).
    ProviderOffice,
    /// An education organisation (school, preschool) receiving applications for the provider.
    EducationOrganization,
}

impl Channel {
    pub const ALL: [Channel; 4] =
        [Channel::Portal, Channel::StateCorporation, Channel::ProviderOffice, Channel::EducationOrganization];

    pub fn code(self) -> &'static str {
        match self {
            Channel::Portal => "portal",
            Channel::StateCorporation => "state_corporation",
            Channel::ProviderOffice => "provider_office",
            Channel::EducationOrganization => "education_organization",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == s)
    }
}

/// The unit a term is counted in. Working days and working minutes follow the business calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermUnit {
    WorkingDays,
    CalendarDays,
    Hours,
    Minutes,
    /// Working hours: counted only inside office hours (e.g. "within 2 working hours").
    WorkingHours,
    Months,
    Years,
    /// Counter steps of the 2012 e-service regulations ("30 секунд").
    Seconds,
}

impl TermUnit {
    pub fn code(self) -> &'static str {
        match self {
            TermUnit::WorkingDays => "working_days",
            TermUnit::CalendarDays => "calendar_days",
            TermUnit::Hours => "hours",
            TermUnit::Minutes => "minutes",
            TermUnit::WorkingHours => "working_hours",
            TermUnit::Months => "months",
            TermUnit::Years => "years",
            TermUnit::Seconds => "seconds",
        }
    }
}

/// Which part of the procedure a term bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The whole service, from filing to the result (мемлекеттік қызмет көрсету мерзімі).
    Service,
    /// Longest permitted wait in the queue to hand over documents.
    QueueWait,
    /// Longest permitted time to serve the applicant at the counter.
    CounterService,
    /// Checking completeness and registering the application.
    Intake,
    /// The State Corporation delivering the file to the provider, or the result back.
    Delivery,
    /// The provider sending documents to other state bodies for approval or data.
    SendToStateBodies,
    /// Other state bodies answering the provider (conclusion, approval).
    StateBodiesAnswer,
    /// The provider's own examination before the decision.
    Examination,
    /// Issuing the result after the decision is taken.
    ResultIssue,
    /// The latest a preliminary refusal and hearing notice may go out, counted back from the term's end.
    PreliminaryRefusalNotice,
    /// The hearing (тыңдау) itself, or the applicant's window to object.
    Hearing,
    /// The final decision after the hearing.
    ResultAfterHearing,
    /// The provider forwarding a complaint to the review body.
    ComplaintForwarding,
    /// Review of a complaint by the provider.
    ComplaintReviewProvider,
    /// Review of a complaint by the authorised review body.
    ComplaintReviewBody,
    /// Anything else the text bounds in time; the description says what.
    Other,
}

/// The event from which a term is counted: the one the text names (the catalog test
/// `every_term_starts_at_the_event_its_text_names` checks each term against its words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermStart {
    /// Filing: documents handed over at a counter or the application sent on the portal, counted on the
    /// channel's schedule (`Passport::schedule`, `deadline::due_on`).
    Filing,
    /// The provider's receipt of the file (e.g. from the State Corporation).
    ReceiptByProvider,
    /// The end of the previous stage (the previous action of a table, or of a numbered list of actions).
    PreviousStage,
    /// The receipt of a request by another state body.
    RequestReceived,
    /// The decision being taken (or the result signed or issued, as the text words it).
    Decision,
    /// The hearing being held.
    Hearing,
    /// Arrival at the counter (queue and counter times).
    Arrival,
    /// Registration of a complaint.
    ComplaintRegistered,
    /// Counted backwards from the end of the service term.
    ServiceTermEnd,
    /// The expiry of a previously granted status (e.g. accreditation), counted backwards.
    ExpiryOfStatus,
    /// The interview (conversation) with the child whose opinion is sought ("кәмелетке толмаған адаммен
    /// әңгімелесу өткізгеннен кейін", 004:784-788): a stage event the provider records with its date.
    Interview,
    /// The child's being taken into the family ("баланы отбасына тәрбиелеуге қабылдаған кезден бастап",
    /// 004:2807-2810, 004:3358-3375): a stage event recorded with its date, after the decision.
    Placement,
}

impl TermStart {
    /// Every start, in declaration order (a test checks each is used by some term of the catalog).
    pub const ALL: [TermStart; 12] = [
        TermStart::Filing,
        TermStart::ReceiptByProvider,
        TermStart::PreviousStage,
        TermStart::RequestReceived,
        TermStart::Decision,
        TermStart::Hearing,
        TermStart::Arrival,
        TermStart::ComplaintRegistered,
        TermStart::ServiceTermEnd,
        TermStart::ExpiryOfStatus,
        TermStart::Interview,
        TermStart::Placement,
    ];

    /// The wire code (`filing`, `interview`, ...).
    pub fn code(self) -> &'static str {
        match self {
            TermStart::Filing => "filing",
            TermStart::ReceiptByProvider => "receipt_by_provider",
            TermStart::PreviousStage => "previous_stage",
            TermStart::RequestReceived => "request_received",
            TermStart::Decision => "decision",
            TermStart::Hearing => "hearing",
            TermStart::Arrival => "arrival",
            TermStart::ComplaintRegistered => "complaint_registered",
            TermStart::ServiceTermEnd => "service_term_end",
            TermStart::ExpiryOfStatus => "expiry_of_status",
            TermStart::Interview => "interview",
            TermStart::Placement => "placement",
        }
    }

    /// Counted backwards from the event rather than forwards.
    pub fn counts_back(self) -> bool {
        matches!(self, TermStart::ServiceTermEnd | TermStart::ExpiryOfStatus)
    }
}

/// A time limit the law sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Unique within the passport version, e.g. `service_term`, `service_term_extension`.
    pub code: String,
    pub stage: Stage,
    /// Channels the term applies to; empty means every channel of the passport.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// The service subtype it applies to, where the text distinguishes subtypes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    pub value: u32,
    pub unit: TermUnit,
    pub starts: TermStart,
    /// The text states no such term and this value is derived from what it does state (a sum of step
    /// limits, an analogy with another channel); `description` and an open question say how.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub derived: bool,
    /// The day the result is issued is not counted in the term either ("құжаттарды қабылдау және беру
    /// күндері мемлекеттік қызмет көрсету мерзіміне енбейді", 002:706-713): the result is due on the
    /// channel's next business day after the term's last day (`deadline::due_for`). Day units only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub excludes_issue_day: bool,
    pub description: Text,
    pub source: Source,
}

impl Term {
    pub fn applies_to(&self, channel: Channel, subtype: Option<&str>) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && match (&self.subtype, subtype) {
                (None, _) => true,
                (Some(t), Some(s)) => t == s,
                (Some(_), None) => false,
            }
    }
}

/// A state information system the provider queries itself instead of asking the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Registry {
    /// State database "Individuals" (ГБД ФЛ / ЖТ МДБ): identity documents, addresses of persons.
    Persons,
    /// State database "Legal entities" (ГБД ЮЛ / ЗТ МДБ).
    LegalEntities,
    /// Civil registry (АХАЖ/ЗАГС) records of births.
    CivilRegistryBirths,
    /// Civil registry records of marriages and divorces.
    CivilRegistryMarriages,
    /// Civil registry records of deaths.
    CivilRegistryDeaths,
    /// Real estate register (rights to immovable property).
    RealEstate,
    /// Vehicle register.
    Vehicles,
    /// Criminal records (Committee on Legal Statistics).
    CriminalRecords,
    /// Narcological register (наркологиялық есеп).
    NarcologyRegister,
    /// Psychiatric register (психиатриялық есеп).
    PsychiatryRegister,
    /// Health records: medical certificates, disability findings (МСЭ).
    Health,
    /// Social protection: allowances, targeted assistance, disability status.
    SocialProtection,
    /// Education: enrolment, children's records, queues.
    Education,
    /// Employment and income records (pension contributions, employment contracts).
    EmploymentIncome,
    /// Registers kept under the Code on Marriage and Family: deprived parental rights, adoption candidates.
    FamilyRegisters,
    /// The unified notarial information system (ЕНИС): powers of attorney and other notarial acts.
    Notary,
}

/// A fact the applicant states that changes which documents are needed (married or not, category of the
/// child). Conditions on documents refer to questions by code; the checklist endpoint takes the answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub code: String,
    pub text: Text,
    /// `None`: a yes/no question; otherwise the codes of the allowed answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<QuestionOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    pub code: String,
    pub text: Text,
}

/// When a document is required, as a formula over the answers to [`Question`]s. Written in the data
/// as a one-key map: `{yes: married}`, `{no: married}`, `{one_of: {question: q, options: [a, b]}}`,
/// `{all: [...]}`, `{any: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ConditionRepr", into = "ConditionRepr")]
pub enum Condition {
    /// A yes/no question answered yes.
    Yes(String),
    /// A yes/no question answered no.
    No(String),
    /// A choice question answered with one of the listed options.
    OneOf {
        question: String,
        options: Vec<String>,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneOf {
    pub question: String,
    pub options: Vec<String>,
}

/// The map form of [`Condition`]: YAML's enum tags (`!yes married`) are unfamiliar to people who
/// maintain the data, so the data uses one-key maps instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    yes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    one_of: Option<OneOf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
}

impl TryFrom<ConditionRepr> for Condition {
    type Error = String;
    fn try_from(r: ConditionRepr) -> Result<Self, String> {
        let mut found = Vec::new();
        if let Some(q) = r.yes {
            found.push(Condition::Yes(q));
        }
        if let Some(q) = r.no {
            found.push(Condition::No(q));
        }
        if let Some(o) = r.one_of {
            found.push(Condition::OneOf { question: o.question, options: o.options });
        }
        if let Some(cs) = r.all {
            found.push(Condition::All(cs));
        }
        if let Some(cs) = r.any {
            found.push(Condition::Any(cs));
        }
        match found.len() {
            1 => Ok(found.pop().unwrap()),
            _ => Err("a condition is exactly one of yes, no, one_of, all, any".into()),
        }
    }
}

impl From<Condition> for ConditionRepr {
    fn from(c: Condition) -> Self {
        let mut r = ConditionRepr::default();
        match c {
            Condition::Yes(q) => r.yes = Some(q),
            Condition::No(q) => r.no = Some(q),
            Condition::OneOf { question, options } => r.one_of = Some(OneOf { question, options }),
            Condition::All(cs) => r.all = Some(cs),
            Condition::Any(cs) => r.any = Some(cs),
        }
        r
    }
}

/// Answers to questions: `married = true`, `child_category = orphan`.
pub type Answers = std::collections::BTreeMap<String, String>;

/// The result of evaluating a condition: some answers may be missing, in which case the requirement is
/// reported as conditional rather than guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    Yes,
    No,
    Unknown,
}

impl Condition {
    pub fn evaluate(&self, answers: &Answers) -> Applies {
        fn yes_no(answers: &Answers, q: &str) -> Option<bool> {
            answers.get(q).and_then(|a| match a.as_str() {
                "true" | "yes" | "1" => Some(true),
                "false" | "no" | "0" => Some(false),
                _ => None,
            })
        }
        match self {
            Condition::Yes(q) => match yes_no(answers, q) {
                Some(true) => Applies::Yes,
                Some(false) => Applies::No,
                None => Applies::Unknown,
            },
            Condition::No(q) => match yes_no(answers, q) {
                Some(false) => Applies::Yes,
                Some(true) => Applies::No,
                None => Applies::Unknown,
            },
            Condition::OneOf { question, options } => match answers.get(question) {
                Some(a) if options.contains(a) => Applies::Yes,
                Some(_) => Applies::No,
                None => Applies::Unknown,
            },
            Condition::All(cs) => {
                let rs: Vec<Applies> = cs.iter().map(|c| c.evaluate(answers)).collect();
                if rs.contains(&Applies::No) {
                    Applies::No
                } else if rs.contains(&Applies::Unknown) {
                    Applies::Unknown
                } else {
                    Applies::Yes
                }
            }
            Condition::Any(cs) => {
                let rs: Vec<Applies> = cs.iter().map(|c| c.evaluate(answers)).collect();
                if rs.contains(&Applies::Yes) {
                    Applies::Yes
                } else if rs.contains(&Applies::Unknown) {
                    Applies::Unknown
                } else {
                    Applies::No
                }
            }
        }
    }

    /// Every question code the condition mentions, for validation.
    pub fn questions(&self) -> Vec<&str> {
        match self {
            Condition::Yes(q) | Condition::No(q) => vec![q.as_str()],
            Condition::OneOf { question, .. } => vec![question.as_str()],
            Condition::All(cs) | Condition::Any(cs) => cs.iter().flat_map(|c| c.questions()).collect(),
        }
    }
}

/// A document the applicant submits, or the provider obtains itself (құжаттар тізбесі).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequirement {
    /// Unique within the passport version, e.g. `application`, `identity_document`, `marriage_certificate`.
    pub code: String,
    pub name: Text,
    /// Channels where it is required; empty means every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Subtypes it belongs to; empty means every subtype.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtypes: Vec<String>,
    /// When it is required; absent means always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The condition as the law words it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<Text>,
    /// The provider obtains it from this registry itself; the applicant is not asked for it unless the
    /// registry has no record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
    /// Presented for identification only and returned (not kept in the file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub for_identification_only: bool,
    /// A copy is kept; the original is shown for verification and returned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub original_for_verification: bool,
    pub source: Source,
}

impl DocumentRequirement {
    pub fn applies_to(&self, channel: Channel, subtype: Option<&str>) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.subtypes.is_empty() || subtype.is_some_and(|s| self.subtypes.iter().any(|t| t == s)))
    }
}

/// A ground to refuse: to accept the application (қабылдаудан бас тарту) or to provide the service
/// (мемлекеттік қызмет көрсетуден бас тарту). Either its own text, or a reference to one of the shared
/// general grounds (`shared`), which the catalog resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefusalGround {
    /// Unique within the passport version.
    pub code: String,
    /// The number the act gives the ground in its list (subparagraph), if it numbers them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// The code of a shared general ground; the text is then taken from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<String>,
    #[serde(default, skip_serializing_if = "Text::is_empty")]
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// Channels where the ground applies (e.g. a refusal-to-accept receipt issued only at State
    /// Corporation centres); empty means every channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    pub source: Source,
}

/// A ground shared by many passports (e.g. "unreliable documents", "no consent to personal data").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedGround {
    pub code: String,
    pub text: Text,
    /// The statute the ground comes from, as the passports cite it.
    pub legal_basis: Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Electronic,
    Paper,
}

/// What the service produces (мемлекеттік қызмет көрсету нәтижесі).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultKind {
    pub code: String,
    pub name: Text,
    pub delivery: Vec<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// Amount in tenge; 0 for a free service (тегін); absent when the text does not state the fee.
    pub amount_kzt: Option<u32>,
    pub text: Text,
    pub source: Source,
}

/// Office hours of a channel. Times are local ("HH:MM").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHours {
    pub channel: Channel,
    /// Open around the clock (the portal, except technical breaks).
    #[serde(default)]
    pub around_the_clock: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lunch: Option<(String, String)>,
    /// Saturdays are working days for this channel (some State Corporation branches).
    #[serde(default)]
    pub saturdays: bool,
    /// Filings after hours, on weekends or holidays count from the next working day.
    #[serde(default)]
    pub after_hours_next_working_day: bool,
    pub text: Text,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomationLevel {
    /// Decided by the information system without a person (e.g. guardianship certificate, 2022).
    FullyAutomated,
    PartiallyAutomated,
    NonAutomated,
    /// The text does not say (a title-only version).
    NotStated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    pub level: AutomationLevel,
    pub text: Text,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JurisdictionLevel {
    National,
    Region,
    District,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    pub level: JurisdictionLevel,
    /// The region or district that approved a regional regulation; absent for national acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JusticeRegistration {
    pub number: String,
    pub date: NaiveDate,
}

/// The act that approved this version of the passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalAct {
    pub kind: String,
    pub issuer: Text,
    pub number: String,
    pub date: NaiveDate,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justice_registration: Option<JusticeRegistration>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subtype {
    pub code: String,
    pub name: Text,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub code: String,
    pub name: Text,
}

/// Something the text leaves open or contradicts; recorded instead of inventing a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenQuestion {
    pub text: String,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    InForce,
    Repealed,
    NotYetInForce,
}

/// How much of a passport the texts give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Completeness {
    /// The requirements are in the text: channels, terms, documents, results.
    #[default]
    Full,
    /// Only the title and the act's status survive in the text (e.g. a regulation removed from an
    /// act): kept so that "what was in force on a date" is answered truthfully, never open for filing.
    TitleOnly,
}

/// One version of a service passport.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passport {
    /// The service key (one per service across versions), filled from the file it sits in.
    #[serde(default)]
    pub key: String,
    /// Version id, unique within the service, e.g. `mangistau-2012`, `order-414-2022`.
    pub version: String,
    pub title: Text,
    /// The language the act is published in; the other languages are translations.
    pub language: Lang,
    #[serde(default, skip_serializing_if = "is_full")]
    pub completeness: Completeness,
    /// False when the text states no whole-service term (it defers to a Standard outside the seeds):
    /// then the passport has no `stage: service` term rather than an invented one, and an open question
    /// says so. Such a version never takes applications.
    #[serde(default = "stated", skip_serializing_if = "Clone::clone")]
    pub service_term_stated: bool,
    pub act: LegalAct,
    pub jurisdiction: Jurisdiction,
    /// First day in force (ten calendar days after first publication, unless the act says otherwise).
    pub effective_from: NaiveDate,
    /// First day no longer in force (the repeal took effect), if repealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repealed_by: Option<Text>,
    pub automation: Automation,
    #[serde(default)]
    pub providers: Vec<Party>,
    #[serde(default)]
    pub recipients: Vec<Party>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subtypes: Vec<Subtype>,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub terms: Vec<Term>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<Question>,
    #[serde(default)]
    pub documents: Vec<DocumentRequirement>,
    #[serde(default)]
    pub refusal_to_accept: Vec<RefusalGround>,
    #[serde(default)]
    pub refusal_grounds: Vec<RefusalGround>,
    #[serde(default)]
    pub results: Vec<ResultKind>,
    /// Absent only for a title-only version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee: Option<Fee>,
    #[serde(default)]
    pub schedule: Vec<OfficeHours>,
    /// The application form as JSON Schema (draft 2020-12).
    pub form: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open_questions: Vec<OpenQuestion>,
    /// The same form with its keys in the order the catalog file writes them (fields in the order
    /// of the paper form), for renderers that show properties in the order of the JSON text.
    #[serde(skip)]
    pub form_order: FormOrder,
}

/// A form with its keys in their written order (`serde_yaml`'s mappings keep it, `serde_json`'s
/// without `preserve_order` sort). Presentation only: it never makes two passports differ.
#[derive(Debug, Clone, Default)]
pub struct FormOrder(pub Option<serde_yaml::Value>);

impl PartialEq for FormOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Passport {
    pub fn in_force_on(&self, date: NaiveDate) -> bool {
        self.effective_from <= date && self.effective_to.is_none_or(|to| date < to)
    }

    pub fn status_on(&self, date: NaiveDate) -> VersionStatus {
        if date < self.effective_from {
            VersionStatus::NotYetInForce
        } else if self.in_force_on(date) {
            VersionStatus::InForce
        } else {
            VersionStatus::Repealed
        }
    }

    /// The term bounding the whole service for a channel and subtype: the one the due date comes from.
    pub fn service_term(&self, channel: Channel, subtype: Option<&str>) -> Option<&Term> {
        self.terms
            .iter()
            .filter(|t| t.stage == Stage::Service && t.applies_to(channel, subtype))
            // A channel- or subtype-specific term wins over a general one.
            .max_by_key(|t| (!t.channels.is_empty()) as u8 + t.subtype.is_some() as u8)
    }

    pub fn terms_for<'a>(
        &'a self,
        stage: Stage,
        channel: Channel,
        subtype: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Term> + 'a {
        self.terms.iter().filter(move |t| t.stage == stage && t.applies_to(channel, subtype))
    }

    /// The document checklist for a channel, subtype and answers.
    pub fn checklist<'a>(
        &'a self,
        channel: Channel,
        subtype: Option<&'a str>,
        answers: &'a Answers,
    ) -> impl Iterator<Item = (&'a DocumentRequirement, Applies)> + 'a {
        self.documents.iter().filter(move |d| d.applies_to(channel, subtype)).filter_map(move |d| {
            let applies = d.when.as_ref().map_or(Applies::Yes, |c| c.evaluate(answers));
            (applies != Applies::No).then_some((d, applies))
        })
    }

    /// Whether new applications can be filed under this version at all.
    pub fn accepts_applications(&self) -> bool {
        self.completeness == Completeness::Full && self.service_term_stated && !self.channels.is_empty()
    }

    pub fn is_fully_automated(&self) -> bool {
        self.automation.level == AutomationLevel::FullyAutomated
    }

    /// The schedule of `channel` as this passport states it (its `schedule` row for the channel), with the
    /// provider's working time (its `provider_office` row, else the calendar's). A channel without a row
    /// (the 2012-2016 regulations state no hours) gets the general rule, `origin: general`. This is what a
    /// filing through `channel` is counted on: `deadline::due_for(cal, &p.schedule(channel, cal), ...)`.
    pub fn schedule(&self, channel: Channel, cal: &BusinessCalendar) -> Schedule {
        let working_time = self
            .schedule
            .iter()
            .find(|h| h.channel == Channel::ProviderOffice && !h.around_the_clock)
            .and_then(|h| office_hours_of(h).ok())
            .unwrap_or_else(|| DayHours::from(cal.working_hours()));
        self.schedule
            .iter()
            .find(|h| h.channel == channel)
            .and_then(|h| Schedule::from_row(h, working_time, ScheduleOrigin::Passport).ok())
            .unwrap_or_else(|| Schedule { channel: Some(channel), working_time, ..Schedule::general(cal) })
    }

    /// The complaint terms for an application through `channel` (forwarding, review by the provider, review
    /// by the review body): the passport's own `complaint_*` terms where its rules state them (the adoption
    /// agency accreditation, 004:169-192), else the Law on public services, art. 25, cited as an outside
    /// source ([`LAW_ON_PUBLIC_SERVICES_ART_25`]).
    pub fn complaint_terms(&self, channel: Channel, subtype: Option<&str>) -> [ComplaintTerm; 3] {
        law_complaint_terms().map(|law| match self.terms_for(law.stage, channel, subtype).next() {
            Some(t) => ComplaintTerm {
                code: law.code,
                stage: t.stage,
                value: t.value,
                unit: t.unit,
                starts: t.starts,
                citation: Citation::Seed { source: t.source.clone() },
            },
            None => law,
        })
    }

    /// The preliminary-refusal notice term (how many working days before the service term ends the
    /// notice goes out at the latest), where the service's rules state one; `None` otherwise (e.g. the
    /// fully automated guardianship certificate): then no default applies.
    pub fn preliminary_refusal_notice(&self, channel: Channel, subtype: Option<&str>) -> Option<&Term> {
        self.terms.iter().find(|t| t.stage == Stage::PreliminaryRefusalNotice && t.applies_to(channel, subtype))
    }
}

fn stated() -> bool {
    true
}

fn is_full(c: &Completeness) -> bool {
    *c == Completeness::Full
}

/// One data file: a service and all its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub key: String,
    pub title: Text,
    pub versions: Vec<Passport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_parses_and_prints_back() {
        let s = Source::parse("004:2431-2440 | Appendix 6, row 3").unwrap();
        assert_eq!(s.seed, "004");
        assert_eq!((s.from_line, s.to_line), (2431, 2440));
        assert_eq!(s.to_string(), "004:2431-2440 | Appendix 6, row 3");
        assert_eq!(Source::parse("004:12 | para 5").unwrap().to_line, 12);
        assert!(Source::parse("004:2431-2440").is_err());
        assert!(Source::parse("4:1-2 | x").is_err());
        assert!(Source::parse("004:9-2 | x").is_err());
        assert!(Source::parse("004:1-2 |  ").is_err());
    }

    #[test]
    fn conditions_report_unknown_when_an_answer_is_missing() {
        let married = Condition::Yes("married".into());
        let mut a = Answers::new();
        assert_eq!(married.evaluate(&a), Applies::Unknown);
        a.insert("married".into(), "true".into());
        assert_eq!(married.evaluate(&a), Applies::Yes);
        let c = Condition::All(vec![
            married.clone(),
            Condition::OneOf { question: "cat".into(), options: vec!["orphan".into()] },
        ]);
        assert_eq!(c.evaluate(&a), Applies::Unknown);
        a.insert("cat".into(), "other".into());
        assert_eq!(c.evaluate(&a), Applies::No);
        let any = Condition::Any(vec![Condition::No("married".into()), Condition::Yes("x".into())]);
        assert_eq!(any.evaluate(&a), Applies::Unknown);
    }
}
