use chrono::{DateTime, Utc};
use diesel::prelude::*;
use partnerlink::db::schema::{events, partner_relationships};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp};
use crate::invitations::{event_types, events_of, grant_delegated_admin};
use crate::subscriptions::{buy, world, ADVISOR_A, ADVISOR_B, GLOBAL};

pub fn relationships_path(tenant: Uuid) -> String {
    format!("/v1/tenants/{tenant}/partner-relationships")
}

fn reseller_path(mpn: &str, tenant: Uuid) -> String {
    format!("/v1/partners/{mpn}/customers/{tenant}/reseller-relationship")
}

async fn list(app: &TestApp, tenant: Uuid, token: &str) -> Vec<Value> {
    let res = app.get(&relationships_path(tenant), token).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert!(page["nextCursor"].is_null());
    page["items"].as_array().unwrap().clone()
}

async fn add_reseller(app: &TestApp, mpn: &str, tenant: Uuid) -> Value {
    let res = app
        .request(
            Method::POST,
            &reseller_path(mpn, tenant),
            Some(&app.partner(mpn)),
            None,
        )
        .await;
    let status = res.status();
    let value: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{value}");
    value
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(Method::DELETE, path, Some(token), None).await
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Open relationship rows and events: what a refusal must leave as it was.
fn state(app: &TestApp) -> (i64, i64) {
    let mut conn = app.conn();
    (
        partner_relationships::table
            .filter(partner_relationships::ended_at.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap(),
        events::table.count().get_result(&mut conn).unwrap(),
    )
}

/// Moves every delegated admin relationship of the tenant past its expiry.
pub fn expire_delegated_admin(app: &TestApp, tenant: Uuid) {
    diesel::sql_query(format!(
        "UPDATE partner_relationships SET since = now() - interval '10 days', \
         expires_at = now() - interval '1 day' \
         WHERE tenant_id = '{tenant}' AND kind = 'delegatedAdmin'"
    ))
    .execute(&mut app.conn())
    .unwrap();
}

#[tokio::test]
async fn a_tenant_with_no_partner_gets_an_empty_list() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("worldwide", "DK").await;
    let res = app
        .get(&relationships_path(tenant), &app.tenant_admin(tenant))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"items": [], "nextCursor": null})
    );
}

#[tokio::test]
async fn every_kind_of_relationship_is_listed_with_whether_the_customer_may_remove_it() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let mut advised = Vec::new();
    for _ in 0..2 {
        let sub = buy(
            &app,
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
        )
        .await;
        advised.push(sub["id"].clone());
    }
    buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 1, "partnerMpnId": ADVISOR_B}),
    )
    .await;
    add_reseller(&app, ADVISOR_B, tenant).await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;

    let items = list(&app, tenant, &admin).await;
    let summary: Vec<(&str, &str, bool)> = items
        .iter()
        .map(|r| {
            (
                r["mpnId"].as_str().unwrap(),
                r["kind"].as_str().unwrap(),
                r["removableByCustomer"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (ADVISOR_A, "advisor", false),
            (ADVISOR_A, "delegatedAdmin", true),
            (ADVISOR_B, "advisor", false),
            (ADVISOR_B, "reseller", false),
        ]
    );
    assert_eq!(items[0]["subscriptionIds"], json!(advised));
    assert_eq!(items[0]["partnerName"], "Fabrikam Copenhagen");
    assert_eq!(items[0]["roles"], json!([]));
    assert!(items[0]["expiresAt"].is_null());
    assert_eq!(
        items[1]["roles"],
        json!(["userAdministrator", "licenseAdministrator"])
    );
    assert_eq!(items[1]["subscriptionIds"], json!([]));
    assert_eq!(items[1]["startsAt"], items[1]["since"]);
    assert_eq!(
        time(&items[1]["expiresAt"]) - time(&items[1]["since"]),
        chrono::Duration::days(730)
    );
    // The derived advisor id is the same on every read.
    assert_eq!(list(&app, tenant, &admin).await[0]["id"], items[0]["id"]);

    // Paged by MPN ID and kind.
    let path = relationships_path(tenant);
    let first: Value = app
        .get(&format!("{path}?limit=3"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"], json!(items[..3]));
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("{path}?limit=3&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second, json!({"items": [items[3]], "nextCursor": null}));
    let resellers: Value = app
        .get(&format!("{path}?kind=reseller"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resellers["items"], json!([items[3]]));
    let p = problem(app.get(&format!("{path}?cursor=nope"), &admin).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn the_customer_ends_delegated_admin_but_not_a_reseller_nor_an_advisor() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    add_reseller(&app, ADVISOR_B, tenant).await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_B).await;
    let items = list(&app, tenant, &admin).await;
    let id_of = |kind: &str| {
        items.iter().find(|r| r["kind"] == kind).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let path = |id: &str| format!("{}/{id}", relationships_path(tenant));
    let before = state(&app);

    let p = problem(delete(&app, &path(&id_of("reseller")), &admin).await, 403).await;
    assert_eq!(p["code"], "reseller_removal_requires_partner");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("ask Fabrikam Aarhus"), "{detail}");
    let p = problem(delete(&app, &path(&id_of("advisor")), &admin).await, 409).await;
    assert_eq!(p["code"], "advisor_relationship_is_per_subscription");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "DELETE /v1/tenants/{tenant}/subscriptions/{{subscriptionId}}/advisor"
        )),
        "{detail}"
    );
    assert!(detail.contains(sub["id"].as_str().unwrap()), "{detail}");
    let p = problem(
        delete(&app, &path(&Uuid::new_v4().to_string()), &admin).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    assert_eq!(state(&app), before);

    let delegated = id_of("delegatedAdmin");
    assert_eq!(delete(&app, &path(&delegated), &admin).await.status(), 204);
    let kinds: Vec<Value> = list(&app, tenant, &admin)
        .await
        .into_iter()
        .map(|r| r["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("advisor"), json!("reseller")]);
    let removed = events_of(&app).await.pop().unwrap();
    assert_eq!(removed["type"], "relationship.removed");
    assert_eq!(removed["data"]["relationshipId"], delegated);
    assert_eq!(removed["data"]["reason"], "removedByCustomer");
    let p = problem(delete(&app, &path(&delegated), &admin).await, 404).await;
    assert_eq!(p["code"], "not_found");
}

#[tokio::test]
async fn another_tenant_learns_nothing_and_partners_use_their_own_side() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    let id = list(&app, tenant, &admin).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.create_tenant("worldwide", "DK").await;
    let other_admin = app.tenant_admin(other);
    let p = problem(
        app.get(&relationships_path(tenant), &other_admin).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let path = format!("{}/{id}", relationships_path(tenant));
    let p = problem(delete(&app, &path, &other_admin).await, 404).await;
    assert_eq!(p["code"], "not_found");
    // The relationship id under the other tenant's own path is no more visible.
    let p = problem(
        delete(
            &app,
            &format!("{}/{id}", relationships_path(other)),
            &other_admin,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let partner = app.partner(ADVISOR_A);
    let p = problem(app.get(&relationships_path(tenant), &partner).await, 403).await;
    assert_eq!(p["code"], "forbidden");
    assert_eq!(list(&app, tenant, &admin).await.len(), 1);
    // Operators may read.
    assert_eq!(list(&app, tenant, &app.operator()).await.len(), 1);
}

#[tokio::test]
async fn the_reseller_story_removal_waits_until_no_subscription_it_sold_is_active() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let created = add_reseller(&app, ADVISOR_B, tenant).await;
    assert_eq!(created["kind"], "reseller");
    assert_eq!(created["removableByCustomer"], false);
    // Adding it again returns the same relationship.
    let res = app
        .request(
            Method::POST,
            &reseller_path(ADVISOR_B, tenant),
            Some(&app.partner(ADVISOR_B)),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], created["id"]);
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_B).await;

    let reseller = app.partner(ADVISOR_B);
    let sold = buy(
        &app,
        tenant,
        &reseller,
        json!({"productId": "office-365-e3", "quantity": 10}),
    )
    .await;
    assert_eq!(sold["resellerMpnId"], ADVISOR_B);
    buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 1}),
    )
    .await;

    // The customer's delete is refused (R9).
    let p = problem(
        delete(
            &app,
            &format!(
                "{}/{}",
                relationships_path(tenant),
                created["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await,
        403,
    )
    .await;
    assert_eq!(p["code"], "reseller_removal_requires_partner");

    // The reseller's own removal is blocked by the active subscription it sold (R11).
    let before = state(&app);
    let p = problem(
        delete(&app, &reseller_path(ADVISOR_B, tenant), &reseller).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "reseller_has_active_subscriptions");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains(sold["id"].as_str().unwrap()));
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    assert_eq!(p["errors"][0]["field"], "subscriptionIds[0]");
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains(sold["id"].as_str().unwrap()));
    assert_eq!(state(&app), before);

    // Suspended, it no longer blocks; removal also ends the partner's delegated admin.
    let res = app
        .patch(
            &format!(
                "/v1/tenants/{tenant}/subscriptions/{}",
                sold["id"].as_str().unwrap()
            ),
            &admin,
            json!({"status": "suspended"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        delete(&app, &reseller_path(ADVISOR_B, tenant), &reseller)
            .await
            .status(),
        204
    );
    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    let removed: Vec<Value> = events_of(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "relationship.removed")
        .collect();
    let reasons: Vec<&Value> = removed.iter().map(|e| &e["data"]["reason"]).collect();
    assert_eq!(
        reasons,
        [&json!("removedByReseller"), &json!("resellerRemoved")]
    );

    // It can no longer buy for, or see, the tenant.
    let res = app
        .post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &reseller,
            json!({"productId": "office-365-e1", "quantity": 1}),
        )
        .await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
    let p = problem(
        delete(&app, &reseller_path(ADVISOR_B, tenant), &reseller).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
}

#[tokio::test]
async fn reseller_calls_are_for_that_partner_or_an_operator_and_the_partner_must_be_eligible() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let china = app.create_tenant("china21Vianet", "CN").await;
    app.create_partner(json!({
        "mpnId": "4567890", "kind": "location", "globalMpnId": GLOBAL, "name": "Fabrikam Advisory",
        "capabilities": ["advisor"]
    }))
    .await;
    app.create_partner(json!({
        "mpnId": "5678901", "kind": "location", "globalMpnId": GLOBAL, "name": "Fabrikam Worldwide"
    }))
    .await;
    let path = reseller_path(ADVISOR_A, tenant);
    let before = state(&app);
    for token in [app.partner(ADVISOR_B), admin.clone()] {
        for method in [Method::POST, Method::DELETE] {
            let p = problem(app.request(method, &path, Some(&token), None).await, 403).await;
            assert_eq!(p["code"], "forbidden");
        }
    }
    let p = problem(
        app.request(
            Method::POST,
            &reseller_path(ADVISOR_A, Uuid::new_v4()),
            Some(&app.partner(ADVISOR_A)),
            None,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let cases = [
        ("4567890", tenant, "partner_not_eligible", "capability"),
        ("5678901", china, "partner_not_eligible", "cloud"),
        (GLOBAL, tenant, "partner_id_not_transactable", ""),
        ("7777777", tenant, "partner_not_found", ""),
    ];
    for (mpn, t, code, field) in cases {
        let res = app
            .request(
                Method::POST,
                &reseller_path(mpn, t),
                Some(&app.operator()),
                None,
            )
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], code, "{mpn}");
        if !field.is_empty() {
            assert_eq!(p["errors"][0]["field"], field);
        }
    }
    assert_eq!(state(&app), before);

    // An operator may act for the partner, in either cloud.
    let res = app
        .request(Method::POST, &path, Some(&app.operator()), None)
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["location"],
        format!("/v1/partners/{ADVISOR_A}/customers/{tenant}/reseller-relationship")
    );
    let res = app
        .request(
            Method::POST,
            &reseller_path(ADVISOR_A, china),
            Some(&app.partner(ADVISOR_A)),
            None,
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(delete(&app, &path, &app.operator()).await.status(), 204);
}

/// The tenant's listing finds the due expiry in its first statement and records it, once.
#[tokio::test]
async fn the_tenants_listing_records_a_due_expiry_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    expire_delegated_admin(&app, tenant);

    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    let expired = events_of(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "relationship.expired")
        .count();
    assert_eq!(expired, 1);
    let ended: Option<DateTime<Utc>> = partner_relationships::table
        .select(partner_relationships::ended_at)
        .first(&mut app.conn())
        .unwrap();
    assert!(
        ended.is_some(),
        "the listing ended the expired relationship"
    );
}

#[tokio::test]
async fn delegated_admin_expires_by_itself_and_the_expiry_is_recorded_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    expire_delegated_admin(&app, tenant);

    let partner = app.partner(ADVISOR_A);
    let customers: Value = app
        .get(&format!("/v1/partners/{ADVISOR_A}/customers"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(customers["items"], json!([]));
    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    let expired: Vec<Value> = events_of(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "relationship.expired")
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["actor"], "partnerlink");
    let ended: Option<DateTime<Utc>> = partner_relationships::table
        .select(partner_relationships::ended_at)
        .first(&mut app.conn())
        .unwrap();
    let expires: Option<DateTime<Utc>> = partner_relationships::table
        .select(partner_relationships::expires_at)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(ended, expires);
    let res = delete(
        &app,
        &format!("/v1/partners/{ADVISOR_A}/customers/{tenant}/delegated-admin"),
        &partner,
    )
    .await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
}

#[tokio::test]
async fn an_expired_but_unrecorded_delegated_admin_authorises_nothing() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    let id = list(&app, tenant, &admin).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expire_delegated_admin(&app, tenant);
    let before = state(&app);
    let res = delete(
        &app,
        &format!("{}/{id}", relationships_path(tenant)),
        &admin,
    )
    .await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
    let res = delete(
        &app,
        &format!("/v1/partners/{ADVISOR_A}/customers/{tenant}/delegated-admin"),
        &app.partner(ADVISOR_A),
    )
    .await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
    assert_eq!(state(&app), before);
}

#[tokio::test]
async fn the_partner_ends_its_own_delegated_admin_relationship() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    let path = format!("/v1/partners/{ADVISOR_A}/customers/{tenant}/delegated-admin");
    let p = problem(delete(&app, &path, &app.partner(ADVISOR_B)).await, 403).await;
    assert_eq!(p["code"], "forbidden");
    let p = problem(delete(&app, &path, &admin).await, 403).await;
    assert_eq!(p["code"], "forbidden");
    assert_eq!(
        delete(&app, &path, &app.partner(ADVISOR_A)).await.status(),
        204
    );
    assert_eq!(list(&app, tenant, &admin).await, Vec::<Value>::new());
    let removed = events_of(&app).await.pop().unwrap();
    assert_eq!(removed["type"], "relationship.removed");
    assert_eq!(removed["data"]["reason"], "removedByPartner");
    let p = problem(delete(&app, &path, &app.partner(ADVISOR_A)).await, 404).await;
    assert_eq!(p["code"], "not_found");
}

#[tokio::test]
async fn a_partner_lists_its_customers_with_the_kinds_of_relationship() {
    let app = TestApp::spawn().await;
    let (first, admin) = world(&app, "worldwide", "DK").await;
    buy(
        &app,
        first,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    add_reseller(&app, ADVISOR_A, first).await;
    let second = app.create_tenant("china21Vianet", "CN").await;
    grant_delegated_admin(&app, second, &app.tenant_admin(second), ADVISOR_A).await;
    let third = app.create_tenant("worldwide", "DK").await;
    add_reseller(&app, ADVISOR_B, third).await;

    let path = format!("/v1/partners/{ADVISOR_A}/customers");
    let partner = app.partner(ADVISOR_A);
    let all: Value = app.get(&path, &partner).await.json().await.unwrap();
    let mut expected = vec![
        (
            first.to_string(),
            json!(["advisor", "reseller"]),
            "worldwide",
        ),
        (
            second.to_string(),
            json!(["delegatedAdmin"]),
            "china21Vianet",
        ),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let got: Vec<(String, Value, &str)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["tenantId"].as_str().unwrap().to_owned(),
                c["kinds"].clone(),
                c["cloud"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let page: Value = app
        .get(&format!("{path}?limit=1"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([all["items"][0]]));
    let cursor = page["nextCursor"].as_str().unwrap();
    let page: Value = app
        .get(&format!("{path}?limit=1&cursor={cursor}"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page,
        json!({"items": [all["items"][1]], "nextCursor": null})
    );
    let by_operator: Value = app.get(&path, &app.operator()).await.json().await.unwrap();
    assert_eq!(by_operator, all);
    let p = problem(app.get(&path, &app.partner(ADVISOR_B)).await, 403).await;
    assert_eq!(p["code"], "forbidden");
    let types = event_types(&app).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "relationship.created")
            .count(),
        3
    );
}
