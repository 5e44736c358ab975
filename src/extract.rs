//! Request extractors whose every failure is a problem response.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::{field_errors, ApiError, FieldError};

/// The largest request body accepted, in bytes (`PARTNERLINK_BODY_LIMIT_BYTES`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body, deserialised with the path of any bad field and then validated.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A deserialisation failure at `field`. A repeated member or parameter is reported by
/// serde at its parent, so its own name is taken from the message.
fn data_error(field: &str, message: &str, in_query: bool) -> ApiError {
    let repeated = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.strip_suffix('`'));
    let Some(name) = repeated else {
        return ApiError::from_deserialize(field, message, in_query);
    };
    let field = match field {
        "" | "." => name.to_owned(),
        parent => format!("{parent}.{name}"),
    };
    let message = if in_query {
        format!("the parameter {name} is given more than once")
    } else {
        format!("the member {name} appears more than once")
    };
    if in_query {
        ApiError::bad_parameter(&field, "duplicate_field", message)
    } else {
        ApiError::validation(vec![FieldError::new(field, "duplicate_field", message)])
    }
}

/// serde_json's message without its " at line L column C" suffix.
fn bare_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    message
        .strip_suffix(&format!(" at line {} column {}", e.line(), e.column()))
        .unwrap_or(&message)
        .to_owned()
}

/// Whether a JSON text holds the escape `\u0000`, which PostgreSQL text cannot store.
/// An escape is a `u0000` after an odd run of backslashes (`\\u0000` is literal text).
fn has_escaped_nul(body: &[u8]) -> bool {
    body.windows(5).enumerate().any(|(i, w)| {
        w == b"u0000" && body[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
    })
}

/// Deserialises JSON, reporting `invalid_mpn_id` and the field path of data errors.
pub fn parse_json<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    // Every request body is an object; serde would also read a struct from an array.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
    {
        return Err(ApiError::validation(vec![crate::error::FieldError::new(
            "",
            "invalid_type",
            "the body must be a JSON object",
        )]));
    }
    if has_escaped_nul(body) {
        return Err(ApiError::validation(vec![crate::error::FieldError::new(
            "",
            "nul_character",
            "text values must not contain the NUL character (\\u0000)",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => value,
        Err(e) => {
            let field = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_data() {
                return Err(data_error(&field, &bare_message(&inner), false));
            }
            return Err(type_error_in_valid_json::<T>(body).unwrap_or_else(|| {
                ApiError::MalformedJson(format!(
                    "the body is not valid JSON: {} (line {}, column {})",
                    bare_message(&inner),
                    inner.line(),
                    inner.column()
                ))
            }));
        }
    };
    de.end().map_err(|e| {
        ApiError::MalformedJson(format!("the body has data after the JSON value: {e}"))
    })?;
    value
        .validate()
        .map_err(|e| ApiError::validation(field_errors(&e)))?;
    Ok(value)
}

/// serde_json reports some wrong types (an array or a number where an enum is expected)
/// as syntax errors. When the body is well-formed JSON, the same body is read again
/// through a `Value`, which names the wrong type and its field path as a data error.
fn type_error_in_valid_json<T: DeserializeOwned>(body: &[u8]) -> Option<ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let e = serde_path_to_error::deserialize::<_, T>(value).err()?;
    let field = e.path().to_string();
    Some(data_error(&field, &bare_message(e.inner()), false))
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
        let json = is_json(req);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared.is_some_and(|n| n > limit) {
                return Err(ApiError::PayloadTooLarge(limit));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::MalformedJson(format!("reading the body failed: {e}"))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ValidJson)
        })
    }
}

/// Query parameters, deserialised with the name of any bad parameter (a 400).
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T> ValidQuery<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string().as_bytes();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        let result = serde_path_to_error::deserialize(de)
            .map(ValidQuery)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                data_error(&field, &message, true)
            });
        std::future::ready(result)
    }
}

/// Path parameter failures: 400, with `invalid_mpn_id` when an MPN ID was refused.
pub fn path_error(err: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let message = match &err {
        actix_web::error::PathError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    let field = bad_path_parameter(req, &message);
    ApiError::from_deserialize(&field, &message, true).into()
}

/// The name of the path parameter that was refused. The deserialiser's message does not
/// name it, so: the only parameter, or the first whose value is not of the kind its name
/// promises (an `mpnId` is an MPN ID, any other `…Id` a UUID).
fn bad_path_parameter(req: &HttpRequest, message: &str) -> String {
    use crate::domain::mpn_id::SERDE_MARKER;
    use crate::domain::MpnId;
    let params: Vec<(&str, &str)> = req.match_info().iter().collect();
    if let [(name, _)] = params.as_slice() {
        return (*name).to_owned();
    }
    let is_mpn_error = message.contains(SERDE_MARKER);
    params
        .iter()
        .find(|(name, value)| {
            if *name == "mpnId" {
                is_mpn_error || MpnId::parse(value).is_err()
            } else {
                !is_mpn_error && uuid::Uuid::parse_str(value).is_err()
            }
        })
        .map_or_else(|| "path".to_owned(), |(name, _)| (*name).to_owned())
}

#[cfg(test)]
mod tests {
    use super::has_escaped_nul;

    #[test]
    fn finds_only_real_nul_escapes() {
        assert!(has_escaped_nul(br#"{"a":"x\u0000"}"#));
        assert!(has_escaped_nul(br#"{"a":"\\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a":"u0000"}"#));
    }
}
