//! The transactional outbox.

use diesel::prelude::*;
use uuid::Uuid;

use super::models::EventRow;
use super::schema::events;

/// Records an event in the caller's transaction. Call it late in the transaction: the
/// insert takes the outbox's lock (a trigger, see the `outbox_order` migration), held
/// until commit.
pub fn record(
    conn: &mut PgConnection,
    event_type: &str,
    tenant: Option<Uuid>,
    actor: &str,
    data: serde_json::Value,
) -> QueryResult<()> {
    diesel::insert_into(events::table)
        .values((
            events::id.eq(Uuid::new_v4()),
            events::type_.eq(event_type),
            events::tenant_id.eq(tenant),
            events::occurred_at.eq(crate::domain::now()),
            events::actor.eq(actor),
            events::data.eq(data),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn list(conn: &mut PgConnection, after: i64, limit: i64) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::sequence.gt(after))
        .order(events::sequence)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}
