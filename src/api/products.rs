use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::db::models::ProductRow;
use crate::db::{products, Db};
use crate::domain::{from_db_list, Cloud, ServiceFamily};
use crate::error::ApiError;
use crate::extract::ValidQuery;

/// A product of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// Stable slug.
    #[schema(example = "office-365-e3")]
    pub id: String,
    /// The product's commercial name.
    #[schema(example = "Office 365 E3")]
    pub name: String,
    /// The family of services the product belongs to.
    pub service_family: ServiceFamily,
    /// The clouds the product is sold in.
    #[schema(example = json!(["worldwide", "china21Vianet"]))]
    pub clouds: Vec<Cloud>,
    /// Whether a trial can be started instead of a purchase.
    #[schema(example = true)]
    pub trial_available: bool,
}

impl TryFrom<ProductRow> for Product {
    type Error = ApiError;
    fn try_from(row: ProductRow) -> Result<Self, ApiError> {
        Ok(Product {
            service_family: ServiceFamily::from_db(&row.service_family)?,
            clouds: from_db_list(&row.clouds, Cloud::from_db)?,
            id: row.id,
            name: row.name,
            trial_available: row.trial_available,
        })
    }
}

/// A page of products.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductPage {
    /// The products on this page.
    #[schema(example = json!([
        {
            "id": "office-365-e3",
            "name": "Office 365 E3",
            "serviceFamily": "microsoft365",
            "clouds": ["worldwide", "china21Vianet"],
            "trialAvailable": true
        }
    ]))]
    pub items: Vec<Product>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Only products sold in this cloud.
    pub cloud: Option<Cloud>,
    /// Only products of this service family.
    pub service_family: Option<ServiceFamily>,
    /// Page size.
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// List the catalogue
///
/// The products tenants can buy, with the clouds they are sold in and whether a
/// trial exists. Any authenticated caller may read it.
#[utoipa::path(
    tag = "products",
    operation_id = "listProducts",
    params(ProductQuery),
    responses((status = 200, description = "A page of products", body = ProductPage)),
)]
#[get("/products")]
pub async fn list_products(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    _caller: Caller,
    query: ValidQuery<ProductQuery>,
) -> Result<web::Json<ProductPage>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let filter = products::ProductFilter {
        cloud: query.cloud.map(|c| c.as_str().to_owned()),
        service_family: query.service_family.map(|f| f.as_str().to_owned()),
        after: page.after.as_ref().map(|c| c.key().to_owned()),
    };
    let limit = page.fetch();
    let rows = db
        .run(move |conn| Ok(products::list(conn, &filter, limit)?))
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.id.clone());
    let items = rows
        .into_iter()
        .map(Product::try_from)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(ProductPage { items, next_cursor }))
}
