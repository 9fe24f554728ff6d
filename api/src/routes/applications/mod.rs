//! `/api/v1/applications`: one module per action, as the procedure names them. Each route parses,
//! authorises, loads, calls `domain::application`, stores and renders; the rules live in `domain`.

pub mod actions;
pub mod commands;
pub mod read;
pub mod stages;
pub mod submit;

use serde::Deserialize;
use utoipa::IntoParams;

/// The `If-Match` header of a command: the version of the application the caller acts on.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The ETag you read (`"3"`; `W/"3"` counts as `"3"`), or `*` for whatever version is current.
    /// Another version than the current one answers 412; another syntax (a list, no quotes) 422.
    /// `format: if-match`: one entity-tag of this API or `*` (RFC 9110 §13.1.1), as the pattern says.
    #[serde(rename = "If-Match")]
    #[param(
        rename = "If-Match",
        nullable = false,
        format = "if-match",
        pattern = r#"^(\*|(W/)?"[0-9]{1,18}")$"#,
        example = "\"1\""
    )]
    pub if_match: Option<String>,
}
