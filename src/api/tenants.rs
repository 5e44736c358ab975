use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::db::models::TenantRow;
use crate::db::{tenants, Db};
use crate::domain::{Cloud, CountryCode};
use crate::error::{ApiError, FieldError};
use crate::extract::ValidJson;
use crate::validation::not_blank;

/// A customer tenant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// The tenant's id.
    #[schema(example = "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a10")]
    pub id: Uuid,
    /// The organisation's name.
    #[schema(example = "Contoso A/S")]
    pub display_name: String,
    /// The cloud the tenant lives in.
    pub cloud: Cloud,
    /// The tenant's country/region.
    pub country_code: CountryCode,
    /// When the tenant was created.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = ApiError;
    fn try_from(row: TenantRow) -> Result<Self, ApiError> {
        Ok(Tenant {
            cloud: Cloud::from_db(&row.cloud)?,
            country_code: CountryCode::from_db(&row.country_code)?,
            id: row.id,
            display_name: row.display_name,
            created_at: row.created_at,
        })
    }
}

/// A tenant to create.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTenant {
    /// The organisation's name, 1 to 200 characters, not blank.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "Contoso A/S")]
    pub display_name: String,
    /// The cloud the tenant lives in.
    pub cloud: Cloud,
    /// Country/region of the tenant; a 21Vianet tenant is in China (`CN`).
    pub country_code: CountryCode,
}

/// Create a tenant
///
/// Registers a customer tenant in one cloud and country/region. Operators only.
/// A `china21Vianet` tenant must be in `CN`.
#[utoipa::path(
    tag = "tenants",
    operation_id = "createTenant",
    request_body = NewTenant,
    responses(
        (status = 201, description = "The tenant was created", body = Tenant,
         headers(("Location" = String, description = "URL of the new tenant"))),
    ),
)]
#[post("/tenants")]
pub async fn create_tenant(
    db: web::Data<Db>,
    caller: Caller,
    body: ValidJson<NewTenant>,
) -> Result<HttpResponse, ApiError> {
    caller.require_operator()?;
    let body = body.into_inner();
    if body.cloud == Cloud::China21Vianet && body.country_code.as_str() != "CN" {
        return Err(ApiError::validation(vec![FieldError::new(
            "countryCode",
            "cloud_country_mismatch",
            "Office 365 operated by 21Vianet serves tenants in China only (countryCode CN)",
        )]));
    }
    let row = TenantRow {
        id: Uuid::new_v4(),
        display_name: body.display_name.trim().to_owned(),
        cloud: body.cloud.as_str().to_owned(),
        country_code: body.country_code.as_str().to_owned(),
        created_at: crate::domain::now(),
    };
    let row = db.run(move |conn| Ok(tenants::insert(conn, &row)?)).await?;
    let tenant = Tenant::try_from(row)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/tenants/{}", tenant.id)))
        .json(tenant))
}

/// Read a tenant
///
/// Operators read any tenant; a tenant admin reads its own. Another tenant's id
/// answers 404, exactly as a missing one does.
#[utoipa::path(
    tag = "tenants",
    operation_id = "getTenant",
    params(("tenantId" = Uuid, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The tenant", body = Tenant),
        (status = 404, description = "No such tenant (or not yours)", body = crate::error::Problem),
    ),
)]
#[get("")]
pub async fn get_tenant(
    db: web::Data<Db>,
    caller: Caller,
    tenant_id: web::Path<Uuid>,
) -> Result<web::Json<Tenant>, ApiError> {
    let tenant_id = tenant_id.into_inner();
    caller.require_tenant_access(tenant_id)?;
    let row = db
        .run(move |conn| Ok(tenants::find(conn, tenant_id)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no tenant {tenant_id}")))?;
    Ok(web::Json(Tenant::try_from(row)?))
}
