//! Why the procedure refuses a step: the rule broken, in words and as a stable code, and where the law
//! states it. The API maps each kind to one HTTP status in one place.

/// One field of a command or filing that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field as a path into the request: `grounds[1]`, `form.children[0].iin`.
    pub field: String,
    /// Stable code of the rule: `not_heard`, `within_term`, `not_a_ground_of_the_passport`.
    pub rule: String,
    pub message: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        FieldViolation { field: field.into(), rule: rule.into(), message: message.into() }
    }
}

/// A step the procedure does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    /// This actor may never take this step (403).
    #[error("{detail}")]
    NotForThisActor { detail: String, basis: Option<&'static str> },
    /// The step exists for this actor, but not in the current state, or not any more (409).
    #[error("{detail}")]
    NotNow {
        /// Stable code: `action_not_allowed_in_state`, `preliminary_refusal_too_late`, ...
        rule: &'static str,
        detail: String,
        /// The state's code.
        state: String,
        /// What the actor may do instead.
        allowed: Vec<String>,
        basis: Option<&'static str>,
    },
    /// What the command says breaks a rule (422), field by field.
    #[error("{} field(s) break a rule", fields.len())]
    Invalid { fields: Vec<FieldViolation>, basis: Option<&'static str> },
}

impl Violation {
    pub fn field(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Violation::Invalid { fields: vec![FieldViolation::new(field, rule, message)], basis: None }
    }

    /// The same violation, citing where the law states the rule.
    pub fn citing(mut self, source: &'static str) -> Self {
        match &mut self {
            Violation::NotForThisActor { basis, .. }
            | Violation::NotNow { basis, .. }
            | Violation::Invalid { basis, .. } => *basis = Some(source),
        }
        self
    }

    /// Where the law states the rule broken, when one provision does.
    pub fn basis(&self) -> Option<&'static str> {
        match self {
            Violation::NotForThisActor { basis, .. }
            | Violation::NotNow { basis, .. }
            | Violation::Invalid { basis, .. } => *basis,
        }
    }
}
