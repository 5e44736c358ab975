//! Idempotency keys, claimed in the same transaction as the change they guard.

use chrono::Duration;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::idempotency_keys as keys;

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::hours(24);

pub enum Claim {
    /// The key is new (or expired): the caller does the work and saves the response.
    Fresh,
    /// The first request with this key completed: replay its response.
    Replay {
        request_hash: String,
        status: u16,
        body: serde_json::Value,
    },
    /// A request with this key is still running.
    InProgress,
}

/// Claims a key. A transaction-scoped advisory lock tells a running twin apart
/// without waiting for it; the row itself is written `ON CONFLICT DO NOTHING`.
pub fn claim(
    conn: &mut PgConnection,
    tenant: Uuid,
    caller: &str,
    key: &str,
    hash: &str,
) -> QueryResult<Claim> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtextextended($1 || '/' || $2 || '/' || $3, 0)) AS locked")
        .bind::<diesel::sql_types::Text, _>(tenant.to_string())
        .bind::<diesel::sql_types::Text, _>(caller)
        .bind::<diesel::sql_types::Text, _>(key)
        .get_result(conn)?;
    if !locked.locked {
        return Ok(Claim::InProgress);
    }
    let now = crate::domain::now();
    diesel::delete(
        keys::table
            .filter(keys::tenant_id.eq(tenant))
            .filter(keys::caller.eq(caller))
            .filter(keys::key.eq(key))
            .filter(keys::created_at.lt(now - RETENTION)),
    )
    .execute(conn)?;
    let inserted = diesel::insert_into(keys::table)
        .values((
            keys::tenant_id.eq(tenant),
            keys::caller.eq(caller),
            keys::key.eq(key),
            keys::request_hash.eq(hash),
            keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (request_hash, status, body): (String, Option<i32>, Option<serde_json::Value>) =
        keys::table
            .find((tenant, caller, key))
            .select((keys::request_hash, keys::status_code, keys::response_body))
            .first(conn)?;
    Ok(match (status, body) {
        (Some(status), Some(body)) => Claim::Replay {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        _ => Claim::InProgress,
    })
}

pub fn complete(
    conn: &mut PgConnection,
    tenant: Uuid,
    caller: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> QueryResult<()> {
    diesel::update(keys::table.find((tenant, caller, key)))
        .set((
            keys::status_code.eq(i32::from(status)),
            keys::response_body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}
