//! What every request is held to before and while a handler works on it: the size of
//! its headers and the time the service spends on it.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use crate::error::ApiError;

/// `PARTNERLINK_MAX_HEADER_BYTES` and `PARTNERLINK_REQUEST_TIMEOUT_MS`.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub max_header_bytes: usize,
    pub timeout: Duration,
}

/// The bytes of every header name and value, the measure `max_header_bytes` limits.
fn header_bytes(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// Answers 431 to oversized headers and 504 when the handler takes too long. Runs
/// inside `request_context`, so both problems carry the request id and are logged.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(limits) = req.app_data::<RequestLimits>().copied() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    if header_bytes(&req) > limits.max_header_bytes {
        let error = ApiError::HeadersTooLarge(limits.max_header_bytes);
        return Ok(req
            .into_response(error.error_response())
            .map_into_right_body());
    }
    // Dropping the handler's future does not stop its `web::block` closure: that runs its
    // one transaction to commit or rollback and then returns the connection to the pool.
    match actix_web::rt::time::timeout(limits.timeout, next.call(req)).await {
        Ok(response) => Ok(response?.map_into_left_body()),
        // The request went into the handler's future and is gone with it (a clone kept
        // here would break routing), so `request_context` renders this error.
        Err(_) => {
            tracing::warn!(timeout_ms = limits.timeout.as_millis(), "request timed out");
            Err(ApiError::Timeout(limits.timeout).into())
        }
    }
}
