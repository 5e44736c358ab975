//! The log's output, written in batches. Unbuffered, every request's access line cost a
//! `write` of its own (one syscall in eight of a `GET`); here info, debug and trace lines
//! wait in memory until a writer thread flushes them, at the latest `EVERY` later, while
//! a warning or an error is written at once, after the lines before it.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait for its batch.
pub const EVERY: Duration = Duration::from_millis(50);
/// A batch this large is written by the thread that fills it.
const FULL: usize = 64 * 1024;

/// The shared output: lines waiting to be written, and the destination with the buffer
/// last written (swapped with `pending`, so neither is allocated anew); its lock also
/// keeps batches in order.
pub struct Batched<W> {
    pending: Mutex<Vec<u8>>,
    out: Mutex<(W, Vec<u8>)>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while logging leaves whole lines behind: keep going.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<W: Write> Batched<W> {
    pub fn new(out: W) -> Arc<Self> {
        Arc::new(Batched {
            pending: Mutex::new(Vec::new()),
            out: Mutex::new((out, Vec::new())),
        })
    }

    /// Writes every waiting line. Errors are dropped: the log has nowhere to report them.
    pub fn flush(&self) {
        let mut out = locked(&self.out);
        let (out, lines) = &mut *out;
        std::mem::swap(&mut *locked(&self.pending), lines);
        if !lines.is_empty() {
            let _ = out.write_all(lines);
            let _ = out.flush();
            lines.clear();
        }
    }

    fn push(&self, line: &[u8], urgent: bool) {
        let full = {
            let mut pending = locked(&self.pending);
            pending.extend_from_slice(line);
            pending.len() >= FULL
        };
        if urgent || full {
            self.flush();
        }
    }
}

impl<W: Write + Send + 'static> Batched<W> {
    /// Flushes every `EVERY` for as long as the process runs.
    pub fn spawn_flusher(self: &Arc<Self>) -> std::io::Result<()> {
        let batched = Arc::clone(self);
        std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || loop {
                std::thread::sleep(EVERY);
                batched.flush();
            })
            .map(drop)
    }
}

/// `tracing_subscriber`'s writer: one `write_all` per event, whole lines.
pub struct Sink<W>(pub Arc<Batched<W>>);

pub struct Line<'a, W> {
    batched: &'a Batched<W>,
    urgent: bool,
}

impl<'a, W: Write + 'a> MakeWriter<'a> for Sink<W> {
    type Writer = Line<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        Line {
            batched: &self.0,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        Line {
            batched: &self.0,
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

impl<W: Write> Write for Line<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.batched.push(buf, self.urgent);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::tests::Lines;

    fn subscriber(out: &Lines) -> (Arc<Batched<Lines>>, impl tracing::Subscriber) {
        let batched = Batched::new(out.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .without_time()
            .with_max_level(Level::INFO)
            .with_writer(Sink(Arc::clone(&batched)))
            .finish();
        (batched, subscriber)
    }

    #[test]
    fn info_lines_wait_and_a_warning_writes_them_first_in_order() {
        let out = Lines::default();
        let (batched, subscriber) = subscriber(&out);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("one");
            tracing::info!("two");
            assert_eq!(out.text(), "");
            tracing::warn!("three");
            let text = out.text();
            let lines: Vec<_> = text
                .lines()
                .map(|l| l.split(": ").last().unwrap())
                .collect();
            assert_eq!(lines, ["one", "two", "three"]);
            tracing::info!("four");
            assert_eq!(out.text().lines().count(), 3);
            batched.flush();
            assert!(out.text().ends_with("four\n"), "{}", out.text());
        });
    }

    #[test]
    fn a_full_batch_is_written_at_once() {
        let out = Lines::default();
        let batched = Batched::new(out.clone());
        let line = [b'x'; 1024];
        for _ in 0..FULL / line.len() - 1 {
            batched.push(&line, false);
        }
        assert_eq!(out.text(), "");
        batched.push(&line, false);
        assert_eq!(out.text().len(), FULL);
    }

    #[test]
    fn the_flusher_writes_waiting_lines_without_another_event() {
        let out = Lines::default();
        let batched = Batched::new(out.clone());
        batched.push(b"waiting\n", false);
        assert_eq!(out.text(), "");
        batched.spawn_flusher().unwrap();
        // Generous: this checks that the line arrives, not how fast.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while out.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(EVERY);
        }
        assert_eq!(out.text(), "waiting\n");
    }
}
