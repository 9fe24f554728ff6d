//! The applicant's notifications about their application, in Kazakh, Russian and English.

use super::Status;

/// A notification to the applicant: its kind (`status.accepted`) and texts in kk, ru, en.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: String,
    pub texts: [String; 3],
}

/// The notification for an application's new status.
pub fn status_notice(status: Status, number: &str) -> Notice {
    let (kk, ru, en) = match status {
        Status::Submitted => ("өтініш берілді", "заявление подано", "has been submitted"),
        Status::Accepted => {
            ("өтініш қабылданып, тіркелді", "заявление принято и зарегистрировано", "has been accepted and registered")
        }
        Status::RefusedAtIntake => (
            "құжаттар топтамасы толық болмағандықтан, өтінішті қабылдаудан бас тартылды",
            "в приёме заявления отказано: пакет документов неполный",
            "was not accepted: the set of documents is incomplete",
        ),
        Status::InProgress => ("өтініш орындалуда", "заявление на исполнении", "is being processed"),
        Status::PreliminaryRefusal => (
            "бас тарту туралы алдын ала шешім қабылданды, тыңдауға шақырыласыз",
            "принято предварительное решение об отказе, вы приглашены на заслушивание",
            "a preliminary refusal was issued; you are invited to a hearing",
        ),
        Status::HearingHeld => ("тыңдау өткізілді", "заслушивание проведено", "the hearing was held"),
        Status::Approved => (
            "мемлекеттік қызмет көрсетілді, нәтиже дайын",
            "государственная услуга оказана, результат готов",
            "the service was provided; the result is ready",
        ),
        Status::Refused => (
            "мемлекеттік қызмет көрсетуден дәлелді бас тарту берілді",
            "выдан мотивированный отказ в оказании государственной услуги",
            "a motivated refusal of the service was issued",
        ),
        Status::Withdrawn => ("өтініш кері қайтарылды", "заявление отозвано", "was withdrawn"),
    };
    Notice {
        kind: format!("status.{}", status.code()),
        texts: [
            format!("№ {number} өтініш: {kk}."),
            format!("Заявление № {number}: {ru}."),
            format!("Application No {number} {en}."),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_three_languages_naming_the_number() {
        for s in Status::ALL {
            let n = status_notice(s, "2026-000042");
            assert_eq!(n.kind, format!("status.{}", s.code()));
            assert!(n.texts.iter().all(|t| t.contains("2026-000042")), "{s:?}");
        }
    }
}
