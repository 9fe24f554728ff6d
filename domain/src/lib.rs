//! The law as code, with no I/O: a newcomer finds each rule of the law by folder.
//!
//! - [`passport`]: the shape of a service passport (terms, documents, refusal grounds, channels).
//! - [`catalog`]: the passports themselves, loaded from `domain/catalog/` and validated.
//! - [`calendar`]: the Kazakh business calendar (days off, transfers, working hours, time zone).
//! - [`deadline`]: term arithmetic on that calendar (due dates, counting back, days elapsed).
//! - [`form`]: application forms as JSON Schema, and checking submissions against them.
//! - [`application`]: the procedure: the application's states, the commands and their rules,
//!   decisions, filing, and every fact of time (due moment, cut-off, on time, overdue, stage terms).
//! - [`complaint`]: complaints about a provider's decision, action or inaction, and their terms.
//! - [`violation`]: why the procedure refuses a step, naming the rule and where the law states it.
//! - [`identity`]: IIN and BIN numbers.
//! - [`registry`]: state registries as ports, and the intake check that spares the applicant what they hold.
//! - [`text`]: texts in Kazakh, Russian and English.
//! - [`clock`]: "now", injectable so that tests pin exact dates.

pub mod application;
pub mod automated;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod complaint;
pub mod deadline;
pub mod delivery;
pub mod form;
pub mod identity;
pub mod passport;
pub mod queue;
pub mod registry;
pub mod text;
pub mod violation;
