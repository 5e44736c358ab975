//! The subscription advisor (registered partner) of a subscription: R3, R4, R5, R7.

use actix_web::http::header;
use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::api::access::{self, Actor, ADMINS_AND_OPERATOR};
use crate::api::subscriptions::{check_if_match, if_match, sold_in, under_lock};
use crate::auth::Caller;
use crate::db::events::NewEvent;
use crate::db::models::{AssociationRow, PartnerRow, ProductRow, SubscriptionRow, TenantRow};
use crate::db::subscriptions::{self, AdvisorAt, NamedAssociation};
use crate::db::writes::{Ending, Writes};
use crate::db::{partners, Db};
use crate::domain::eligibility::{self, Ineligible, PartnerFacts, Placement};
use crate::domain::subscription::etag;
use crate::domain::{
    AssociationSource, Capability, Cloud, CountryCode, MpnId, ServiceFamily, SubscriptionStatus,
};
use crate::error::{ApiError, Problem};
use crate::extract::{ValidJson, ValidQuery};

/// A period during which a partner advised a subscription.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvisorAssociation {
    /// The advising partner's MPN ID.
    pub mpn_id: MpnId,
    /// The partner's name.
    #[schema(example = "Fabrikam Consulting ApS")]
    pub partner_name: String,
    /// When the partner became the advisor.
    #[schema(example = "2026-01-15T09:30:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub valid_from: DateTime<Utc>,
    /// When it stopped being the advisor; null while current.
    #[schema(example = json!(null))]
    #[serde(serialize_with = "crate::api::timestamp::serialize_option")]
    pub valid_to: Option<DateTime<Utc>>,
    /// How the association came about.
    pub source: AssociationSource,
    /// Who attached the partner (the token's `sub`).
    #[schema(example = "admin@contoso.example")]
    pub added_by: String,
    /// Who ended the association; null while current.
    #[schema(example = json!(null))]
    pub removed_by: Option<String>,
}

impl TryFrom<NamedAssociation> for AdvisorAssociation {
    type Error = ApiError;
    fn try_from((row, partner_name): NamedAssociation) -> Result<Self, ApiError> {
        Ok(AdvisorAssociation {
            mpn_id: MpnId::from_db(row.mpn_id),
            partner_name,
            valid_from: row.valid_from,
            valid_to: row.valid_to,
            source: AssociationSource::from_db(&row.source)?,
            added_by: row.added_by,
            removed_by: row.removed_by,
        })
    }
}

/// The partner to make the advisor.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdvisorRequest {
    /// The partner's MPN ID; the partner must be registered and active.
    pub mpn_id: MpnId,
}

/// A subscription's advisor history, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdvisorHistory {
    /// The associations, newest first.
    #[schema(example = json!([
        {
            "mpnId": "1234567",
            "partnerName": "Fabrikam Consulting ApS",
            "validFrom": "2026-01-15T09:30:00Z",
            "validTo": null,
            "source": "purchase",
            "addedBy": "admin@contoso.example",
            "removedBy": null
        }
    ]))]
    pub items: Vec<AdvisorAssociation>,
    /// Always null: the whole history is one page.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// An RFC 3339 instant: answer only the association current then.
    #[param(example = "2026-11-26T10:00:00Z")]
    pub at: Option<DateTime<Utc>>,
}

fn facts(row: &PartnerRow) -> PartnerFacts {
    PartnerFacts {
        kind: row.kind,
        status: row.status,
        capabilities: row.capabilities.clone(),
        clouds: row.clouds.clone(),
        countries: row.country_codes.clone(),
        services: row.service_families.clone(),
    }
}

/// Loads the partner and applies R3 for the given capability in this tenant.
pub fn eligible_partner(
    conn: &mut PgConnection,
    mpn: MpnId,
    capability: Capability,
    tenant: &TenantRow,
    product: &ProductRow,
) -> Result<PartnerRow, ApiError> {
    let found = partners::find(conn, mpn.get())?;
    check_eligible(conn, mpn, found, capability, tenant, product)
}

/// [`eligible_partner`] for the partner row read with the request's other rows.
pub fn check_eligible(
    conn: &mut PgConnection,
    mpn: MpnId,
    found: Option<PartnerRow>,
    capability: Capability,
    tenant: &TenantRow,
    product: &ProductRow,
) -> Result<PartnerRow, ApiError> {
    let partner = found.ok_or_else(|| ApiError::PartnerNotFound(mpn.to_string()))?;
    let placement = Placement {
        cloud: Cloud::from_db(&tenant.cloud)?,
        country: CountryCode::from_db(&tenant.country_code)?,
        service: ServiceFamily::from_db(&product.service_family)?,
    };
    match eligibility::check(&facts(&partner), capability, placement) {
        Ok(()) => Ok(partner),
        Err(Ineligible::GlobalId) => Err(not_transactable(conn, mpn, &partner, tenant)?),
        Err(other) => Err(ApiError::PartnerNotEligible {
            condition: other.condition(),
            detail: format!(
                "partner {mpn} cannot advise this subscription: {}",
                other.message()
            ),
        }),
    }
}

/// Loads the partner and applies the tenant conditions of R3 (all but the service
/// family) for a relationship that concerns no product: reseller or delegated admin.
pub fn eligible_for_tenant(
    conn: &mut PgConnection,
    mpn: MpnId,
    capability: Capability,
    tenant: &TenantRow,
) -> Result<PartnerRow, ApiError> {
    let partner = partners::find(conn, mpn.get())?
        .ok_or_else(|| ApiError::PartnerNotFound(mpn.to_string()))?;
    let cloud = Cloud::from_db(&tenant.cloud)?;
    let country = CountryCode::from_db(&tenant.country_code)?;
    match eligibility::check_tenant(&facts(&partner), capability, cloud, country) {
        Ok(()) => Ok(partner),
        Err(Ineligible::GlobalId) => Err(not_transactable(conn, mpn, &partner, tenant)?),
        Err(other) => {
            let role = match capability {
                Capability::Advisor => "advise this tenant",
                Capability::Reseller => "resell to this tenant",
                Capability::DelegatedAdmin => "be delegated admin of this tenant",
            };
            Err(ApiError::PartnerNotEligible {
                condition: other.condition(),
                detail: format!("partner {mpn} cannot {role}: {}", other.message()),
            })
        }
    }
}

/// `partner_id_not_transactable`, naming the organisation's locations in the tenant's
/// country/region.
fn not_transactable(
    conn: &mut PgConnection,
    mpn: MpnId,
    partner: &PartnerRow,
    tenant: &TenantRow,
) -> Result<ApiError, ApiError> {
    let locations = subscriptions::locations_of(conn, partner.mpn_id, &tenant.country_code)?;
    let listed = if locations.is_empty() {
        format!("it has no location id serving {}", tenant.country_code)
    } else {
        let ids: Vec<String> = locations.iter().map(i32::to_string).collect();
        format!(
            "its location ids serving {}: {}",
            tenant.country_code,
            ids.join(", ")
        )
    };
    Ok(ApiError::PartnerIdNotTransactable {
        detail: format!(
            "{mpn} is the global MPN ID of {}; only a location MPN ID can be attached ({listed})",
            partner.name
        ),
    })
}

/// Ends the current association at `at` (a change or a removal records its own event).
fn close(writes: &mut Writes, caller: &Caller, current: &AssociationRow, at: DateTime<Utc>) {
    writes.end(Ending {
        tenant: current.tenant_id,
        id: current.id,
        at,
        by: caller.sub.clone(),
    });
}

/// An instant strictly after the current association began, so the ended association
/// is never empty even when instances' clocks differ slightly.
fn change_instant(current: Option<&AssociationRow>, now: DateTime<Utc>) -> DateTime<Utc> {
    match current {
        Some(row) if row.valid_from >= now => row.valid_from + Duration::microseconds(1),
        _ => now,
    }
}

/// Attaches `mpn` as advisor, ending `current` at the same instant (R1, R4, R5), with
/// the `advisor.added` or `advisor.changed` event.
#[allow(clippy::too_many_arguments)]
pub fn attach_advisor(
    conn: &mut PgConnection,
    writes: &mut Writes,
    caller: &Caller,
    tenant: &TenantRow,
    product: &ProductRow,
    sub: &SubscriptionRow,
    current: Option<&AssociationRow>,
    mpn: MpnId,
    source: AssociationSource,
    now: DateTime<Utc>,
) -> Result<NamedAssociation, ApiError> {
    let partner = eligible_partner(conn, mpn, Capability::Advisor, tenant, product)?;
    Ok(attach_partner(
        writes, caller, tenant, sub, current, partner, source, now,
    ))
}

/// Attaches a partner already found eligible as advisor, ending `current` at the same
/// instant, with its event.
#[allow(clippy::too_many_arguments)]
pub fn attach_partner(
    writes: &mut Writes,
    caller: &Caller,
    tenant: &TenantRow,
    sub: &SubscriptionRow,
    current: Option<&AssociationRow>,
    partner: PartnerRow,
    source: AssociationSource,
    now: DateTime<Utc>,
) -> NamedAssociation {
    let mpn = partner.mpn_id;
    let at = change_instant(current, now);
    if let Some(current) = current {
        close(writes, caller, current, at);
    }
    let row = AssociationRow {
        tenant_id: tenant.id,
        subscription_id: sub.id,
        id: Uuid::new_v4(),
        mpn_id: partner.mpn_id,
        valid_from: at,
        valid_to: None,
        source: source.as_str().to_owned(),
        added_by: caller.sub.clone(),
        removed_by: None,
    };
    let (event_type, data) = match current {
        Some(old) => (
            "advisor.changed",
            serde_json::json!({"subscriptionId": sub.id, "mpnId": mpn.to_string(), "previousMpnId": old.mpn_id.to_string(), "at": at, "source": source.as_str()}),
        ),
        None => (
            "advisor.added",
            serde_json::json!({"subscriptionId": sub.id, "mpnId": mpn.to_string(), "at": at, "source": source.as_str()}),
        ),
    };
    writes.record(
        &caller.sub,
        NewEvent {
            event_type,
            tenant: Some(tenant.id),
            data,
        },
    );
    writes.add(row.clone());
    (row, partner.name)
}

/// Ends the current association with `advisor.removed` (R7, cancellation).
pub fn end_association(
    writes: &mut Writes,
    caller: &Caller,
    sub: &SubscriptionRow,
    current: &AssociationRow,
    now: DateTime<Utc>,
    reason: &str,
) {
    let at = change_instant(Some(current), now);
    close(writes, caller, current, at);
    writes.record(
        &caller.sub,
        NewEvent {
            event_type: "advisor.removed",
            tenant: Some(sub.tenant_id),
            data: serde_json::json!({"subscriptionId": sub.id, "mpnId": current.mpn_id.to_string(), "at": at, "reason": reason}),
        },
    );
}

/// Attempts of an advisor change that lock nothing, before it waits for the lock.
const OPTIMISTIC_ATTEMPTS: usize = 2;

/// Runs `attempt` (a read that locks nothing, then writes that go only if the
/// subscription is still at the version read) until its writes go: one statement to
/// read and one to write, where a lock would add `BEGIN`, a read of the current advisor
/// after the lock (a locking read's joined rows may predate the row it locked) and
/// `COMMIT`. Overtaken by other changes every time, it takes the subscription's lock,
/// under which none can overtake it.
fn until_written<T>(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    mut attempt: impl FnMut(&mut PgConnection) -> Result<Option<T>, ApiError>,
) -> Result<T, ApiError> {
    for _ in 0..OPTIMISTIC_ATTEMPTS {
        if let Some(done) = attempt(conn)? {
            return Ok(done);
        }
    }
    conn.transaction(|conn| {
        subscriptions::find_for_update(conn, tenant, id)?;
        under_lock(attempt(conn)?)
    })
}

fn source_of(actor: Actor) -> AssociationSource {
    match actor {
        Actor::Operator => AssociationSource::Operator,
        Actor::Admin | Actor::Reseller(_) => AssociationSource::Customer,
    }
}

fn no_advisor(id: Uuid) -> ApiError {
    ApiError::NoAdvisor(format!("subscription {id} has no advisor"))
}

type SubscriptionPath = web::Path<(Uuid, Uuid)>;

/// Read the advisor
///
/// The subscription's current advisor association; 404 `no_advisor` when it has none.
#[utoipa::path(
    tag = "advisor",
    operation_id = "getAdvisor",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("subscriptionId" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The current advisor", body = AdvisorAssociation, headers(("ETag" = String, description = "The subscription's version"))),
        (status = 404, description = "No such subscription, or no advisor (`no_advisor`)", body = Problem),
    ),
)]
#[get("/advisor")]
pub async fn get_advisor(
    db: web::Data<Db>,
    caller: Caller,
    path: SubscriptionPath,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let (row, current) = db
        .run(move |conn| {
            let (row, current) = access::read_subscription(
                conn,
                &caller,
                tenant_id,
                id,
                ADMINS_AND_OPERATOR,
                AdvisorAt::Now,
            )?;
            Ok((row, current.ok_or_else(|| no_advisor(id))?))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(AdvisorAssociation::try_from(current)?))
}

/// Add or change the advisor
///
/// With no advisor, attaches the partner (R4; refused in 21Vianet with
/// `partner_initiated_only`: there the partner sends an invitation). With another
/// advisor, replaces it in one step: the old association ends at the instant the new
/// one begins (R5). The same partner again changes nothing. The partner must be an
/// active location id with the advisor capability serving the tenant's cloud,
/// country/region and the product's service family (R3). Honours `If-Match`.
#[utoipa::path(
    tag = "advisor",
    operation_id = "setAdvisor",
    params(
        ("tenantId" = Uuid, Path, description = "The tenant's id"),
        ("subscriptionId" = Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    request_body = AdvisorRequest,
    responses(
        (status = 200, description = "The current advisor after the call", body = AdvisorAssociation, headers(("ETag" = String, description = "The subscription's version"))),
        (status = 403, description = "Adding a partner in a 21Vianet tenant (`partner_initiated_only`), or a caller that may not", body = Problem),
        (status = 404, description = "No such tenant or subscription", body = Problem),
        (status = 409, description = "The subscription is cancelled", body = Problem),
        (status = 412, description = "`If-Match` names another version", body = Problem),
        (status = 422, description = "Invalid MPN ID, `partner_not_found`, `partner_not_eligible` or `partner_id_not_transactable`", body = Problem),
    ),
)]
#[put("/advisor")]
pub async fn set_advisor(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    path: SubscriptionPath,
    body: ValidJson<AdvisorRequest>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let mpn = body.into_inner().mpn_id;
    let if_match = if_match(&req);
    let (version, advisor) = db
        .run(move |conn| {
            until_written(conn, tenant_id, id, |conn| {
                let access::Change { actor, tenant, subscription: row, product, current, partner } =
                    access::subscription_for_change(conn, &caller, tenant_id, id, ADMINS_AND_OPERATOR, Some(mpn))?;
                check_if_match(if_match.as_deref(), &row)?;
                if SubscriptionStatus::from_db(&row.status)? == SubscriptionStatus::Cancelled {
                    return Err(ApiError::Conflict(format!("subscription {id} is cancelled and cannot get an advisor")));
                }
                if let Some(same) = current.as_ref().filter(|c| c.mpn_id == mpn.get()) {
                    // The partner named is the current one: its row carries the name.
                    let name = partner.map(|p| p.name).ok_or_else(|| ApiError::internal("the current advisor has no partner row"))?;
                    return Ok(Some((row.version, (same.clone(), name))));
                }
                if current.is_none() && Cloud::from_db(&tenant.cloud)? == Cloud::China21Vianet {
                    return Err(ApiError::PartnerInitiatedOnly(
                        "in Office 365 operated by 21Vianet a partner becomes advisor by sending an invitation \
                         that the tenant accepts"
                            .into(),
                    ));
                }
                let product = sold_in(product, &tenant)?;
                let now = crate::domain::now();
                let partner = check_eligible(conn, mpn, partner, Capability::Advisor, &tenant, &product)?;
                let mut writes = Writes::default();
                let advisor = attach_partner(&mut writes, &caller, &tenant, &row, current.as_ref(), partner, source_of(actor), now);
                let mut changed = row;
                changed.updated_at = now;
                Ok(writes.send_saving(conn, changed)?.map(|saved| (saved.version, advisor)))
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(AdvisorAssociation::try_from(advisor)?))
}

/// Remove the advisor
///
/// Ends the current advisor association (R7); the subscription remains, with no
/// advisor. Honours `If-Match`.
#[utoipa::path(
    tag = "advisor",
    operation_id = "removeAdvisor",
    params(
        ("tenantId" = Uuid, Path, description = "The tenant's id"),
        ("subscriptionId" = Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    responses(
        (status = 204, description = "The advisor was removed", headers(("ETag" = String, description = "The subscription's new version"))),
        (status = 404, description = "No such subscription, or no advisor (`no_advisor`)", body = Problem),
        (status = 412, description = "`If-Match` names another version", body = Problem),
    ),
)]
#[delete("/advisor")]
pub async fn remove_advisor(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    path: SubscriptionPath,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let if_match = if_match(&req);
    let version = db
        .run(move |conn| {
            until_written(conn, tenant_id, id, |conn| {
                let change = access::subscription_for_change(
                    conn,
                    &caller,
                    tenant_id,
                    id,
                    ADMINS_AND_OPERATOR,
                    None,
                )?;
                let row = change.subscription;
                check_if_match(if_match.as_deref(), &row)?;
                let current = change.current.ok_or_else(|| no_advisor(id))?;
                let now = crate::domain::now();
                let mut writes = Writes::default();
                end_association(&mut writes, &caller, &row, &current, now, "removed");
                let mut changed = row;
                changed.updated_at = now;
                Ok(writes
                    .send_saving(conn, changed)?
                    .map(|saved| saved.version))
            })
        })
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header((header::ETAG, etag(version)))
        .finish())
}

/// Advisor history
///
/// Every advisor association the subscription has had, newest first. With `at`, only
/// the association current at that instant (404 `no_advisor` when there was none).
#[utoipa::path(
    tag = "advisor",
    operation_id = "getAdvisorHistory",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("subscriptionId" = Uuid, Path, description = "The subscription's id"), HistoryQuery),
    responses(
        (status = 200, description = "The associations", body = AdvisorHistory),
        (status = 404, description = "No such subscription, or no advisor at `at` (`no_advisor`)", body = Problem),
    ),
)]
#[get("/advisor/history")]
pub async fn get_advisor_history(
    db: web::Data<Db>,
    caller: Caller,
    path: SubscriptionPath,
    query: ValidQuery<HistoryQuery>,
) -> Result<web::Json<AdvisorHistory>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let at = query.into_inner().at;
    let rows = db
        .run(move |conn| {
            let advisor = at.map_or(AdvisorAt::Now, AdvisorAt::Instant);
            let (_, held) = access::read_subscription(
                conn,
                &caller,
                tenant_id,
                id,
                ADMINS_AND_OPERATOR,
                advisor,
            )?;
            match at {
                Some(at) => Ok(vec![held.ok_or_else(|| {
                    ApiError::NoAdvisor(format!(
                        "subscription {id} had no advisor at {}",
                        at.to_rfc3339()
                    ))
                })?]),
                None => Ok(subscriptions::history(conn, tenant_id, id)?),
            }
        })
        .await?;
    let items = rows
        .into_iter()
        .map(AdvisorAssociation::try_from)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(AdvisorHistory {
        items,
        next_cursor: None,
    }))
}
