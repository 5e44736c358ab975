//! Who is acting on a tenant's subscriptions, decided inside the request's transaction.

use diesel::PgConnection;
use uuid::Uuid;

use crate::auth::Caller;
use crate::db::models::{SubscriptionRow, TenantRow};
use crate::db::{subscriptions, tenants};
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

fn no_tenant(tenant: Uuid) -> ApiError {
    ApiError::NotFound(format!("no tenant {tenant}"))
}

/// Resolves the caller's standing with the tenant and loads the tenant. Callers with
/// no standing learn nothing about the tenant (404), except roles the call never
/// admits (403).
pub fn tenant_actor(
    conn: &mut PgConnection,
    caller: &Caller,
    tenant: Uuid,
    admits: Admits,
) -> Result<(Actor, TenantRow), ApiError> {
    let actor = if caller.is_admin_of(tenant) {
        Actor::Admin
    } else if admits.operator && caller.operator {
        Actor::Operator
    } else if let (true, Some(mpn)) = (admits.reseller, caller.partner) {
        if !subscriptions::is_reseller(conn, tenant, mpn.get())? {
            return Err(no_tenant(tenant));
        }
        Actor::Reseller(mpn.get())
    } else if caller.admin_of.is_some() {
        return Err(no_tenant(tenant));
    } else {
        return Err(ApiError::Forbidden(
            "this call is not open to the caller's roles".into(),
        ));
    };
    let row = tenants::find(conn, tenant)?.ok_or_else(|| no_tenant(tenant))?;
    Ok((actor, row))
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
