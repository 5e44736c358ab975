use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::access::{self, ADMINS_AND_OPERATOR};
use crate::api::partners::Partner;
use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::db::{partners, products, Db};
use crate::error::ApiError;
use crate::extract::ValidQuery;

/// A partner able to advise the tenant on the product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerMatch {
    /// The matching partner.
    pub partner: Partner,
    /// Whether the partner already advises, resells to or administers the tenant.
    #[schema(example = true)]
    pub works_with_tenant: bool,
}

/// A page of matches, best first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerMatchPage {
    /// The matches on this page, best first.
    #[schema(example = json!([
        {
            "partner": {
                "mpnId": "1234567",
                "kind": "global",
                "globalMpnId": null,
                "name": "Fabrikam Consulting ApS",
                "clouds": ["worldwide"],
                "countryCodes": ["DK", "SE"],
                "serviceFamilies": ["microsoft365", "dynamics365"],
                "capabilities": ["advisor", "reseller"],
                "status": "active",
                "contactEmail": "partners@fabrikam.example",
                "createdAt": "2026-11-26T10:00:00Z"
            },
            "worksWithTenant": true
        }
    ]))]
    pub items: Vec<PartnerMatch>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    /// The product the tenant wants help with.
    #[param(example = "office-365-e3")]
    pub product_id: String,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// Match partners
///
/// Partners that may advise the tenant on the product (R2, R3): active location ids
/// with the advisor capability serving the tenant's cloud, country/region and the
/// product's service family. Ranked: partners already working with the tenant first,
/// then those serving more service families, then by name and MPN ID.
#[utoipa::path(
    tag = "partners",
    operation_id = "matchPartners",
    params(("tenantId" = Uuid, Path, description = "The tenant's id"), MatchQuery),
    responses((status = 200, description = "Eligible partners, best first", body = PartnerMatchPage)),
)]
#[get("/partner-matches")]
pub async fn match_partners(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    caller: Caller,
    tenant_id: web::Path<Uuid>,
    query: ValidQuery<MatchQuery>,
) -> Result<web::Json<PartnerMatchPage>, ApiError> {
    let tenant_id = tenant_id.into_inner();
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let offset = page
        .after_key(|key| key.parse::<i64>().ok().filter(|o| *o >= 0))?
        .unwrap_or(0);
    let fetch = page.fetch();
    let rows = db
        .run(move |conn| {
            let (_, tenant) = access::tenant_actor(conn, &caller, tenant_id, ADMINS_AND_OPERATOR)?;
            let product = products::find(conn, &query.product_id)?.ok_or_else(|| {
                ApiError::bad_parameter(
                    "productId",
                    "unknown_product",
                    format!("no product {}", query.product_id),
                )
            })?;
            if !product.clouds.contains(&tenant.cloud) {
                return Ok(Vec::new());
            }
            let target = partners::MatchTarget {
                tenant: tenant_id,
                cloud: &tenant.cloud,
                country: &tenant.country_code,
                service: &product.service_family,
            };
            Ok(partners::matches(conn, &target, offset, fetch)?)
        })
        .await?;
    let more = rows.len() as i64 > page.limit;
    let items = rows
        .into_iter()
        .take(page.limit as usize)
        .map(|row| {
            Ok(PartnerMatch {
                partner: Partner::from(row.partner),
                works_with_tenant: row.works_with_tenant,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let next_cursor =
        more.then(|| crate::domain::Cursor::after((offset + page.limit).to_string()).encode());
    Ok(web::Json(PartnerMatchPage { items, next_cursor }))
}
