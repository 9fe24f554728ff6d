//! The application (өтініш) and its states.
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
    fn registration_numbers_are_zero_padded() {
        assert_eq!(registration_number(2026, 42), "2026-000042");
    }
}
