//! Rows as stored. The API's wire types are built from these, never serialised directly.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{partners, products, tenants};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct TenantRow {
    pub id: Uuid,
    pub display_name: String,
    pub cloud: String,
    pub country_code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct ProductRow {
    pub id: String,
    pub name: String,
    pub service_family: String,
    pub clouds: Vec<String>,
    pub trial_available: bool,
    pub trial_days: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = partners, check_for_backend(diesel::pg::Pg))]
pub struct PartnerRow {
    pub mpn_id: i32,
    pub kind: String,
    pub global_mpn_id: Option<i32>,
    pub name: String,
    pub clouds: Vec<String>,
    pub country_codes: Vec<String>,
    pub service_families: Vec<String>,
    pub capabilities: Vec<String>,
    pub status: String,
    pub contact_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A partial update of a partner; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = partners)]
pub struct PartnerChanges {
    pub name: Option<String>,
    pub clouds: Option<Vec<String>>,
    pub country_codes: Option<Vec<String>>,
    pub service_families: Option<Vec<String>>,
    pub capabilities: Option<Vec<String>>,
    pub status: Option<String>,
    pub contact_email: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}
