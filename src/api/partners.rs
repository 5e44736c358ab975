use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::{MaxPageSize, PageRequest};
use crate::auth::Caller;
use crate::db::models::{PartnerChanges, PartnerRow};
use crate::db::{partners, Db};
use crate::domain::{
    sorted_unique, Capability, Cloud, CountryCode, MpnId, PartnerKind, PartnerStatus, ServiceFamily,
};
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ValidJson, ValidQuery};
use crate::validation::{non_empty_unique, not_blank};

/// A partner organisation (`global`) or one of its business locations (`location`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// The partner's MPN ID.
    pub mpn_id: MpnId,
    /// An organisation (`global`) or one of its business locations (`location`).
    pub kind: PartnerKind,
    /// The organisation's global MPN ID, for a location; null for a global id.
    #[schema(value_type = Option<String>, pattern = "^(?:[1-9][0-9]{4,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$", example = "1234567")]
    pub global_mpn_id: Option<MpnId>,
    /// The partner's name.
    #[schema(example = "Fabrikam Consulting ApS")]
    pub name: String,
    /// The clouds the partner serves.
    #[schema(example = json!(["worldwide"]))]
    pub clouds: Vec<Cloud>,
    /// The countries/regions the partner serves.
    #[schema(example = json!(["DK", "SE"]))]
    pub country_codes: Vec<CountryCode>,
    /// The service families the partner serves.
    #[schema(example = json!(["microsoft365", "dynamics365"]))]
    pub service_families: Vec<ServiceFamily>,
    /// What the partner is authorised to do for customers.
    #[schema(example = json!(["advisor", "reseller"]))]
    pub capabilities: Vec<Capability>,
    /// Whether the partner may currently be attached to anything.
    pub status: PartnerStatus,
    /// Where the partner is reached.
    #[schema(example = "partners@fabrikam.example")]
    pub contact_email: String,
    /// When the partner was registered.
    #[schema(example = "2026-11-26T10:00:00Z")]
    #[serde(serialize_with = "crate::api::timestamp::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<PartnerRow> for Partner {
    fn from(row: PartnerRow) -> Self {
        Partner {
            mpn_id: MpnId::from_db(row.mpn_id),
            kind: row.kind,
            global_mpn_id: row.global_mpn_id.map(MpnId::from_db),
            clouds: row.clouds,
            country_codes: row.country_codes,
            service_families: row.service_families,
            capabilities: row.capabilities,
            status: row.status,
            name: row.name,
            contact_email: row.contact_email,
            created_at: row.created_at,
        }
    }
}

/// A partner to register in the directory.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPartner {
    /// The partner's MPN ID.
    pub mpn_id: MpnId,
    /// An organisation (`global`) or one of its business locations (`location`).
    pub kind: PartnerKind,
    /// Required for a `location`: the organisation's existing global MPN ID.
    #[schema(value_type = Option<String>, pattern = "^(?:[1-9][0-9]{4,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}|21474836[0-3][0-9]|214748364[0-7])$", example = "1234567")]
    pub global_mpn_id: Option<MpnId>,
    /// The partner's name, 1 to 200 characters, not blank.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "Fabrikam Consulting ApS")]
    pub name: String,
    /// The clouds served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"))]
    #[schema(min_items = 1, example = json!(["worldwide"]))]
    pub clouds: Vec<Cloud>,
    /// The countries/regions served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"), length(max = 249))]
    #[schema(min_items = 1, max_items = 249, example = json!(["DK"]))]
    pub country_codes: Vec<CountryCode>,
    /// The service families served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"))]
    #[schema(min_items = 1, example = json!(["microsoft365"]))]
    pub service_families: Vec<ServiceFamily>,
    /// What the partner may do; may be empty, no repeats.
    #[validate(custom(function = "unique"))]
    #[schema(example = json!(["advisor"]))]
    pub capabilities: Vec<Capability>,
    /// Defaults to `active`.
    pub status: Option<PartnerStatus>,
    /// An e-mail address, at most 254 characters.
    #[validate(email, length(max = 254))]
    #[schema(
        format = "email",
        max_length = 254,
        example = "partners@fabrikam.example"
    )]
    pub contact_email: String,
}

fn unique<T: PartialEq>(values: &[T]) -> Result<(), validator::ValidationError> {
    if values.is_empty() {
        Ok(())
    } else {
        non_empty_unique(values)
    }
}

/// Changes to a partner; absent fields keep their value.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartnerPatch {
    /// The partner's new name, 1 to 200 characters, not blank.
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 200, example = "Fabrikam Consulting ApS")]
    pub name: Option<String>,
    /// The clouds served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"))]
    #[schema(min_items = 1, example = json!(["worldwide"]))]
    pub clouds: Option<Vec<Cloud>>,
    /// The countries/regions served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"), length(max = 249))]
    #[schema(min_items = 1, max_items = 249, example = json!(["DK", "NO"]))]
    pub country_codes: Option<Vec<CountryCode>>,
    /// The service families served: at least one, no repeats.
    #[validate(custom(function = "non_empty_unique"))]
    #[schema(min_items = 1, example = json!(["microsoft365"]))]
    pub service_families: Option<Vec<ServiceFamily>>,
    /// What the partner may do; may be empty, no repeats.
    #[validate(custom(function = "unique"))]
    #[schema(example = json!(["advisor", "reseller"]))]
    pub capabilities: Option<Vec<Capability>>,
    /// The new status.
    pub status: Option<PartnerStatus>,
    /// An e-mail address, at most 254 characters.
    #[validate(email, length(max = 254))]
    #[schema(
        format = "email",
        max_length = 254,
        example = "partners@fabrikam.example"
    )]
    pub contact_email: Option<String>,
}

/// Register a partner
///
/// Adds a global (organisation) or location MPN ID to the directory. Operators only.
/// A location names its organisation's global id, which must already be registered.
#[utoipa::path(
    tag = "partners",
    operation_id = "createPartner",
    request_body = NewPartner,
    responses(
        (status = 201, description = "The partner was registered", body = Partner,
         headers(("Location" = String, description = "URL of the new partner"))),
        (status = 409, description = "The MPN ID is already registered", body = Problem),
    ),
)]
#[post("/partners")]
pub async fn create_partner(
    db: web::Data<Db>,
    caller: Caller,
    body: ValidJson<NewPartner>,
) -> Result<HttpResponse, ApiError> {
    caller.require_operator()?;
    let body = body.into_inner();
    match (body.kind, body.global_mpn_id) {
        (PartnerKind::Location, None) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "globalMpnId",
                "required",
                "a location names the global MPN ID of its organisation",
            )]))
        }
        (PartnerKind::Global, Some(_)) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "globalMpnId",
                "not_allowed",
                "a global MPN ID belongs to no other organisation",
            )]))
        }
        _ => {}
    }
    let now = crate::domain::now();
    let row = PartnerRow {
        mpn_id: body.mpn_id.get(),
        kind: body.kind,
        global_mpn_id: body.global_mpn_id.map(MpnId::get),
        name: body.name.trim().to_owned(),
        clouds: sorted_unique(&body.clouds),
        country_codes: sorted_unique(&body.country_codes),
        service_families: sorted_unique(&body.service_families),
        capabilities: sorted_unique(&body.capabilities),
        status: body.status.unwrap_or(PartnerStatus::Active),
        contact_email: body.contact_email,
        created_at: now,
        updated_at: now,
    };
    let row = db
        .transaction(move |conn| {
            if let Some(global) = row.global_mpn_id {
                check_organisation(partners::find(conn, global)?, global)?;
            }
            if partners::find(conn, row.mpn_id)?.is_some() {
                return Err(already_registered(row.mpn_id));
            }
            partners::insert(conn, &row).map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => already_registered(row.mpn_id),
                other => other.into(),
            })
        })
        .await?;
    let partner = Partner::from(row);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/partners/{}", partner.mpn_id)))
        .json(partner))
}

fn already_registered(mpn_id: i32) -> ApiError {
    ApiError::Conflict(format!("MPN ID {mpn_id} is already registered"))
}

fn check_organisation(global: Option<PartnerRow>, id: i32) -> Result<(), ApiError> {
    let message = match global {
        None => format!("no partner with MPN ID {id} is registered"),
        Some(row) if row.kind != PartnerKind::Global => {
            format!("MPN ID {id} is a location, not an organisation's global id")
        }
        Some(_) => return Ok(()),
    };
    Err(ApiError::validation(vec![FieldError::new(
        "globalMpnId",
        "unknown_organisation",
        message,
    )]))
}

/// Read a partner
///
/// Any authenticated caller may read the directory.
#[utoipa::path(
    tag = "partners",
    operation_id = "getPartner",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID")),
    responses(
        (status = 200, description = "The partner", body = Partner),
        (status = 404, description = "No partner with this MPN ID", body = Problem),
    ),
)]
#[get("")]
pub async fn get_partner(
    db: web::Data<Db>,
    _caller: Caller,
    mpn_id: web::Path<MpnId>,
) -> Result<web::Json<Partner>, ApiError> {
    let id = mpn_id.into_inner().get();
    let row = db
        .run(move |conn| Ok(partners::find(conn, id)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no partner with MPN ID {id}")))?;
    Ok(web::Json(Partner::from(row)))
}

/// Update a partner
///
/// Changes the given fields and keeps the others. Operators only. The kind and the
/// organisation of an MPN ID never change.
#[utoipa::path(
    tag = "partners",
    operation_id = "updatePartner",
    params(("mpnId" = MpnId, Path, description = "The partner's MPN ID")),
    request_body = PartnerPatch,
    responses(
        (status = 200, description = "The partner as changed", body = Partner),
        (status = 404, description = "No partner with this MPN ID", body = Problem),
    ),
)]
#[patch("")]
pub async fn update_partner(
    db: web::Data<Db>,
    caller: Caller,
    mpn_id: web::Path<MpnId>,
    body: ValidJson<PartnerPatch>,
) -> Result<web::Json<Partner>, ApiError> {
    caller.require_operator()?;
    let id = mpn_id.into_inner().get();
    let patch = body.into_inner();
    let changes = PartnerChanges {
        name: patch.name.map(|n| n.trim().to_owned()),
        clouds: patch.clouds.map(|v| sorted_unique(&v)),
        country_codes: patch.country_codes.map(|v| sorted_unique(&v)),
        service_families: patch.service_families.map(|v| sorted_unique(&v)),
        capabilities: patch.capabilities.map(|v| sorted_unique(&v)),
        status: patch.status,
        contact_email: patch.contact_email,
        updated_at: Some(crate::domain::now()),
    };
    let row = db
        .transaction(move |conn| {
            if partners::find_for_update(conn, id)?.is_none() {
                return Err(ApiError::NotFound(format!("no partner with MPN ID {id}")));
            }
            Ok(partners::update(conn, id, &changes)?)
        })
        .await?;
    Ok(web::Json(Partner::from(row)))
}

/// Filters of the partner search; all given filters must hold.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    /// Only partners serving this country/region (ISO 3166-1 alpha-2).
    #[param(example = "DK")]
    pub country: Option<CountryCode>,
    /// Only partners serving this service family.
    pub service: Option<ServiceFamily>,
    /// Only partners serving this cloud.
    pub cloud: Option<Cloud>,
    /// Only partners with this capability.
    pub capability: Option<Capability>,
    /// Only global ids or only locations.
    pub kind: Option<PartnerKind>,
    /// Only partners in this status.
    pub status: Option<PartnerStatus>,
    /// Free text: part of the name (case-insensitive) or an exact MPN ID; at most 100 characters.
    #[param(max_length = 100, example = "fabrikam")]
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// Cursor from the previous page's `nextCursor`.
    pub cursor: Option<String>,
}

/// A page of partners.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerPage {
    /// The partners on this page.
    #[schema(example = json!([
        {
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
        }
    ]))]
    pub items: Vec<Partner>,
    /// Cursor of the next page; null on the last.
    #[schema(example = json!(null))]
    pub next_cursor: Option<String>,
}

/// Search the partner directory
///
/// Finds partners by country/region, service family, cloud, capability and free text
/// (R2), ordered by MPN ID. Any authenticated caller may search.
#[utoipa::path(
    tag = "partners",
    operation_id = "searchPartners",
    params(PartnerQuery),
    responses((status = 200, description = "A page of partners", body = PartnerPage)),
)]
#[get("/partners")]
pub async fn search_partners(
    db: web::Data<Db>,
    max: web::Data<MaxPageSize>,
    _caller: Caller,
    query: ValidQuery<PartnerQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref(), **max)?;
    let text = query
        .q
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > 100) {
        return Err(ApiError::bad_parameter(
            "q",
            "too_long",
            "q is at most 100 characters",
        ));
    }
    let after_mpn_id = page.after_key(|key| key.parse::<i32>().ok())?;
    let filter = partners::PartnerFilter {
        country: query.country,
        service: query.service,
        cloud: query.cloud,
        capability: query.capability,
        kind: query.kind,
        status: query.status,
        text,
        after_mpn_id,
    };
    let limit = page.fetch();
    let rows = db
        .run(move |conn| Ok(partners::search(conn, &filter, limit)?))
        .await?;
    let (rows, next_cursor) = page.finish(rows, |r| r.mpn_id.to_string());
    let items = rows.into_iter().map(Partner::from).collect();
    let body = page_body(&PartnerPage { items, next_cursor }).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(body))
}

/// Writes `page` byte for byte as `serde_json::to_vec(page)` does (tested). A page of 20
/// partners holds about 580 strings, keys included, and serde_json scans each one for
/// characters to escape: a seventh of a search's instructions. Only a name or an e-mail
/// address can hold such a character; keys and enum names are copied as they are.
fn page_body(page: &PartnerPage) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(64 + 400 * page.items.len());
    out.extend_from_slice(b"{\"items\":[");
    for (i, partner) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_partner(&mut out, partner)?;
    }
    out.extend_from_slice(b"],\"nextCursor\":");
    serde_json::to_writer(&mut out, &page.next_cursor)?;
    out.push(b'}');
    Ok(out)
}

/// One `Partner` object, its fields in declaration order as serde writes them.
fn write_partner(out: &mut Vec<u8>, p: &Partner) -> Result<(), serde_json::Error> {
    // itoa, as serde_json writes integers: `write!` costs ~350 instructions an id.
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"{\"mpnId\":");
    quoted(out, digits.format(p.mpn_id.get()));
    out.extend_from_slice(b",\"kind\":");
    quoted(out, p.kind.as_str());
    match p.global_mpn_id {
        Some(id) => {
            out.extend_from_slice(b",\"globalMpnId\":");
            quoted(out, digits.format(id.get()));
        }
        None => out.extend_from_slice(b",\"globalMpnId\":null"),
    }
    out.extend_from_slice(b",\"name\":");
    serde_json::to_writer(&mut *out, &p.name)?;
    out.extend_from_slice(b",\"clouds\":");
    quoted_list(out, p.clouds.iter().map(|c| c.as_str()));
    out.extend_from_slice(b",\"countryCodes\":");
    quoted_list(out, p.country_codes.iter().map(CountryCode::as_str));
    out.extend_from_slice(b",\"serviceFamilies\":");
    quoted_list(out, p.service_families.iter().map(|s| s.as_str()));
    out.extend_from_slice(b",\"capabilities\":");
    quoted_list(out, p.capabilities.iter().map(|c| c.as_str()));
    out.extend_from_slice(b",\"status\":");
    quoted(out, p.status.as_str());
    out.extend_from_slice(b",\"contactEmail\":");
    serde_json::to_writer(&mut *out, &p.contact_email)?;
    out.extend_from_slice(b",\"createdAt\":");
    crate::api::timestamp::serialize(&p.created_at, &mut serde_json::Serializer::new(&mut *out))?;
    out.push(b'}');
    Ok(())
}

/// A JSON string of an enum's camelCase name, a country code or an MPN ID: nothing to
/// escape.
fn quoted(out: &mut Vec<u8>, name: &str) {
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.push(b'"');
}

fn quoted_list<'a>(out: &mut Vec<u8>, names: impl Iterator<Item = &'a str>) {
    out.push(b'[');
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        quoted(out, name);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn partner(mpn: i32, global: Option<i32>, name: &str, email: &str, nanos: u32) -> Partner {
        Partner {
            mpn_id: MpnId::from_db(mpn),
            kind: if global.is_some() {
                PartnerKind::Location
            } else {
                PartnerKind::Global
            },
            global_mpn_id: global.map(MpnId::from_db),
            name: name.to_owned(),
            clouds: Cloud::ALL.to_vec(),
            country_codes: ["DK", "SE", "US"]
                .into_iter()
                .map(|c| CountryCode::parse(c).unwrap())
                .collect(),
            service_families: ServiceFamily::ALL.to_vec(),
            capabilities: Capability::ALL.to_vec(),
            status: if nanos % 2 == 0 {
                PartnerStatus::Active
            } else {
                PartnerStatus::Suspended
            },
            contact_email: email.to_owned(),
            created_at: Utc.timestamp_opt(1_764_150_000, nanos).unwrap(),
        }
    }

    fn same_as_serde(page: &PartnerPage) {
        let ours = page_body(page).unwrap();
        let serde = serde_json::to_vec(page).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&serde)
        );
    }

    #[test]
    fn a_page_is_written_as_serde_json_writes_it() {
        same_as_serde(&PartnerPage {
            items: vec![],
            next_cursor: None,
        });
        let mut empty_lists = partner(1_000_001, None, "", "", 0);
        empty_lists.clouds.clear();
        empty_lists.country_codes.clear();
        empty_lists.service_families.clear();
        empty_lists.capabilities.clear();
        same_as_serde(&PartnerPage {
            items: vec![
                empty_lists,
                partner(
                    1_234_567,
                    Some(1_000_001),
                    "Fabrikam \"Nord\" ApS",
                    "a\\b@x.example",
                    1,
                ),
                partner(
                    2_147_483_647,
                    None,
                    "Ærø Cloud\u{1}\n\t😀",
                    "ops@ærø.example",
                    120_000_000,
                ),
            ],
            next_cursor: Some("eyJrIjoiMjE0NzQ4MzY0NyJ9".into()),
        });
    }

    proptest! {
        #[test]
        fn any_name_and_address_are_escaped_as_serde_json_escapes_them(
            name in any::<String>(),
            email in any::<String>(),
            nanos in 0u32..1_000_000_000,
        ) {
            same_as_serde(&PartnerPage {
                items: vec![partner(1_000_019, None, &name, &email, nanos)],
                next_cursor: None,
            });
        }
    }
}
