//! The writes of a request's step, sent as one statement.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use super::events::NewEvent;
use super::models::{AssociationRow, SubscriptionRow};

/// Events up to which a statement's text is cached (one cached text per count): every
/// request's step records one or two; a sweep records as many as it ends.
const CACHED_EVENTS: usize = 2;

/// The end of an advisor association.
pub struct Ending {
    pub tenant: Uuid,
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub by: String,
}

/// An event with the id, time and actor it is recorded with.
struct Stamped {
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor: String,
    event: NewEvent,
}

/// A subscription saved (its version bumped), bought, its advisor association ended and
/// another added, events recorded: one data-modifying `WITH` each, sent as one
/// statement, so a purchase or an advisor change is one round trip instead of one per
/// write. PostgreSQL runs each write once and to completion, and checks foreign keys at
/// the end of the statement, so an association may name the subscription bought with it.
/// With a save, the other writes go only if it found the version it was given.
#[must_use = "nothing is written until the writes are sent"]
#[derive(Default)]
pub struct Writes {
    saved: Option<SubscriptionRow>,
    bought: Option<SubscriptionRow>,
    ended: Option<Ending>,
    added: Option<AssociationRow>,
    events: Vec<Stamped>,
}

impl Writes {
    pub fn buy(&mut self, row: SubscriptionRow) {
        self.bought = Some(row);
    }

    pub fn end(&mut self, ending: Ending) {
        self.ended = Some(ending);
    }

    pub fn add(&mut self, row: AssociationRow) {
        self.added = Some(row);
    }

    /// Events keep their order. Ids are time-ordered (v7): the unique index on them then
    /// grows at its right edge instead of taking each event on a random leaf, which at
    /// scale cost most writes a full-page image after a checkpoint.
    pub fn record(&mut self, actor: &str, event: NewEvent) {
        self.events.push(Stamped {
            id: Uuid::now_v7(),
            occurred_at: crate::domain::now(),
            actor: actor.to_owned(),
            event,
        });
    }

    /// Sends the writes.
    pub fn send(self, conn: &mut PgConnection) -> QueryResult<()> {
        if self.bought.is_some()
            || self.ended.is_some()
            || self.added.is_some()
            || !self.events.is_empty()
        {
            self.sent(conn)?;
        }
        Ok(())
    }

    /// Sends the writes with `row`'s changeable fields, bumping its version, if the
    /// subscription is still at `row.version`: returns `row` with its new version, or
    /// `None` and writes nothing when another change came first.
    pub fn send_saving(
        mut self,
        conn: &mut PgConnection,
        row: SubscriptionRow,
    ) -> QueryResult<Option<SubscriptionRow>> {
        self.saved = Some(row.clone());
        let version = self.sent(conn)?;
        Ok(version.map(|version| SubscriptionRow { version, ..row }))
    }

    /// What the statement holds, as [`SAVED`] | [`BOUGHT`] | … bits: its text depends on
    /// nothing else. `None` beyond [`CACHED_EVENTS`].
    fn shape(&self) -> Option<u8> {
        let bit = |set: bool, bit: u8| if set { bit } else { 0 };
        (self.events.len() <= CACHED_EVENTS).then(|| {
            bit(self.saved.is_some(), SAVED)
                | bit(self.bought.is_some(), BOUGHT)
                | bit(self.ended.is_some(), ENDED)
                | bit(self.added.is_some(), ADDED)
                | (self.events.len() as u8 * EVENT)
        })
    }

    /// Sends the statement: the shapes of the requests that run most by a prepared
    /// statement named by type, the rest by one found by its text.
    fn sent(self, conn: &mut PgConnection) -> QueryResult<Option<i64>> {
        macro_rules! by_shape {
            ($($shape:ident),*) => {
                match self.shape() {
                    $(Some($shape) => Shaped::<$shape>(&self).get_result(conn),)*
                    _ => self.get_result(conn),
                }
            };
        }
        by_shape!(
            CHANGE,
            FIRST_ADVISOR,
            REMOVAL,
            PURCHASE,
            PURCHASE_WITH_ADVISOR,
            ONE_EVENT
        )
    }
}

const SAVED: u8 = 1;
const BOUGHT: u8 = 2;
const ENDED: u8 = 4;
const ADDED: u8 = 8;
/// One event; the count of events is in the bits from here on.
const EVENT: u8 = 16;

const CHANGE: u8 = SAVED | ENDED | ADDED | EVENT;
const FIRST_ADVISOR: u8 = SAVED | ADDED | EVENT;
const REMOVAL: u8 = SAVED | ENDED | EVENT;
const PURCHASE: u8 = BOUGHT | EVENT;
const PURCHASE_WITH_ADVISOR: u8 = BOUGHT | ADDED | (2 * EVENT);
const ONE_EVENT: u8 = EVENT;

/// Writes of the shape `SHAPE`, whose prepared statement diesel finds by type, where it
/// finds that of any [`Writes`] by writing out and hashing the statement's text (16k
/// instructions, 6–7 % of an advisor change or a purchase).
struct Shaped<'w, const SHAPE: u8>(&'w Writes);

/// The type [`Shaped`] is known to diesel's statement cache by.
struct ShapeId<const SHAPE: u8>;

impl<const SHAPE: u8> QueryId for Shaped<'_, SHAPE> {
    type QueryId = ShapeId<SHAPE>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const SHAPE: u8> Query for Shaped<'_, SHAPE> {
    type SqlType = Nullable<BigInt>;
}

impl<const SHAPE: u8> QueryFragment<Pg> for Shaped<'_, SHAPE> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }

    /// A shape holds at most [`CACHED_EVENTS`]: no need to walk the writes to know.
    fn is_safe_to_cache_prepared(&self, _: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<const SHAPE: u8> RunQueryDsl<PgConnection> for Shaped<'_, SHAPE> {}

/// One statement text per combination of writes (and count of events): cached by text.
impl QueryId for Writes {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// The saved subscription's new version, or `NULL`.
impl Query for Writes {
    type SqlType = Nullable<BigInt>;
}

impl RunQueryDsl<PgConnection> for Writes {}

/// Starts the next `WITH` query.
fn with(out: &mut AstPass<'_, '_, Pg>, first: &mut bool, name: &str) {
    out.push_sql(if std::mem::take(first) {
        "WITH "
    } else {
        "), "
    });
    out.push_sql(name);
    out.push_sql(" AS (");
}

impl Writes {
    /// The condition of every write but the save, after `keyword` (`WHERE` or `AND`):
    /// that the save found its version. Its reference also makes the save run first.
    fn guard(&self, out: &mut AstPass<'_, '_, Pg>, keyword: &str) {
        if self.saved.is_some() {
            out.push_sql(keyword);
            out.push_sql(" EXISTS (SELECT FROM saved)");
        }
    }
}

impl QueryFragment<Pg> for Writes {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let first = &mut true;
        if let Some(row) = &self.saved {
            with(&mut out, first, "saved");
            out.push_sql("UPDATE subscriptions SET quantity = ");
            out.push_bind_param::<Integer, _>(&row.quantity)?;
            out.push_sql(", status = ");
            out.push_bind_param::<Text, _>(&row.status)?;
            out.push_sql(", trial_ends_at = ");
            out.push_bind_param::<Nullable<Timestamptz>, _>(&row.trial_ends_at)?;
            out.push_sql(", version = version + 1, updated_at = ");
            out.push_bind_param::<Timestamptz, _>(&row.updated_at)?;
            out.push_sql(" WHERE tenant_id = ");
            out.push_bind_param::<SqlUuid, _>(&row.tenant_id)?;
            out.push_sql(" AND id = ");
            out.push_bind_param::<SqlUuid, _>(&row.id)?;
            out.push_sql(" AND version = ");
            out.push_bind_param::<BigInt, _>(&row.version)?;
            out.push_sql(" RETURNING version");
        }
        if let Some(row) = &self.bought {
            with(&mut out, first, "bought");
            out.push_sql(
                "INSERT INTO subscriptions (tenant_id, id, product_id, quantity, status, \
                 trial_ends_at, reseller_mpn_id, version, created_at, updated_at) \
                 SELECT v.* FROM (VALUES (",
            );
            out.push_bind_param::<SqlUuid, _>(&row.tenant_id)?;
            out.push_sql(", ");
            out.push_bind_param::<SqlUuid, _>(&row.id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(&row.product_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(&row.quantity)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(&row.status)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Timestamptz>, _>(&row.trial_ends_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Integer>, _>(&row.reseller_mpn_id)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&row.version)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamptz, _>(&row.created_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamptz, _>(&row.updated_at)?;
            out.push_sql(")) AS v");
            self.guard(&mut out, " WHERE");
        }
        if let Some(ending) = &self.ended {
            with(&mut out, first, "ended");
            out.push_sql("UPDATE advisor_associations SET valid_to = ");
            out.push_bind_param::<Timestamptz, _>(&ending.at)?;
            out.push_sql(", removed_by = ");
            out.push_bind_param::<Text, _>(&ending.by)?;
            out.push_sql(" WHERE tenant_id = ");
            out.push_bind_param::<SqlUuid, _>(&ending.tenant)?;
            out.push_sql(" AND id = ");
            out.push_bind_param::<SqlUuid, _>(&ending.id)?;
            self.guard(&mut out, " AND");
            out.push_sql(" RETURNING id");
        }
        if let Some(row) = &self.added {
            with(&mut out, first, "added");
            out.push_sql(
                "INSERT INTO advisor_associations (tenant_id, subscription_id, id, mpn_id, \
                 valid_from, valid_to, source, added_by, removed_by) SELECT v.* FROM (VALUES (",
            );
            out.push_bind_param::<SqlUuid, _>(&row.tenant_id)?;
            out.push_sql(", ");
            out.push_bind_param::<SqlUuid, _>(&row.subscription_id)?;
            out.push_sql(", ");
            out.push_bind_param::<SqlUuid, _>(&row.id)?;
            out.push_sql(", ");
            out.push_bind_param::<Integer, _>(&row.mpn_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamptz, _>(&row.valid_from)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Timestamptz>, _>(&row.valid_to)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(&row.source)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(&row.added_by)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&row.removed_by)?;
            out.push_sql(")) AS v");
            // Writes in one statement run in no set order: reading the end makes the
            // insert wait for it, or the new association would overlap the current one
            // (and if the end found nothing, the insert fails on that overlap).
            if self.ended.is_some() {
                out.push_sql(", (SELECT count(*) FROM ended) AS after_end");
            }
            self.guard(&mut out, " WHERE");
        }
        if !self.events.is_empty() {
            with(&mut out, first, "recorded");
            if self.events.len() > CACHED_EVENTS {
                out.unsafe_to_cache_prepared();
            }
            out.push_sql(
                "INSERT INTO events (id, type, tenant_id, occurred_at, actor, data) \
                 SELECT v.* FROM (VALUES ",
            );
            for (i, stamped) in self.events.iter().enumerate() {
                out.push_sql(if i == 0 { "(" } else { ", (" });
                out.push_bind_param::<SqlUuid, _>(&stamped.id)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(stamped.event.event_type)?;
                out.push_sql(", ");
                out.push_bind_param::<Nullable<SqlUuid>, _>(&stamped.event.tenant)?;
                out.push_sql(", ");
                out.push_bind_param::<Timestamptz, _>(&stamped.occurred_at)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(&stamped.actor)?;
                out.push_sql(", ");
                out.push_bind_param::<Jsonb, _>(&stamped.event.data)?;
                out.push_sql(")");
            }
            out.push_sql(") AS v");
            self.guard(&mut out, " WHERE");
        }
        out.push_sql(if self.saved.is_some() {
            ") SELECT (SELECT version FROM saved)"
        } else {
            ") SELECT NULL::int8"
        });
        Ok(())
    }
}
