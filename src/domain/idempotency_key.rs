//! The `Idempotency-Key` header (IETF httpapi draft): 1 to 255 characters, sent bare
//! or as a structured-field string.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("the Idempotency-Key is empty")]
    Empty,
    #[error("the Idempotency-Key is longer than 255 characters")]
    TooLong,
    #[error("the Idempotency-Key may hold only printable ASCII characters")]
    NotPrintable,
    #[error("the quoted Idempotency-Key is not a valid structured-field string")]
    BadQuoting,
}

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, IdempotencyKeyError> {
        let raw = raw.trim_matches(' ');
        let value = match raw.strip_prefix('"') {
            Some(rest) => unquote(rest)?,
            None => raw.to_owned(),
        };
        if value.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(IdempotencyKeyError::TooLong);
        }
        if !value.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(IdempotencyKeyError::NotPrintable);
        }
        Ok(IdempotencyKey(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 8941 sf-string after the opening quote: `\"` and `\\` escapes, closing quote last.
fn unquote(rest: &str) -> Result<String, IdempotencyKeyError> {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => out.push(e),
                _ => return Err(IdempotencyKeyError::BadQuoting),
            },
            '"' => {
                return if chars.next().is_none() {
                    Ok(out)
                } else {
                    Err(IdempotencyKeyError::BadQuoting)
                }
            }
            other => out.push(other),
        }
    }
    Err(IdempotencyKeyError::BadQuoting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bare_and_quoted_forms() {
        assert_eq!(
            IdempotencyKey::parse("abc-123").unwrap().as_str(),
            "abc-123"
        );
        assert_eq!(IdempotencyKey::parse("\"abc\"").unwrap().as_str(), "abc");
        assert_eq!(
            IdempotencyKey::parse("\"a\\\"b\"").unwrap().as_str(),
            "a\"b"
        );
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse("\"\""),
            Err(IdempotencyKeyError::Empty)
        );
        assert_eq!(
            IdempotencyKey::parse("\"abc"),
            Err(IdempotencyKeyError::BadQuoting)
        );
        assert_eq!(
            IdempotencyKey::parse(&"x".repeat(256)),
            Err(IdempotencyKeyError::TooLong)
        );
        assert!(IdempotencyKey::parse(&"x".repeat(255)).is_ok());
        assert_eq!(
            IdempotencyKey::parse("é"),
            Err(IdempotencyKeyError::NotPrintable)
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = IdempotencyKey::parse(&s);
        }

        #[test]
        fn printable_keys_round_trip(s in "[!-~][ -~]{0,253}[!-~]") {
            prop_assume!(!s.starts_with('"'));
            let key = IdempotencyKey::parse(&s).unwrap();
            prop_assert_eq!(key.as_str(), s.as_str());
        }
    }
}
