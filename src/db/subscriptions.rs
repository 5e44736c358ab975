//! Subscriptions and their advisor associations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{AssociationRow, PartnerRow, ProductRow, SubscriptionRow, TenantRow};
use super::schema::{
    advisor_associations as aa, partner_relationships as rel, partners, products,
    subscriptions as subs, tenants,
};

/// An association with the partner's name, as the API shows it.
pub type NamedAssociation = (AssociationRow, String);

pub fn find(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<SubscriptionRow>> {
    subs::table
        .find((tenant, id))
        .select(SubscriptionRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the subscription: every change of it or its advisor is serialised here.
pub fn find_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<SubscriptionRow>> {
    subs::table
        .find((tenant, id))
        .select(SubscriptionRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// What a change of a subscription or its advisor starts from: the tenant and, when it
/// exists, the subscription, its product, its current association and the partner the
/// change names (if it exists).
pub type ChangeRead = (
    TenantRow,
    Option<SubscriptionRow>,
    Option<ProductRow>,
    Option<AssociationRow>,
    Option<PartnerRow>,
);

/// [`ChangeRead`] in one statement (one snapshot: the association is the subscription's
/// current one at that version); `None` when there is no such tenant. It locks nothing:
/// the change's writes check the version (`writes::Writes::send_saving`).
pub fn find_for_change(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    partner: Option<i32>,
) -> QueryResult<Option<ChangeRead>> {
    tenants::table
        .left_join(subs::table.on(subs::tenant_id.eq(tenants::id).and(subs::id.eq(id))))
        .left_join(products::table.on(products::id.eq(subs::product_id)))
        .left_join(
            aa::table.on(aa::tenant_id
                .eq(subs::tenant_id)
                .and(of_subscription(id))
                .and(aa::valid_to.is_null())),
        )
        .left_join(partners::table.on(partners::mpn_id.nullable().eq(partner)))
        .filter(tenants::id.eq(tenant))
        .select((
            TenantRow::as_select(),
            Option::<SubscriptionRow>::as_select(),
            Option::<ProductRow>::as_select(),
            Option::<AssociationRow>::as_select(),
            Option::<PartnerRow>::as_select(),
        ))
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct SubscriptionFilter {
    pub status: Option<String>,
    pub product_id: Option<String>,
    pub reseller: Option<i32>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

pub fn list(
    conn: &mut PgConnection,
    tenant: Uuid,
    filter: &SubscriptionFilter,
    limit: i64,
) -> QueryResult<Vec<SubscriptionRow>> {
    let mut query = subs::table
        .filter(subs::tenant_id.eq(tenant))
        .select(SubscriptionRow::as_select())
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(subs::status.eq(status.clone()));
    }
    if let Some(product) = &filter.product_id {
        query = query.filter(subs::product_id.eq(product.clone()));
    }
    if let Some(reseller) = filter.reseller {
        query = query.filter(subs::reseller_mpn_id.eq(reseller));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(
            subs::created_at
                .gt(at)
                .or(subs::created_at.eq(at).and(subs::id.gt(id))),
        );
    }
    query
        .order((subs::created_at, subs::id))
        .limit(limit)
        .load(conn)
}

/// Everything a read of one subscription needs.
pub struct SubscriptionRead {
    pub tenant: TenantRow,
    /// Whether the partner asked about is a current reseller of the tenant.
    pub resells: bool,
    pub subscription: Option<SubscriptionRow>,
    pub advisor: Option<NamedAssociation>,
}

type ReadRow = (
    TenantRow,
    bool,
    Option<SubscriptionRow>,
    Option<AssociationRow>,
    Option<String>,
);

/// Which of a subscription's associations a read joins.
#[derive(Debug, Clone, Copy)]
pub enum AdvisorAt {
    /// The current one (not ended).
    Now,
    /// The one that held at this instant: begun at or before it and not ended by then
    /// (associations never overlap, so at most one).
    Instant(DateTime<Utc>),
}

/// The read of one subscription; `$advisor` is the join condition on the association.
/// A macro because the two conditions, and the reseller check with and without a
/// partner, are different query types, each its own cached prepared statement.
macro_rules! read_with_advisor {
    ($conn:expr, $tenant:expr, $id:expr, $reseller:expr, $advisor:expr) => {{
        match $reseller {
            // No partner to check (an admin or operator): no probe of the relationships.
            // Besides the index scan, the probe's scan state pushed the backend's memory
            // per statement past glibc's trim threshold: two brk calls and ~37 page faults
            // per read. Without it PostgreSQL spends ~30 % less CPU per read.
            None => read_with_advisor!(
                @query $conn,
                $tenant,
                $id,
                false.into_sql::<diesel::sql_types::Bool>(),
                $advisor
            ),
            Some(mpn) => read_with_advisor!(
                @query $conn,
                $tenant,
                $id,
                diesel::dsl::exists(rel::table.filter(resells($tenant, mpn))),
                $advisor
            ),
        }
    }};
    (@query $conn:expr, $tenant:expr, $id:expr, $resells:expr, $advisor:expr) => {{
        tenants::table
            .left_join(subs::table.on(subs::tenant_id.eq(tenants::id).and(subs::id.eq($id))))
            .left_join(
                aa::table.on(aa::tenant_id
                    .eq(subs::tenant_id)
                    .and(of_subscription($id))
                    .and($advisor)),
            )
            .left_join(partners::table.on(partners::mpn_id.eq(aa::mpn_id)))
            .filter(tenants::id.eq($tenant))
            .select((
                TenantRow::as_select(),
                $resells,
                Option::<SubscriptionRow>::as_select(),
                Option::<AssociationRow>::as_select(),
                partners::name.nullable(),
            ))
            .first::<ReadRow>($conn)
            .optional()
    }};
}

/// The tenant, whether `reseller` resells to it, one of its subscriptions and that
/// subscription's advisor (current or at an instant), in one statement (one round trip
/// instead of four).
pub fn read(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    reseller: Option<i32>,
    advisor: AdvisorAt,
) -> QueryResult<Option<SubscriptionRead>> {
    let row = match advisor {
        AdvisorAt::Now => read_with_advisor!(conn, tenant, id, reseller, aa::valid_to.is_null()),
        AdvisorAt::Instant(at) => read_with_advisor!(
            conn,
            tenant,
            id,
            reseller,
            aa::valid_from
                .le(at)
                .and(aa::valid_to.is_null().or(aa::valid_to.gt(at)))
        ),
    }?;
    Ok(row.map(
        |(tenant, resells, subscription, association, name)| SubscriptionRead {
            tenant,
            resells,
            subscription,
            advisor: association.zip(name),
        },
    ))
}

pub fn current_association(
    conn: &mut PgConnection,
    tenant: Uuid,
    sub: Uuid,
) -> QueryResult<Option<NamedAssociation>> {
    aa::table
        .inner_join(partners::table)
        .filter(aa::tenant_id.eq(tenant))
        .filter(of_subscription(sub))
        .filter(aa::valid_to.is_null())
        .select((AssociationRow::as_select(), partners::name))
        .first(conn)
        .optional()
}

/// `subscription_id = ANY(ARRAY[id])` rather than `= id`: PostgreSQL rates the GiST
/// index of the no-overlap constraint a hair cheaper than the btrees for `=` and takes it
/// (~40 buffers per lookup, a 130 MB index at 100,000 subscriptions); it cannot search
/// the GiST by an array, so it takes the history btree (~4 buffers). An array literal of
/// one element, not a bound array: a generic plan cannot see a bound array's length and
/// would cost more than the custom ones, so every execution would be planned again.
fn of_subscription(
    id: Uuid,
) -> diesel::dsl::EqAny<aa::subscription_id, diesel::dsl::array<diesel::sql_types::Uuid, (Uuid,)>> {
    aa::subscription_id.eq_any(diesel::dsl::array((id,)))
}

/// The current associations of many subscriptions in one statement.
pub fn current_associations(
    conn: &mut PgConnection,
    tenant: Uuid,
    ids: &[Uuid],
) -> QueryResult<Vec<NamedAssociation>> {
    aa::table
        .inner_join(partners::table)
        .filter(aa::tenant_id.eq(tenant))
        .filter(aa::subscription_id.eq_any(ids))
        .filter(aa::valid_to.is_null())
        .select((AssociationRow::as_select(), partners::name))
        .load(conn)
}

/// Every association of a subscription, newest first.
pub fn history(
    conn: &mut PgConnection,
    tenant: Uuid,
    sub: Uuid,
) -> QueryResult<Vec<NamedAssociation>> {
    aa::table
        .inner_join(partners::table)
        .filter(aa::tenant_id.eq(tenant))
        .filter(aa::subscription_id.eq(sub))
        .select((AssociationRow::as_select(), partners::name))
        .order(aa::valid_from.desc())
        .load(conn)
}

/// `mpn`'s open reseller relationship with the tenant.
#[diesel::dsl::auto_type]
fn resells(tenant: Uuid, mpn: i32) -> _ {
    let kind: &'static str = "reseller";
    rel::tenant_id
        .eq(tenant)
        .and(rel::mpn_id.eq(mpn))
        .and(rel::kind.eq(kind))
        .and(rel::ended_at.is_null())
}

/// Whether `mpn` is currently a reseller of the tenant.
pub fn is_reseller(conn: &mut PgConnection, tenant: Uuid, mpn: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(rel::table.filter(resells(tenant, mpn)))).get_result(conn)
}

/// Location ids of an organisation that serve a country, for the not-transactable problem.
pub fn locations_of(conn: &mut PgConnection, global: i32, country: &str) -> QueryResult<Vec<i32>> {
    partners::table
        .filter(partners::global_mpn_id.eq(global))
        .filter(partners::country_codes.contains(vec![country.to_owned()]))
        .select(partners::mpn_id)
        .order(partners::mpn_id)
        .limit(20)
        .load(conn)
}
