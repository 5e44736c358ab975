//! HTTP handlers and wire types, one module per resource.

pub mod access;
pub mod advisor;
pub mod events;
pub mod health;
pub mod invitations;
pub mod matches;
pub mod partners;
pub mod products;
pub mod relationships;
pub mod subscriptions;
pub mod tenants;
pub mod timestamp;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::Cursor;
use crate::error::ApiError;

/// The configured largest page (`PARTNERLINK_MAX_PAGE_SIZE`).
#[derive(Debug, Clone, Copy)]
pub struct MaxPageSize(pub i64);

pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// A validated `?limit=&cursor=` pair.
#[derive(Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(
        limit: Option<i64>,
        cursor: Option<&str>,
        max: MaxPageSize,
    ) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE.min(max.0));
        if !(1..=max.0).contains(&limit) {
            return Err(ApiError::bad_parameter(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {}", max.0),
            ));
        }
        // An empty cursor is the first page, as if none were sent.
        let after = cursor
            .filter(|c| !c.is_empty())
            .map(|c| {
                Cursor::decode(c)
                    .map_err(|e| ApiError::bad_parameter("cursor", "invalid_cursor", e.to_string()))
            })
            .transpose()?;
        Ok(PageRequest { limit, after })
    }

    /// The cursor's sort key read by `parse`; a key it cannot read is a 400.
    pub fn after_key<K>(
        &self,
        parse: impl FnOnce(&str) -> Option<K>,
    ) -> Result<Option<K>, ApiError> {
        self.after
            .as_ref()
            .map(|c| parse(c.key()).ok_or_else(invalid_cursor))
            .transpose()
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the fetched rows to the page and makes the cursor of the next one.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|last| Cursor::after(key(last)).encode())
        } else {
            None
        };
        (rows, next)
    }
}

pub fn invalid_cursor() -> ApiError {
    ApiError::bad_parameter(
        "cursor",
        "invalid_cursor",
        "the cursor is not one this service issued",
    )
}

/// The sort key of lists ordered by creation time, then id.
pub fn time_id_key(at: DateTime<Utc>, id: Uuid) -> String {
    format!(
        "{}|{id}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    )
}

pub fn parse_time_id_key(key: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (at, id) = key.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id.parse().ok()?,
    ))
}
