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

/// Key of the advisory lock under which the feed numbers events.
const SEQUENCING_LOCK: i64 = 111_559_182_283_891;

/// Events numbered per feed read, at least: with the page's size as the floor, a page is
/// full whenever enough events have been committed.
const SEQUENCE_BATCH: i64 = 1_000;

/// An event a write has yet to record: returned by the steps of a request so that
/// the request records all of its events in one statement.
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
/// Ids are time-ordered (v7): the unique index on them then grows at its right edge
/// instead of taking each event on a random leaf, which at scale cost most writes a
/// full-page image after a checkpoint.
pub fn record_all(conn: &mut PgConnection, actor: &str, new: Vec<NewEvent>) -> QueryResult<()> {
    if new.is_empty() {
        return Ok(());
    }
    let occurred_at = crate::domain::now();
    let rows: Vec<_> = new
        .into_iter()
        .map(|event| {
            (
                events::id.eq(Uuid::now_v7()),
                events::type_.eq(event.event_type),
                events::tenant_id.eq(event.tenant),
                events::occurred_at.eq(occurred_at),
                events::actor.eq(actor.to_owned()),
                events::data.eq(event.data),
            )
        })
        .collect();
    // diesel prepares (and caches) a fixed-size insert but sends a `Vec` of rows
    // unprepared, a parse round trip more: one or two rows is every write but a sweep.
    let insert = diesel::insert_into(events::table);
    let rows = match <[_; 1]>::try_from(rows) {
        Ok(one) => return insert.values(one).execute(conn).map(|_| ()),
        Err(rows) => rows,
    };
    match <[_; 2]>::try_from(rows) {
        Ok(two) => insert.values(two).execute(conn),
        Err(rows) => insert.values(rows).execute(conn),
    }
    .map(|_| ())
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
