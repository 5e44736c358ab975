//! Partner invitations (R8).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::InvitationRow;
use super::schema::{invitations as inv, partners};

/// An invitation with the partner's name, as the API shows it.
pub type NamedInvitation = (InvitationRow, String);

pub fn insert(conn: &mut PgConnection, row: &InvitationRow) -> QueryResult<InvitationRow> {
    diesel::insert_into(inv::table)
        .values(row)
        .returning(InvitationRow::as_returning())
        .get_result(conn)
}

/// Locks the invitation: answering it (accept, decline, revoke, expire) is serialised
/// here, so two concurrent acceptances create everything once.
pub fn find_for_update(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> QueryResult<Option<InvitationRow>> {
    inv::table
        .find((tenant, id))
        .select(InvitationRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Locks one of the partner's invitations, whatever its tenant.
pub fn find_of_partner_for_update(
    conn: &mut PgConnection,
    mpn: i32,
    id: Uuid,
) -> QueryResult<Option<InvitationRow>> {
    inv::table
        .filter(inv::id.eq(id))
        .filter(inv::mpn_id.eq(mpn))
        .select(InvitationRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn partner_name(conn: &mut PgConnection, mpn: i32) -> QueryResult<String> {
    partners::table.find(mpn).select(partners::name).first(conn)
}

/// Filters of a partner's invitation list.
#[derive(Debug, Default)]
pub struct InvitationFilter {
    /// The status as callers see it: a pending invitation past its expiry is `expired`.
    pub status: Option<String>,
    pub tenant: Option<Uuid>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

/// The partner's invitations, oldest first.
pub fn list_of_partner(
    conn: &mut PgConnection,
    mpn: i32,
    filter: &InvitationFilter,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<NamedInvitation>> {
    let mut query = inv::table
        .inner_join(partners::table)
        .filter(inv::mpn_id.eq(mpn))
        .select((InvitationRow::as_select(), partners::name))
        .into_boxed();
    match filter.status.as_deref() {
        None => {}
        Some("pending") => {
            query = query
                .filter(inv::status.eq("pending"))
                .filter(inv::expires_at.gt(now))
        }
        Some("expired") => {
            query = query.filter(
                inv::status
                    .eq("expired")
                    .or(inv::status.eq("pending").and(inv::expires_at.le(now))),
            )
        }
        Some(other) => query = query.filter(inv::status.eq(other.to_owned())),
    }
    if let Some(tenant) = filter.tenant {
        query = query.filter(inv::tenant_id.eq(tenant));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(
            inv::created_at
                .gt(at)
                .or(inv::created_at.eq(at).and(inv::id.gt(id))),
        );
    }
    query
        .order((inv::created_at, inv::id))
        .limit(limit)
        .load(conn)
}

/// What closing an invitation records.
pub struct Closing<'a> {
    pub status: &'a str,
    pub at: DateTime<Utc>,
    pub by: &'a str,
    pub relationship_id: Option<Uuid>,
    pub offer_subscription_id: Option<Uuid>,
}

/// Takes a pending invitation out of `pending`.
pub fn close(
    conn: &mut PgConnection,
    row: &InvitationRow,
    closing: &Closing,
) -> QueryResult<InvitationRow> {
    diesel::update(inv::table.find((row.tenant_id, row.id)))
        .filter(inv::status.eq("pending"))
        .set((
            inv::status.eq(closing.status),
            inv::closed_at.eq(closing.at),
            inv::closed_by.eq(closing.by),
            inv::relationship_id.eq(closing.relationship_id),
            inv::offer_subscription_id.eq(closing.offer_subscription_id),
        ))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
}

/// Marks the partner's pending invitations past their expiry as expired (at their
/// expiry) and returns them, so the `invitation.expired` event is written once.
pub fn expire_overdue_of_partner(
    conn: &mut PgConnection,
    mpn: i32,
    now: DateTime<Utc>,
    by: &str,
) -> QueryResult<Vec<InvitationRow>> {
    diesel::update(
        inv::table
            .filter(inv::mpn_id.eq(mpn))
            .filter(inv::status.eq("pending"))
            .filter(inv::expires_at.le(now)),
    )
    .set((
        inv::status.eq("expired"),
        inv::closed_at.eq(inv::expires_at.nullable()),
        inv::closed_by.eq(by),
    ))
    .returning(InvitationRow::as_returning())
    .get_results(conn)
}
