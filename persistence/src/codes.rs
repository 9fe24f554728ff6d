//! The domain's enums as typed columns: each is stored as its stable code (`in_progress`, `portal`,
//! `head`) in a text column, and read back as the enum, so that no status, channel or role travels as
//! a string past this module. An unknown code in the database is an error, never a silent default.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;

macro_rules! text_code {
    ($(#[$doc:meta])* $name:ident => $domain:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub struct $name(pub $domain);

        impl ToSql<Text, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self.0.code()));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, MultiBackend> for $name {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let code: String = bytes.from_sql::<String, Text>()?;
                <$domain>::parse(&code)
                    .map($name)
                    .ok_or_else(|| format!("unknown {} code `{code}` in the database", stringify!($domain)).into())
            }
        }

        // Inserts walk each backend's own query builder, so each backend serialises the code too.
        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.0.code(), out)
            }
        }

        impl ToSql<Text, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.0.code(), out)
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let code = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                <$domain>::parse(&code)
                    .map($name)
                    .ok_or_else(|| format!("unknown {} code `{code}` in the database", stringify!($domain)).into())
            }
        }

        impl FromSql<Text, Sqlite> for $name {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let code = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                <$domain>::parse(&code)
                    .map($name)
                    .ok_or_else(|| format!("unknown {} code `{code}` in the database", stringify!($domain)).into())
            }
        }

        impl From<$domain> for $name {
            fn from(v: $domain) -> Self {
                $name(v)
            }
        }
    };
}

text_code!(
    /// An application's status.
    StatusCode => domain::application::Status
);
text_code!(
    /// The channel an application came through.
    ChannelCode => domain::passport::Channel
);
text_code!(
    /// Who acted: a role, or the information system.
    ActorCode => domain::application::Actor
);
text_code!(
    /// A complaint's status.
    ComplaintStatusCode => domain::complaint::ComplaintStatus
);
text_code!(
    /// What a complaint is about.
    SubjectCode => domain::complaint::Subject
);
text_code!(
    /// How a complaint ended.
    OutcomeCode => domain::complaint::Outcome
);
