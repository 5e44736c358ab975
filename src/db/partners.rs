use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;

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

/// The columns of `PartnerRow`, in its order (a test compares them with diesel's).
const SEARCH_SELECT: &str = "SELECT mpn_id, kind, global_mpn_id, name, clouds, country_codes, \
    service_families, capabilities, status, contact_email, created_at, updated_at \
    FROM partners WHERE mpn_id > ";

/// The search's SQL, written out per combination of filters. A boxed query would do, but
/// diesel finds a non-static query's prepared statement by its SQL text, and a boxed
/// query builds that text by quoting ~40 identifiers: 15k instructions, a twentieth of
/// a search. Absent filters are left out so that PostgreSQL plans each combination on
/// its own (the name's trigram index for a text search, the countries' GIN index, ...).
struct Search<'a> {
    filter: &'a PartnerFilter,
    pattern: Option<String>,
    exact_id: Option<i32>,
    limit: i64,
}

impl QueryId for Search<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Search<'_> {
    type SqlType = diesel::dsl::AsSelect<PartnerRow, Pg>;
}

impl RunQueryDsl<PgConnection> for Search<'_> {}

impl QueryFragment<Pg> for Search<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{BigInt, Integer, Text};
        let f = self.filter;
        // MPN IDs are at least 10000: cursor 0 is the first page.
        out.push_sql(SEARCH_SELECT);
        out.push_bind_param::<Integer, _>(f.after_mpn_id.as_ref().unwrap_or(&0))?;
        let mut contains = |column: &str, value: Option<&'b dyn ToSql<Text, Pg>>| {
            if let Some(value) = value {
                out.push_sql(" AND ");
                out.push_sql(column);
                out.push_sql(" @> ARRAY[");
                out.push_bind_param::<Text, _>(value)?;
                out.push_sql("]");
            }
            QueryResult::Ok(())
        };
        contains("country_codes", f.country.as_ref().map(|v| v as _))?;
        contains("service_families", f.service.as_ref().map(|v| v as _))?;
        contains("clouds", f.cloud.as_ref().map(|v| v as _))?;
        contains("capabilities", f.capability.as_ref().map(|v| v as _))?;
        if let Some(kind) = &f.kind {
            out.push_sql(" AND kind = ");
            out.push_bind_param::<Text, _>(kind)?;
        }
        if let Some(status) = &f.status {
            out.push_sql(" AND status = ");
            out.push_bind_param::<Text, _>(status)?;
        }
        if let Some(pattern) = &self.pattern {
            out.push_sql(" AND (name ILIKE ");
            out.push_bind_param::<Text, _>(pattern)?;
            if let Some(id) = &self.exact_id {
                out.push_sql(" OR mpn_id = ");
                out.push_bind_param::<Integer, _>(id)?;
            }
            out.push_sql(")");
        }
        out.push_sql(" ORDER BY mpn_id LIMIT ");
        out.push_bind_param::<BigInt, _>(&self.limit)
    }
}

pub fn search(
    conn: &mut PgConnection,
    filter: &PartnerFilter,
    limit: i64,
) -> QueryResult<Vec<PartnerRow>> {
    let text = filter.text.as_deref();
    Search {
        filter,
        pattern: text.map(|t| format!("%{}%", escape_like(t))),
        // Only the canonical spelling of an MPN ID names one ("+12345" or "012345" do not).
        exact_id: text.and_then(|t| {
            crate::domain::MpnId::parse(t)
                .ok()
                .map(crate::domain::MpnId::get)
        }),
        limit,
    }
    .load(conn)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_selects_the_columns_of_a_partner_row_in_its_order() {
        let query = partners::table.select(PartnerRow::as_select());
        let diesel = diesel::debug_query::<Pg, _>(&query)
            .to_string()
            .replace("\"partners\".", "")
            .replace('"', "");
        let ours = SEARCH_SELECT
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let diesel = diesel.split(" -- ").next().unwrap();
        assert_eq!(ours.strip_suffix(" WHERE mpn_id >").unwrap(), diesel);
    }
}
