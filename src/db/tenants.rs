use diesel::prelude::*;
use uuid::Uuid;

use super::models::{PartnerRow, ProductRow, TenantRow};
use super::schema::{partners, products, tenants};

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

/// A tenant with the product and the partner a purchase names, if they exist.
pub type TenantWithPurchase = (TenantRow, Option<ProductRow>, Option<PartnerRow>);

/// The tenant with the product and the partner a purchase names (each absent when
/// there is no such row, the partner also when none is named), in one statement.
pub fn find_with_product_and_partner(
    conn: &mut PgConnection,
    id: Uuid,
    product: &str,
    partner: Option<i32>,
) -> QueryResult<Option<TenantWithPurchase>> {
    tenants::table
        // Owned: diesel rejects a borrowed bind in this two-join query (E0521).
        .left_join(products::table.on(products::id.eq(product.to_owned())))
        .left_join(partners::table.on(partners::mpn_id.nullable().eq(partner)))
        .filter(tenants::id.eq(id))
        .select((
            TenantRow::as_select(),
            Option::<ProductRow>::as_select(),
            Option::<PartnerRow>::as_select(),
        ))
        .first(conn)
        .optional()
}
