//! `/api/v1/services`: the catalog of service passports, in the language the caller asks for.

pub mod documents;
pub mod form;
pub mod list;
pub mod publish;
pub mod read;
