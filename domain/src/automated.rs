//! Decisions of fully automated services (толық автоматтандырылған қызмет): the information system
//! decides from registry data alone, within the passport's term, with no person involved.

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::application::decision::RegistryUsed;
use crate::application::Command;
use crate::passport::Registry;
use crate::registry::RegistryRecord;

/// What the system decided.
#[derive(Debug, Clone, PartialEq)]
pub enum AutomatedOutcome {
    /// Issue the result (`result_code` of the passport) with these facts.
    Approve { result_code: &'static str, facts: Value },
    /// Refuse on a ground of the passport, with the motivation.
    Refuse { ground_code: &'static str, motivation: String },
}

/// The registries a fully automated service consults about the applicant.
pub fn registries_for(service_key: &str) -> &'static [Registry] {
    match service_key {
        "guardianship_certificate" => &[Registry::FamilyRegisters],
        _ => &[],
    }
}

/// Decides a fully automated service from the applicant's registry records on `today`; `None` when
/// the service has no automated rule here (it then waits for a person).
pub fn decide(service_key: &str, records: &[RegistryRecord], today: NaiveDate) -> Option<AutomatedOutcome> {
    match service_key {
        // The certificate states that the applicant is a guardian or trustee (order No 414, the
        // guardianship certificate's list of requirements): it is issued when the guardianship
        // register holds a valid record of the applicant in that role.
        "guardianship_certificate" => {
            let wards: Vec<Value> = records
                .iter()
                .filter(|r| r.registry == Registry::FamilyRegisters && r.kind == "guardianship" && r.valid_on(today))
                .filter(|r| matches!(r.data["role"].as_str(), Some("guardian") | Some("trustee")))
                .map(|r| {
                    json!({
                        "ward_iin": r.data["ward_iin"],
                        "ward_name": r.data["ward_name"],
                        "form": r.data["form"],
                        "established_by": r.data["established_by"],
                        "established_on": r.data["established_on"],
                        "record_number": r.data["record_number"],
                    })
                })
                .collect();
            Some(if wards.is_empty() {
                AutomatedOutcome::Refuse {
                    ground_code: "non_compliance_with_requirements",
                    motivation: "The guardianship and trusteeship register holds no valid record of the applicant as a guardian or trustee, so the certificate cannot state that they are one.".into(),
                }
            } else {
                AutomatedOutcome::Approve { result_code: "certificate", facts: json!({"wards": wards}) }
            })
        }
        _ => None,
    }
}

/// The steps the information system takes for an outcome, in order, each a command of the
/// procedure run as [`crate::application::Official::system`]: it accepts the application, takes it
/// into work, and issues the result or the motivated refusal.
pub fn steps(outcome: AutomatedOutcome, records: &[RegistryRecord]) -> [Command; 3] {
    let decision = match outcome {
        AutomatedOutcome::Approve { result_code, facts } => Command::ApproveAutomatically {
            result_code: result_code.into(),
            facts,
            registries: records.iter().map(|r| RegistryUsed { registry: r.registry, kind: r.kind.clone() }).collect(),
        },
        AutomatedOutcome::Refuse { ground_code, motivation } => {
            Command::RefuseAutomatically { ground_code: ground_code.into(), motivation }
        }
    };
    [
        Command::Accept { comment: Some("automated decision".into()) },
        Command::Assign { assignee: "system".into(), on_staff: false },
        decision,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_accepts_assigns_itself_and_decides() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let records = [record("guardian", None)];
        let outcome = decide("guardianship_certificate", &records, today).unwrap();
        let [accept, assign, decision] = steps(outcome, &records);
        assert!(matches!(accept, Command::Accept { .. }));
        assert_eq!(assign, Command::Assign { assignee: "system".into(), on_staff: false });
        match decision {
            Command::ApproveAutomatically { result_code, registries, .. } => {
                assert_eq!(result_code, "certificate");
                assert_eq!(
                    registries,
                    vec![RegistryUsed { registry: Registry::FamilyRegisters, kind: "guardianship".into() }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    fn record(role: &str, until: Option<NaiveDate>) -> RegistryRecord {
        RegistryRecord {
            registry: Registry::FamilyRegisters,
            subject_iin: "900101300126".into(),
            kind: "guardianship".into(),
            data: json!({"role": role, "ward_iin": "150321650010", "ward_name": "Дана"}),
            valid_until: until,
        }
    }

    #[test]
    fn a_guardian_gets_the_certificate_listing_the_ward() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        match decide("guardianship_certificate", &[record("guardian", None)], today) {
            Some(AutomatedOutcome::Approve { result_code, facts }) => {
                assert_eq!(result_code, "certificate");
                assert_eq!(facts["wards"][0]["ward_iin"], "150321650010");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn no_valid_guardianship_means_a_motivated_refusal() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let ended = record("guardian", NaiveDate::from_ymd_opt(2026, 11, 22));
        assert!(matches!(decide("guardianship_certificate", &[ended], today), Some(AutomatedOutcome::Refuse { .. })));
        assert!(matches!(
            decide("guardianship_certificate", &[record("ward", None)], today),
            Some(AutomatedOutcome::Refuse { .. })
        ));
        assert_eq!(decide("free_school_meals", &[], today), None);
    }
}
