//! Custom `validator` rules shared by request bodies.

use validator::ValidationError;

/// A one-line name: not blank, and no control characters.
pub fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::new("blank").with_message("must not be blank".into()))
    } else if value.chars().any(char::is_control) {
        Err(ValidationError::new("control_character")
            .with_message("must not contain control characters".into()))
    } else {
        Ok(())
    }
}

/// Lists of enum values must name at least one, without repeating any.
pub fn non_empty_unique<T: PartialEq>(values: &[T]) -> Result<(), ValidationError> {
    if values.is_empty() {
        return Err(
            ValidationError::new("empty").with_message("must name at least one value".into())
        );
    }
    let repeated = values
        .iter()
        .enumerate()
        .any(|(i, v)| values[..i].contains(v));
    if repeated {
        return Err(
            ValidationError::new("duplicate").with_message("must not repeat a value".into())
        );
    }
    Ok(())
}
