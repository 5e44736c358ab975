//! Who is acting on a tenant's subscriptions, decided inside the request's transaction.

use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::models::{AssociationRow, PartnerRow, ProductRow, SubscriptionRow, TenantRow};
use crate::db::subscriptions::{self, AdvisorAt, NamedAssociation};
use crate::db::tenants;
use crate::domain::MpnId;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Admin,
    Operator,
    /// A partner with an open reseller relationship with the tenant.
    Reseller(i32),
}

/// Which callers a call admits besides the tenant's admins.
#[derive(Debug, Clone, Copy)]
pub struct Admits {
    pub operator: bool,
    pub reseller: bool,
}

pub const ADMINS_ONLY: Admits = Admits {
    operator: false,
    reseller: false,
};
pub const ADMINS_AND_RESELLER: Admits = Admits {
    operator: false,
    reseller: true,
};
pub const ADMINS_OPERATOR_AND_RESELLER: Admits = Admits {
    operator: true,
    reseller: true,
};
pub const ADMINS_AND_OPERATOR: Admits = Admits {
    operator: true,
    reseller: false,
};

pub fn no_tenant(tenant: Uuid) -> ApiError {
    ApiError::NotFound(format!("no tenant {tenant}"))
}

/// The partner whose reseller relationship with the tenant would admit the caller, when
/// the token alone does not decide.
pub fn reseller_to_check(caller: &Caller, tenant: Uuid, admits: Admits) -> Option<i32> {
    let decided = caller.is_admin_of(tenant) || (admits.operator && caller.operator);
    (!decided && admits.reseller)
        .then_some(caller.partner)
        .flatten()
        .map(|mpn| mpn.get())
}

/// The caller's standing with the tenant, given whether the partner named by
/// [`reseller_to_check`] resells to it. Callers with no standing learn nothing about
/// the tenant (404), except roles the call never admits (403).
pub fn actor(
    caller: &Caller,
    tenant: Uuid,
    admits: Admits,
    resells: bool,
) -> Result<Actor, ApiError> {
    if caller.is_admin_of(tenant) {
        Ok(Actor::Admin)
    } else if admits.operator && caller.operator {
        Ok(Actor::Operator)
    } else if let (true, Some(mpn)) = (admits.reseller, caller.partner) {
        if resells {
            Ok(Actor::Reseller(mpn.get()))
        } else {
            Err(no_tenant(tenant))
        }
    } else if caller.admin_of.is_some() {
        Err(no_tenant(tenant))
    } else {
        Err(ApiError::Forbidden(
            "this call is not open to the caller's roles".into(),
        ))
    }
}

/// Resolves the caller's standing with the tenant (see [`actor`]) and loads the tenant.
pub fn tenant_actor(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    admits: Admits,
) -> Result<(Actor, TenantRow), ApiError> {
    let actor = standing(conn, caller, tenant, admits)?;
    let row = tenants::find(conn, tenant)?.ok_or_else(|| no_tenant(tenant))?;
    Ok((actor, row))
}

/// What a purchase starts from: the caller's standing, the tenant, and the product and
/// partner the caller names (absent when there is no such row), in one statement.
pub fn tenant_actor_with_product_and_partner(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    admits: Admits,
    product: &str,
    partner: Option<MpnId>,
) -> Result<(Actor, TenantRow, Option<ProductRow>, Option<PartnerRow>), ApiError> {
    let actor = standing(conn, caller, tenant, admits)?;
    let (row, product, partner) =
        tenants::find_with_product_and_partner(conn, tenant, product, partner.map(MpnId::get))?
            .ok_or_else(|| no_tenant(tenant))?;
    Ok((actor, row, product, partner))
}

/// [`actor`], asking the database whether a partner caller resells to the tenant.
fn standing(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    admits: Admits,
) -> Result<Actor, ApiError> {
    let resells = match reseller_to_check(caller, tenant, admits) {
        Some(mpn) => subscriptions::is_reseller(conn, tenant, mpn)?,
        None => false,
    };
    actor(caller, tenant, admits, resells)
}

/// What a change of one subscription starts from, read in one snapshot and locking
/// nothing: the writes go only if the subscription is still at this version.
pub struct Change {
    pub actor: Actor,
    pub tenant: TenantRow,
    pub subscription: SubscriptionRow,
    pub product: ProductRow,
    /// The current advisor association.
    pub current: Option<AssociationRow>,
    /// The partner the change names, if any and if it exists.
    pub partner: Option<PartnerRow>,
}

/// The caller's standing and the [`Change`] of the subscription, in one statement for
/// an admin or operator.
pub fn subscription_for_change(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    id: Uuid,
    admits: Admits,
    partner: Option<MpnId>,
) -> Result<Change, ApiError> {
    let actor = standing(conn, caller, tenant, admits)?;
    let (tenant_row, subscription, product, current, partner) =
        subscriptions::find_for_change(conn, tenant, id, partner.map(MpnId::get))?
            .ok_or_else(|| no_tenant(tenant))?;
    match subscription.zip(product) {
        Some((subscription, product)) if visible(actor, &subscription) => Ok(Change {
            actor,
            tenant: tenant_row,
            subscription,
            product,
            current,
            partner,
        }),
        _ => Err(no_subscription(id)),
    }
}

/// One subscription with its advisor (current or at an instant), as the caller may see
/// it: 404 for a missing tenant or subscription and for one the caller may not see.
pub fn read_subscription(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    id: Uuid,
    admits: Admits,
    advisor: AdvisorAt,
) -> Result<(SubscriptionRow, Option<NamedAssociation>), ApiError> {
    let reseller = reseller_to_check(caller, tenant, admits);
    let read = subscriptions::read(conn, tenant, id, reseller, advisor)?;
    let actor = actor(
        caller,
        tenant,
        admits,
        read.as_ref().is_some_and(|r| r.resells),
    )?;
    let read = read.ok_or_else(|| no_tenant(tenant))?;
    let row = read
        .subscription
        .filter(|row| visible(actor, row))
        .ok_or_else(|| no_subscription(id))?;
    Ok((row, read.advisor))
}

/// A reseller sees only the subscriptions it sold; everyone else admitted sees all.
pub fn visible(actor: Actor, sub: &SubscriptionRow) -> bool {
    match actor {
        Actor::Reseller(mpn) => sub.reseller_mpn_id == Some(mpn),
        Actor::Admin | Actor::Operator => true,
    }
}

pub fn no_subscription(id: Uuid) -> ApiError {
    ApiError::NotFound(format!("no subscription {id}"))
}
