//! `/api/v1/calendar`: the Kazakh business calendar (өндірістік күнтізбе / производственный календарь),
//! term arithmetic on it, and an administrator's change of a year when a new transfer decree appears.
//!
//! The calendar itself lives in the domain ([`domain::calendar`], [`domain::deadline`]); these handlers
//! only present it in the caller's language and, for a change, keep the open applications' due dates
//! true to the calendar in force: a day off that moves under a running term moves its due date, right
//! after the change is recorded (`crate::recompute`), with a history entry saying which day moved it.

pub mod change;
pub mod deadline;
pub mod year;
