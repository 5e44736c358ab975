use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::api::access::{self, Actor, ADMINS_AND_RESELLER, ADMINS_OPERATOR_AND_RESELLER};
use crate::api::advisor::{attach_partner, check_eligible, end_association, AdvisorAssociation};
use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::db::events::NewEvent;
use crate::db::idempotency::{self, Claim};
use crate::db::models::{PartnerRow, ProductRow, SubscriptionRow, TenantRow};
use crate::db::subscriptions::{self, AdvisorAt, NamedAssociation};
use crate::db::writes::Writes;
use crate::db::{products, Db};
use crate::domain::subscription::{check_transition, etag, if_match_admits};
use crate::domain::{
    AssociationSource, Capability, Cloud, IdempotencyKey, MpnId, SubscriptionStatus,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ValidJson, ValidQuery};

/// A subscription of a tenant, with its current advisor.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The subscription's id.
    #[schema(example = "3f1c2a4e-7d52-4a0c-9a7e-1b2c3d4e5f60")]
    pub id: Uuid,
    /// The tenant that owns the subscription.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub tenant_id: Uuid,
    /// The product (see `GET /v1/products`).
    #[schema(example = "office-365-e3")]
    pub product_id: String,
    /// Seats, 1 to 300000.
    #[schema(minimum = 1, maximum = 300000, example = 25)]
    pub quantity: i32,
    /// Where the subscription is in its life.
    pub status: SubscriptionStatus,
    /// When the trial ends; null unless the status is `trial`.
    #[schema(example = json!(null))]
    #[serde(serialize_with = "crate::api::timestamp::serialize_option")]
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// The current advisor association (registered partner), or null.
    #[schema(nullable, value_type = Option<AdvisorAssociation>)]
    pub advisor: Option<AdvisorAssociation>,
    /// The reseller that bought the subscription for the tenant, or null.
    #[schema(value_type = Option<String>, pattern = "^(?:[1-9][0-9]{4,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$", example = "7654321")]
    pub reseller_mpn_id: Option<MpnId>,
    /// The row version; also the strong `ETag` of the subscription.
    #[schema(example = 1)]
    pub version: i64,
    /// When the subscription was created.
    #[schema(example = "2026-01-15T09:30:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

pub fn subscription_view(
    row: &SubscriptionRow,
    advisor: Option<NamedAssociation>,
) -> Result<Subscription, ApiError> {
    Ok(Subscription {
        id: row.id,
        tenant_id: row.tenant_id,
        product_id: row.product_id.clone(),
        quantity: row.quantity,
        status: SubscriptionStatus::from_db(&row.status)?,
        trial_ends_at: row.trial_ends_at,
        advisor: advisor.map(AdvisorAssociation::try_from).transpose()?,
        reseller_mpn_id: row.reseller_mpn_id.map(MpnId::from_db),
        version: row.version,
        created_at: row.created_at,
    })
}

/// A purchase.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Purchase {
    /// The product to buy (see `GET /v1/products`).
    #[validate(length(min = 1, max = 63))]
    #[schema(min_length = 1, max_length = 63, example = "office-365-e3")]
    pub product_id: String,
    /// Seats, 1 to 300000.
    #[validate(range(min = 1, max = 300000))]
    #[schema(minimum = 1, maximum = 300000, example = 25)]
    pub quantity: i32,
    /// The partner to attach as subscription advisor (R1); worldwide tenants only.
    #[schema(value_type = Option<String>, pattern = "^(?:[1-9][0-9]{4,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$", example = "1234567")]
    pub partner_mpn_id: Option<MpnId>,
    /// Start a trial instead of a paid subscription; the product must offer one.
    #[serde(default)]
    #[schema(example = false)]
    pub trial: bool,
}

/// A change of a subscription's status or seats.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionPatch {
    /// The new status: `active` (reactivate or convert a trial), `suspended` or `cancelled` (terminal).
    pub status: Option<SubscriptionStatus>,
    /// The new number of seats, 1 to 300000.
    #[validate(range(min = 1, max = 300000))]
    #[schema(minimum = 1, maximum = 300000, example = 30)]
    pub quantity: Option<i32>,
}

/// A page of subscriptions.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPage {
    /// The subscriptions on this page.
    #[schema(example = json!([
        {
            "id": "3f1c2a4e-7d52-4a0c-9a7e-1b2c3d4e5f60",
            "tenantId": "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10",
            "productId": "office-365-e3",
            "quantity": 25,
            "status": "active",
            "trialEndsAt": null,
            "advisor": {
                "mpnId": "1234567",
                "partnerName": "Fabrikam Consulting ApS",
                "validFrom": "2026-01-15T09:30:00Z",
                "validTo": null,
                "source": "purchase",
                "addedBy": "admin@contoso.example",
                "removedBy": null
            },
            "resellerMpnId": "7654321",
            "version": 1,
            "createdAt": "2026-01-15T09:30:00Z"
        }
    ]))]
    pub items: Vec<Subscription>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// Only subscriptions in this status.
    pub status: Option<SubscriptionStatus>,
    /// Only subscriptions of this product.
    pub product_id: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

pub fn unknown_product(id: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "productId",
        "unknown_product",
        format!("no product {id}"),
    )])
}

/// Loads the product and checks it is sold in the tenant's cloud.
pub fn product_for(
    conn: &mut PgConnection,
    tenant: &TenantRow,
    id: &str,
) -> Result<ProductRow, ApiError> {
    sellable(products::find(conn, id)?, id, tenant)
}

/// The product named `id`, when it exists and is sold in the tenant's cloud.
pub fn sellable(
    product: Option<ProductRow>,
    id: &str,
    tenant: &TenantRow,
) -> Result<ProductRow, ApiError> {
    sold_in(product.ok_or_else(|| unknown_product(id))?, tenant)
}

/// The product, when it is sold in the tenant's cloud.
pub fn sold_in(product: ProductRow, tenant: &TenantRow) -> Result<ProductRow, ApiError> {
    if !product.clouds.contains(&tenant.cloud) {
        return Err(ApiError::validation(vec![FieldError::new(
            "productId",
            "not_sold_in_cloud",
            format!("{} is not sold in the {} cloud", product.name, tenant.cloud),
        )]));
    }
    Ok(product)
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::bad_parameter(
            "Idempotency-Key",
            "invalid_idempotency_key",
            "must be printable ASCII",
        )
    })?;
    IdempotencyKey::parse(text).map(Some).map_err(|e| {
        ApiError::bad_parameter("Idempotency-Key", "invalid_idempotency_key", e.to_string())
    })
}

/// The outcome of a purchase, fresh or replayed.
struct Purchased {
    status: u16,
    body: serde_json::Value,
    replayed: bool,
}

/// Buy a subscription
///
/// Buys a product for the tenant (R1), optionally naming the partner to attach as
/// subscription advisor; both are created in one transaction. In a 21Vianet tenant a
/// purchase cannot name a partner (`partner_initiated_only`). A reseller of the tenant
/// may buy too; the subscription then records it as `resellerMpnId`. With an
/// `Idempotency-Key` a retry replays the first response instead of buying twice.
#[utoipa::path(
    tag = "subscriptions",
    operation_id = "purchaseSubscription",
    params(
        ("tenantId" = Uuid, Path, description = "The tenant's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 257, pattern = "^[ -~]+$", description = "1 to 255 printable ASCII characters, bare or as a quoted structured-field string; kept 24 hours"),
    ),
    request_body = Purchase,
    responses(
        (status = 201, description = "The subscription was bought (or this is a replay: `Idempotent-Replayed: true`)", body = Subscription,
         headers(("Location" = String, description = "URL of the subscription"), ("ETag" = String, description = "The subscription's version"))),
        (status = 403, description = "Not the tenant's admin or reseller, or a 21Vianet purchase naming a partner (`partner_initiated_only`)", body = Problem),
        (status = 409, description = "A request with the same Idempotency-Key is still running", body = Problem),
        (status = 422, description = "Invalid body, unknown product, product not sold in the tenant's cloud, partner not found or not eligible, or Idempotency-Key reused with another body", body = Problem),
    ),
)]
#[post("/subscriptions")]
pub async fn purchase_subscription(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    tenant_id: web::Path<Uuid>,
    body: ValidJson<Purchase>,
) -> Result<HttpResponse, ApiError> {
    let tenant_id = tenant_id.into_inner();
    let key = idempotency_key(&req)?;
    let purchase = body.into_inner();
    let hash = hex::encode(Sha256::digest(
        serde_json::to_vec(&purchase).map_err(ApiError::internal)?,
    ));
    let keyed = key.is_some();
    let purchase_once =
        move |conn: &mut PgConnection| {
            let (actor, tenant, product, partner) = access::tenant_actor_with_product_and_partner(
                conn,
                &caller,
                tenant_id,
                ADMINS_AND_RESELLER,
                &purchase.product_id,
                purchase.partner_mpn_id,
            )?;
            if let Some(key) = &key {
                match idempotency::claim(conn, tenant_id, &caller.sub, key.as_str(), &hash)? {
                    Claim::Fresh => {}
                    Claim::InProgress => return Err(ApiError::Conflict(
                        "a request with this Idempotency-Key is still being processed; retry later"
                            .into(),
                    )),
                    Claim::Replay {
                        request_hash,
                        status,
                        body,
                    } => {
                        return if request_hash == hash {
                            Ok(Purchased {
                                status,
                                body,
                                replayed: true,
                            })
                        } else {
                            Err(ApiError::IdempotencyKeyReused)
                        };
                    }
                }
            }
            let subscription = buy(conn, &caller, actor, &tenant, product, partner, &purchase)?;
            let body = serde_json::to_value(&subscription).map_err(ApiError::internal)?;
            if let Some(key) = &key {
                idempotency::complete(conn, tenant_id, &caller.sub, key.as_str(), 201, &body)?;
            }
            Ok(Purchased {
                status: 201,
                body,
                replayed: false,
            })
        };
    // Without a key, reads that lock nothing and then one statement with every write:
    // atomic by itself, so a transaction would only add `BEGIN` and `COMMIT`.
    let outcome = if keyed {
        db.transaction(purchase_once).await?
    } else {
        db.run(purchase_once).await?
    };
    let status =
        actix_web::http::StatusCode::from_u16(outcome.status).map_err(ApiError::internal)?;
    let mut response = HttpResponse::build(status);
    if let (Some(id), Some(version)) = (
        outcome.body["id"].as_str(),
        outcome.body["version"].as_i64(),
    ) {
        response.insert_header((
            header::LOCATION,
            format!("/v1/tenants/{tenant_id}/subscriptions/{id}"),
        ));
        response.insert_header((header::ETAG, etag(version)));
    }
    if outcome.replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(outcome.body))
}

/// What writes saving a subscription wrote when the caller holds its row lock: they
/// found the version read, as nothing can change it under the lock.
pub fn under_lock<T>(written: Option<T>) -> Result<T, ApiError> {
    written.ok_or_else(|| ApiError::internal("the version of a locked subscription moved"))
}

/// Refuses a trial of a product that has none (`field` names the request's trial flag).
pub fn check_trial(product: &ProductRow, trial: bool, field: &str) -> Result<(), ApiError> {
    if trial && !product.trial_available {
        return Err(ApiError::validation(vec![FieldError::new(
            field,
            "no_trial",
            format!("{} has no trial", product.name),
        )]));
    }
    Ok(())
}

/// Buys a paid or trial subscription, with its `subscription.purchased` event.
#[allow(clippy::too_many_arguments)]
pub fn create_subscription(
    writes: &mut Writes,
    caller: &Caller,
    tenant: &TenantRow,
    product: &ProductRow,
    quantity: i32,
    trial: bool,
    reseller: Option<i32>,
    now: DateTime<Utc>,
) -> SubscriptionRow {
    let (status, trial_ends_at) = if trial {
        (
            SubscriptionStatus::Trial,
            Some(now + Duration::days(i64::from(product.trial_days))),
        )
    } else {
        (SubscriptionStatus::Active, None)
    };
    let row = SubscriptionRow {
        tenant_id: tenant.id,
        id: Uuid::new_v4(),
        product_id: product.id.clone(),
        quantity,
        status: status.as_str().to_owned(),
        trial_ends_at,
        reseller_mpn_id: reseller,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    writes.record(
        &caller.sub,
        NewEvent {
            event_type: "subscription.purchased",
            tenant: Some(tenant.id),
            data: serde_json::json!({
                "subscriptionId": row.id,
                "productId": row.product_id,
                "quantity": row.quantity,
                "status": row.status,
                "resellerMpnId": row.reseller_mpn_id.map(|m| m.to_string()),
            }),
        },
    );
    writes.buy(row.clone());
    row
}

/// Creates the subscription and, when a partner is named, its advisor (R1, R3);
/// `product` and `partner` are the rows the purchase names, if they exist.
fn buy(
    conn: &mut PgConnection,
    caller: &Caller,
    actor: Actor,
    tenant: &TenantRow,
    product: Option<ProductRow>,
    partner: Option<PartnerRow>,
    purchase: &Purchase,
) -> Result<Subscription, ApiError> {
    let product = sellable(product, &purchase.product_id, tenant)?;
    check_trial(&product, purchase.trial, "trial")?;
    if purchase.partner_mpn_id.is_some() && Cloud::from_db(&tenant.cloud)? == Cloud::China21Vianet {
        return Err(ApiError::PartnerInitiatedOnly(
            "in Office 365 operated by 21Vianet a partner is added by accepting the partner's invitation, \
             not at purchase"
                .into(),
        ));
    }
    let now = crate::domain::now();
    let reseller = match actor {
        Actor::Reseller(mpn) => Some(mpn),
        _ => None,
    };
    let partner = match purchase.partner_mpn_id {
        Some(mpn) => Some(check_eligible(
            conn,
            mpn,
            partner,
            Capability::Advisor,
            tenant,
            &product,
        )?),
        None => None,
    };
    let mut writes = Writes::default();
    let row = create_subscription(
        &mut writes,
        caller,
        tenant,
        &product,
        purchase.quantity,
        purchase.trial,
        reseller,
        now,
    );
    let advisor = partner.map(|partner| {
        attach_partner(
            &mut writes,
            caller,
            tenant,
            &row,
            None,
            partner,
            AssociationSource::Purchase,
            now,
        )
    });
    writes.send(conn)?;
    subscription_view(&row, advisor)
}

/// List subscriptions
///
/// The tenant's subscriptions, oldest first, each with its current advisor. A
/// reseller sees the subscriptions it sold.
#[utoipa::path(
    tag = "subscriptions",
    operation_id = "listSubscriptions",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), SubscriptionQuery),
    responses((status = 200, description = "A page of subscriptions", body = SubscriptionPage)),
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    tenant_id: web::Path<Uuid>,
    query: ValidQuery<SubscriptionQuery>,
) -> Result<web::Json<SubscriptionPage>, ApiError> {
    let tenant_id = tenant_id.into_inner();
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let after = page.after_key(crate::api::parse_time_id_key)?;
    let fetch = page.fetch();
    let (rows, advisors) = db
        .run(move |conn| {
            let (actor, _) =
                access::tenant_actor(conn, &caller, tenant_id, ADMINS_OPERATOR_AND_RESELLER)?;
            let filter = subscriptions::SubscriptionFilter {
                status: query.status.map(|s| s.as_str().to_owned()),
                product_id: query.product_id,
                reseller: match actor {
                    Actor::Reseller(mpn) => Some(mpn),
                    _ => None,
                },
                after,
            };
            let rows = subscriptions::list(conn, tenant_id, &filter, fetch)?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            let advisors = subscriptions::current_associations(conn, tenant_id, &ids)?;
            Ok((rows, advisors))
        })
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| crate::api::time_id_key(r.created_at, r.id));
    let mut advisors: std::collections::HashMap<Uuid, NamedAssociation> = advisors
        .into_iter()
        .map(|a| (a.0.subscription_id, a))
        .collect();
    let items = rows
        .iter()
        .map(|row| subscription_view(row, advisors.remove(&row.id)))
        .collect::<Result<_, _>>()?;
    Ok(web::Json(SubscriptionPage { items, next_cursor }))
}

/// Read a subscription
///
/// The subscription with its current advisor; the `ETag` header carries its version
/// for `If-Match` on later changes.
#[utoipa::path(
    tag = "subscriptions",
    operation_id = "getSubscription",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("subscriptionId" = Uuid, Path, description = "The subscription's id")),
    responses(
        (status = 200, description = "The subscription", body = Subscription, headers(("ETag" = String, description = "The subscription's version"))),
        (status = 404, description = "No such tenant or subscription (or not visible to the caller)", body = Problem),
    ),
)]
#[get("")]
pub async fn get_subscription(
    db: web::Data<Db>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let (row, advisor) = db
        .run(move |conn| {
            access::read_subscription(
                conn,
                &caller,
                tenant_id,
                id,
                ADMINS_OPERATOR_AND_RESELLER,
                AdvisorAt::Now,
            )
        })
        .await?;
    let view = subscription_view(&row, advisor)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(view))
}

/// The `If-Match` header's text; an unreadable value matches nothing.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// Refuses a change when `If-Match` names another version (412).
pub fn check_if_match(header: Option<&str>, row: &SubscriptionRow) -> Result<(), ApiError> {
    match header {
        None => Ok(()),
        Some(value) if if_match_admits(value, row.version) => Ok(()),
        Some(_) => Err(ApiError::PreconditionFailed(format!(
            "the subscription changed: its current ETag is {}",
            etag(row.version)
        ))),
    }
}

/// Change a subscription
///
/// Suspends, reactivates, cancels (terminal; the advisor association ends at that
/// instant) or converts a trial, and changes seats. Allowed transitions: active ↔
/// suspended, trial → active, any → cancelled. Honours `If-Match`.
#[utoipa::path(
    tag = "subscriptions",
    operation_id = "updateSubscription",
    params(
        ("tenantId" = Uuid, Path, description = "The tenant's id"),
        ("subscriptionId" = Uuid, Path, description = "The subscription's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on"),
    ),
    request_body = SubscriptionPatch,
    responses(
        (status = 200, description = "The subscription as changed", body = Subscription, headers(("ETag" = String, description = "The new version"))),
        (status = 404, description = "No such tenant or subscription", body = Problem),
        (status = 409, description = "The status change is not allowed (`invalid_transition`)", body = Problem),
        (status = 412, description = "`If-Match` names another version", body = Problem),
    ),
)]
#[patch("")]
pub async fn update_subscription(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    body: ValidJson<SubscriptionPatch>,
) -> Result<HttpResponse, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let patch = body.into_inner();
    let if_match = if_match(&req);
    let (row, advisor) = db
        .transaction(move |conn| {
            let (actor, _) =
                access::tenant_actor(conn, &caller, tenant_id, ADMINS_OPERATOR_AND_RESELLER)?;
            let mut row = subscriptions::find_for_update(conn, tenant_id, id)?
                .filter(|row| access::visible(actor, row))
                .ok_or_else(|| access::no_subscription(id))?;
            check_if_match(if_match.as_deref(), &row)?;
            let from = SubscriptionStatus::from_db(&row.status)?;
            let to = patch.status.unwrap_or(from);
            check_transition(from, to).map_err(|e| ApiError::InvalidTransition(e.to_string()))?;
            if from == SubscriptionStatus::Cancelled
                && patch.quantity.is_some_and(|q| q != row.quantity)
            {
                return Err(ApiError::InvalidTransition(
                    "a cancelled subscription cannot change seats".into(),
                ));
            }
            let quantity = patch.quantity.unwrap_or(row.quantity);
            let mut advisor = subscriptions::current_association(conn, tenant_id, id)?;
            if to == from && quantity == row.quantity {
                return Ok((row, advisor));
            }
            let now = crate::domain::now();
            let mut writes = Writes::default();
            if to == SubscriptionStatus::Cancelled {
                if let Some(current) = advisor.take() {
                    end_association(&mut writes, &caller, &row, &current.0, now, "cancelled");
                }
            }
            row.status = to.as_str().to_owned();
            if to != SubscriptionStatus::Trial {
                row.trial_ends_at = None;
            }
            row.quantity = quantity;
            row.updated_at = now;
            writes.record(
                &caller.sub,
                NewEvent {
                    event_type: "subscription.updated",
                    tenant: Some(tenant_id),
                    data: serde_json::json!({
                        "subscriptionId": id,
                        "previousStatus": from.as_str(),
                        "status": row.status,
                        "quantity": row.quantity,
                    }),
                },
            );
            Ok((under_lock(writes.send_saving(conn, row)?)?, advisor))
        })
        .await?;
    let view = subscription_view(&row, advisor)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(row.version)))
        .json(view))
}
