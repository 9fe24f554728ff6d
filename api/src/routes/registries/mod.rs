//! `/api/v1/registries`: the embedded state registries (read by staff, edited by administrators), and
//! `/api/v1/applications/{id}/intake-check`: which documents the registries spare the applicant.

pub mod intake;
pub mod records;
