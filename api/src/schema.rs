//! Schemas for values the domain keeps as enums but the API carries as strings, generated from the
//! domain's own lists so the spec cannot fall behind the code.

use domain::application::Status;
use domain::passport::Channel;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

fn string_enum(values: impl IntoIterator<Item = &'static str>, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .examples([serde_json::json!(example)])
}

/// A channel code.
pub fn channel_schema() -> Schema {
    Schema::Object(
        string_enum(Channel::ALL.map(Channel::code), "portal")
            .description(Some("How the application reaches the provider"))
            .build(),
    )
}

/// A channel code as a type, for `#[param(value_type = ChannelCode, inline)]`: unlike `schema_with`,
/// it keeps the parameter's description and whether it is required.
pub struct ChannelCode;

impl utoipa::PartialSchema for ChannelCode {
    fn schema() -> RefOr<Schema> {
        RefOr::T(channel_schema())
    }
}

impl utoipa::ToSchema for ChannelCode {}

/// A list of channel codes.
pub fn channels_schema() -> Schema {
    Schema::Array(ArrayBuilder::new().items(RefOr::T(channel_schema())).build())
}

/// An application status code.
pub fn status_schema() -> Schema {
    Schema::Object(
        string_enum(Status::ALL.map(Status::code), "submitted").description(Some("Application status")).build(),
    )
}

/// An application status code, or null.
pub fn optional_status_schema() -> Schema {
    let mut values: Vec<serde_json::Value> = Status::ALL.iter().map(|s| serde_json::json!(s.code())).collect();
    values.push(serde_json::Value::Null);
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Array(vec![Type::String, Type::Null]))
            .enum_values(Some(values))
            .description(Some("Application status, if any"))
            .build(),
    )
}

/// A registry code, from the domain's list.
pub fn registry_schema() -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .enum_values(Some(domain::passport::Registry::ALL.map(domain::passport::Registry::code).to_vec()))
            .examples([serde_json::json!("civil_registry_marriages")])
            .description(Some("A state registry"))
            .build(),
    )
}
