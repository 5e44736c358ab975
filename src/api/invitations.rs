//! Partner invitations (R8): a partner invites a tenant to authorise it as delegated
//! admin and, optionally, to take a trial or purchase with it as advisor. The tenant's
//! admin reads the terms through the link and accepts or declines.
//!
//! "Registered partner" here means the subscription advisor (partner of record): on
//! acceptance the partner becomes advisor of the offered subscription and of the
//! existing subscriptions the invitation names. In a 21Vianet tenant this is the only
//! way a partner becomes advisor of a subscription that has none.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::api::access::{self, ADMINS_ONLY};
use crate::api::advisor::{attach_advisor, eligible_for_tenant, eligible_partner};
use crate::api::relationships::{
    concurrent_relationship, end_delegated_admin_row, relationship_data, tenant_relationships,
    Relationship, SERVICE_ACTOR,
};
use crate::api::subscriptions::{
    check_trial, create_subscription, product_for, subscription_view, under_lock, Subscription,
};
use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::config::PublicUrl;
use crate::db::events::{self, NewEvent};
use crate::db::invitations::{self, Closing, InvitationFilter, NamedInvitation};
use crate::db::models::{InvitationRow, ProductRow, RelationshipRow, SubscriptionRow, TenantRow};
use crate::db::writes::Writes;
use crate::db::{relationships, subscriptions, tenants, Db};
use crate::domain::invitation::{
    check_answerable, effective_status, token_matches, AcceptToken, NotAnswerable, MAX_EXPIRY_DAYS,
};
use crate::domain::relationship::DelegatedAdminDuration;
use crate::domain::{
    from_db_list, to_db_list, AssociationSource, Capability, DelegatedAdminRole, InvitationStatus,
    MpnId, OfferKind, RelationshipKind, SubscriptionStatus,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ValidJson, ValidQuery};
use crate::validation::not_blank;

/// A trial or purchase the partner offers; on acceptance it becomes the tenant's
/// subscription, with the partner as advisor.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Offer {
    /// A trial or a purchase.
    pub kind: OfferKind,
    /// The product (see `GET /v1/products`); it must be sold in the tenant's cloud and,
    /// for a trial, offer one.
    #[validate(length(min = 1, max = 63))]
    #[schema(min_length = 1, max_length = 63, example = "office-365-e3")]
    pub product_id: String,
    /// Seats, 1 to 300000.
    #[validate(range(min = 1, max = 300000))]
    #[schema(minimum = 1, maximum = 300000, example = 25)]
    pub quantity: i32,
}

/// An invitation from a partner to a tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    /// The invitation's id.
    #[schema(example = "7c9e6679-7425-40de-944b-e07fc1f90ae7")]
    pub id: Uuid,
    /// The inviting partner's MPN ID.
    pub mpn_id: MpnId,
    /// The inviting partner's name.
    #[schema(example = "Fabrikam Copenhagen")]
    pub partner_name: String,
    /// The invited tenant.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub tenant_id: Uuid,
    /// A pending invitation past `expiresAt` reads as `expired`.
    pub status: InvitationStatus,
    /// The partner's terms, shown to the customer before it answers.
    #[schema(example = "Fabrikam manages your Microsoft 365 users and licences.")]
    pub terms: String,
    /// Whether accepting authorises the partner as delegated admin.
    #[schema(example = true)]
    pub requests_delegated_admin: bool,
    /// The roles delegated admin would grant.
    #[schema(example = json!(["userAdministrator", "licenseAdministrator"]))]
    pub roles: Vec<DelegatedAdminRole>,
    /// How long delegated admin would last; null when none is requested.
    #[schema(value_type = Option<String>, pattern = "^P[0-9]{1,3}D$", example = "P730D")]
    pub delegated_admin_duration: Option<DelegatedAdminDuration>,
    /// The trial or purchase offered, or null.
    #[schema(nullable, value_type = Option<Offer>)]
    pub offer: Option<Offer>,
    /// Existing subscriptions of the tenant the partner asks to become advisor of.
    #[schema(example = json!([]))]
    pub subscription_ids: Vec<Uuid>,
    /// When the invitation expires unless answered.
    #[schema(example = "2026-12-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub expires_at: DateTime<Utc>,
    /// When the partner sent the invitation.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
    /// When the tenant accepted or declined; null otherwise.
    #[schema(example = json!(null))]
    #[serde(serialize_with = "crate::api::timestamp::serialize_option")]
    pub responded_at: Option<DateTime<Utc>>,
}

fn invitation_view(
    (row, partner_name): NamedInvitation,
    now: DateTime<Utc>,
) -> Result<Invitation, ApiError> {
    let status = InvitationStatus::from_db(&row.status)?;
    let offer = match (&row.offer_kind, &row.offer_product_id, row.offer_quantity) {
        (Some(kind), Some(product_id), Some(quantity)) => Some(Offer {
            kind: OfferKind::from_db(kind)?,
            product_id: product_id.clone(),
            quantity,
        }),
        _ => None,
    };
    Ok(Invitation {
        id: row.id,
        mpn_id: MpnId::from_db(row.mpn_id),
        partner_name,
        tenant_id: row.tenant_id,
        status: effective_status(status, row.expires_at, now),
        terms: row.terms,
        requests_delegated_admin: row.requests_delegated_admin,
        roles: from_db_list(&row.roles, DelegatedAdminRole::from_db)?,
        delegated_admin_duration: row
            .delegated_admin_days
            .map(DelegatedAdminDuration::from_days)
            .transpose()
            .map_err(ApiError::internal)?,
        offer,
        subscription_ids: row.subscription_ids,
        expires_at: row.expires_at,
        created_at: row.created_at,
        responded_at: row.closed_at.filter(|_| {
            matches!(
                status,
                InvitationStatus::Accepted | InvitationStatus::Declined
            )
        }),
    })
}

fn unique<T: PartialEq>(values: &[T]) -> Result<(), ValidationError> {
    let repeated = values
        .iter()
        .enumerate()
        .any(|(i, v)| values[..i].contains(v));
    if repeated {
        return Err(
            ValidationError::new("duplicate").with_message("must not repeat a value".into())
        );
    }
    Ok(())
}

/// What a partner asks of a tenant.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewInvitation {
    /// The customer tenant invited.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub tenant_id: Uuid,
    /// The terms the customer reads before answering, 1 to 10000 characters.
    #[validate(length(min = 1, max = 10000), custom(function = "not_blank"))]
    #[schema(
        min_length = 1,
        max_length = 10000,
        example = "Fabrikam manages your Microsoft 365 users and licences."
    )]
    pub terms: String,
    /// Whether the partner asks to become delegated admin (it then needs the
    /// `delegatedAdmin` capability).
    #[schema(example = true)]
    pub requests_delegated_admin: bool,
    /// The roles delegated admin would grant: at least one when delegated admin is
    /// requested, none otherwise; no repeats.
    #[serde(default)]
    #[validate(custom(function = "unique"))]
    #[schema(example = json!(["userAdministrator", "passwordAdministrator", "licenseAdministrator"]))]
    pub roles: Vec<DelegatedAdminRole>,
    /// How long delegated admin lasts once accepted, in days (`P1D` to `P730D`, default
    /// `P730D`); only with `requestsDelegatedAdmin`.
    #[schema(value_type = Option<String>, pattern = "^P[0-9]{1,3}D$", example = "P730D")]
    pub delegated_admin_duration: Option<DelegatedAdminDuration>,
    /// A trial or purchase to create when the customer accepts.
    #[validate(nested)]
    pub offer: Option<Offer>,
    /// Existing subscriptions of the tenant the partner asks to become advisor of (at
    /// most 50, no repeats).
    #[serde(default)]
    #[validate(length(max = 50), custom(function = "unique"))]
    #[schema(max_items = 50, example = json!([]))]
    pub subscription_ids: Vec<Uuid>,
    /// Days until the invitation expires, 1 to 30 (default 30).
    #[validate(range(min = 1, max = 30))]
    #[schema(minimum = 1, maximum = 30, example = 30)]
    pub expires_in_days: Option<u16>,
}

/// Checks that need several fields together.
fn check_combination(body: &NewInvitation) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if body.requests_delegated_admin && body.roles.is_empty() {
        errors.push(FieldError::new(
            "roles",
            "required",
            "name at least one role when requesting delegated admin",
        ));
    }
    if !body.requests_delegated_admin {
        if !body.roles.is_empty() {
            errors.push(FieldError::new(
                "roles",
                "not_allowed",
                "roles are granted only with requestsDelegatedAdmin",
            ));
        }
        if body.delegated_admin_duration.is_some() {
            errors.push(FieldError::new(
                "delegatedAdminDuration",
                "not_allowed",
                "a duration is given only with requestsDelegatedAdmin",
            ));
        }
        if body.offer.is_none() && body.subscription_ids.is_empty() {
            errors.push(FieldError::new(
                "requestsDelegatedAdmin",
                "nothing_requested",
                "an invitation requests delegated admin, carries an offer or names subscriptions to advise",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// The invitation as created: the only time the accept token is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// The secret proving the customer followed the link; shown this once, only its
    /// hash is stored.
    #[schema(example = "q3Jx0m7bX1l9cS2uGvY5n8r4T6wZ0aBcDeFgHiJkLmN")]
    pub accept_token: String,
    /// The link to send the customer's admin: it reads the invitation with the token.
    #[schema(
        example = "https://partnerlink.example/v1/invitations/7c9e6679-7425-40de-944b-e07fc1f90ae7?token=q3Jx0m7bX1l9cS2uGvY5n8r4T6wZ0aBcDeFgHiJkLmN"
    )]
    pub accept_url: String,
}

/// The configured public URL (`PARTNERLINK_PUBLIC_URL`), registered by the application.
fn public_url(req: &HttpRequest) -> PublicUrl {
    req.app_data::<web::Data<PublicUrl>>()
        .map(|url| url.get_ref().clone())
        .unwrap_or_default()
}

/// Names `field` within `prefix` in the validation problems of a shared check.
fn within(prefix: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::Validation {
            status,
            detail,
            errors,
        } => ApiError::Validation {
            status,
            detail: format!("{prefix}.{detail}"),
            errors: errors
                .into_iter()
                .map(|mut f| {
                    f.field = format!("{prefix}.{}", f.field);
                    f
                })
                .collect(),
        },
        other => other,
    }
}

fn unknown_subscription(i: usize, id: Uuid, why: &str) -> ApiError {
    ApiError::validation(vec![FieldError::new(
        format!("subscriptionIds[{i}]"),
        why,
        match why {
            "subscription_cancelled" => format!("subscription {id} is cancelled"),
            _ => format!("the tenant has no subscription {id}"),
        },
    )])
}

/// The product of an offer, checked against the tenant and the partner (R3).
fn offered_product(
    conn: &mut PgConnection,
    tenant: &TenantRow,
    mpn: MpnId,
    offer: &Offer,
) -> Result<ProductRow, ApiError> {
    let product = product_for(conn, tenant, &offer.product_id).map_err(|e| within("offer", e))?;
    check_trial(&product, offer.kind == OfferKind::Trial, "offer.kind")?;
    eligible_partner(conn, mpn, Capability::Advisor, tenant, &product)?;
    Ok(product)
}

/// The existing subscriptions an invitation names, locked when `lock`, each with its
/// product, checked against the partner (R3).
fn advised_subscriptions(
    conn: &mut PgConnection,
    tenant: &TenantRow,
    mpn: MpnId,
    ids: &[Uuid],
    lock: bool,
) -> Result<Vec<(SubscriptionRow, ProductRow)>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for (i, &id) in ids.iter().enumerate() {
        let row = if lock {
            subscriptions::find_for_update(conn, tenant.id, id)?
        } else {
            subscriptions::find(conn, tenant.id, id)?
        };
        let row = row.ok_or_else(|| unknown_subscription(i, id, "unknown_subscription"))?;
        if SubscriptionStatus::from_db(&row.status)? == SubscriptionStatus::Cancelled {
            return Err(unknown_subscription(i, id, "subscription_cancelled"));
        }
        let product = product_for(conn, tenant, &row.product_id)?;
        eligible_partner(conn, mpn, Capability::Advisor, tenant, &product)?;
        out.push((row, product));
    }
    Ok(out)
}

/// Invite a customer
///
/// The partner invites a tenant (R8) to authorise it as delegated admin with the given
/// roles, and/or to accept a trial or purchase offer, and/or to make it advisor of
/// existing subscriptions. The response and the `invitation.created` event (for the mail
/// sender) carry `acceptUrl` with a secret token, this one time; only its hash is
/// stored. The partner must be eligible (R3) for what it asks. Works in both clouds.
#[utoipa::path(
    tag = "invitations",
    operation_id = "createInvitation",
    params(("mpnId" = MpnId, Path, description = "The inviting partner's MPN ID")),
    request_body = NewInvitation,
    responses(
        (status = 201, description = "The invitation was created", body = CreatedInvitation,
         headers(("Location" = String, description = "URL of the invitation"))),
        (status = 403, description = "Not this partner", body = Problem),
        (status = 422, description = "Invalid body, unknown tenant, product or subscription, `partner_not_found`, `partner_not_eligible` or `partner_id_not_transactable`", body = Problem),
    ),
)]
#[post("/invitations")]
pub async fn create_invitation(
    req: HttpRequest,
    db: web::Data<Db>,
    caller: Caller,
    mpn: web::Path<MpnId>,
    body: ValidJson<NewInvitation>,
) -> Result<HttpResponse, ApiError> {
    let mpn = mpn.into_inner();
    partner_only(&caller, mpn)?;
    let body = body.into_inner();
    check_combination(&body)?;
    let base = public_url(&req);
    let created = db
        .transaction(move |conn| {
            let tenant = tenants::find(conn, body.tenant_id)?.ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "tenantId",
                    "unknown_tenant",
                    format!("no tenant {}", body.tenant_id),
                )])
            })?;
            let mut partner = None;
            if body.requests_delegated_admin {
                partner = Some(eligible_for_tenant(
                    conn,
                    mpn,
                    Capability::DelegatedAdmin,
                    &tenant,
                )?);
            }
            if let Some(offer) = &body.offer {
                offered_product(conn, &tenant, mpn, offer)?;
            }
            advised_subscriptions(conn, &tenant, mpn, &body.subscription_ids, false)?;
            let partner_name = match partner {
                Some(p) => p.name,
                None => invitations::partner_name(conn, mpn.get())?,
            };
            let now = crate::domain::now();
            let token = AcceptToken::generate();
            let days = body.expires_in_days.unwrap_or(MAX_EXPIRY_DAYS);
            let row = invitations::insert(
                conn,
                &InvitationRow {
                    tenant_id: tenant.id,
                    id: Uuid::new_v4(),
                    mpn_id: mpn.get(),
                    status: InvitationStatus::Pending.as_str().to_owned(),
                    terms: body.terms,
                    requests_delegated_admin: body.requests_delegated_admin,
                    roles: to_db_list(&body.roles, DelegatedAdminRole::as_str),
                    delegated_admin_days: body.requests_delegated_admin.then(|| {
                        i32::from(
                            body.delegated_admin_duration
                                .unwrap_or(DelegatedAdminDuration::DEFAULT)
                                .days(),
                        )
                    }),
                    offer_kind: body.offer.as_ref().map(|o| o.kind.as_str().to_owned()),
                    offer_product_id: body.offer.as_ref().map(|o| o.product_id.clone()),
                    offer_quantity: body.offer.as_ref().map(|o| o.quantity),
                    subscription_ids: body.subscription_ids,
                    token_hash: token.hash,
                    expires_at: now + Duration::days(i64::from(days)),
                    created_at: now,
                    created_by: caller.sub.clone(),
                    closed_at: None,
                    closed_by: None,
                    relationship_id: None,
                    offer_subscription_id: None,
                },
            )?;
            let invitation = invitation_view((row, partner_name), now)?;
            let accept_url = format!(
                "{}/v1/invitations/{}?token={}",
                base.as_str(),
                invitation.id,
                token.token
            );
            let created = CreatedInvitation {
                invitation,
                accept_token: token.token,
                accept_url,
            };
            // The mail sender reads the link from this event; it is the one other place
            // the token appears.
            events::record(
                conn,
                "invitation.created",
                Some(tenant.id),
                &caller.sub,
                serde_json::to_value(&created).map_err(ApiError::internal)?,
            )?;
            Ok(created)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/invitations/{}", created.invitation.id),
        ))
        .json(created))
}

/// Invitations are the partner's own: not even an operator acts for it.
fn partner_only(caller: &Caller, mpn: MpnId) -> Result<(), ApiError> {
    crate::api::relationships::act_for_partner(caller, mpn, false)
}

/// A page of invitations.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationPage {
    /// The invitations on this page.
    #[schema(example = json!([
        {
            "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "mpnId": "1234567",
            "partnerName": "Fabrikam Copenhagen",
            "tenantId": "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10",
            "status": "pending",
            "terms": "Fabrikam manages your Microsoft 365 users and licences.",
            "requestsDelegatedAdmin": true,
            "roles": ["userAdministrator", "licenseAdministrator"],
            "delegatedAdminDuration": "P730D",
            "offer": {
                "kind": "trial",
                "productId": "office-365-e3",
                "quantity": 25
            },
            "subscriptionIds": [],
            "expiresAt": "2026-12-26T10:00:00Z",
            "createdAt": "2026-11-26T10:00:00Z",
            "respondedAt": null
        }
    ]))]
    pub items: Vec<Invitation>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvitationQuery {
    /// Only invitations in this status (a pending one past its expiry counts as `expired`).
    pub status: Option<InvitationStatus>,
    /// Only invitations to this tenant.
    pub tenant_id: Option<Uuid>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// Records, once, that pending invitations past their expiry have expired.
fn record_expired(conn: &mut PgConnection, rows: &[InvitationRow]) -> Result<(), ApiError> {
    let expired = rows
        .iter()
        .map(|row| NewEvent {
            event_type: "invitation.expired",
            tenant: Some(row.tenant_id),
            data: serde_json::json!({"invitationId": row.id, "mpnId": row.mpn_id.to_string(), "expiresAt": row.expires_at}),
        })
        .collect();
    Ok(events::record_all(conn, SERVICE_ACTOR, expired)?)
}

/// List the partner's invitations
///
/// The partner's invitations, oldest first, optionally by status and tenant.
#[utoipa::path(
    tag = "invitations",
    operation_id = "listInvitations",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID"), InvitationQuery),
    responses(
        (status = 200, description = "A page of invitations", body = InvitationPage),
        (status = 403, description = "Not this partner", body = Problem),
    ),
)]
#[get("/invitations")]
pub async fn list_invitations(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    mpn: web::Path<MpnId>,
    query: ValidQuery<InvitationQuery>,
) -> Result<web::Json<InvitationPage>, ApiError> {
    let mpn = mpn.into_inner();
    partner_only(&caller, mpn)?;
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let after = page.after_key(crate::api::parse_time_id_key)?;
    let filter = InvitationFilter {
        status: query.status.map(|s| s.as_str().to_owned()),
        tenant: query.tenant_id,
        after,
    };
    let fetch = page.fetch();
    let (rows, now) = db
        .transaction(move |conn| {
            let now = crate::domain::now();
            let expired =
                invitations::expire_overdue_of_partner(conn, mpn.get(), now, SERVICE_ACTOR)?;
            record_expired(conn, &expired)?;
            Ok((
                invitations::list_of_partner(conn, mpn.get(), &filter, now, fetch)?,
                now,
            ))
        })
        .await?;
    let (rows, next_cursor) =
        page.finish(rows, |(r, _)| crate::api::time_id_key(r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(|row| invitation_view(row, now))
        .collect::<Result<_, _>>()?;
    Ok(web::Json(InvitationPage { items, next_cursor }))
}

/// How a request to answer an invitation ended inside its transaction.
enum Answer<T> {
    Done(T),
    /// The invitation turned out to be past its expiry; that was recorded and committed.
    Expired(Uuid),
}

impl<T> Answer<T> {
    fn into_result(self) -> Result<T, ApiError> {
        match self {
            Answer::Done(value) => Ok(value),
            Answer::Expired(id) => Err(expired(id)),
        }
    }
}

fn expired(id: Uuid) -> ApiError {
    ApiError::InvitationExpired(format!(
        "invitation {id} has expired; ask the partner for a new one"
    ))
}

/// Records that a pending invitation past its expiry has expired, at its expiry.
fn expire(conn: &mut PgConnection, row: &InvitationRow) -> Result<InvitationRow, ApiError> {
    let closed = invitations::close(
        conn,
        row,
        &Closing {
            status: InvitationStatus::Expired.as_str(),
            at: row.expires_at,
            by: SERVICE_ACTOR,
            relationship_id: None,
            offer_subscription_id: None,
        },
    )?;
    record_expired(conn, std::slice::from_ref(&closed))?;
    Ok(closed)
}

/// Refuses an answer to an invitation that is not pending. A pending one past its
/// expiry is marked expired (with its event) and `Ok(false)` tells the caller to commit
/// that and answer 410.
fn answerable(
    conn: &mut PgConnection,
    row: &InvitationRow,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    match check_answerable(InvitationStatus::from_db(&row.status)?, row.expires_at, now) {
        Ok(()) => Ok(true),
        Err(NotAnswerable::Expired { overdue: true }) => {
            expire(conn, row)?;
            Ok(false)
        }
        Err(NotAnswerable::Expired { overdue: false }) => Err(expired(row.id)),
        Err(NotAnswerable::Closed(status)) => Err(ApiError::InvitationNotPending(format!(
            "invitation {} is {status}, not pending",
            row.id
        ))),
    }
}

fn no_invitation(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no invitation {id}"))
}

/// Revoke an invitation
///
/// The partner withdraws a pending invitation; its link stops working. 409
/// `invitation_not_pending` once answered or revoked, 410 `invitation_expired` once
/// expired.
#[utoipa::path(
    tag = "invitations",
    operation_id = "revokeInvitation",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID"), ("invitationId" = Uuid, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "The invitation was revoked"),
        (status = 403, description = "Not this partner", body = Problem),
        (status = 404, description = "No such invitation of this partner", body = Problem),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_not_pending`)", body = Problem),
        (status = 410, description = "Expired (`invitation_expired`)", body = Problem),
    ),
)]
#[delete("/invitations/{invitationId}")]
pub async fn revoke_invitation(
    db: web::Data<Db>,
    caller: Caller,
    path: web::Path<(MpnId, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (mpn, id) = path.into_inner();
    partner_only(&caller, mpn)?;
    db.transaction(move |conn| {
        let row = invitations::find_of_partner_for_update(conn, mpn.get(), id)?
            .ok_or_else(|| no_invitation(id))?;
        let now = crate::domain::now();
        if !answerable(conn, &row, now)? {
            return Ok(Answer::Expired(id));
        }
        invitations::close(
            conn,
            &row,
            &Closing {
                status: InvitationStatus::Revoked.as_str(),
                at: now,
                by: &caller.sub,
                relationship_id: None,
                offer_subscription_id: None,
            },
        )?;
        events::record(
            conn,
            "invitation.revoked",
            Some(row.tenant_id),
            &caller.sub,
            serde_json::json!({"invitationId": id, "mpnId": mpn.to_string()}),
        )?;
        Ok(Answer::Done(()))
    })
    .await?
    .into_result()?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// The token from the invitation's link.
    pub token: String,
}

/// Locks the tenant's invitation and checks the token (403 `invalid_token`).
fn invitation_with_token(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    token: &str,
) -> Result<InvitationRow, ApiError> {
    let row = invitations::find_for_update(conn, tenant, id)?.ok_or_else(|| no_invitation(id))?;
    if !token_matches(token, &row.token_hash) {
        return Err(ApiError::InvalidToken(
            "the token does not belong to this invitation".into(),
        ));
    }
    Ok(row)
}

/// Read an invitation
///
/// The customer's admin follows the link and reads the partner's terms, the roles
/// requested and the offer (R8). The invitation must be to the admin's tenant and the
/// token must be the link's.
#[utoipa::path(
    tag = "invitations",
    operation_id = "getInvitation",
    params(("invitationId" = Uuid, Path, description = "The invitation's id"), TokenQuery),
    responses(
        (status = 200, description = "The invitation", body = Invitation),
        (status = 403, description = "Not a tenant admin, or a wrong token (`invalid_token`)", body = Problem),
        (status = 404, description = "No such invitation to the caller's tenant", body = Problem),
    ),
)]
#[get("/invitations/{invitationId}")]
pub async fn get_invitation(
    db: web::Data<Db>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: ValidQuery<TokenQuery>,
) -> Result<web::Json<Invitation>, ApiError> {
    let id = id.into_inner();
    let token = query.into_inner().token;
    let Some(tenant) = caller.admin_of else {
        return Err(ApiError::Forbidden(
            "an invitation is read by an admin of the invited tenant".into(),
        ));
    };
    let view = db
        .transaction(move |conn| {
            let row = invitation_with_token(conn, tenant, id, &token)?;
            let now = crate::domain::now();
            let overdue =
                check_answerable(InvitationStatus::from_db(&row.status)?, row.expires_at, now)
                    == Err(NotAnswerable::Expired { overdue: true });
            let row = if overdue { expire(conn, &row)? } else { row };
            let name = invitations::partner_name(conn, row.mpn_id)?;
            invitation_view((row, name), now)
        })
        .await?;
    Ok(web::Json(view))
}

/// The customer's acceptance.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Acceptance {
    /// The token from the invitation's link.
    #[schema(example = "q3Jx0m7bX1l9cS2uGvY5n8r4T6wZ0aBcDeFgHiJkLmN")]
    pub token: String,
    /// "Yes": authorise the partner as delegated admin. Required (true) when the
    /// invitation requests delegated admin.
    #[serde(default)]
    #[schema(example = true)]
    pub authorize_delegated_admin: bool,
}

/// The customer's refusal.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Refusal {
    /// The token from the invitation's link.
    #[schema(example = "q3Jx0m7bX1l9cS2uGvY5n8r4T6wZ0aBcDeFgHiJkLmN")]
    pub token: String,
}

/// What accepting created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptedInvitation {
    /// The invitation, now `accepted`.
    pub invitation: Invitation,
    /// The tenant's relationships with the partner after accepting (delegated admin,
    /// advisor), as `GET …/partner-relationships` lists them.
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
    pub relationships: Vec<Relationship>,
    /// The trial or subscription created from the offer, with the partner as advisor;
    /// null without an offer.
    #[schema(nullable, value_type = Option<Subscription>)]
    pub subscription: Option<Subscription>,
}

type AnswerPath = web::Path<(Uuid, Uuid)>;

/// Accept an invitation
///
/// The customer says Yes (R8). In one transaction: the delegated admin relationship
/// with the requested roles and duration (replacing an earlier one of the partner), the
/// offered trial or subscription with the partner as advisor (source `invitation`), and
/// the partner as advisor of the subscriptions the invitation names. The partner must
/// still be eligible (R3). Accepting twice creates everything once.
#[utoipa::path(
    tag = "invitations",
    operation_id = "acceptInvitation",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("invitationId" = Uuid, Path, description = "The invitation's id")),
    request_body = Acceptance,
    responses(
        (status = 200, description = "Accepted; what was created", body = AcceptedInvitation),
        (status = 403, description = "Not the tenant's admin, or a wrong token (`invalid_token`)", body = Problem),
        (status = 404, description = "No such tenant or invitation", body = Problem),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_not_pending`), or a named subscription was cancelled meanwhile", body = Problem),
        (status = 410, description = "Expired (`invitation_expired`); the invitation is now `expired`", body = Problem),
        (status = 422, description = "Delegated admin requested but not authorised, or the partner or product is no longer eligible", body = Problem),
    ),
)]
#[post("/invitations/{invitationId}/accept")]
pub async fn accept_invitation(
    db: web::Data<Db>,
    caller: Caller,
    path: AnswerPath,
    body: ValidJson<Acceptance>,
) -> Result<web::Json<AcceptedInvitation>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let body = body.into_inner();
    let accepted = db
        .transaction(move |conn| {
            let (_, tenant) = access::tenant_actor(conn, &caller, tenant_id, ADMINS_ONLY)?;
            let row = invitation_with_token(conn, tenant_id, id, &body.token)?;
            let now = crate::domain::now();
            if !answerable(conn, &row, now)? {
                return Ok(Answer::Expired(id));
            }
            if row.requests_delegated_admin && !body.authorize_delegated_admin {
                return Err(ApiError::validation(vec![FieldError::new(
                    "authorizeDelegatedAdmin",
                    "must_authorize",
                    "this invitation asks for delegated admin: accept it with authorizeDelegatedAdmin true, or decline it",
                )]));
            }
            Ok(Answer::Done(accept(conn, &caller, &tenant, &row, now)?))
        })
        .await?
        .into_result()?;
    Ok(web::Json(accepted))
}

/// Everything accepting creates, after every check has passed.
fn accept(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: &TenantRow,
    row: &InvitationRow,
    now: DateTime<Utc>,
) -> Result<AcceptedInvitation, ApiError> {
    let mpn = MpnId::from_db(row.mpn_id);
    // Check first, then write: a refusal leaves nothing behind.
    if row.requests_delegated_admin {
        eligible_for_tenant(conn, mpn, Capability::DelegatedAdmin, tenant)?;
    }
    let offer = match (&row.offer_kind, &row.offer_product_id, row.offer_quantity) {
        (Some(kind), Some(product_id), Some(quantity)) => {
            let offer = Offer {
                kind: OfferKind::from_db(kind)?,
                product_id: product_id.clone(),
                quantity,
            };
            let product = offered_product(conn, tenant, mpn, &offer)?;
            Some((offer, product))
        }
        _ => None,
    };
    let advised = advised_subscriptions(conn, tenant, mpn, &row.subscription_ids, true).map_err(
        |e| match e {
            ApiError::Validation { detail, .. } => ApiError::Conflict(format!(
                "the invitation can no longer be accepted as it is: {detail}"
            )),
            other => other,
        },
    )?;

    let relationship = if row.requests_delegated_admin {
        Some(grant_delegated_admin(conn, caller, row, now)?)
    } else {
        None
    };
    let subscription = match offer {
        Some((offer, product)) => {
            let mut writes = Writes::default();
            let sub = create_subscription(
                &mut writes,
                caller,
                tenant,
                &product,
                offer.quantity,
                offer.kind == OfferKind::Trial,
                None,
                now,
            );
            let advisor = attach_advisor(
                conn,
                &mut writes,
                caller,
                tenant,
                &product,
                &sub,
                None,
                mpn,
                AssociationSource::Invitation,
                now,
            )?;
            writes.send(conn)?;
            Some(subscription_view(&sub, Some(advisor))?)
        }
        None => None,
    };
    for (sub, product) in &advised {
        let current = subscriptions::current_association(conn, tenant.id, sub.id)?;
        if current.as_ref().is_some_and(|c| c.0.mpn_id == mpn.get()) {
            continue;
        }
        let mut writes = Writes::default();
        attach_advisor(
            conn,
            &mut writes,
            caller,
            tenant,
            product,
            sub,
            current.as_ref().map(|c| &c.0),
            mpn,
            AssociationSource::Invitation,
            now,
        )?;
        let mut changed = sub.clone();
        changed.updated_at = now;
        under_lock(writes.send_saving(conn, changed)?)?;
    }
    let closed = invitations::close(
        conn,
        row,
        &Closing {
            status: InvitationStatus::Accepted.as_str(),
            at: now,
            by: &caller.sub,
            relationship_id: relationship.as_ref().map(|r| r.id),
            offer_subscription_id: subscription.as_ref().map(|s| s.id),
        },
    )?;
    events::record(
        conn,
        "invitation.accepted",
        Some(tenant.id),
        &caller.sub,
        serde_json::json!({
            "invitationId": row.id,
            "mpnId": mpn.to_string(),
            "relationshipId": relationship.as_ref().map(|r| r.id),
            "subscriptionId": subscription.as_ref().map(|s| s.id),
            "advisedSubscriptionIds": row.subscription_ids,
        }),
    )?;
    let relationships = tenant_relationships(conn, tenant.id, now)?
        .into_iter()
        .filter(|r| r.mpn_id == mpn)
        .collect();
    let name = invitations::partner_name(conn, row.mpn_id)?;
    Ok(AcceptedInvitation {
        invitation: invitation_view((closed, name), now)?,
        relationships,
        subscription,
    })
}

/// Authorises the partner as delegated admin (R10), replacing any earlier relationship.
fn grant_delegated_admin(
    conn: &mut PgConnection,
    caller: &Caller,
    row: &InvitationRow,
    now: DateTime<Utc>,
) -> Result<RelationshipRow, ApiError> {
    let kind = RelationshipKind::DelegatedAdmin.as_str();
    if let Some(earlier) =
        relationships::find_unended_of_for_update(conn, row.tenant_id, row.mpn_id, kind)?
    {
        end_delegated_admin_row(conn, caller, &earlier, now, "superseded")?;
    }
    let duration = row
        .delegated_admin_days
        .map(DelegatedAdminDuration::from_days)
        .transpose()
        .map_err(ApiError::internal)?
        .unwrap_or(DelegatedAdminDuration::DEFAULT);
    let created = relationships::insert(
        conn,
        &RelationshipRow {
            tenant_id: row.tenant_id,
            id: Uuid::new_v4(),
            mpn_id: row.mpn_id,
            kind: kind.to_owned(),
            roles: row.roles.clone(),
            since: now,
            expires_at: Some(duration.expiry(now)),
            ended_at: None,
            ended_by: None,
            invitation_id: Some(row.id),
        },
    )
    .map_err(concurrent_relationship)?;
    events::record(
        conn,
        "relationship.created",
        Some(row.tenant_id),
        &caller.sub,
        relationship_data(&created, "invitationAccepted"),
    )?;
    Ok(created)
}

/// Decline an invitation
///
/// The customer says No (R8); nothing is created.
#[utoipa::path(
    tag = "invitations",
    operation_id = "declineInvitation",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), ("invitationId" = Uuid, Path, description = "The invitation's id")),
    request_body = Refusal,
    responses(
        (status = 200, description = "Declined", body = Invitation),
        (status = 403, description = "Not the tenant's admin, or a wrong token (`invalid_token`)", body = Problem),
        (status = 404, description = "No such tenant or invitation", body = Problem),
        (status = 409, description = "Already accepted, declined or revoked (`invitation_not_pending`)", body = Problem),
        (status = 410, description = "Expired (`invitation_expired`); the invitation is now `expired`", body = Problem),
    ),
)]
#[post("/invitations/{invitationId}/decline")]
pub async fn decline_invitation(
    db: web::Data<Db>,
    caller: Caller,
    path: AnswerPath,
    body: ValidJson<Refusal>,
) -> Result<web::Json<Invitation>, ApiError> {
    let (tenant_id, id) = path.into_inner();
    let token = body.into_inner().token;
    let declined = db
        .transaction(move |conn| {
            access::tenant_actor(conn, &caller, tenant_id, ADMINS_ONLY)?;
            let row = invitation_with_token(conn, tenant_id, id, &token)?;
            let now = crate::domain::now();
            if !answerable(conn, &row, now)? {
                return Ok(Answer::Expired(id));
            }
            let closed = invitations::close(
                conn,
                &row,
                &Closing {
                    status: InvitationStatus::Declined.as_str(),
                    at: now,
                    by: &caller.sub,
                    relationship_id: None,
                    offer_subscription_id: None,
                },
            )?;
            events::record(
                conn,
                "invitation.declined",
                Some(tenant_id),
                &caller.sub,
                serde_json::json!({"invitationId": id, "mpnId": row.mpn_id.to_string()}),
            )?;
            let name = invitations::partner_name(conn, row.mpn_id)?;
            Ok(Answer::Done(invitation_view((closed, name), now)?))
        })
        .await?
        .into_result()?;
    Ok(web::Json(declined))
}
