//! The application's states and who may move it between them: the state table of the procedure.
//!
//! The states follow order No 414 and the Administrative Procedural Code: an application is submitted,
//! accepted (registered, the term runs) or refused at intake (incomplete or expired documents), taken
//! into work, and then either approved, or preliminarily refused with a hearing (тыңдау) before a final
//! motivated refusal or approval. The applicant may withdraw before a decision.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed and waiting for the intake check.
    Submitted,
    /// Registered; the service term runs.
    Accepted,
    /// Not accepted: the document set was incomplete or expired (a refusal receipt is issued).
    RefusedAtIntake,
    /// Assigned to an employee by the head of the provider.
    InProgress,
    /// A preliminary refusal was sent with the hearing's time and place.
    PreliminaryRefusal,
    /// The hearing was held; the applicant's position is recorded.
    HearingHeld,
    /// The result was issued.
    Approved,
    /// A motivated refusal citing grounds of the passport was issued.
    Refused,
    /// Withdrawn by the applicant before a decision.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Submitted,
        Status::Accepted,
        Status::RefusedAtIntake,
        Status::InProgress,
        Status::PreliminaryRefusal,
        Status::HearingHeld,
        Status::Approved,
        Status::Refused,
        Status::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::Accepted => "accepted",
            Status::RefusedAtIntake => "refused_at_intake",
            Status::InProgress => "in_progress",
            Status::PreliminaryRefusal => "preliminary_refusal",
            Status::HearingHeld => "hearing_held",
            Status::Approved => "approved",
            Status::Refused => "refused",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.code() == s)
    }

    /// A final state: no term runs and no action but a complaint remains.
    pub fn is_final(self) -> bool {
        matches!(self, Status::RefusedAtIntake | Status::Approved | Status::Refused | Status::Withdrawn)
    }
}

/// Who acts on an application, in the procedure's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Applicant,
    /// State Corporation operator (intake at a service centre).
    Operator,
    /// Provider employee (көрсетілетін қызметті берушінің қызметкері).
    Employee,
    /// Head of the provider.
    Head,
    /// The complaint review body.
    Reviewer,
    Admin,
    /// The information system itself (fully automated services).
    System,
}

impl Actor {
    pub const ALL: [Actor; 7] =
        [Actor::Applicant, Actor::Operator, Actor::Employee, Actor::Head, Actor::Reviewer, Actor::Admin, Actor::System];

    pub fn code(self) -> &'static str {
        match self {
            Actor::Applicant => "applicant",
            Actor::Operator => "operator",
            Actor::Employee => "employee",
            Actor::Head => "head",
            Actor::Reviewer => "reviewer",
            Actor::Admin => "admin",
            Actor::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Actor> {
        Actor::ALL.into_iter().find(|a| a.code() == s)
    }
}

/// What can be done to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Register a complete set of documents; the term runs.
    Accept,
    /// Refuse to accept an incomplete or expired set, with a receipt listing what is missing.
    RefuseIntake,
    /// The head assigns (or reassigns) the application to an employee.
    Assign,
    /// Issue the result.
    Approve,
    /// Send a preliminary refusal with the hearing's time and place (APC art. 73).
    PreliminaryRefusal,
    /// Record the hearing (тыңдау): the applicant's position and evidence (APC art. 74).
    RecordHearing,
    /// Issue a motivated refusal citing grounds of the passport.
    Refuse,
    /// The applicant withdraws before a decision.
    Withdraw,
    /// A complaint was upheld: the application goes back for a new decision.
    Reopen,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Accept,
        Action::RefuseIntake,
        Action::Assign,
        Action::Approve,
        Action::PreliminaryRefusal,
        Action::RecordHearing,
        Action::Refuse,
        Action::Withdraw,
        Action::Reopen,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::RefuseIntake => "refuse_intake",
            Action::Assign => "assign",
            Action::Approve => "approve",
            Action::PreliminaryRefusal => "preliminary_refusal",
            Action::RecordHearing => "record_hearing",
            Action::Refuse => "refuse",
            Action::Withdraw => "withdraw",
            Action::Reopen => "reopen",
        }
    }
}

/// One edge of the state machine: from which states, by whom, to which state.
struct Edge {
    action: Action,
    from: &'static [Status],
    to: Status,
    by: &'static [Actor],
}

use Actor as A;
use Status as S;

/// The procedure of order No 414 and the Administrative Procedural Code as a graph. A refusal is
/// reachable only through a preliminary refusal and a hearing, except the automated decision of a
/// fully automated service, which no person takes.
const EDGES: &[Edge] = &[
    Edge {
        action: Action::Accept,
        from: &[S::Submitted],
        to: S::Accepted,
        by: &[A::Operator, A::Employee, A::Head, A::System],
    },
    Edge {
        action: Action::RefuseIntake,
        from: &[S::Submitted],
        to: S::RefusedAtIntake,
        by: &[A::Operator, A::Employee, A::Head],
    },
    Edge { action: Action::Assign, from: &[S::Accepted, S::InProgress], to: S::InProgress, by: &[A::Head, A::System] },
    Edge {
        action: Action::Approve,
        from: &[S::InProgress, S::HearingHeld],
        to: S::Approved,
        by: &[A::Employee, A::Head, A::System],
    },
    Edge {
        action: Action::PreliminaryRefusal,
        from: &[S::InProgress],
        to: S::PreliminaryRefusal,
        by: &[A::Employee, A::Head],
    },
    Edge {
        action: Action::RecordHearing,
        from: &[S::PreliminaryRefusal],
        to: S::HearingHeld,
        by: &[A::Employee, A::Head],
    },
    Edge { action: Action::Refuse, from: &[S::HearingHeld], to: S::Refused, by: &[A::Employee, A::Head] },
    Edge { action: Action::Refuse, from: &[S::InProgress], to: S::Refused, by: &[A::System] },
    Edge {
        action: Action::Withdraw,
        from: &[S::Submitted, S::Accepted, S::InProgress, S::PreliminaryRefusal, S::HearingHeld],
        to: S::Withdrawn,
        by: &[A::Applicant],
    },
    Edge { action: Action::Reopen, from: &[S::Approved, S::Refused], to: S::InProgress, by: &[A::Head, A::Reviewer] },
];

/// Why an action cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action exists for this actor but not in this state (409).
    #[error("`{action:?}` is not allowed in state `{state:?}`")]
    NotInThisState { state: Status, action: Action, allowed: Vec<Action> },
    /// This actor may never take the action (403).
    #[error("this role may not `{action:?}`")]
    NotForThisActor { action: Action },
}

/// The state an action leads to, if `actor` may take it in `state`.
pub fn transition(state: Status, action: Action, actor: Actor) -> Result<Status, TransitionError> {
    let for_actor: Vec<&Edge> = EDGES.iter().filter(|e| e.action == action && e.by.contains(&actor)).collect();
    if for_actor.is_empty() {
        return Err(TransitionError::NotForThisActor { action });
    }
    for_actor.iter().find(|e| e.from.contains(&state)).map(|e| e.to).ok_or_else(|| TransitionError::NotInThisState {
        state,
        action,
        allowed: allowed_actions(state, actor),
    })
}

/// The actions `actor` may take in `state` (front ends show exactly these).
pub fn allowed_actions(state: Status, actor: Actor) -> Vec<Action> {
    let mut out: Vec<Action> =
        EDGES.iter().filter(|e| e.from.contains(&state) && e.by.contains(&actor)).map(|e| e.action).collect();
    out.dedup();
    out
}

/// The registration number shown to the applicant: year and a sequence within the year.
pub fn registration_number(year: i32, sequence: i64) -> String {
    format!("{year}-{sequence:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.code()));
        }
    }

    #[test]
    fn refusal_only_after_a_hearing_unless_automated() {
        use Action::*;
        let s = transition(Status::Submitted, Accept, Actor::Employee).unwrap();
        let s = transition(s, Assign, Actor::Head).unwrap();
        assert_eq!(s, Status::InProgress);
        assert!(matches!(transition(s, Refuse, Actor::Employee), Err(TransitionError::NotInThisState { .. })));
        let s = transition(s, PreliminaryRefusal, Actor::Employee).unwrap();
        let s = transition(s, RecordHearing, Actor::Employee).unwrap();
        assert_eq!(transition(s, Refuse, Actor::Employee), Ok(Status::Refused));
        assert_eq!(transition(s, Approve, Actor::Head), Ok(Status::Approved));
        assert_eq!(transition(Status::InProgress, Refuse, Actor::System), Ok(Status::Refused));
    }

    #[test]
    fn roles_and_states_are_enforced() {
        use Action::*;
        assert_eq!(
            transition(Status::Submitted, Accept, Actor::Applicant),
            Err(TransitionError::NotForThisActor { action: Accept })
        );
        assert_eq!(
            transition(Status::Accepted, Assign, Actor::Employee),
            Err(TransitionError::NotForThisActor { action: Assign })
        );
        let e = transition(Status::Approved, Withdraw, Actor::Applicant).unwrap_err();
        assert_eq!(e, TransitionError::NotInThisState { state: Status::Approved, action: Withdraw, allowed: vec![] });
        assert_eq!(allowed_actions(Status::InProgress, Actor::Employee), vec![Approve, PreliminaryRefusal]);
        assert_eq!(allowed_actions(Status::Submitted, Actor::Applicant), vec![Withdraw]);
        for s in Status::ALL.into_iter().filter(|s| s.is_final()) {
            assert!(allowed_actions(s, Actor::Applicant).is_empty(), "{s:?}");
        }
        assert_eq!(transition(Status::Refused, Reopen, Actor::Reviewer), Ok(Status::InProgress));
    }

    #[test]
    fn registration_numbers_are_zero_padded() {
        assert_eq!(registration_number(2026, 42), "2026-000042");
    }
}
