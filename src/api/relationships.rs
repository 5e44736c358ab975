//! Partner relationships: what a tenant sees (R6), what it may end (R9, R10), and the
//! partner side of reseller and delegated admin relationships (R9, R11).

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::access::{self, ADMINS_AND_OPERATOR};
use crate::api::advisor::eligible_for_tenant;
use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::db::events::{self, NewEvent};
use crate::db::models::RelationshipRow;
use crate::db::relationships::{self, Scope};
use crate::db::{partners, tenants, Db};
use crate::domain::relationship::{
    advisor_relationship_id, customer_removal, removable_by_customer, CustomerRemoval,
};
use crate::domain::{
    from_db_list, Capability, Cloud, CountryCode, DelegatedAdminRole, MpnId, RelationshipKind,
};
use crate::error::{ApiError, Problem};
use crate::extract::ValidQuery;

/// The actor of changes the service makes by itself, such as recording an expiry.
pub const SERVICE_ACTOR: &str = "partnerlink";

/// A partner the tenant works with, in one capacity (R6).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    /// The relationship's id. An advisor relationship has no row of its own: its id is
    /// derived from the tenant and the partner, so it is stable across reads.
    #[schema(example = "5b0e7c7a-1f7e-4d6b-9a43-6a1d2f0e9b11")]
    pub id: Uuid,
    /// The partner's MPN ID.
    pub mpn_id: MpnId,
    /// The partner's name.
    #[schema(example = "Fabrikam Copenhagen")]
    pub partner_name: String,
    /// What the partner is to the tenant.
    pub kind: RelationshipKind,
    /// Since when the relationship holds; for an advisor, since the earliest of its
    /// current associations.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub since: DateTime<Utc>,
    /// The roles a delegated admin relationship grants; empty for the other kinds.
    #[schema(example = json!(["userAdministrator", "licenseAdministrator"]))]
    pub roles: Vec<DelegatedAdminRole>,
    /// The subscriptions an advisor advises; empty for the other kinds.
    #[schema(example = json!(["3f1c2a4e-7d52-4a0c-9a7e-1b2c3d4e5f60"]))]
    pub subscription_ids: Vec<Uuid>,
    /// When a delegated admin relationship starts (its `since`); null for the other kinds.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize_option")]
    pub starts_at: Option<DateTime<Utc>>,
    /// When a delegated admin relationship ends by itself; null for the other kinds.
    #[schema(example = "2028-11-25T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize_option")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the tenant may end it with `DELETE …/partner-relationships/{id}`: only
    /// delegated admin. A reseller ends its own relationship (R9); an advisor is removed
    /// per subscription (R7).
    #[schema(example = false)]
    pub removable_by_customer: bool,
}

impl Relationship {
    fn sort_key(&self) -> (i32, RelationshipKind) {
        (self.mpn_id.get(), self.kind)
    }
}

/// The wire form of a reseller or delegated admin row.
pub fn relationship_view(
    row: &RelationshipRow,
    partner_name: String,
) -> Result<Relationship, ApiError> {
    let kind = RelationshipKind::from_db(&row.kind)?;
    let delegated = kind == RelationshipKind::DelegatedAdmin;
    Ok(Relationship {
        id: row.id,
        mpn_id: MpnId::from_db(row.mpn_id),
        partner_name,
        kind,
        since: row.since,
        roles: from_db_list(&row.roles, DelegatedAdminRole::from_db)?,
        subscription_ids: Vec::new(),
        starts_at: delegated.then_some(row.since),
        expires_at: row.expires_at,
        removable_by_customer: removable_by_customer(kind),
    })
}

/// Every relationship the tenant has at `now`, by MPN ID and kind: one advisor entry per
/// partner advising any subscription, and the open reseller and delegated admin rows.
pub fn tenant_relationships(
    conn: &mut PgConnection,
    tenant: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Relationship>, ApiError> {
    let advice = relationships::current_advice(conn, tenant)?;
    with_advice(conn, tenant, advice, now)
}

/// The tenant's relationships, its current advice already read.
fn with_advice(
    conn: &mut PgConnection,
    tenant: Uuid,
    current: Vec<relationships::CurrentAdvice>,
    now: DateTime<Utc>,
) -> Result<Vec<Relationship>, ApiError> {
    let mut items = Vec::new();
    let mut advice: BTreeMap<i32, Relationship> = BTreeMap::new();
    for row in current {
        let mpn = MpnId::from_db(row.mpn_id);
        let entry = advice.entry(row.mpn_id).or_insert_with(|| Relationship {
            id: advisor_relationship_id(tenant, mpn),
            mpn_id: mpn,
            partner_name: row.partner_name.clone(),
            kind: RelationshipKind::Advisor,
            since: row.valid_from,
            roles: Vec::new(),
            subscription_ids: Vec::new(),
            starts_at: None,
            expires_at: None,
            removable_by_customer: removable_by_customer(RelationshipKind::Advisor),
        });
        entry.since = entry.since.min(row.valid_from);
        entry.subscription_ids.push(row.subscription_id);
    }
    items.extend(advice.into_values());
    for (row, name) in relationships::open(conn, tenant, now)? {
        items.push(relationship_view(&row, name)?);
    }
    items.sort_by_key(Relationship::sort_key);
    Ok(items)
}

/// Records, once, the end of the delegated admin relationships past their expiry.
pub fn sweep_expired(
    conn: &mut PgConnection,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let expired = relationships::end_expired(conn, scope, now, SERVICE_ACTOR)?
        .iter()
        .map(|row| NewEvent {
            event_type: "relationship.expired",
            tenant: Some(row.tenant_id),
            data: relationship_data(row, "expired"),
        })
        .collect();
    Ok(events::record_all(conn, SERVICE_ACTOR, expired)?)
}

/// The data of a `relationship.*` event.
pub fn relationship_data(row: &RelationshipRow, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "relationshipId": row.id,
        "mpnId": row.mpn_id.to_string(),
        "kind": row.kind,
        "roles": row.roles,
        "since": row.since,
        "expiresAt": row.expires_at,
        "endedAt": row.ended_at,
        "invitationId": row.invitation_id,
        "reason": reason,
    })
}

/// Ends a relationship now (never before it began) and records `relationship.removed`.
pub fn end_relationship(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &RelationshipRow,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<RelationshipRow, ApiError> {
    let ended = relationships::end(conn, row.tenant_id, row.id, now.max(row.since), &caller.sub)?;
    events::record(
        conn,
        "relationship.removed",
        Some(row.tenant_id),
        &caller.sub,
        relationship_data(&ended, reason),
    )?;
    Ok(ended)
}

/// Ends an unended delegated admin relationship: at its expiry (`relationship.expired`)
/// when that has passed, else now (`relationship.removed`).
pub fn end_delegated_admin_row(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &RelationshipRow,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), ApiError> {
    match row.expires_at {
        Some(at) if at <= now => {
            let ended = relationships::end(conn, row.tenant_id, row.id, at, SERVICE_ACTOR)?;
            events::record(
                conn,
                "relationship.expired",
                Some(row.tenant_id),
                SERVICE_ACTOR,
                relationship_data(&ended, "expired"),
            )?;
        }
        _ => {
            end_relationship(conn, caller, row, now, reason)?;
        }
    }
    Ok(())
}

/// A second open relationship of one kind violates the partial unique index: a
/// concurrent request made it first.
pub fn concurrent_relationship(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => ApiError::Conflict(
            "a concurrent request changed this partner's relationship with the tenant; retry"
                .into(),
        ),
        other => other.into(),
    }
}

/// A partner acts only on its own path; operators where the call admits them.
pub fn act_for_partner(caller: &Caller, mpn: MpnId, operator: bool) -> Result<(), ApiError> {
    if caller.partner == Some(mpn) || (operator && caller.operator) {
        return Ok(());
    }
    Err(ApiError::Forbidden(match caller.partner {
        Some(own) => format!("partner {own} cannot act for partner {mpn}"),
        None if operator => format!("this call is for partner {mpn} or an operator"),
        None => format!("this call is for partner {mpn}"),
    }))
}

/// A page of relationships.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipPage {
    /// The relationships on this page.
    #[schema(example = json!([
        {
            "id": "5b0e7c7a-1f7e-4d6b-9a43-6a1d2f0e9b11",
            "mpnId": "1234567",
            "partnerName": "Fabrikam Copenhagen",
            "kind": "delegatedAdmin",
            "since": "2026-11-26T10:00:00Z",
            "roles": ["userAdministrator", "licenseAdministrator"],
            "subscriptionIds": [],
            "startsAt": "2026-11-26T10:00:00Z",
            "expiresAt": "2028-11-25T10:00:00Z",
            "removableByCustomer": true
        }
    ]))]
    pub items: Vec<Relationship>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RelationshipQuery {
    /// Only relationships of this kind.
    pub kind: Option<RelationshipKind>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// List partner relationships
///
/// Every partner the tenant has a relationship with (R6), ordered by MPN ID and kind:
/// `advisor` (one entry per partner, with the subscriptions it advises), `reseller` and
/// `delegatedAdmin` (with its roles and expiry; expired ones are not listed). Each says
/// whether the tenant may remove it. A tenant with no partner gets an empty list.
#[utoipa::path(
    tag = "relationships",
    operation_id = "listPartnerRelationships",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), RelationshipQuery),
    responses(
        (status = 200, description = "A page of relationships", body = RelationshipPage),
        (status = 404, description = "No such tenant (or another tenant's)", body = Problem),
    ),
)]
#[get("/partner-relationships")]
pub async fn list_relationships(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    tenant_id: web::Path<Uuid>,
    query: ValidQuery<RelationshipQuery>,
) -> Result<web::Json<RelationshipPage>, ApiError> {
    let tenant_id = tenant_id.into_inner();
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let after = page.after_key(|key| {
        let (mpn, kind) = key.split_once('|')?;
        let kind = RelationshipKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == kind)?;
        Some((mpn.parse::<i32>().ok()?, kind))
    })?;
    let items = db
        .run(move |conn| {
            access::actor(&caller, tenant_id, ADMINS_AND_OPERATOR, false)?;
            let now = crate::domain::now();
            let (expired, advice) = relationships::tenant_with_advice(conn, tenant_id, now)?
                .ok_or_else(|| access::no_tenant(tenant_id))?;
            // The listing filters on expiry itself; the sweep only records the ends
            // (and their events) once, so a read without any due needs no transaction.
            if expired {
                conn.transaction(|conn| sweep_expired(conn, Scope::Tenant(tenant_id), now))?;
            }
            with_advice(conn, tenant_id, advice, now)
        })
        .await?;
    let rows: Vec<Relationship> = items
        .into_iter()
        .filter(|r| query.kind.is_none_or(|k| r.kind == k))
        .filter(|r| after.is_none_or(|a| r.sort_key() > a))
        .take(page.fetch() as usize)
        .collect();
    let (items, next_cursor) = page.finish(rows, |r| format!("{}|{}", r.mpn_id, r.kind));
    Ok(web::Json(RelationshipPage { items, next_cursor }))
}

/// End a partner relationship
///
/// Ends a delegated admin relationship (R10): 204 and a `relationship.removed` event.
/// A reseller relationship cannot be ended by the customer (R9, 403
/// `reseller_removal_requires_partner`: ask the reseller). An advisor is removed per
/// subscription (409 `advisor_relationship_is_per_subscription`: use
/// `DELETE /v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor`). A refusal
/// changes nothing.
#[utoipa::path(
    tag = "relationships",
    operation_id = "removePartnerRelationship",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("relationshipId" = Uuid, Path, description = "The relationship's id")),
    responses(
        (status = 204, description = "The delegated admin relationship ended"),
        (status = 403, description = "A reseller relationship: only the reseller can end it (`reseller_removal_requires_partner`)", body = Problem),
        (status = 404, description = "No such tenant or relationship (or it has ended or expired)", body = Problem),
        (status = 409, description = "An advisor relationship: remove the advisor per subscription (`advisor_relationship_is_per_subscription`)", body = Problem),
    ),
)]
#[delete("/partner-relationships/{relationshipId}")]
pub async fn remove_relationship(
    db: web::Data<Db>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    db.transaction(move |conn| {
        access::tenant_actor(conn, &caller, tenant_id, ADMINS_AND_OPERATOR)?;
        let now = crate::domain::now();
        let missing = || ApiError::NotFound(format!("no partner relationship {id}"));
        let Some(row) = relationships::find_unended_for_update(conn, tenant_id, id)? else {
            return Err(advisor_refusal(conn, tenant_id, id)?.unwrap_or_else(missing));
        };
        if row.expires_at.is_some_and(|at| at <= now) {
            return Err(missing());
        }
        match customer_removal(RelationshipKind::from_db(&row.kind)?) {
            Ok(()) => {
                end_relationship(conn, &caller, &row, now, "removedByCustomer")?;
                Ok(())
            }
            Err(CustomerRemoval::RequiresPartner) => {
                let name = partners::find(conn, row.mpn_id)?.map_or_else(String::new, |p| p.name);
                Err(ApiError::ResellerRemovalRequiresPartner(format!(
                    "only the reseller can end a reseller relationship: ask {name} (MPN ID {}) to remove it",
                    row.mpn_id
                )))
            }
            Err(CustomerRemoval::PerSubscription) => Err(ApiError::internal(
                "an advisor relationship has no row of its own",
            )),
        }
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The 409 for the derived id of an advisor relationship, if `id` is one.
fn advisor_refusal(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<Option<ApiError>, ApiError> {
    let advice = relationships::current_advice(conn, tenant)?;
    let subscriptions: Vec<String> = advice
        .iter()
        .filter(|a| advisor_relationship_id(tenant, MpnId::from_db(a.mpn_id)) == id)
        .map(|a| a.subscription_id.to_string())
        .collect();
    if subscriptions.is_empty() {
        return Ok(None);
    }
    Ok(Some(ApiError::AdvisorRelationshipIsPerSubscription(format!(
        "an advisor is removed from each subscription: call DELETE /v1/tenants/{tenant}/subscriptions/{{subscriptionId}}/advisor \
         (or PUT …/advisor to change it) for the subscriptions it advises: {}",
        subscriptions.join(", ")
    ))))
}

type CustomerPath = web::Path<(MpnId, Uuid)>;

fn no_tenant(tenant: Uuid) -> ApiError {
    ApiError::NotFound(format!("no tenant {tenant}"))
}

/// Create a reseller relationship
///
/// Makes the partner a reseller of the tenant (R9), so it can buy subscriptions for it.
/// The partner itself or an operator calls this. The partner must be an active location
/// id with the `reseller` capability serving the tenant's cloud and country/region. An
/// existing relationship is returned as it is (200).
#[utoipa::path(
    tag = "relationships",
    operation_id = "createResellerRelationship",
    params(("mpnId" = MpnId, Path, description = "The reseller's MPN ID"), ("tenantId" = Uuid, Path, description = "The customer tenant's id")),
    responses(
        (status = 201, description = "The relationship was created", body = Relationship,
         headers(("Location" = String, description = "URL of the relationship"))),
        (status = 200, description = "The relationship already existed", body = Relationship),
        (status = 403, description = "Another partner's path, or a caller that is neither the partner nor an operator", body = Problem),
        (status = 404, description = "No such tenant", body = Problem),
        (status = 422, description = "`partner_not_found`, `partner_not_eligible` or `partner_id_not_transactable`", body = Problem),
    ),
)]
#[post("/customers/{tenantId}/reseller-relationship")]
pub async fn create_reseller_relationship(
    db: web::Data<Db>,
    caller: Caller,
    path: CustomerPath,
) -> Result<HttpResponse, ApiError> {
    let (mpn, tenant_id) = path.into_inner();
    act_for_partner(&caller, mpn, true)?;
    let (created, view) = db
        .transaction(move |conn| {
            let tenant = tenants::find(conn, tenant_id)?.ok_or_else(|| no_tenant(tenant_id))?;
            let kind = RelationshipKind::Reseller.as_str();
            let partner = eligible_for_tenant(conn, mpn, Capability::Reseller, &tenant)?;
            if let Some(row) =
                relationships::find_unended_of_for_update(conn, tenant_id, mpn.get(), kind)?
            {
                return Ok((false, relationship_view(&row, partner.name)?));
            }
            let row = relationships::insert(
                conn,
                &RelationshipRow {
                    tenant_id,
                    id: Uuid::new_v4(),
                    mpn_id: mpn.get(),
                    kind: kind.to_owned(),
                    roles: Vec::new(),
                    since: crate::domain::now(),
                    expires_at: None,
                    ended_at: None,
                    ended_by: None,
                    invitation_id: None,
                },
            )
            .map_err(concurrent_relationship)?;
            events::record(
                conn,
                "relationship.created",
                Some(tenant_id),
                &caller.sub,
                relationship_data(&row, "resellerAdded"),
            )?;
            Ok((true, relationship_view(&row, partner.name)?))
        })
        .await?;
    if created {
        Ok(HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/v1/partners/{mpn}/customers/{tenant_id}/reseller-relationship"),
            ))
            .json(view))
    } else {
        Ok(HttpResponse::Ok().json(view))
    }
}

/// Remove a reseller relationship
///
/// The reseller (or an operator) ends its reseller relationship with the tenant (R9,
/// R11). Refused with 409 `reseller_has_active_subscriptions`, listing them, while any
/// subscription it bought for the tenant is still `active`: suspend or cancel those
/// first. Also ends the partner's delegated admin relationship with the tenant; after
/// this the partner can no longer buy for the tenant.
#[utoipa::path(
    tag = "relationships",
    operation_id = "removeResellerRelationship",
    params(("mpnId" = MpnId, Path, description = "The reseller's MPN ID"), ("tenantId" = Uuid, Path, description = "The customer tenant's id")),
    responses(
        (status = 204, description = "The reseller relationship (and any delegated admin relationship of the partner) ended"),
        (status = 403, description = "Another partner's path, or a caller that is neither the partner nor an operator", body = Problem),
        (status = 404, description = "No such tenant, or no reseller relationship", body = Problem),
        (status = 409, description = "Subscriptions bought through the reseller are still active (`reseller_has_active_subscriptions`)", body = Problem),
    ),
)]
#[delete("/customers/{tenantId}/reseller-relationship")]
pub async fn remove_reseller_relationship(
    db: web::Data<Db>,
    caller: Caller,
    path: CustomerPath,
) -> Result<HttpResponse, ApiError> {
    let (mpn, tenant_id) = path.into_inner();
    act_for_partner(&caller, mpn, true)?;
    db.transaction(move |conn| {
        tenants::find(conn, tenant_id)?.ok_or_else(|| no_tenant(tenant_id))?;
        let reseller = relationships::find_unended_of_for_update(
            conn,
            tenant_id,
            mpn.get(),
            RelationshipKind::Reseller.as_str(),
        )?
        .ok_or_else(|| {
            ApiError::NotFound(format!("partner {mpn} is not a reseller of tenant {tenant_id}"))
        })?;
        let active = relationships::lock_active_resold(conn, tenant_id, mpn.get())?;
        if !active.is_empty() {
            let ids: Vec<String> = active.iter().map(Uuid::to_string).collect();
            return Err(ApiError::ResellerHasActiveSubscriptions {
                detail: format!(
                    "subscriptions bought through reseller {mpn} are still active; suspend or cancel them first: {}",
                    ids.join(", ")
                ),
                subscriptions: active,
            });
        }
        let now = crate::domain::now();
        let delegated = relationships::find_unended_of_for_update(
            conn,
            tenant_id,
            mpn.get(),
            RelationshipKind::DelegatedAdmin.as_str(),
        )?;
        end_relationship(conn, &caller, &reseller, now, "removedByReseller")?;
        if let Some(row) = delegated {
            end_delegated_admin_row(conn, &caller, &row, now, "resellerRemoved")?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// End a delegated admin relationship (partner side)
///
/// The partner (or an operator) ends its delegated admin relationship with the tenant
/// (R10): 204 and a `relationship.removed` event.
#[utoipa::path(
    tag = "relationships",
    operation_id = "endDelegatedAdmin",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID"), ("tenantId" = Uuid, Path, description = "The customer tenant's id")),
    responses(
        (status = 204, description = "The delegated admin relationship ended"),
        (status = 403, description = "Another partner's path, or a caller that is neither the partner nor an operator", body = Problem),
        (status = 404, description = "No such tenant, or no active delegated admin relationship", body = Problem),
    ),
)]
#[delete("/customers/{tenantId}/delegated-admin")]
pub async fn end_delegated_admin(
    db: web::Data<Db>,
    caller: Caller,
    path: CustomerPath,
) -> Result<HttpResponse, ApiError> {
    let (mpn, tenant_id) = path.into_inner();
    act_for_partner(&caller, mpn, true)?;
    db.transaction(move |conn| {
        tenants::find(conn, tenant_id)?.ok_or_else(|| no_tenant(tenant_id))?;
        let now = crate::domain::now();
        let row = relationships::find_unended_of_for_update(
            conn,
            tenant_id,
            mpn.get(),
            RelationshipKind::DelegatedAdmin.as_str(),
        )?
        .filter(|row| row.expires_at.is_some_and(|at| at > now))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "partner {mpn} has no active delegated admin relationship with tenant {tenant_id}"
            ))
        })?;
        end_relationship(conn, &caller, &row, now, "removedByPartner")?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A tenant the partner works with, and how.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The tenant's id.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub tenant_id: Uuid,
    /// The organisation's name.
    #[schema(example = "Contoso A/S")]
    pub display_name: String,
    /// The cloud the tenant lives in.
    pub cloud: Cloud,
    /// The tenant's country/region.
    pub country_code: CountryCode,
    /// The partner's current relationships with the tenant.
    #[schema(example = json!(["advisor", "reseller"]))]
    pub kinds: Vec<RelationshipKind>,
    /// Since when the earliest of them holds.
    #[schema(example = "2026-01-15T09:30:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub since: DateTime<Utc>,
}

/// A page of customers.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPage {
    /// The customers on this page.
    #[schema(example = json!([
        {
            "tenantId": "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10",
            "displayName": "Contoso A/S",
            "cloud": "worldwide",
            "countryCode": "DK",
            "kinds": ["advisor", "reseller"],
            "since": "2026-01-15T09:30:00Z"
        }
    ]))]
    pub items: Vec<Customer>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// List a partner's customers
///
/// The tenants the partner currently works with, by tenant id, with the kinds of
/// relationship it has with each (advisor of a subscription, reseller, delegated
/// admin). The partner itself or an operator calls this.
#[utoipa::path(
    tag = "relationships",
    operation_id = "listPartnerCustomers",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID"), CustomerQuery),
    responses(
        (status = 200, description = "A page of customers", body = CustomerPage),
        (status = 403, description = "Another partner's path, or a caller that is neither the partner nor an operator", body = Problem),
    ),
)]
#[get("/customers")]
pub async fn list_customers(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    mpn: web::Path<MpnId>,
    query: ValidQuery<CustomerQuery>,
) -> Result<web::Json<CustomerPage>, ApiError> {
    let mpn = mpn.into_inner();
    act_for_partner(&caller, mpn, true)?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let after = page.after_key(|key| key.parse::<Uuid>().ok())?;
    let fetch = page.fetch();
    let rows = db
        .run(move |conn| {
            let now = crate::domain::now();
            // As the tenant's listing: a transaction only when an expiry is due.
            if relationships::partner_has_expired(conn, mpn.get(), now)? {
                conn.transaction(|conn| sweep_expired(conn, Scope::Partner(mpn.get()), now))?;
            }
            Ok(relationships::customers(
                conn,
                mpn.get(),
                now,
                after,
                fetch,
            )?)
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.tenant_id.to_string());
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(Customer {
                tenant_id: r.tenant_id,
                display_name: r.display_name,
                cloud: Cloud::from_db(&r.cloud)?,
                country_code: CountryCode::from_db(&r.country_code)?,
                kinds: from_db_list(&r.kinds, RelationshipKind::from_db)?,
                since: r.since,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(web::Json(CustomerPage { items, next_cursor }))
}
