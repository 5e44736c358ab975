//! The one error type of the API, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::mpn_id::SERDE_MARKER;

tokio::task_local! {
    /// The request being served, so every problem carries its id and path.
    pub static REQUEST: RequestContext;
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
    /// From `Accept-Language`: problems are written in English or Danish.
    pub lang: crate::i18n::Lang,
    /// SQL statements the request has sent so far.
    pub db_statements: std::rc::Rc<std::cell::Cell<u32>>,
}

/// Adds statements to the current request's count (outside a request: nothing).
pub fn count_statements(n: u32) {
    let _ = REQUEST.try_with(|r| r.db_statements.set(r.db_statements.get() + n));
}

/// One failed condition of a request's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "countryCode", "code": "invalid_country_code", "message": "XX is not an assigned ISO 3166-1 alpha-2 country/region code"}))]
pub struct FieldError {
    /// JSON path of the offending input (`clouds[1]`), or the parameter name.
    #[schema(example = "countryCode")]
    pub field: String,
    /// Stable machine-readable reason.
    #[schema(example = "invalid_country_code")]
    pub code: String,
    /// What is wrong, for people.
    #[schema(example = "XX is not an assigned ISO 3166-1 alpha-2 country/region code")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem, as every error response of this service is written.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "type": "urn:partnerlink:problem:invalid_mpn_id",
    "title": "Invalid MPN ID",
    "status": 422,
    "detail": "the MPN ID is too short: 4 digits, at least 5 are required",
    "instance": "/v1/partners",
    "code": "invalid_mpn_id",
    "requestId": "5f0c8a86-2b53-4a8e-9d0e-7c1f6c0f9f51",
    "errors": [{"field": "mpnId", "code": "invalid_mpn_id", "message": "the MPN ID is too short: 4 digits, at least 5 are required"}]
}))]
pub struct Problem {
    /// URI naming the problem type; one per `code`.
    #[serde(rename = "type")]
    #[schema(example = "urn:partnerlink:problem:not_found")]
    pub problem_type: String,
    /// Short summary of the problem type.
    #[schema(example = "Not found")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 404)]
    pub status: u16,
    /// What went wrong in this occurrence.
    #[schema(example = "no tenant 0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub detail: String,
    /// The request path this problem occurred on.
    #[schema(example = "/v1/tenants/0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub instance: String,
    /// Stable machine-readable error code (SPEC section 6).
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// The request id, also sent as the `x-request-id` header.
    #[schema(example = "5f0c8a86-2b53-4a8e-9d0e-7c1f6c0f9f51")]
    pub request_id: String,
    /// The failed input conditions, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(example = json!([{"field": "mpnId", "code": "invalid_mpn_id", "message": "the MPN ID is too short: 4 digits, at least 5 are required"}]))]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail. Each variant has one stable `code`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    InvalidMpnId {
        /// A path value is a 400; a body value is a 422 (SPEC section 2).
        in_path: bool,
        field: String,
        detail: String,
    },
    #[error("{detail}")]
    Validation {
        status: StatusCode,
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{0}")]
    MalformedJson(String),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request headers are larger than {0} bytes (names and values together)")]
    HeadersTooLarge(usize),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("no route matches {0}")]
    RouteNotFound(String),
    #[error("{method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NoAdvisor(String),
    #[error("no partner with MPN ID {0} is registered")]
    PartnerNotFound(String),
    #[error("{detail}")]
    PartnerNotEligible {
        condition: &'static str,
        detail: String,
    },
    #[error("{detail}")]
    PartnerIdNotTransactable { detail: String },
    #[error("{0}")]
    PartnerInitiatedOnly(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("{0}")]
    InvalidTransition(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(
        "the request was not answered within {} ms; a change it asked for may still be \
         committed: read the resource before retrying, or retry a purchase with the same \
         Idempotency-Key",
        .0.as_millis()
    )]
    Timeout(std::time::Duration),
    #[error("{0}")]
    ResellerRemovalRequiresPartner(String),
    #[error("{0}")]
    AdvisorRelationshipIsPerSubscription(String),
    #[error("{0}")]
    InvitationExpired(String),
    #[error("{0}")]
    InvitationNotPending(String),
    #[error("{0}")]
    InvalidToken(String),
    /// R11: the reseller still has active subscriptions with the tenant.
    #[error("{detail}")]
    ResellerHasActiveSubscriptions {
        detail: String,
        subscriptions: Vec<uuid::Uuid>,
    },
    /// The cause is logged where the error is made; clients see a generic message.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// Logs the cause (with the request's span) and returns the generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        ApiError::Internal
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] if one.field.is_empty() => one.message.clone(),
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        ApiError::Validation {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail,
            errors,
        }
    }

    /// A query or path value that cannot be used: 400, as SPEC section 6 asks.
    pub fn bad_parameter(field: &str, code: &str, message: impl Into<String>) -> Self {
        let error = FieldError::new(field, code, message);
        let detail = if error.field.is_empty() {
            error.message.clone()
        } else {
            format!("{}: {}", error.field, error.message)
        };
        ApiError::Validation {
            status: StatusCode::BAD_REQUEST,
            detail,
            errors: vec![error],
        }
    }

    /// Maps a serde error text to `invalid_mpn_id` when an `MpnId` refused the value.
    pub fn from_deserialize(field: &str, message: &str, in_path: bool) -> Self {
        match message.find(SERDE_MARKER) {
            Some(at) => {
                let detail = message[at + SERDE_MARKER.len()..].to_owned();
                ApiError::InvalidMpnId {
                    in_path,
                    field: field.to_owned(),
                    detail,
                }
            }
            None => {
                let field = if field == "." { "" } else { field };
                // serde names a missing field only in its message.
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.strip_suffix('`'));
                let (field, code) = match missing {
                    Some(name) if field.is_empty() => (name.to_owned(), "required"),
                    Some(name) => (format!("{field}.{name}"), "required"),
                    None if message.starts_with("unknown field") => {
                        (field.to_owned(), "unknown_field")
                    }
                    None => (field.to_owned(), "invalid_value"),
                };
                if in_path {
                    ApiError::bad_parameter(&field, code, message)
                } else {
                    ApiError::validation(vec![FieldError::new(field, code, message)])
                }
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidMpnId { .. } => "invalid_mpn_id",
            ApiError::Validation { .. } => "validation_failed",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) | ApiError::RouteNotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::NoAdvisor(_) => "no_advisor",
            ApiError::PartnerNotFound(_) => "partner_not_found",
            ApiError::PartnerNotEligible { .. } => "partner_not_eligible",
            ApiError::PartnerIdNotTransactable { .. } => "partner_id_not_transactable",
            ApiError::PartnerInitiatedOnly(_) => "partner_initiated_only",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::InvalidTransition(_) => "invalid_transition",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Timeout(_) => "request_timeout",
            ApiError::ResellerRemovalRequiresPartner(_) => "reseller_removal_requires_partner",
            ApiError::AdvisorRelationshipIsPerSubscription(_) => {
                "advisor_relationship_is_per_subscription"
            }
            ApiError::InvitationExpired(_) => "invitation_expired",
            ApiError::InvitationNotPending(_) => "invitation_not_pending",
            ApiError::InvalidToken(_) => "invalid_token",
            ApiError::ResellerHasActiveSubscriptions { .. } => "reseller_has_active_subscriptions",
            ApiError::Internal => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::InvalidMpnId { .. } => "Invalid MPN ID",
            ApiError::Validation { .. } => "Validation failed",
            ApiError::MalformedJson(_) => "Malformed JSON",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::PayloadTooLarge(_) => "Payload too large",
            ApiError::HeadersTooLarge(_) => "Request header fields too large",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) | ApiError::RouteNotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Conflict(_) => "Conflict",
            ApiError::NoAdvisor(_) => "No advisor",
            ApiError::PartnerNotFound(_) => "Partner not found",
            ApiError::PartnerNotEligible { .. } => "Partner not eligible",
            ApiError::PartnerIdNotTransactable { .. } => "Partner ID not transactable",
            ApiError::PartnerInitiatedOnly(_) => "Partner-initiated only",
            ApiError::PreconditionFailed(_) => "Precondition failed",
            ApiError::IdempotencyKeyReused => "Idempotency key reused",
            ApiError::InvalidTransition(_) => "Invalid transition",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Timeout(_) => "Request timed out",
            ApiError::ResellerRemovalRequiresPartner(_) => "Reseller removal requires the partner",
            ApiError::AdvisorRelationshipIsPerSubscription(_) => {
                "Advisor relationship is per subscription"
            }
            ApiError::InvitationExpired(_) => "Invitation expired",
            ApiError::InvitationNotPending(_) => "Invitation not pending",
            ApiError::InvalidToken(_) => "Invalid token",
            ApiError::ResellerHasActiveSubscriptions { .. } => "Reseller has active subscriptions",
            ApiError::Internal => "Internal server error",
        }
    }

    pub fn problem(&self) -> Problem {
        let (request_id, instance, lang) = REQUEST
            .try_with(|r| (r.request_id.clone(), r.path.clone(), r.lang))
            .unwrap_or_default();
        let detail = match self {
            ApiError::Internal => format!(
                "an internal error occurred; quote request id {request_id} when reporting it"
            ),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation { errors, .. } => errors.clone(),
            ApiError::InvalidMpnId { field, detail, .. } => {
                vec![FieldError::new(
                    field.clone(),
                    "invalid_mpn_id",
                    detail.clone(),
                )]
            }
            ApiError::PartnerNotEligible { condition, detail } => {
                vec![FieldError::new(
                    *condition,
                    "partner_not_eligible",
                    detail.clone(),
                )]
            }
            ApiError::ResellerHasActiveSubscriptions { subscriptions, .. } => subscriptions
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    FieldError::new(
                        format!("subscriptionIds[{i}]"),
                        "subscription_active",
                        format!("subscription {id} is active; suspend or cancel it first"),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        let (title, detail) = match (lang, crate::i18n::danish(self.code())) {
            (crate::i18n::Lang::Danish, Some((title, danish))) => {
                (title.to_owned(), danish.to_owned())
            }
            _ => (self.title().to_owned(), detail),
        };
        Problem {
            problem_type: format!("urn:partnerlink:problem:{}", self.code()),
            title,
            status: self.status_code().as_u16(),
            detail,
            instance,
            code: self.code(),
            request_id,
            errors,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidMpnId { in_path: true, .. } => StatusCode::BAD_REQUEST,
            ApiError::InvalidMpnId { in_path: false, .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Validation { status, .. } => *status,
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::RouteNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::InvalidTransition(_) => StatusCode::CONFLICT,
            ApiError::NoAdvisor(_) => StatusCode::NOT_FOUND,
            ApiError::PartnerNotFound(_)
            | ApiError::PartnerNotEligible { .. }
            | ApiError::PartnerIdNotTransactable { .. }
            | ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PartnerInitiatedOnly(_)
            | ApiError::ResellerRemovalRequiresPartner(_)
            | ApiError::InvalidToken(_) => StatusCode::FORBIDDEN,
            ApiError::AdvisorRelationshipIsPerSubscription(_)
            | ApiError::InvitationNotPending(_)
            | ApiError::ResellerHasActiveSubscriptions { .. } => StatusCode::CONFLICT,
            ApiError::InvitationExpired(_) => StatusCode::GONE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            // Not 503: the handler's database work goes on after the answer and may still
            // commit, so the outcome is unknown, which 503 ("not processed, retry") would
            // hide. 504 says what happened: the database did not answer in time.
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        let lang = REQUEST.try_with(|r| r.lang).unwrap_or_default();
        response.insert_header((header::CONTENT_LANGUAGE, lang.tag()));
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        response.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match e {
            Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, ref info) => {
                tracing::warn!(cause = info.message(), "database connection lost");
                ApiError::Unavailable("the database connection was lost; retry".into())
            }
            Error::DatabaseError(Kind::SerializationFailure, _) => {
                ApiError::Conflict("a concurrent change conflicted with this one; retry".into())
            }
            Error::DatabaseError(_, ref info) if info.message().contains("statement timeout") => {
                tracing::warn!("statement timeout");
                ApiError::Unavailable("the database took too long to answer; retry".into())
            }
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        tracing::warn!(cause = %e, "no database connection");
        ApiError::Unavailable("the database is unavailable; retry shortly".into())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(format!("blocking task: {e}"))
    }
}

/// Turns `validator`'s report into field errors with JSON paths.
pub fn field_errors(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    fn walk(prefix: &str, errors: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
        use validator::ValidationErrorsKind as K;
        for (field, kind) in errors.errors() {
            // Wire names are camelCase; validator reports the Rust field names.
            let field = camel_case(field);
            let path = if prefix.is_empty() {
                field
            } else {
                format!("{prefix}.{field}")
            };
            match kind {
                K::Field(list) => out.extend(list.iter().map(|e| {
                    let message = e
                        .message
                        .as_ref()
                        .map_or_else(|| default_message(e), |m| m.to_string());
                    FieldError::new(path.clone(), &e.code, message)
                })),
                K::Struct(inner) => walk(&path, inner, out),
                K::List(items) => {
                    for (i, inner) in items {
                        walk(&format!("{path}[{i}]"), inner, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk("", errors, &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn default_message(e: &validator::ValidationError) -> String {
    let param = |name: &str| e.params.get(name).map(|v| v.to_string());
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "length is out of range".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            _ => "is out of range".into(),
        },
        "email" => "must be an e-mail address".into(),
        other => format!("is invalid ({other})"),
    }
}
