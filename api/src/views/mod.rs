//! How resources are rendered: the JSON shapes of applications and complaints, built from the
//! domain's types. Routes of several resources share these, so they live outside `routes/`.

pub mod applications;
pub mod calendar;
pub mod complaints;
pub mod documents;
pub mod services;

/// Schemas of the codes requests carry as strings, from the domain's own lists (for
/// `#[schema(value_type = X, inline)]` and `#[param(value_type = X, inline)]`, which keep the field's
/// description and whether it is required).
pub mod codes {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    fn string_enum(values: &[&'static str], description: &str) -> RefOr<Schema> {
        RefOr::T(Schema::Object(
            ObjectBuilder::new()
                .schema_type(SchemaType::Type(Type::String))
                .enum_values(Some(values.to_vec()))
                .examples([serde_json::json!(values[0])])
                .description(Some(description))
                .build(),
        ))
    }

    macro_rules! code {
        ($(#[$doc:meta])* $name:ident, $values:expr, $description:expr) => {
            $(#[$doc])*
            pub struct $name;
            impl utoipa::PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    string_enum(&$values, $description)
                }
            }
            impl utoipa::ToSchema for $name {}
        };
    }

    code!(
        /// What a complaint is about.
        ComplaintSubjectCode,
        domain::complaint::Subject::ALL.map(domain::complaint::Subject::code),
        "What is complained about: the provider's `decision`, `action` or `inaction`"
    );
    code!(
        /// A complaint's status.
        ComplaintStatusCode,
        domain::complaint::ComplaintStatus::ALL.map(domain::complaint::ComplaintStatus::code),
        "A complaint's status"
    );
    code!(
        /// What the review body decides.
        ReviewOutcomeCode,
        [domain::complaint::Outcome::Upheld, domain::complaint::Outcome::Rejected].map(domain::complaint::Outcome::code),
        "`upheld` (the application is reopened for a new decision) or `rejected`"
    );
    code!(
        /// A stage event.
        StageEventCode,
        [domain::application::StageEvent::Started, domain::application::StageEvent::Completed]
            .map(domain::application::StageEvent::code),
        "`started` or `completed`"
    );

    /// The schema of a code type, for `#[schema(schema_with = ...)]` on a required field (where
    /// `value_type` would wrap it in a `oneOf`).
    fn schema_of<T: utoipa::PartialSchema>() -> Schema {
        match T::schema() {
            RefOr::T(s) => s,
            RefOr::Ref(_) => unreachable!("the codes are inline schemas"),
        }
    }

    pub fn complaint_subject() -> Schema {
        schema_of::<ComplaintSubjectCode>()
    }

    pub fn review_outcome() -> Schema {
        schema_of::<ReviewOutcomeCode>()
    }

    pub fn stage_event() -> Schema {
        schema_of::<StageEventCode>()
    }

    /// An IIN (ЖСН / ИИН): 12 digits, the first six the date of birth, the last a check digit
    /// (`format: iin`, which the server checks).
    pub struct IinCode;
    impl utoipa::PartialSchema for IinCode {
        fn schema() -> RefOr<Schema> {
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .pattern(Some("^[0-9]{12}$"))
                    .format(Some(utoipa::openapi::SchemaFormat::Custom("iin".into())))
                    .examples([serde_json::json!("900101300126")])
                    .build(),
            ))
        }
    }
    impl utoipa::ToSchema for IinCode {}
}

/// The `Idempotency-Key` header of a request that creates something (`crate::idempotency::key_of`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// Makes retries safe: the same key with the same request returns what the first one created; the
    /// same key with another request is 422 `idempotency_key_reused`. 1 to 255 visible ASCII characters.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        pattern = "^[!-~]([\\t -~]{0,253}[!-~])?$",
        example = "0193a1f2-retry-1"
    )]
    pub idempotency_key: Option<String>,
}

use actix_web::{http::header, HttpResponse};
use domain::text::Lang;
use serde::Serialize;

/// A domain enum's wire code (`rules_only`, `ministry_order`, `working_days`, ...).
pub fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// A 200 answer in `lang`, saying so in `Content-Language`.
pub fn localized(lang: Lang, body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok().insert_header((header::CONTENT_LANGUAGE, lang.code())).json(body)
}
