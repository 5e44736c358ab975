use diesel::prelude::*;
use uuid::Uuid;

use super::models::{ProductRow, TenantRow};
use super::schema::{products, tenants};

pub fn insert(conn: &mut PgConnection, row: &TenantRow) -> QueryResult<TenantRow> {
    diesel::insert_into(tenants::table)
        .values(row)
        .returning(TenantRow::as_returning())
        .get_result(conn)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<TenantRow>> {
    tenants::table
        .find(id)
        .select(TenantRow::as_select())
        .first(conn)
        .optional()
}

/// The tenant with the product it names (absent when there is no such product).
pub fn find_with_product(
    conn: &mut PgConnection,
    id: Uuid,
    product: &str,
) -> QueryResult<Option<(TenantRow, Option<ProductRow>)>> {
    tenants::table
        .left_join(products::table.on(products::id.eq(product)))
        .filter(tenants::id.eq(id))
        .select((TenantRow::as_select(), Option::<ProductRow>::as_select()))
        .first(conn)
        .optional()
}
