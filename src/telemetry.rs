//! Logging set-up and the per-request span, id and access log line.

mod batch;

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Span, Subscriber};
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::format::{
    DefaultFields, DefaultVisitor, Format, FormatEvent, FormatFields, Full, Writer,
};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;
use uuid::Uuid;

use crate::config::LogFormat;
use crate::error::{RequestContext, REQUEST};
use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Where log lines go: stderr, in batches (`batch`).
static OUTPUT: OnceLock<Arc<batch::Batched<std::io::Stderr>>> = OnceLock::new();

/// Installs the global subscriber; `RUST_LOG` sets levels (default `info`).
pub fn init(format: LogFormat) -> std::io::Result<()> {
    if OUTPUT.get().is_some() {
        return Ok(());
    }
    let output = batch::Batched::new(std::io::stderr());
    output.spawn_flusher()?;
    let output = OUTPUT.get_or_init(|| output);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        flush();
        previous(info);
    }));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(batch::Sink(Arc::clone(output)))
        // Colour codes only for a person at a terminal, never into files or collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder
            .fmt_fields(TextFields)
            .event_format(TextFormat::default())
            .try_init(),
    };
    Ok(())
}

/// Writes the log lines still waiting for their batch (before the process exits or a
/// panic message is printed).
pub fn flush() {
    if let Some(output) = OUTPUT.get() {
        output.flush();
    }
}

/// `tracing_subscriber`'s text format (`Full`, no colours) byte for byte, with the access
/// line, one per request, written without `core::fmt` where it can be: the stock format
/// paints every part through `nu_ansi_term` even when colours are off, ~12k instructions
/// a line, a twelfth of a subscription read. Every other event, and every event when
/// colours are on, goes to the stock format (a test compares the two).
#[derive(Default)]
struct TextFormat(Format<Full>);

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let access = *meta.level() == Level::INFO
            && meta.target() == module_path!()
            && meta.fields().field("db_statements").is_some();
        if !access || writer.has_ansi_escapes() {
            return self.0.format_event(ctx, writer, event);
        }
        write_timestamp(&mut writer, std::time::SystemTime::now())?;
        writer.write_str(" INFO ")?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                seen = true;
                writer.write_str(span.metadata().name())?;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        writer.write_char('{')?;
                        writer.write_str(fields)?;
                        writer.write_char('}')?;
                    }
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut fields = PlainFields::new(&mut writer, true);
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// `2026-11-27T05:10:45.191697Z ` as `tracing_subscriber`'s `SystemTime` writes it.
fn write_timestamp(writer: &mut Writer<'_>, now: std::time::SystemTime) -> fmt::Result {
    use crate::api::timestamp::{rfc3339, Fraction};
    let mut buf = [0u8; 30];
    match rfc3339(&now.into(), Fraction::Micros, &mut buf) {
        Some(text) => writer.write_str(text)?,
        // Years that need a sign or a fifth digit.
        None => {
            let stock = tracing_subscriber::fmt::time::SystemTime;
            tracing_subscriber::fmt::time::FormatTime::format_time(&stock, writer)?;
        }
    }
    writer.write_char(' ')
}

/// Fields as `DefaultFields` writes them, for the text format. Without colours a plain
/// field is written directly: the stock visitor paints every field name through
/// `nu_ansi_term` even then (~1k instructions a field; a request's span has three).
/// Messages, errors and everything when colours are on go to the stock visitor, which
/// escapes control characters in them (a test compares the two).
struct TextFields;

impl<'writer> FormatFields<'writer> for TextFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        if writer.has_ansi_escapes() {
            return DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = PlainFields::new(&mut writer, false);
        fields.record(&mut visitor);
        visitor.result
    }
}

/// The visitor of `TextFields`, and of the access line, whose message is a constant:
/// nothing in it to escape, so it is written as it is.
struct PlainFields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    plain_message: bool,
    result: fmt::Result,
}

impl<'w, 'a> PlainFields<'w, 'a> {
    fn new(writer: &'w mut Writer<'a>, plain_message: bool) -> Self {
        PlainFields {
            writer,
            first: true,
            plain_message,
            result: Ok(()),
        }
    }

    /// Writes the separator and name of a plain field; false when it is not written:
    /// after an error, or for the metadata of a `log` record, which the stock format
    /// shows in its own place.
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() || field.name().starts_with("log.") {
            return false;
        }
        if !std::mem::take(&mut self.first) {
            self.result = self.writer.write_char(' ');
        }
        if field.name() != "message" {
            let name = field.name();
            self.result = self
                .result
                .and_then(|()| {
                    self.writer
                        .write_str(name.strip_prefix("r#").unwrap_or(name))
                })
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }

    /// One field written by the stock visitor, told whether anything precedes it.
    fn stock(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_ok() {
            let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.first);
            record(&mut visitor);
            self.first = false;
            self.result = visitor.finish();
        }
    }
}

impl Visit for PlainFields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            let mut digits = [0u8; 20];
            let mut at = digits.len();
            let mut rest = value;
            loop {
                at -= 1;
                digits[at] = b'0' + (rest % 10) as u8;
                rest /= 10;
                if rest == 0 {
                    break;
                }
            }
            self.result = std::str::from_utf8(&digits[at..])
                .map_err(|_| fmt::Error)
                .and_then(|text| self.writer.write_str(text));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() != "message" {
            self.record_debug(field, &value);
        } else if self.plain_message {
            if self.start(field) {
                self.result = self.writer.write_str(value);
            }
        } else {
            self.stock(|stock| stock.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.stock(|stock| stock.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" && !self.plain_message {
            self.stock(|stock| stock.record_debug(field, value));
        } else if self.start(field) {
            self.result = write!(self.writer, "{value:?}");
        }
    }
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
        )
    }

    /// Nothing: the access line, the request's last event, already carries the status,
    /// and a field recorded on the span now would be formatted for no line at all.
    fn on_request_end<B: MessageBody>(_: Span, _: &Result<ServiceResponse<B>, Error>) {}
}

/// The access line of a request.
fn log_access(status: StatusCode, route: &str, elapsed: std::time::Duration, statements: u32) {
    tracing::info!(
        status = status.as_u16(),
        route = %route,
        // Whole microseconds: `0.511`, not `0.5107999999999999`.
        elapsed_ms = elapsed.as_micros() as f64 / 1000.0,
        db_statements = statements,
        "request finished"
    );
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
        log_access(status, route, elapsed, statements.get());
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a writer wrote, shared with the test that reads it.
    #[derive(Clone, Default)]
    pub(super) struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Lines {
        pub(super) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer \u{1b}[31mfailure")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner cause")]
    struct Inner;

    /// What a subscriber with `format` and `fields` writes for a request's span, its access
    /// lines and other events in it, timestamps cut off.
    fn written<F, N>(format: F, fields: N, ansi: bool) -> Vec<String>
    where
        F: FormatEvent<tracing_subscriber::Registry, N> + Send + Sync + 'static,
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
    {
        let lines = Lines::default();
        let sink = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(ansi)
            .with_writer(move || sink.clone())
            .fmt_fields(fields)
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!(
                "request",
                method = %"GET",
                path = %"/v1/partners",
                request_id = %"5f0c6a2e-1d1b-4c1e-9d7e-2b8f1c7c9a10",
                r#type = "quoted \"text\"\n",
                answer = 42u64,
                later = tracing::field::Empty,
            );
            let _entered = span.enter();
            log_access(
                StatusCode::OK,
                "/v1/partners",
                std::time::Duration::from_micros(16_944),
                1,
            );
            log_access(
                StatusCode::NOT_FOUND,
                "unmatched",
                std::time::Duration::from_micros(2_000),
                0,
            );
            log_access(
                StatusCode::OK,
                "/v1/x",
                std::time::Duration::from_secs(90_061),
                12_345,
            );
            span.record("later", -7i64);
            tracing::info!(answer = 42u64, "another event");
            tracing::warn!(flag = true, ratio = 0.5, "a \u{1b}[31mred\u{1b}[0m message");
            let error = Outer(Inner);
            tracing::error!(
                error = &error as &(dyn std::error::Error + 'static),
                "failed"
            );
            tracing::info!(name = "no message");
            tracing::info!(
                log.target = "r2d2",
                log.line = 7u64,
                log.file = "lib.rs",
                "bridged from log"
            );
        });
        lines
            .text()
            .lines()
            .map(|line| {
                // The timestamp is the only part before the first `Z`.
                let at = line.find('Z').expect(line);
                line[at + 1..].to_owned()
            })
            .collect()
    }

    #[test]
    fn lines_are_written_as_the_stock_text_format_writes_them() {
        for ansi in [false, true] {
            let ours = written(TextFormat::default(), TextFields, ansi);
            let stock = written(Format::<Full>::default(), DefaultFields::new(), ansi);
            assert_eq!(ours, stock);
            assert_eq!(ours.len(), 8);
        }
        let ours = written(TextFormat::default(), TextFields, false);
        let span = "request{method=GET path=/v1/partners \
            request_id=5f0c6a2e-1d1b-4c1e-9d7e-2b8f1c7c9a10 type=\"quoted \\\"text\\\"\\n\" answer=42}";
        assert_eq!(
            ours[0],
            format!(
                "  INFO {span}: partnerlink::telemetry: request finished status=200 \
                 route=/v1/partners elapsed_ms=16.944 db_statements=1"
            )
        );
        assert!(
            ours[1].ends_with("elapsed_ms=2.0 db_statements=0"),
            "{}",
            ours[1]
        );
        assert!(ours[3].contains(" later=-7}: "), "{}", ours[3]);
        assert!(!ours[4].contains('\u{1b}'), "escaped: {}", ours[4]);
        assert!(
            ours[5].contains("error.sources=[inner cause]"),
            "{}",
            ours[5]
        );
        assert!(ours[7].ends_with(": bridged from log"), "{}", ours[7]);
    }

    #[test]
    fn timestamps_are_written_as_rfc_3339_with_microseconds() {
        use chrono::{DateTime, Utc};
        for micros in [
            0i64,
            951_782_400_123_456,   // 2000-02-29
            1_795_748_445_191_697, // 2026-11-27
            253_402_300_799_999_999,
        ] {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(micros as u64);
            let mut text = String::new();
            write_timestamp(&mut Writer::new(&mut text), at).unwrap();
            let expected = DateTime::<Utc>::from(at).format("%Y-%m-%dT%H:%M:%S%.6fZ ");
            assert_eq!(text, expected.to_string());
        }
    }
}
