//! What a provider decides on an application, as tagged types: the receipt refusing intake, the
//! preliminary refusal with its hearing (тыңдау), the result, the motivated refusal. Each cites the
//! passport's own grounds, documents and results with their sources, so that the decision can be
//! checked against the law from the decision alone.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::states::Actor;
use crate::passport::{DocumentRequirement, Passport, RefusalGround, Registry, ResultKind};
use crate::text::Text;

/// Who took a step: a person's `sub` and role, or the information system itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Official {
    pub sub: String,
    pub role: Actor,
}

impl Official {
    pub fn new(sub: impl Into<String>, role: Actor) -> Self {
        Official { sub: sub.into(), role }
    }

    /// The information system, for the steps of fully automated services.
    pub fn system() -> Self {
        Official { sub: "system".into(), role: Actor::System }
    }
}

/// A refusal ground of the passport, cited with its text and source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedGround {
    pub code: String,
    /// The subparagraph number the act gives the ground, if it numbers them.
    #[serde(default)]
    pub number: Option<u32>,
    pub text: Text,
    pub source: String,
}

impl From<&RefusalGround> for CitedGround {
    fn from(g: &RefusalGround) -> Self {
        CitedGround { code: g.code.clone(), number: g.number, text: g.text.clone(), source: g.source.to_string() }
    }
}

/// A document of the passport, cited in an intake refusal receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedDocument {
    pub code: String,
    pub name: Text,
    pub source: String,
}

impl From<&DocumentRequirement> for CitedDocument {
    fn from(d: &DocumentRequirement) -> Self {
        CitedDocument { code: d.code.clone(), name: d.name.clone(), source: d.source.to_string() }
    }
}

/// A result the passport produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedResult {
    pub code: String,
    pub name: Text,
    pub source: String,
}

impl From<&ResultKind> for CitedResult {
    fn from(r: &ResultKind) -> Self {
        CitedResult { code: r.code.clone(), name: r.name.clone(), source: r.source.to_string() }
    }
}

/// The receipt's kind, kept in the decision for clients that switch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    IntakeRefusalReceipt,
}

/// The receipt refusing to accept an incomplete or expired set of documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeRefusal {
    pub kind: ReceiptKind,
    pub missing_documents: Vec<CitedDocument>,
    pub expired_documents: Vec<CitedDocument>,
    /// The passport's grounds to refuse acceptance that the listed documents meet.
    pub grounds: Vec<CitedGround>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub issued_by: Official,
    pub issued_at: DateTime<Utc>,
}

/// The hearing (тыңдау, APC art. 73-74): when and where it was set, and once held, what the
/// applicant said and brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hearing {
    pub at: DateTime<Utc>,
    pub place: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applicant_position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<Official>,
}

impl Hearing {
    pub fn is_held(&self) -> bool {
        self.held_at.is_some()
    }
}

/// The preliminary decision to refuse, with the grounds the applicant is heard on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreliminaryRefusal {
    pub grounds: Vec<CitedGround>,
    pub hearing: Hearing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The last day the notice could go out (the cut-off it met).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice_cutoff: Option<NaiveDate>,
    pub decided_by: Official,
    pub decided_at: DateTime<Utc>,
}

/// A registry consulted by an automated decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryUsed {
    pub registry: Registry,
    pub kind: String,
}

/// The result issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub result: CitedResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// What the registries showed, for automated decisions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registries: Option<Vec<RegistryUsed>>,
    /// The hearing, when the approval follows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Hearing>,
    pub decided_by: Official,
    pub decided_at: DateTime<Utc>,
    pub on_time: bool,
}

/// The motivated refusal (дәлелді бас тарту).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub grounds: Vec<CitedGround>,
    pub motivation: String,
    /// The hearing it follows; absent only for the automated decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hearing: Option<Hearing>,
    pub decided_by: Official,
    pub decided_at: DateTime<Utc>,
    pub on_time: bool,
}

/// The decision recorded on an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Decision {
    RefusedAtIntake(IntakeRefusal),
    PreliminaryRefusal(PreliminaryRefusal),
    Approved(Approval),
    Refused(Refusal),
}

impl Decision {
    /// The hearing the decision carries, if any.
    pub fn hearing(&self) -> Option<&Hearing> {
        match self {
            Decision::PreliminaryRefusal(p) => Some(&p.hearing),
            Decision::Approved(a) => a.hearing.as_ref(),
            Decision::Refused(r) => r.hearing.as_ref(),
            Decision::RefusedAtIntake(_) => None,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// A signed document the procedure issues (the server renders and signs it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The result of the service (certificate, order, notification, decision).
    ApprovalResult,
    /// The motivated refusal to provide the service, each ground cited from the passport.
    MotivatedRefusal,
    /// The receipt refusing to accept an incomplete or expired set of documents.
    IntakeRefusalReceipt,
    /// The notice of a preliminary refusal with the hearing's time and place.
    PreliminaryRefusalNotice,
    /// The notification that the child is in the queue (registration slip, талон): queue, number,
    /// date, position at issue.
    QueueRegistrationSlip,
    /// The referral (жолдама) to a preschool organisation, with its validity.
    PreschoolReferral,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::ApprovalResult,
        DocumentKind::MotivatedRefusal,
        DocumentKind::IntakeRefusalReceipt,
        DocumentKind::PreliminaryRefusalNotice,
        DocumentKind::QueueRegistrationSlip,
        DocumentKind::PreschoolReferral,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::ApprovalResult => "approval_result",
            DocumentKind::MotivatedRefusal => "motivated_refusal",
            DocumentKind::IntakeRefusalReceipt => "intake_refusal_receipt",
            DocumentKind::PreliminaryRefusalNotice => "preliminary_refusal_notice",
            DocumentKind::QueueRegistrationSlip => "queue_registration_slip",
            DocumentKind::PreschoolReferral => "preschool_referral",
        }
    }

    pub fn parse(code: &str) -> Option<DocumentKind> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The document's heading.
    pub fn title(self) -> Text {
        match self {
            DocumentKind::ApprovalResult => Text::new(
                "Мемлекеттік көрсетілетін қызметтің нәтижесі",
                "Результат оказания государственной услуги",
                "Result of the state service",
            ),
            DocumentKind::MotivatedRefusal => Text::new(
                "Мемлекеттік қызмет көрсетуден дәлелді бас тарту",
                "Мотивированный отказ в оказании государственной услуги",
                "Motivated refusal to provide the state service",
            ),
            DocumentKind::IntakeRefusalReceipt => Text::new(
                "Құжаттарды қабылдаудан бас тарту туралы қолхат",
                "Расписка об отказе в приеме документов",
                "Receipt of refusal to accept the documents",
            ),
            DocumentKind::PreliminaryRefusalNotice => Text::new(
                "Бас тарту туралы алдын ала шешім және тыңдау туралы хабарлама",
                "Уведомление о предварительном решении об отказе и о заслушивании",
                "Notice of a preliminary refusal and of the hearing",
            ),
            DocumentKind::QueueRegistrationSlip => Text::new(
                "Баланы кезекке қою туралы хабарлама (талон)",
                "Уведомление о постановке в очередь (талон)",
                "Notification of placement in the queue (registration slip)",
            ),
            DocumentKind::PreschoolReferral => Text::new(
                "Мектепке дейінгі ұйымға жолдама",
                "Направление в дошкольную организацию",
                "Referral to a preschool organisation",
            ),
        }
    }
}

/// The passport's refusal ground with this code.
pub fn ground_of<'p>(p: &'p Passport, code: &str) -> Option<&'p RefusalGround> {
    p.refusal_grounds.iter().find(|g| g.code == code)
}
