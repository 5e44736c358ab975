//! Logging set-up and the per-request span, id and access log line.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use crate::config::LogFormat;
use crate::error::{RequestContext, REQUEST};
use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber; `RUST_LOG` sets levels (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into files or collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second call (tests build many apps in one process) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The id of the request being served.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A caller-supplied id is kept when it is short, printable ASCII; otherwise a new one.
fn request_id_of(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| Uuid::new_v4().to_string(), str::to_owned)
}

/// The root span of every request. Only the path is recorded, never the query string,
/// which may carry an invitation token.
pub struct PartnerlinkRootSpan;

impl RootSpanBuilder for PartnerlinkRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request_id_of(request);
        request.extensions_mut().insert(RequestId(id.clone()));
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.path(),
            request_id = %id,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

/// Sets the request context for problem bodies, echoes the request id, counts the
/// request in the metrics and writes one access log line.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = req
        .extensions()
        .get::<RequestId>()
        .map_or_else(|| Uuid::new_v4().to_string(), |r| r.0.clone());
    let statements = std::rc::Rc::new(std::cell::Cell::new(0));
    let context = RequestContext {
        request_id: id.clone(),
        path: req.path().to_owned(),
        lang: crate::i18n::Lang::negotiate(
            req.headers()
                .get(actix_web::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
        ),
        db_statements: statements.clone(),
    };
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().clone();
    let outcome = REQUEST
        .scope(context, async move {
            // Handlers' errors arrive as responses; only a middleware's (the request
            // timeout) arrives as an error. Rendered here, inside the request's scope, its
            // problem carries the request id and language like every other.
            next.call(req).await.map_err(|error| {
                let response = error.error_response();
                (error, response)
            })
        })
        .await;
    let finish = |headers: &mut HeaderMap, status: StatusCode, route: &str| {
        let elapsed = started.elapsed();
        if let Some(metrics) = &metrics {
            metrics.observe(
                method.as_str(),
                route,
                status.as_u16(),
                elapsed,
                statements.get(),
            );
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            headers.insert(REQUEST_ID, value);
        }
        tracing::info!(
            status = status.as_u16(),
            route = %route,
            // Whole microseconds: `0.511`, not `0.5107999999999999`.
            elapsed_ms = elapsed.as_micros() as f64 / 1000.0,
            db_statements = statements.get(),
            "request finished"
        );
    };
    match outcome {
        Ok(mut response) => {
            let route = response
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into());
            let status = response.status();
            finish(response.headers_mut(), status, &route);
            Ok(response)
        }
        Err((error, mut response)) => {
            let status = response.status();
            finish(response.headers_mut(), status, "unknown");
            Err(InternalError::from_response(error, response).into())
        }
    }
}
