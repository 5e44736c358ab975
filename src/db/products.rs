use diesel::prelude::*;

use super::models::ProductRow;
use super::schema::products;

/// Filters of the catalogue listing.
#[derive(Debug, Default)]
pub struct ProductFilter {
    pub cloud: Option<String>,
    pub service_family: Option<String>,
    pub after: Option<String>,
}

pub fn list(
    conn: &mut PgConnection,
    filter: &ProductFilter,
    limit: i64,
) -> QueryResult<Vec<ProductRow>> {
    let mut query = products::table.select(ProductRow::as_select()).into_boxed();
    if let Some(cloud) = &filter.cloud {
        query = query.filter(products::clouds.contains(vec![cloud.clone()]));
    }
    if let Some(family) = &filter.service_family {
        query = query.filter(products::service_family.eq(family.clone()));
    }
    if let Some(after) = &filter.after {
        query = query.filter(products::id.gt(after.clone()));
    }
    query.order(products::id).limit(limit).load(conn)
}

pub fn find(conn: &mut PgConnection, id: &str) -> QueryResult<Option<ProductRow>> {
    products::table
        .find(id)
        .select(ProductRow::as_select())
        .first(conn)
        .optional()
}
