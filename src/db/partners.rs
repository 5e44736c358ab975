use diesel::prelude::*;

use super::models::{PartnerChanges, PartnerRow};
use super::schema::partners;
use crate::domain::{Capability, Cloud, CountryCode, PartnerKind, PartnerStatus, ServiceFamily};

/// Filters of the partner directory search (R2); every one narrows the result.
#[derive(Debug, Default)]
pub struct PartnerFilter {
    pub country: Option<CountryCode>,
    pub service: Option<ServiceFamily>,
    pub cloud: Option<Cloud>,
    pub capability: Option<Capability>,
    pub kind: Option<PartnerKind>,
    pub status: Option<PartnerStatus>,
    /// Free text: part of the name, or an exact MPN ID.
    pub text: Option<String>,
    pub after_mpn_id: Option<i32>,
}

pub fn insert(conn: &mut PgConnection, row: &PartnerRow) -> QueryResult<PartnerRow> {
    diesel::insert_into(partners::table)
        .values(row)
        .returning(PartnerRow::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, mpn_id: i32) -> QueryResult<Option<PartnerRow>> {
    partners::table
        .find(mpn_id)
        .select(PartnerRow::as_select())
        .first(conn)
        .optional()
}

/// Locks the partner row so a concurrent change waits for this transaction.
pub fn find_for_update(conn: &mut PgConnection, mpn_id: i32) -> QueryResult<Option<PartnerRow>> {
    partners::table
        .find(mpn_id)
        .select(PartnerRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn update(
    conn: &mut PgConnection,
    mpn_id: i32,
    changes: &PartnerChanges,
) -> QueryResult<PartnerRow> {
    diesel::update(partners::table.find(mpn_id))
        .set(changes)
        .returning(PartnerRow::as_returning())
        .get_result(conn)
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn search(
    conn: &mut PgConnection,
    filter: &PartnerFilter,
    limit: i64,
) -> QueryResult<Vec<PartnerRow>> {
    let mut query = partners::table.select(PartnerRow::as_select()).into_boxed();
    if let Some(country) = filter.country {
        query = query.filter(partners::country_codes.contains(vec![country]));
    }
    if let Some(service) = filter.service {
        query = query.filter(partners::service_families.contains(vec![service]));
    }
    if let Some(cloud) = filter.cloud {
        query = query.filter(partners::clouds.contains(vec![cloud]));
    }
    if let Some(capability) = filter.capability {
        query = query.filter(partners::capabilities.contains(vec![capability]));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(partners::kind.eq(kind));
    }
    if let Some(status) = filter.status {
        query = query.filter(partners::status.eq(status));
    }
    if let Some(text) = &filter.text {
        let pattern = format!("%{}%", escape_like(text));
        // Only the canonical spelling of an MPN ID names one ("+12345" or "012345" do not).
        match crate::domain::MpnId::parse(text).map(crate::domain::MpnId::get) {
            Ok(id) => {
                query = query.filter(partners::name.ilike(pattern).or(partners::mpn_id.eq(id)))
            }
            Err(_) => query = query.filter(partners::name.ilike(pattern)),
        }
    }
    if let Some(after) = filter.after_mpn_id {
        query = query.filter(partners::mpn_id.gt(after));
    }
    query.order(partners::mpn_id).limit(limit).load(conn)
}

/// A partner able to advise in a tenant, and whether it already works with the tenant.
#[derive(Debug, QueryableByName)]
pub struct MatchRow {
    #[diesel(embed)]
    pub partner: PartnerRow,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub works_with_tenant: bool,
}

/// Where the matched partners must serve.
pub struct MatchTarget<'a> {
    pub tenant: uuid::Uuid,
    pub cloud: &'a str,
    pub country: &'a str,
    pub service: &'a str,
}

/// R2 + R3: active advisor locations serving the tenant's cloud, country and the
/// product's service family, ranked: partners already working with the tenant first,
/// then the broadest service coverage, then name and MPN ID. Raw SQL because the rank
/// orders by correlated EXISTS subqueries, which the query DSL cannot sort by.
pub fn matches(
    conn: &mut PgConnection,
    target: &MatchTarget,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<MatchRow>> {
    use diesel::sql_types::{BigInt, Text, Uuid};
    diesel::sql_query(
        "SELECT p.*, (EXISTS (SELECT 1 FROM advisor_associations a \
                              WHERE a.tenant_id = $1 AND a.mpn_id = p.mpn_id AND a.valid_to IS NULL) \
                   OR EXISTS (SELECT 1 FROM partner_relationships r \
                              WHERE r.tenant_id = $1 AND r.mpn_id = p.mpn_id AND r.ended_at IS NULL)) \
                  AS works_with_tenant \
         FROM partners p \
         WHERE p.kind = 'location' AND p.status = 'active' \
           AND p.capabilities @> ARRAY['advisor'] \
           AND p.clouds @> ARRAY[$2] AND p.country_codes @> ARRAY[$3] AND p.service_families @> ARRAY[$4] \
         ORDER BY works_with_tenant DESC, cardinality(p.service_families) DESC, p.name, p.mpn_id \
         OFFSET $5 LIMIT $6",
    )
    .bind::<Uuid, _>(target.tenant)
    .bind::<Text, _>(target.cloud)
    .bind::<Text, _>(target.country)
    .bind::<Text, _>(target.service)
    .bind::<BigInt, _>(offset)
    .bind::<BigInt, _>(limit)
    .load(conn)
}
