//! `/api/v1/applications`: one module per action, as the procedure names them. Each route parses,
//! authorises, loads, calls `domain::application`, stores and renders; the rules live in `domain`.

pub mod actions;
pub mod commands;
pub mod read;
pub mod stages;
pub mod submit;
