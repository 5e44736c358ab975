use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::MaxPageSize;
use crate::auth::Caller;
use crate::db::models::EventRow;
use crate::db::{events, Db};
use crate::error::ApiError;
use crate::extract::ValidQuery;

/// A change, as recorded in the transactional outbox.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Strictly increasing: the order in which the feed first served committed events.
    #[schema(example = 42)]
    pub sequence: i64,
    /// The event's id.
    #[schema(example = "9d6f1c1e-3f1b-4b8e-8a55-0f2b7c5d1e22")]
    pub id: Uuid,
    /// `subscription.purchased`, `subscription.updated`, `advisor.added`, `advisor.changed`, `advisor.removed`, …
    #[serde(rename = "type")]
    #[schema(example = "advisor.changed")]
    pub event_type: String,
    /// The tenant the change concerns; null when it concerns none.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub tenant_id: Option<Uuid>,
    /// When the change was committed.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub occurred_at: DateTime<Utc>,
    /// The `sub` of the caller that made the change.
    #[schema(example = "admin@contoso.example")]
    pub actor: String,
    /// The event's details.
    #[schema(schema_with = event_data_schema)]
    pub data: serde_json::Value,
}

/// `data` as an object with an example: utoipa drops the example of a `value_type = Object`.
fn event_data_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Object)
        .description(Some("The event's details."))
        .examples([serde_json::json!({
            "subscriptionId": "3f1c2a4e-7d52-4a0c-9a7e-1b2c3d4e5f60",
            "mpnId": "2345678",
            "previousMpnId": "1234567"
        })])
        .build()
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        Event {
            sequence: row.sequence,
            id: row.id,
            event_type: row.type_,
            tenant_id: row.tenant_id,
            occurred_at: row.occurred_at,
            actor: row.actor,
            data: row.data,
        }
    }
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// The events on this page, by increasing `sequence`.
    #[schema(example = json!([
        {
            "sequence": 42,
            "id": "9d6f1c1e-3f1b-4b8e-8a55-0f2b7c5d1e22",
            "type": "advisor.changed",
            "tenantId": "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10",
            "occurredAt": "2026-11-26T10:00:00Z",
            "actor": "admin@contoso.example",
            "data": {
                "mpnId": "2345678",
                "previousMpnId": "1234567",
                "subscriptionId": "3f1c2a4e-7d52-4a0c-9a7e-1b2c3d4e5f60"
            }
        }
    ]))]
    pub items: Vec<Event>,
    /// The `after` value of the next page (the last sequence served); null on the last page.
    #[schema(example = "42")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events with a greater sequence (default 0: from the start).
    #[param(minimum = 0, example = 0)]
    pub after: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
}

/// Read the event feed
///
/// The outbox of every committed change, in the order of `sequence`, which an event
/// gets when the feed first reads it after its commit: a later page never holds a
/// smaller sequence than an earlier one. Operators only.
#[utoipa::path(
    tag = "events",
    operation_id = "listEvents",
    params(EventQuery),
    responses((status = 200, description = "A page of events", body = EventPage)),
)]
#[get("/events")]
pub async fn list_events(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    query: ValidQuery<EventQuery>,
) -> Result<web::Json<EventPage>, ApiError> {
    caller.require_operator()?;
    let query = query.into_inner();
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_parameter(
            "after",
            "out_of_range",
            "after must be 0 or more",
        ));
    }
    let page = crate::api::PageRequest::parse(query.limit, None, **max)?;
    let fetch = page.fetch();
    let rows = db
        .run(move |conn| Ok(events::list(conn, after, fetch)?))
        .await?;
    let more = rows.len() as i64 > page.limit;
    let items: Vec<Event> = rows
        .into_iter()
        .take(page.limit as usize)
        .map(Event::from)
        .collect();
    let next_cursor = if more {
        items.last().map(|e| e.sequence.to_string())
    } else {
        None
    };
    Ok(web::Json(EventPage { items, next_cursor }))
}
