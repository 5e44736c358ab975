//! ISO 3166-1 alpha-2 country/region codes.

use std::fmt;

use diesel::deserialize::FromSql;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Text;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 249 officially assigned ISO 3166-1 alpha-2 codes, sorted for binary search.
const ASSIGNED: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// An assigned ISO 3166-1 alpha-2 code, in upper case.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub struct CountryCode([u8; 2]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountryCodeError {
    #[error("a country/region code is two upper-case letters (ISO 3166-1 alpha-2), such as DK")]
    Malformed,
    #[error("{0} is not an assigned ISO 3166-1 alpha-2 country/region code")]
    Unassigned(String),
}

impl CountryCode {
    /// A stored code; one that does not parse is a fault of the database, not the caller.
    pub fn from_db(text: &str) -> Result<Self, crate::error::ApiError> {
        Self::parse(text).map_err(crate::error::ApiError::internal)
    }

    pub fn parse(input: &str) -> Result<Self, CountryCodeError> {
        let bytes = input.as_bytes();
        match bytes {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                if ASSIGNED.binary_search(&input).is_ok() {
                    Ok(CountryCode([*a, *b]))
                } else {
                    Err(CountryCodeError::Unassigned(input.to_owned()))
                }
            }
            _ => Err(CountryCodeError::Malformed),
        }
    }

    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rows decode straight into the code: no `String` per value.
impl FromSql<Text, Pg> for CountryCode {
    fn from_sql(value: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        let text = std::str::from_utf8(value.as_bytes())?;
        Ok(Self::parse(text)?)
    }
}

impl ToSql<Text, Pg> for CountryCode {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        CountryCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for CountryCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ASSIGNED))
            .description(Some("ISO 3166-1 alpha-2 country/region code, upper case."))
            .examples([serde_json::json!("DK")])
            .into()
    }
}

impl utoipa::ToSchema for CountryCode {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn list_is_sorted_and_unique() {
        assert!(ASSIGNED.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn parses_assigned_codes_only() {
        assert_eq!(CountryCode::parse("DK").unwrap().as_str(), "DK");
        assert!(CountryCode::parse("CN").is_ok());
        assert_eq!(CountryCode::parse("dk"), Err(CountryCodeError::Malformed));
        assert_eq!(CountryCode::parse("DNK"), Err(CountryCodeError::Malformed));
        assert_eq!(
            CountryCode::parse("XX"),
            Err(CountryCodeError::Unassigned("XX".into()))
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_round_trips(s in "\\PC{0,4}") {
            if let Ok(c) = CountryCode::parse(&s) {
                prop_assert_eq!(c.as_str(), s.as_str());
            }
        }
    }
}
