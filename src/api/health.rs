use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::Db;
use crate::error::{ApiError, Problem};
use crate::metrics::Metrics;

/// The service's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the check passed.
    #[schema(example = "ok")]
    pub status: String,
}

/// Liveness
///
/// Answers while the process serves HTTP; it does not touch the database.
#[utoipa::path(
    tag = "operations",
    operation_id = "getLiveness",
    security(()),
    responses((status = 200, description = "The process is alive", body = Health)),
)]
#[get("/health/live")]
pub async fn live() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Readiness
///
/// Ready when a pooled database connection answers; 503 otherwise, so a load
/// balancer stops sending traffic until the database is back.
#[utoipa::path(
    tag = "operations",
    operation_id = "getReadiness",
    security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database cannot be reached", body = Problem),
    ),
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<Db>) -> Result<web::Json<Health>, ApiError> {
    db.run(|conn| {
        conn.batch_execute("SELECT 1")
            .map_err(|_| ApiError::Unavailable("the database does not answer".into()))
    })
    .await?;
    Ok(web::Json(Health {
        status: "ok".into(),
    }))
}

/// Metrics
///
/// Prometheus text format: requests by route template and status, request latency,
/// and the database pool's connections, idle connections and waiting requests.
#[utoipa::path(
    tag = "operations",
    operation_id = "getMetrics",
    security(()),
    responses((status = 200, description = "Prometheus exposition text", body = String, content_type = "text/plain; version=0.0.4")),
)]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>, db: web::Data<Db>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(db.stats(), db.max_size()))
}
