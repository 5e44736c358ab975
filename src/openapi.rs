//! The OpenAPI document: a base with `info`, completed from the handlers' paths.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi as Document, RefOr, Required, ResponseBuilder};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::error::{FieldError, Problem};

const PROBLEM_JSON: &str = "application/problem+json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "partnerlink",
        description = "The system of record for which partners a Microsoft 365 customer tenant \
works with: the subscription advisor (registered partner) of each subscription, reseller \
relationships and delegated administrator relationships, in the worldwide cloud and in \
Office 365 operated by 21Vianet.\n\nEvery `/v1` call needs `Authorization: Bearer <JWT>` \
with roles `operator`, `tenantAdmin` (claim `tid`) or `partner` (claim `mpn`). Every error \
is an RFC 9457 `application/problem+json` document with a stable `code`.",
        contact(name = "partnerlink team", email = "partnerlink@example.com"),
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "http://127.0.0.1:8080", description = "Local development")),
    tags(
        (name = "tenants", description = "Customer tenants"),
        (name = "products", description = "The product catalogue"),
        (name = "partners", description = "The partner directory (R2)"),
        (name = "subscriptions", description = "Subscriptions and their lifecycle (R1)"),
        (name = "advisor", description = "The subscription advisor (registered partner) of a subscription (R3, R4, R5, R7)"),
        (name = "relationships", description = "Partner relationships of a tenant (R6, R9, R10) and the partner side of reseller and delegated admin relationships (R9, R11)"),
        (name = "invitations", description = "Partner-initiated invitations: delegated admin, trial and purchase offers (R8)"),
        (name = "events", description = "The outbox of committed changes"),
        (name = "operations", description = "Health, readiness and metrics"),
    ),
    components(schemas(Problem, FieldError)),
)]
struct BaseDoc;

/// Registers every documented route; the same function feeds the server and the document.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    use crate::api::{
        advisor, events, health, invitations, matches, partners, products, relationships,
        subscriptions, tenants,
    };
    use utoipa_actix_web::scope;
    // actix tries a scope's routes in order and runs a regex for every templated path it
    // tries: fixed paths first, then one prefix match per tenant, subscription or partner
    // group, whose own resource is the group's "" route. A subscription's request runs
    // 2 regexes (a `GET` advisor history ran 7 once) and a search none.
    cfg.service(
        scope("/v1")
            .service(tenants::create_tenant)
            .service(products::list_products)
            .service(partners::create_partner)
            .service(partners::search_partners)
            .service(events::list_events)
            .service(
                scope("/tenants/{tenantId}")
                    .service(tenants::get_tenant)
                    .service(subscriptions::purchase_subscription)
                    .service(subscriptions::list_subscriptions)
                    .service(relationships::list_relationships)
                    .service(matches::match_partners)
                    .service(
                        scope("/subscriptions/{subscriptionId}")
                            .service(subscriptions::get_subscription)
                            .service(subscriptions::update_subscription)
                            .service(advisor::get_advisor)
                            .service(advisor::set_advisor)
                            .service(advisor::remove_advisor)
                            .service(advisor::get_advisor_history),
                    )
                    .service(relationships::remove_relationship)
                    .service(invitations::accept_invitation)
                    .service(invitations::decline_invitation),
            )
            .service(
                scope("/partners/{mpnId}")
                    .service(partners::get_partner)
                    .service(partners::update_partner)
                    .service(relationships::list_customers)
                    .service(relationships::create_reseller_relationship)
                    .service(relationships::remove_reseller_relationship)
                    .service(relationships::end_delegated_admin)
                    .service(invitations::create_invitation)
                    .service(invitations::list_invitations)
                    .service(invitations::revoke_invitation),
            )
            .service(invitations::get_invitation),
    )
    .service(health::live)
    .service(health::ready)
    .service(health::metrics);
}

/// The complete document, as served at `/openapi.json` and committed in `openapi/`.
pub fn document() -> Document {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(BaseDoc::openapi())
        .configure(routes)
        .split_for_parts();
    complete(&mut doc);
    doc
}

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Problem",
            )))),
        )
        .into()
}

/// Adds what every operation shares, so handlers state only what is their own:
/// the bearer requirement on `/v1`, the generic problem responses, and the problem
/// media type on every error response.
fn complete(doc: &mut Document) {
    let components = doc.components.get_or_insert_with(Default::default);
    for schema in components.schemas.values_mut() {
        describe_nullable_references_on_the_wrapper(schema);
    }
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT with the claims sub, roles, tid (tenant admin) and mpn (partner).",
                ))
                .build(),
        ),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let v1 = path.starts_with("/v1/");
        let has_path_params = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete_operation(op, v1, has_path_params);
        }
    }
}

/// utoipa puts the doc comment of an `Option<T>` field whose `T` is a component on the
/// `$ref` inside `oneOf: [null, $ref]`; tools read a property's description from the
/// property itself, so move it onto the `oneOf` wrapper.
fn describe_nullable_references_on_the_wrapper(schema: &mut RefOr<Schema>) {
    let RefOr::T(Schema::Object(object)) = schema else {
        return;
    };
    for property in object.properties.values_mut() {
        let RefOr::T(Schema::OneOf(one_of)) = property else {
            continue;
        };
        if one_of.description.is_some() {
            continue;
        }
        for item in one_of.items.iter_mut() {
            if let RefOr::Ref(reference) = item {
                if !reference.description.is_empty() {
                    one_of.description = Some(std::mem::take(&mut reference.description));
                    break;
                }
            }
        }
    }
}

/// An optional parameter (`Option<T>` in a handler's `params`) is either sent or absent;
/// it is never `null`. utoipa types it `[T, "null"]`, which generators then wrap twice
/// (progenitor's `Option<Option<String>>` for `If-Match` does not compile): declare `T`.
fn optional_parameters_not_nullable(op: &mut Operation) {
    for parameter in op.parameters.iter_mut().flatten() {
        if parameter.required == Required::True {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() {
            if let SchemaType::Array(types) = &object.schema_type {
                if let [single] = types
                    .iter()
                    .filter(|t| **t != Type::Null)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    object.schema_type = SchemaType::Type((*single).clone());
                }
            }
        }
    }
}

fn complete_operation(op: &mut Operation, v1: bool, has_path_params: bool) {
    optional_parameters_not_nullable(op);
    let has_body = op.request_body.is_some();
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter()
            .any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
    });
    let mut generic: Vec<(&str, &str)> = Vec::new();
    if v1 {
        op.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
        generic.push(("401", "Missing, expired or invalid bearer token"));
        generic.push(("403", "The caller's roles do not allow this call"));
        generic.push(("500", "Internal error; the problem carries the request id"));
        generic.push((
            "503",
            "The database is unavailable; retry after `Retry-After` seconds",
        ));
        generic.push((
            "431",
            "The request headers are larger than the configured limit",
        ));
        generic.push((
            "504",
            "Not answered within the configured request timeout; a change asked for may \
             still have been committed: read before retrying, or retry a purchase with the \
             same `Idempotency-Key`",
        ));
    }
    if has_body {
        generic.push(("400", "The body is not well-formed JSON"));
        generic.push(("413", "The body is larger than the configured limit"));
        generic.push(("415", "The body is not `application/json`"));
        generic.push((
            "422",
            "A field is missing, unknown, of the wrong type or invalid",
        ));
    }
    if has_path_params || has_query {
        generic.push(("400", "A path or query parameter is invalid"));
    }
    if has_path_params && v1 {
        generic.push((
            "404",
            "The resource does not exist or is not visible to the caller",
        ));
    }
    for (status, description) in generic {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
    for response in op.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            if let Some(content) = response.content.shift_remove("application/json") {
                let is_problem = matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
                let media = if is_problem {
                    PROBLEM_JSON
                } else {
                    "application/json"
                };
                response.content.insert(media.to_owned(), content);
            }
        }
    }
}
