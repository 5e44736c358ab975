//! Opaque paging cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The position after which the next page starts: the sort key of the last item served.
/// On the wire it is opaque (base64url of a versioned text form) so its shape can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is not one this service issued")]
pub struct CursorError;

const PREFIX: &str = "v1:";

impl Cursor {
    pub fn after(key: impl Into<String>) -> Self {
        Cursor(key.into())
    }

    pub fn key(&self) -> &str {
        &self.0
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.0))
    }

    pub fn decode(text: &str) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError)?;
        let text = String::from_utf8(bytes).map_err(|_| CursorError)?;
        text.strip_prefix(PREFIX)
            .map(|key| Cursor(key.to_owned()))
            .ok_or(CursorError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips(key in "\\PC*") {
            let c = Cursor::after(key);
            prop_assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC*") {
            let _ = Cursor::decode(&text);
        }
    }
}
