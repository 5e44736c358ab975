//! The Microsoft Partner Network ID (SPEC section 2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Prefix of the serde error message of an invalid MPN ID, so the JSON and path error
/// handlers can answer `invalid_mpn_id` instead of a generic validation failure.
pub const SERDE_MARKER: &str = "invalid MPN ID: ";

/// A canonical MPN ID: 5 to 10 ASCII digits, no leading zero, at most `i32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MpnId(i32);

/// Why a string is not an MPN ID; the `Display` text is the problem's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpnIdError {
    #[error("the MPN ID is empty")]
    Empty,
    #[error(
        "the MPN ID has a non-digit character at position {0}; only ASCII digits 0-9 are allowed"
    )]
    NonDigit(usize),
    #[error("the MPN ID is too short: {0} digits, at least 5 are required")]
    TooShort(usize),
    #[error("the MPN ID is too long: {0} digits, at most 10 are allowed")]
    TooLong(usize),
    #[error("the MPN ID has a leading zero")]
    LeadingZero,
    #[error("the MPN ID is out of range: at most 2147483647")]
    OutOfRange,
}

impl MpnId {
    pub const MIN_DIGITS: usize = 5;
    pub const MAX_DIGITS: usize = 10;
    /// Exactly the accepted ids, for the OpenAPI document: 5 to 9 digits, or 10 digits
    /// not above 2147483647.
    pub const PATTERN: &'static str = "^(?:[1-9][0-9]{4,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$";

    /// Parses an MPN ID; surrounding white space is trimmed, nothing else is corrected.
    pub fn parse(input: &str) -> Result<Self, MpnIdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(MpnIdError::Empty);
        }
        // Positions are 1-based characters of the trimmed text, as a person counts them.
        if let Some((i, _)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(MpnIdError::NonDigit(i + 1));
        }
        if s.starts_with('0') {
            return Err(MpnIdError::LeadingZero);
        }
        if s.len() < Self::MIN_DIGITS {
            return Err(MpnIdError::TooShort(s.len()));
        }
        if s.len() > Self::MAX_DIGITS {
            return Err(MpnIdError::TooLong(s.len()));
        }
        s.parse::<i32>()
            .map(MpnId)
            .map_err(|_| MpnIdError::OutOfRange)
    }

    /// Rebuilds an id read from the database, whose check constraint holds the same rule.
    pub fn from_db(value: i32) -> Self {
        debug_assert!(Self::parse(&value.to_string()).is_ok());
        MpnId(value)
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl fmt::Display for MpnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for MpnId {
    type Err = MpnIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for MpnId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MpnId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A string is the wire form; a JSON number (or any other type) is refused as an
        // invalid MPN ID: `expecting` carries the marker, so a wrong type is reported as
        // `invalid_mpn_id` too, not as a generic validation failure.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MpnId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{SERDE_MARKER}the MPN ID must be a string of 5 to 10 digits, such as \"1234567\""
                )
            }

            fn visit_str<E: serde::de::Error>(self, raw: &str) -> Result<MpnId, E> {
                MpnId::parse(raw).map_err(|e| E::custom(format!("{SERDE_MARKER}{e}")))
            }
        }
        deserializer.deserialize_string(Visitor)
    }
}

impl utoipa::PartialSchema for MpnId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(Self::PATTERN))
            .min_length(Some(Self::MIN_DIGITS))
            .max_length(Some(Self::MAX_DIGITS))
            .description(Some(
                "Microsoft Partner Network ID: 5 to 10 ASCII digits, no leading zero, \
                 at most 2147483647.",
            ))
            .examples([serde_json::json!("1234567")])
            .into()
    }
}

impl utoipa::ToSchema for MpnId {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_partner_center_examples() {
        for s in ["12345", "234567", "3456789", "2147483647", " 12345 "] {
            assert!(MpnId::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(MpnId::parse(""), Err(MpnIdError::Empty));
        assert_eq!(MpnId::parse("   "), Err(MpnIdError::Empty));
        assert_eq!(MpnId::parse("12a45"), Err(MpnIdError::NonDigit(3)));
        assert_eq!(MpnId::parse("+12345"), Err(MpnIdError::NonDigit(1)));
        assert_eq!(MpnId::parse("12 345"), Err(MpnIdError::NonDigit(3)));
        assert_eq!(MpnId::parse("١٢٣٤٥"), Err(MpnIdError::NonDigit(1)));
        assert_eq!(MpnId::parse("1234"), Err(MpnIdError::TooShort(4)));
        assert_eq!(MpnId::parse("12345678901"), Err(MpnIdError::TooLong(11)));
        assert_eq!(MpnId::parse("012345"), Err(MpnIdError::LeadingZero));
        assert_eq!(MpnId::parse("2147483648"), Err(MpnIdError::OutOfRange));
        assert_eq!(MpnId::parse("9999999999"), Err(MpnIdError::OutOfRange));
    }

    #[test]
    fn the_documented_pattern_matches_the_parser() {
        let pattern = regex_lite::Regex::new(MpnId::PATTERN).unwrap();
        for s in [
            "12345",
            "999999999",
            "1000000000",
            "2147483647",
            "2147483648",
            "2999999999",
            "2147483650",
            "1234",
            "012345",
            "99999999999",
        ] {
            assert_eq!(pattern.is_match(s), MpnId::parse(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn serde_uses_the_string_form() {
        let id: MpnId = serde_json::from_str("\"1234567\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"1234567\"");
        let err = serde_json::from_str::<MpnId>("\"0123\"").unwrap_err();
        assert!(err.to_string().starts_with(SERDE_MARKER));
        let err = serde_json::from_str::<MpnId>("1234567")
            .unwrap_err()
            .to_string();
        let detail = &err[err.find(SERDE_MARKER).unwrap() + SERDE_MARKER.len()..];
        assert!(detail.starts_with("the MPN ID must be a string"), "{err}");
    }

    proptest! {
        #[test]
        fn pattern_and_parser_agree(v in 0u64..=9_999_999_999u64) {
            let pattern = regex_lite::Regex::new(MpnId::PATTERN).unwrap();
            let s = v.to_string();
            prop_assert_eq!(pattern.is_match(&s), MpnId::parse(&s).is_ok(), "{}", s);
        }

        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = MpnId::parse(&s);
        }

        #[test]
        fn valid_values_round_trip(v in 10_000i32..=i32::MAX) {
            let id = MpnId::parse(&v.to_string()).unwrap();
            prop_assert_eq!(id.get(), v);
            prop_assert_eq!(MpnId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn accepted_means_canonical(s in "[ 0-9a-z+-]{0,12}") {
            if let Ok(id) = MpnId::parse(&s) {
                prop_assert_eq!(id.to_string(), s.trim());
            }
        }
    }
}
