use diesel::prelude::*;
use uuid::Uuid;

use super::models::TenantRow;
use super::schema::tenants;

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
