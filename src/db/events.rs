//! The transactional outbox.
//!
//! Writers stage events in their own transaction and take no lock; the feed numbers
//! committed events (`sequence`) when it first reads them, one reader at a time (see
//! the `outbox_sequenced_on_read` migration).

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use uuid::Uuid;

use super::models::EventRow;
use super::schema::events;
use super::writes::Writes;

/// Key of the advisory lock under which the feed numbers events.
const SEQUENCING_LOCK: i64 = 111_559_182_283_891;

/// Events numbered per feed read, at least: with the page's size as the floor, a page is
/// full whenever enough events have been committed.
const SEQUENCE_BATCH: i64 = 1_000;

/// An event a write has yet to record, with the request's other writes or with the
/// other events of a sweep, in one statement.
#[must_use = "an event is lost unless it is recorded"]
#[derive(Debug)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub tenant: Option<Uuid>,
    pub data: serde_json::Value,
}

/// Records an event in the caller's transaction.
pub fn record(
    conn: &mut PgConnection,
    event_type: &'static str,
    tenant: Option<Uuid>,
    actor: &str,
    data: serde_json::Value,
) -> QueryResult<()> {
    record_all(
        conn,
        actor,
        vec![NewEvent {
            event_type,
            tenant,
            data,
        }],
    )
}

/// Records events in the caller's transaction, in their order, with one `INSERT`.
pub fn record_all(conn: &mut PgConnection, actor: &str, new: Vec<NewEvent>) -> QueryResult<()> {
    let mut writes = Writes::default();
    for event in new {
        writes.record(actor, event);
    }
    writes.send(conn)
}

/// Numbers up to `batch` committed, not yet numbered events in staging order, above
/// every number given before. Run it in a transaction: the lock, held until commit,
/// makes numbering one reader at a time, and the `UPDATE`'s snapshot, taken after the
/// lock is granted, sees the previous reader's numbers.
fn sequence_staged(conn: &mut PgConnection, batch: i64) -> QueryResult<usize> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(SEQUENCING_LOCK)
        .execute(conn)?;
    diesel::sql_query(
        "UPDATE events SET sequence = numbered.sequence \
         FROM (SELECT staged, (SELECT coalesce(max(sequence), 0) FROM events) \
                   + row_number() OVER (ORDER BY staged) AS sequence \
               FROM events WHERE sequence IS NULL ORDER BY staged LIMIT $1) numbered \
         WHERE events.staged = numbered.staged",
    )
    .bind::<BigInt, _>(batch)
    .execute(conn)
}

/// A page of the feed: numbers what has been committed since the last read (enough
/// for the page), then reads the events after `after`.
pub fn list(conn: &mut PgConnection, after: i64, limit: i64) -> QueryResult<Vec<EventRow>> {
    conn.transaction(|conn| {
        sequence_staged(conn, SEQUENCE_BATCH.max(limit))?;
        events::table
            .filter(events::sequence.gt(after))
            .order(events::sequence)
            .limit(limit)
            .select(EventRow::as_select())
            .load(conn)
    })
}
