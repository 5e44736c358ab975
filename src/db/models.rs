//! Rows as stored. The API's wire types are built from these, never serialised directly.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{partners, products, tenants};
use crate::domain::{Capability, Cloud, CountryCode, PartnerKind, PartnerStatus, ServiceFamily};

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

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = partners, check_for_backend(diesel::pg::Pg))]
pub struct PartnerRow {
    pub mpn_id: i32,
    pub kind: PartnerKind,
    pub global_mpn_id: Option<i32>,
    pub name: String,
    pub clouds: Vec<Cloud>,
    pub country_codes: Vec<CountryCode>,
    pub service_families: Vec<ServiceFamily>,
    pub capabilities: Vec<Capability>,
    pub status: PartnerStatus,
    pub contact_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A partial update of a partner; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = partners)]
pub struct PartnerChanges {
    pub name: Option<String>,
    pub clouds: Option<Vec<Cloud>>,
    pub country_codes: Option<Vec<CountryCode>>,
    pub service_families: Option<Vec<ServiceFamily>>,
    pub capabilities: Option<Vec<Capability>>,
    pub status: Option<PartnerStatus>,
    pub contact_email: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
// NULL, not DEFAULT, for `None`: one SQL text for every row, so the insert is a cached
// prepared statement (no column here has a default other than NULL).
#[diesel(table_name = super::schema::subscriptions, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
pub struct SubscriptionRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub product_id: String,
    pub quantity: i32,
    pub status: String,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub reseller_mpn_id: Option<i32>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
// NULL, not DEFAULT, for `None`: one SQL text for every row, so the insert is a cached
// prepared statement (no column here has a default other than NULL).
#[diesel(table_name = super::schema::advisor_associations, check_for_backend(diesel::pg::Pg), treat_none_as_default_value = false)]
pub struct AssociationRow {
    pub tenant_id: Uuid,
    pub subscription_id: Uuid,
    pub id: Uuid,
    pub mpn_id: i32,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
    pub source: String,
    pub added_by: String,
    pub removed_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    /// The feed reads numbered events only (`sequence > after`).
    #[diesel(
        select_expression = super::schema::events::sequence.assume_not_null(),
        select_expression_type = diesel::dsl::AssumeNotNull<super::schema::events::sequence>
    )]
    pub sequence: i64,
    pub id: Uuid,
    pub type_: String,
    pub tenant_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
    pub actor: String,
    pub data: serde_json::Value,
}

/// A reseller or delegated admin relationship; open while `ended_at` is null (and, for
/// delegated admin, until `expires_at`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::partner_relationships, check_for_backend(diesel::pg::Pg))]
pub struct RelationshipRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub mpn_id: i32,
    pub kind: String,
    pub roles: Vec<String>,
    pub since: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<String>,
    pub invitation_id: Option<Uuid>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::invitations, check_for_backend(diesel::pg::Pg))]
pub struct InvitationRow {
    pub tenant_id: Uuid,
    pub id: Uuid,
    pub mpn_id: i32,
    pub status: String,
    pub terms: String,
    pub requests_delegated_admin: bool,
    pub roles: Vec<String>,
    pub delegated_admin_days: Option<i32>,
    pub offer_kind: Option<String>,
    pub offer_product_id: Option<String>,
    pub offer_quantity: Option<i32>,
    pub subscription_ids: Vec<Uuid>,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub relationship_id: Option<Uuid>,
    pub offer_subscription_id: Option<Uuid>,
}
