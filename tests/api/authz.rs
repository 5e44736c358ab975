//! The authorisation matrix (SPEC section 5; issue 6, point 2): every `/v1` operation of
//! the OpenAPI document, called as each class of caller, answers what SPEC requires.
//! Missing or bad token: 401; authenticated but not allowed: 403; a resource of another
//! tenant: 404, exactly as a missing one.
//!
//! The operations come from `partnerlink::openapi::document()`, so an endpoint without a
//! row (or a row without an endpoint) fails `every_v1_operation_has_exactly_one_row`.
//! Every fixture has its own tenant A (and with it its subscription, relationships and
//! invitation); a call that may change state gets a fresh fixture per cell, so a call
//! that succeeds and consumes it (DELETE, accept, …) cannot decide another cell.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::stream::{self, StreamExt};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use partnerlink::auth::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{TestApp, TestDb, SECRET};
use crate::invitations::{delegated_admin, grant_delegated_admin, invite};
use crate::subscriptions::{buy, world, ADVISOR_A, ADVISOR_B};

/// The partner concerned: reseller, advisor and delegated admin of tenant A, and the
/// sender of its pending invitation. Every `{mpnId}` in a path is this partner.
const P: &str = ADVISOR_A;
/// Another partner, registered and eligible, with no relationship with tenant A.
const Q: &str = ADVISOR_B;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    NoToken,
    Expired,
    WrongAudience,
    AlgNone,
    Operator,
    /// A tenant admin of tenant A, the tenant of every `{tenantId}`.
    AdminOfTenant,
    /// A tenant admin of tenant B.
    AdminOfOtherTenant,
    Partner,
    OtherPartner,
}

const BAD_TOKENS: [Caller; 4] = [
    Caller::NoToken,
    Caller::Expired,
    Caller::WrongAudience,
    Caller::AlgNone,
];

/// The order of a row's `expect`.
const AUTHENTICATED: [Caller; 5] = [
    Caller::Operator,
    Caller::AdminOfTenant,
    Caller::AdminOfOtherTenant,
    Caller::Partner,
    Caller::OtherPartner,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A documented 2xx.
    Allowed,
    /// 403 `forbidden`.
    Forbidden,
    /// 404 `not_found`, the same problem as for a resource that does not exist.
    Hidden,
    /// 401 `unauthorized` with a Bearer challenge.
    Unauthorized,
}

const OK: Expect = Expect::Allowed;
const E403: Expect = Expect::Forbidden;
const E404: Expect = Expect::Hidden;

/// The objects of one cell, created through the API in the matrix's database.
struct Fixture {
    /// Tenant A (worldwide, DK): P is its reseller and delegated admin.
    tenant: Uuid,
    /// A subscription of tenant A bought by P as reseller, with P as advisor; suspended,
    /// so that P may end its reseller relationship (R11).
    subscription: Uuid,
    /// P's delegated admin relationship with tenant A (removable by the customer).
    relationship: Uuid,
    /// A pending invitation from P to tenant A, and its accept token.
    invitation: Uuid,
    token: String,
    /// Unique per fixture, for bodies that create something with a unique key.
    seq: usize,
}

/// One operation: how to call it, and what each authenticated caller gets, in the order
/// operator, admin of A, admin of B, P, Q. The four bad-token callers always get 401.
struct Row {
    method: &'static str,
    /// The path template, exactly as in the OpenAPI document.
    path: &'static str,
    query: fn(&Fixture) -> String,
    body: fn(&Fixture) -> Option<Value>,
    expect: [Expect; 5],
}

fn no_query(_: &Fixture) -> String {
    String::new()
}

fn no_body(_: &Fixture) -> Option<Value> {
    None
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    vec![
        // Tenants: operator; a tenant admin reads its own.
        Row { method: "POST", path: "/v1/tenants", query: no_query,
              body: |_| Some(json!({"displayName": "Northwind", "cloud": "worldwide", "countryCode": "DK"})),
              expect: [OK, E403, E403, E403, E403] },
        Row { method: "GET", path: "/v1/tenants/{tenantId}", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        // The catalogue and the partner directory: any caller reads; operators write.
        Row { method: "GET", path: "/v1/products", query: no_query, body: no_body,
              expect: [OK, OK, OK, OK, OK] },
        Row { method: "POST", path: "/v1/partners", query: no_query,
              body: |f| Some(json!({
                  "mpnId": (5_000_000 + f.seq).to_string(), "kind": "global", "name": "Tailspin Toys",
                  "clouds": ["worldwide"], "countryCodes": ["DK"], "serviceFamilies": ["microsoft365"],
                  "capabilities": ["advisor"], "contactEmail": "partners@tailspin.example"
              })),
              expect: [OK, E403, E403, E403, E403] },
        Row { method: "GET", path: "/v1/partners", query: |_| "?country=DK".into(), body: no_body,
              expect: [OK, OK, OK, OK, OK] },
        Row { method: "GET", path: "/v1/partners/{mpnId}", query: no_query, body: no_body,
              expect: [OK, OK, OK, OK, OK] },
        Row { method: "PATCH", path: "/v1/partners/{mpnId}", query: no_query,
              body: |_| Some(json!({"contactEmail": "desk@fabrikam.example"})),
              expect: [OK, E403, E403, E403, E403] },
        // Matches: SPEC says tenant admin; the handler also admits operators.
        Row { method: "GET", path: "/v1/tenants/{tenantId}/partner-matches",
              query: |_| "?productId=office-365-e3".into(), body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        // Subscriptions: the tenant's admin and its reseller; operators change them.
        // Another partner learns nothing of the tenant (404). Reads also admit operators.
        Row { method: "POST", path: "/v1/tenants/{tenantId}/subscriptions", query: no_query,
              body: |_| Some(json!({"productId": "office-365-e3", "quantity": 5})),
              expect: [E403, OK, E404, OK, E404] },
        Row { method: "GET", path: "/v1/tenants/{tenantId}/subscriptions", query: no_query, body: no_body,
              expect: [OK, OK, E404, OK, E404] },
        Row { method: "GET", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}", query: no_query, body: no_body,
              expect: [OK, OK, E404, OK, E404] },
        Row { method: "PATCH", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}", query: no_query,
              body: |_| Some(json!({"quantity": 7})),
              expect: [OK, OK, E404, OK, E404] },
        // The advisor: SPEC says tenant admin; the handlers also admit operators (the
        // association source `operator`, SPEC section 3). Partners are never admitted.
        Row { method: "GET", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        Row { method: "PUT", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor", query: no_query,
              body: |_| Some(json!({"mpnId": Q})),
              expect: [OK, OK, E404, E403, E403] },
        Row { method: "DELETE", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        Row { method: "GET", path: "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor/history", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        // The tenant's relationships (R6, R10): tenant admin; also operators.
        Row { method: "GET", path: "/v1/tenants/{tenantId}/partner-relationships", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        Row { method: "DELETE", path: "/v1/tenants/{tenantId}/partner-relationships/{relationshipId}", query: no_query, body: no_body,
              expect: [OK, OK, E404, E403, E403] },
        // The partner side (R9, R10, R11): that partner or an operator.
        Row { method: "GET", path: "/v1/partners/{mpnId}/customers", query: no_query, body: no_body,
              expect: [OK, E403, E403, OK, E403] },
        Row { method: "POST", path: "/v1/partners/{mpnId}/customers/{tenantId}/reseller-relationship", query: no_query, body: no_body,
              expect: [OK, E403, E403, OK, E403] },
        Row { method: "DELETE", path: "/v1/partners/{mpnId}/customers/{tenantId}/reseller-relationship", query: no_query, body: no_body,
              expect: [OK, E403, E403, OK, E403] },
        Row { method: "DELETE", path: "/v1/partners/{mpnId}/customers/{tenantId}/delegated-admin", query: no_query, body: no_body,
              expect: [OK, E403, E403, OK, E403] },
        // Invitations (R8): the partner's own, not even an operator's; the invited
        // tenant's admin reads and answers them.
        Row { method: "POST", path: "/v1/partners/{mpnId}/invitations", query: no_query,
              body: |f| Some(delegated_admin(f.tenant)),
              expect: [E403, E403, E403, OK, E403] },
        Row { method: "GET", path: "/v1/partners/{mpnId}/invitations", query: no_query, body: no_body,
              expect: [E403, E403, E403, OK, E403] },
        Row { method: "DELETE", path: "/v1/partners/{mpnId}/invitations/{invitationId}", query: no_query, body: no_body,
              expect: [E403, E403, E403, OK, E403] },
        Row { method: "GET", path: "/v1/invitations/{invitationId}", query: |f| format!("?token={}", f.token), body: no_body,
              expect: [E403, OK, E404, E403, E403] },
        Row { method: "POST", path: "/v1/tenants/{tenantId}/invitations/{invitationId}/accept", query: no_query,
              body: |f| Some(json!({"token": f.token, "authorizeDelegatedAdmin": true})),
              expect: [E403, OK, E404, E403, E403] },
        Row { method: "POST", path: "/v1/tenants/{tenantId}/invitations/{invitationId}/decline", query: no_query,
              body: |f| Some(json!({"token": f.token})),
              expect: [E403, OK, E404, E403, E403] },
        // The outbox: operators.
        Row { method: "GET", path: "/v1/events", query: no_query, body: no_body,
              expect: [OK, E403, E403, E403, E403] },
    ]
}

/// Every `/v1` operation of the document, by "METHOD path", with its documented statuses.
fn documented_operations() -> BTreeMap<String, BTreeSet<u16>> {
    let doc = partnerlink::openapi::document();
    let mut out = BTreeMap::new();
    for (path, item) in &doc.paths.paths {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, op) in [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ] {
            if let Some(op) = op {
                let statuses = op
                    .responses
                    .responses
                    .keys()
                    .map(|s| s.parse::<u16>().expect("numeric response status"))
                    .collect();
                out.insert(format!("{method} {path}"), statuses);
            }
        }
    }
    out
}

fn key(row: &Row) -> String {
    format!("{} {}", row.method, row.path)
}

/// Operations of the document without a row, rows without an operation, repeated rows.
fn coverage_problems(documented: &BTreeMap<String, BTreeSet<u16>>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for row in rows() {
        let key = key(&row);
        if !seen.insert(key.clone()) {
            problems.push(format!("{key}: two rows in the authorisation matrix"));
        }
        if !documented.contains_key(&key) {
            problems.push(format!(
                "{key}: a row of the authorisation matrix names no operation of the OpenAPI document"
            ));
        }
    }
    for key in documented.keys() {
        if !seen.contains(key) {
            problems.push(format!(
                "{key}: an operation of the OpenAPI document has no row in the authorisation matrix \
                 (tests/api/authz.rs): add one with the status each caller must get"
            ));
        }
    }
    problems
}

#[test]
fn every_v1_operation_has_exactly_one_row() {
    let problems = coverage_problems(&documented_operations());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Operator claims, the strongest, so a 401 is owed to the token and nothing else.
fn operator_claims(app: &TestApp) -> Value {
    serde_json::to_value(app.claims(Role::Operator, None, None)).unwrap()
}

fn hs256(claims: &Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

fn token(app: &TestApp, fixture: &Fixture, tenant_b: Uuid, caller: Caller) -> Option<String> {
    Some(match caller {
        Caller::NoToken => return None,
        Caller::Expired => {
            let mut claims = operator_claims(app);
            claims["iat"] = json!(now() - 7200);
            claims["exp"] = json!(now() - 3600);
            hs256(&claims)
        }
        Caller::WrongAudience => {
            let mut claims = operator_claims(app);
            claims["aud"] = json!("another-service");
            hs256(&claims)
        }
        Caller::AlgNone => {
            let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
            format!(
                "{}.{}.",
                part(&json!({"alg": "none", "typ": "JWT"})),
                part(&operator_claims(app))
            )
        }
        Caller::Operator => app.operator(),
        Caller::AdminOfTenant => app.tenant_admin(fixture.tenant),
        Caller::AdminOfOtherTenant => app.tenant_admin(tenant_b),
        Caller::Partner => app.partner(P),
        Caller::OtherPartner => app.partner(Q),
    })
}

/// The concrete path of a template; every parameter must have a fixture.
fn fill(template: &str, f: &Fixture) -> String {
    let path = template
        .replace("{tenantId}", &f.tenant.to_string())
        .replace("{subscriptionId}", &f.subscription.to_string())
        .replace("{mpnId}", P)
        .replace("{invitationId}", &f.invitation.to_string())
        .replace("{relationshipId}", &f.relationship.to_string());
    assert!(
        !path.contains('{'),
        "{template}: the authorisation matrix has no fixture for a parameter of this path; add one to `fill`"
    );
    path
}

/// Creates the objects a cell needs, in the operation's database (partners registered).
async fn fixture(app: &TestApp, seq: usize) -> Fixture {
    let tenant = app.create_tenant("worldwide", "DK").await;
    let admin = app.tenant_admin(tenant);
    let res = app
        .request(
            Method::POST,
            &format!("/v1/partners/{P}/customers/{tenant}/reseller-relationship"),
            Some(&app.partner(P)),
            None,
        )
        .await;
    assert_eq!(res.status(), 201, "fixture: P becomes reseller of tenant A");
    let sub = buy(
        app,
        tenant,
        &app.partner(P),
        json!({"productId": "office-365-e3", "quantity": 10, "partnerMpnId": P}),
    )
    .await;
    assert_eq!(sub["resellerMpnId"], P, "fixture: {sub}");
    assert_eq!(sub["advisor"]["mpnId"], P, "fixture: {sub}");
    let subscription: Uuid = sub["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .patch(
            &format!("/v1/tenants/{tenant}/subscriptions/{subscription}"),
            &admin,
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(
        res.status(),
        200,
        "fixture: suspend the resold subscription"
    );
    let accepted = grant_delegated_admin(app, tenant, &admin, P).await;
    let relationship = accepted["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "delegatedAdmin")
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("fixture: no delegated admin relationship in {accepted}"))
        .parse()
        .unwrap();
    let pending = invite(app, P, delegated_admin(tenant)).await;
    Fixture {
        tenant,
        subscription,
        relationship,
        invitation: pending["id"].as_str().unwrap().parse().unwrap(),
        token: pending["acceptToken"].as_str().unwrap().to_owned(),
        seq,
    }
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    app.request(method, path, token, body).await
}

/// The problem of a refusal, or why the response is not the problem expected.
async fn refusal(res: Response, status: u16, code: &str) -> Result<Value, String> {
    let got = res.status().as_u16();
    let media = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = res.text().await.unwrap_or_default();
    if got != status {
        return Err(format!("got {got}, expected {status} {code}: {text}"));
    }
    if media != "application/problem+json" {
        return Err(format!(
            "{status} with content type {media:?}, not application/problem+json: {text}"
        ));
    }
    let body: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{status} body is not JSON ({e}): {text}"))?;
    if body["code"] != code || body["status"] != status {
        return Err(format!(
            "{status} problem with code {} (status member {}), expected {code}: {body}",
            body["code"], body["status"]
        ));
    }
    if status == 401
        && !challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer"))
    {
        return Err(format!(
            "401 without a Bearer challenge (WWW-Authenticate {challenge:?})"
        ));
    }
    Ok(body)
}

/// The same call with every id in the path replaced by one that exists nowhere, and the
/// original ids of `path` with their stand-ins.
fn missing_twin(path: &str) -> (String, Vec<(String, String)>) {
    let (route, query) = path
        .split_once('?')
        .map_or((path, None), |(r, q)| (r, Some(q)));
    let mut swaps = Vec::new();
    let segments: Vec<String> = route
        .split('/')
        .map(|s| match s.parse::<Uuid>() {
            Ok(_) => {
                let stand_in = Uuid::new_v4().to_string();
                swaps.push((s.to_owned(), stand_in.clone()));
                stand_in
            }
            Err(_) => s.to_owned(),
        })
        .collect();
    let mut twin = segments.join("/");
    if let Some(query) = query {
        twin = format!("{twin}?{query}");
    }
    (twin, swaps)
}

fn normalised(problem: &Value, ids: &[String]) -> Value {
    let mut out = json!({
        "status": problem["status"],
        "code": problem["code"],
        "title": problem["title"],
        "detail": problem["detail"],
    });
    if let Some(detail) = problem["detail"].as_str() {
        let mut detail = detail.to_owned();
        for id in ids {
            detail = detail.replace(id, "<id>");
        }
        out["detail"] = json!(detail);
    }
    out
}

/// Runs one cell: the call as `caller`, checked against `expect`.
#[allow(clippy::too_many_arguments)]
async fn cell(
    app: &TestApp,
    row: &Row,
    documented: &BTreeSet<u16>,
    f: &Fixture,
    tenant_b: Uuid,
    caller: Caller,
    expect: Expect,
) -> Result<(), String> {
    let path = format!("{}{}", fill(row.path, f), (row.query)(f));
    let token = token(app, f, tenant_b, caller);
    let res = send(app, row.method, &path, token.as_deref(), (row.body)(f)).await;
    let status = res.status().as_u16();
    let (expected_status, code) = match expect {
        Expect::Allowed => {
            let text = res.text().await.unwrap_or_default();
            if !(200..300).contains(&status) {
                return Err(format!("got {status}, expected a 2xx: {text}"));
            }
            if !documented.contains(&status) {
                return Err(format!(
                    "got {status}, which the document does not list for this operation"
                ));
            }
            return Ok(());
        }
        Expect::Unauthorized => (401, "unauthorized"),
        Expect::Forbidden => (403, "forbidden"),
        Expect::Hidden => (404, "not_found"),
    };
    if !documented.contains(&expected_status) {
        return Err(format!(
            "{expected_status} is expected but not documented for this operation"
        ));
    }
    let problem = refusal(res, expected_status, code).await?;
    if expect == Expect::Hidden {
        // Another tenant's resource answers exactly as a missing one does.
        let (twin, swaps) = missing_twin(&path);
        let res = send(app, row.method, &twin, token.as_deref(), (row.body)(f)).await;
        let missing = refusal(res, 404, "not_found")
            .await
            .map_err(|e| format!("the same call for ids that exist nowhere: {e}"))?;
        let ids: Vec<String> = swaps.into_iter().flat_map(|(a, b)| [a, b]).collect();
        let (hidden, absent) = (normalised(&problem, &ids), normalised(&missing, &ids));
        if hidden != absent {
            return Err(format!(
                "the 404 differs from a missing resource's: {hidden} vs {absent}"
            ));
        }
    }
    Ok(())
}

/// Runs every cell of one row; returns the failed cells. A row whose call changes state
/// gets a fresh fixture per authenticated cell; a read shares one among its cells.
async fn run_row(
    app: &TestApp,
    index: usize,
    row: Row,
    documented: BTreeSet<u16>,
    tenant_b: Uuid,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut report = |caller: Caller, expect: Expect, result: Result<(), String>| {
        if let Err(why) = result {
            failures.push(format!(
                "{} as {caller:?} (expected {expect:?}): {why}",
                key(&row)
            ));
        }
    };
    // A 401 changes nothing, so the bad tokens share one fixture.
    let shared = fixture(app, index * 10).await;
    for caller in BAD_TOKENS {
        let result = cell(
            app,
            &row,
            &documented,
            &shared,
            tenant_b,
            caller,
            Expect::Unauthorized,
        )
        .await;
        report(caller, Expect::Unauthorized, result);
    }
    for (i, (caller, expect)) in AUTHENTICATED.into_iter().zip(row.expect).enumerate() {
        let fresh;
        let f = if row.method == "GET" {
            &shared
        } else {
            fresh = fixture(app, index * 10 + i + 1).await;
            &fresh
        };
        let result = cell(app, &row, &documented, f, tenant_b, caller, expect).await;
        report(caller, expect, result);
    }
    failures
}

#[tokio::test]
async fn every_v1_operation_answers_each_caller_as_spec_section_5_requires() {
    let documented = documented_operations();
    let problems = coverage_problems(&documented);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let app = TestApp::spawn_with(TestDb::new(), |s| s.pool_size = 8).await;
    world(&app, "worldwide", "DK").await;
    let tenant_b = app.create_tenant("worldwide", "DK").await;
    let runs = rows().into_iter().enumerate().map(|(index, row)| {
        let statuses = documented
            .get(&key(&row))
            .cloned()
            .unwrap_or_else(|| panic!("{}: no such operation in the OpenAPI document", key(&row)));
        run_row(&app, index, row, statuses, tenant_b)
    });
    let failures: Vec<String> = stream::iter(runs)
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(
        failures.is_empty(),
        "{} cell(s) of the authorisation matrix failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
