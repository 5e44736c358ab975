//! Reseller and delegated admin relationships, and the advisor side derived from
//! current advisor associations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::RelationshipRow;
use super::schema::{
    advisor_associations as aa, partner_relationships as rel, partners, subscriptions as subs,
    tenants,
};

/// A relationship with the partner's name, as the API shows it.
pub type NamedRelationship = (RelationshipRow, String);

/// The relationships that hold at `now`: not ended, and not past their expiry.
pub fn open(
    conn: &mut PgConnection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Vec<NamedRelationship>> {
    rel::table
        .inner_join(partners::table)
        .filter(rel::tenant_id.eq(tenant))
        .filter(rel::ended_at.is_null())
        .filter(rel::expires_at.is_null().or(rel::expires_at.gt(now)))
        .select((RelationshipRow::as_select(), partners::name))
        .order((rel::mpn_id, rel::kind))
        .load(conn)
}

/// Locks one relationship of the tenant that has not ended (it may be past its expiry).
pub fn find_unended_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<RelationshipRow>> {
    rel::table
        .find((tenant, id))
        .filter(rel::ended_at.is_null())
        .select(RelationshipRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Locks the partner's unended relationship of one kind with the tenant (at most one
/// exists: a partial unique index says so).
pub fn find_unended_of_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    mpn: i32,
    kind: &str,
) -> QueryResult<Option<RelationshipRow>> {
    rel::table
        .filter(rel::tenant_id.eq(tenant))
        .filter(rel::mpn_id.eq(mpn))
        .filter(rel::kind.eq(kind))
        .filter(rel::ended_at.is_null())
        .select(RelationshipRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut PgConnection, row: &RelationshipRow) -> QueryResult<RelationshipRow> {
    diesel::insert_into(rel::table)
        .values(row)
        .returning(RelationshipRow::as_returning())
        .get_result(conn)
}

pub fn end(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    at: DateTime<Utc>,
    by: &str,
) -> QueryResult<RelationshipRow> {
    diesel::update(rel::table.find((tenant, id)))
        .set((rel::ended_at.eq(at), rel::ended_by.eq(by)))
        .returning(RelationshipRow::as_returning())
        .get_result(conn)
}

/// Delegated admin relationships past their expiry that no sweep has ended yet: what
/// the sweep ends, and what a read checks for before deciding to sweep.
#[diesel::dsl::auto_type]
fn past_expiry(now: DateTime<Utc>) -> _ {
    let kind: &'static str = "delegatedAdmin";
    rel::kind
        .eq(kind)
        .and(rel::ended_at.is_null())
        .and(rel::expires_at.le(now))
}

/// Which delegated admin relationships a sweep looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Tenant(Uuid),
    Partner(i32),
}

/// Ends, at their expiry, the delegated admin relationships past it that are not ended
/// yet, and returns them. Queries never rely on this (they filter on `expires_at`); it
/// records the end so the `relationship.expired` event is written once.
pub fn end_expired(
    conn: &mut PgConnection,
    scope: Scope,
    now: DateTime<Utc>,
    by: &str,
) -> QueryResult<Vec<RelationshipRow>> {
    let due = rel::table.filter(past_expiry(now));
    let update = match scope {
        Scope::Tenant(tenant) => diesel::update(due.filter(rel::tenant_id.eq(tenant))).into_boxed(),
        Scope::Partner(mpn) => diesel::update(due.filter(rel::mpn_id.eq(mpn))).into_boxed(),
    };
    update
        .set((rel::ended_at.eq(rel::expires_at), rel::ended_by.eq(by)))
        .returning(RelationshipRow::as_returning())
        .get_results(conn)
}

/// The tenant's listing start, in one statement: whether it has delegated admin
/// relationships past their expiry that no sweep has ended yet (so a read learns in its
/// first round trip whether it must sweep at all), and its current advice (the sweep
/// does not touch it). `None` when there is no such tenant.
pub fn tenant_with_advice(
    conn: &mut PgConnection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<(bool, Vec<CurrentAdvice>)>> {
    let rows: Vec<(bool, Option<CurrentAdvice>)> = tenants::table
        .left_join(aa::table.on(aa::tenant_id.eq(tenants::id).and(aa::valid_to.is_null())))
        .left_join(partners::table.on(partners::mpn_id.eq(aa::mpn_id)))
        .filter(tenants::id.eq(tenant))
        .select((
            diesel::dsl::exists(
                rel::table
                    .filter(rel::tenant_id.eq(tenant))
                    .filter(past_expiry(now)),
            ),
            ADVICE.nullable(),
        ))
        .order(ADVICE_ORDER)
        .load(conn)?;
    let Some(&(expired, _)) = rows.first() else {
        return Ok(None);
    };
    let advice = rows.into_iter().filter_map(|(_, advice)| advice).collect();
    Ok(Some((expired, advice)))
}

/// Whether the partner has delegated admin relationships past their expiry that no
/// sweep has ended yet, for its customer listing to sweep only when one is due.
pub fn partner_has_expired(
    conn: &mut PgConnection,
    mpn: i32,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        rel::table
            .filter(rel::mpn_id.eq(mpn))
            .filter(past_expiry(now)),
    ))
    .get_result(conn)
}

/// A current advisor association, reduced to what the relationship listing needs.
#[derive(Debug, Queryable)]
pub struct CurrentAdvice {
    pub mpn_id: i32,
    pub partner_name: String,
    pub subscription_id: Uuid,
    pub valid_from: DateTime<Utc>,
}

/// The columns of `CurrentAdvice`, in its order, and the order the listing shows them in.
const ADVICE: (
    aa::mpn_id,
    partners::name,
    aa::subscription_id,
    aa::valid_from,
) = (
    aa::mpn_id,
    partners::name,
    aa::subscription_id,
    aa::valid_from,
);
const ADVICE_ORDER: (aa::mpn_id, aa::valid_from, aa::subscription_id) =
    (aa::mpn_id, aa::valid_from, aa::subscription_id);

/// Every current advisor association of the tenant, by partner and subscription.
pub fn current_advice(conn: &mut PgConnection, tenant: Uuid) -> QueryResult<Vec<CurrentAdvice>> {
    aa::table
        .inner_join(partners::table)
        .filter(aa::tenant_id.eq(tenant))
        .filter(aa::valid_to.is_null())
        .select(ADVICE)
        .order(ADVICE_ORDER)
        .load(conn)
}

/// Locks the reseller's subscriptions with the tenant that are not cancelled, so a
/// concurrent status change waits, and returns the ids of those that are active (R11).
pub fn lock_active_resold(
    conn: &mut PgConnection,
    tenant: Uuid,
    mpn: i32,
) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<(Uuid, String)> = subs::table
        .filter(subs::tenant_id.eq(tenant))
        .filter(subs::reseller_mpn_id.eq(mpn))
        .filter(subs::status.ne("cancelled"))
        .select((subs::id, subs::status))
        .order((subs::created_at, subs::id))
        .for_update()
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, status)| status == "active")
        .map(|(id, _)| id)
        .collect())
}

/// One customer of a partner, with the kinds of relationship it has now.
#[derive(Debug, QueryableByName)]
pub struct CustomerRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub tenant_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub display_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub cloud: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub country_code: String,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    pub kinds: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    pub since: DateTime<Utc>,
}

/// The tenants a partner currently works with, by tenant id after `after`. Raw SQL:
/// the kinds are aggregated over a union of associations and relationships, which the
/// query DSL cannot group.
pub fn customers(
    conn: &mut PgConnection,
    mpn: i32,
    now: DateTime<Utc>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<CustomerRow>> {
    use diesel::sql_types::{BigInt, Int4, Nullable, Timestamptz, Uuid as SqlUuid};
    diesel::sql_query(
        "SELECT c.tenant_id, t.display_name, t.cloud, t.country_code, \
                array_agg(DISTINCT c.kind ORDER BY c.kind) AS kinds, min(c.since) AS since \
         FROM (SELECT tenant_id, 'advisor' AS kind, valid_from AS since \
                 FROM advisor_associations WHERE mpn_id = $1 AND valid_to IS NULL \
               UNION ALL \
               SELECT tenant_id, kind, since FROM partner_relationships \
                 WHERE mpn_id = $1 AND ended_at IS NULL AND (expires_at IS NULL OR expires_at > $2)) c \
         JOIN tenants t ON t.id = c.tenant_id \
         WHERE $3::uuid IS NULL OR c.tenant_id > $3 \
         GROUP BY c.tenant_id, t.display_name, t.cloud, t.country_code \
         ORDER BY c.tenant_id \
         LIMIT $4",
    )
    .bind::<Int4, _>(mpn)
    .bind::<Timestamptz, _>(now)
    .bind::<Nullable<SqlUuid>, _>(after)
    .bind::<BigInt, _>(limit)
    .load(conn)
}
