use chrono::{DateTime, Utc};
use diesel::prelude::*;
use partnerlink::db::schema::{events, invitations, partner_relationships, subscriptions};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::common::{problem, TestApp};
use crate::subscriptions::{buy, world, ADVISOR_A, ADVISOR_B, GLOBAL};

pub const TERMS: &str = "Fabrikam manages your users and licences.";

/// A delegated admin request with two roles.
pub fn delegated_admin(tenant: Uuid) -> Value {
    json!({
        "tenantId": tenant,
        "terms": TERMS,
        "requestsDelegatedAdmin": true,
        "roles": ["userAdministrator", "licenseAdministrator"]
    })
}

/// Creates an invitation as partner `mpn`, expecting 201.
pub async fn invite(app: &TestApp, mpn: &str, body: Value) -> Value {
    let res = app
        .post(
            &format!("/v1/partners/{mpn}/invitations"),
            &app.partner(mpn),
            body,
        )
        .await;
    let status = res.status();
    let value: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{value}");
    value
}

pub async fn answer(
    app: &TestApp,
    tenant: Uuid,
    admin: &str,
    invitation: &Value,
    verb: &str,
    body: Value,
) -> Response {
    app.post(
        &format!(
            "/v1/tenants/{tenant}/invitations/{}/{verb}",
            invitation["id"].as_str().unwrap()
        ),
        admin,
        body,
    )
    .await
}

pub async fn accept(
    app: &TestApp,
    tenant: Uuid,
    admin: &str,
    invitation: &Value,
    authorize: bool,
) -> Response {
    let body = json!({"token": invitation["acceptToken"], "authorizeDelegatedAdmin": authorize});
    answer(app, tenant, admin, invitation, "accept", body).await
}

/// Makes `mpn` delegated admin of the tenant through an accepted invitation.
pub async fn grant_delegated_admin(app: &TestApp, tenant: Uuid, admin: &str, mpn: &str) -> Value {
    let invitation = invite(app, mpn, delegated_admin(tenant)).await;
    let res = accept(app, tenant, admin, &invitation, true).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

pub async fn event_types(app: &TestApp) -> Vec<String> {
    events_of(app)
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn events_of(app: &TestApp) -> Vec<Value> {
    events_after(app, 0).await
}

/// A page of 200 of the feed, after `after`.
pub async fn events_after(app: &TestApp, after: i64) -> Vec<Value> {
    let feed: Value = app
        .get(
            &format!("/v1/events?after={after}&limit=200"),
            &app.operator(),
        )
        .await
        .json()
        .await
        .unwrap();
    feed["items"].as_array().unwrap().clone()
}

fn read_path(invitation: &Value, token: &str) -> String {
    format!(
        "/v1/invitations/{}?token={token}",
        invitation["id"].as_str().unwrap()
    )
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Counts of rows an answer may create: subscriptions, open relationships, events.
fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.conn();
    (
        subscriptions::table.count().get_result(&mut conn).unwrap(),
        partner_relationships::table
            .filter(partner_relationships::ended_at.is_null())
            .count()
            .get_result(&mut conn)
            .unwrap(),
        events::table.count().get_result(&mut conn).unwrap(),
    )
}

fn stored_status(app: &TestApp, id: &Value) -> String {
    let id: Uuid = id.as_str().unwrap().parse().unwrap();
    invitations::table
        .filter(invitations::id.eq(id))
        .select(invitations::status)
        .first(&mut app.conn())
        .unwrap()
}

/// Moves an invitation past its expiry.
fn age(app: &TestApp, invitation: &Value) {
    diesel::sql_query(format!(
        "UPDATE invitations SET created_at = now() - interval '31 days', \
         expires_at = now() - interval '1 day' WHERE id = '{}'",
        invitation["id"].as_str().unwrap()
    ))
    .execute(&mut app.conn())
    .unwrap();
}

#[tokio::test]
async fn the_21vianet_story_a_trial_offer_with_delegated_admin_is_accepted_in_one_step() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let mut body = delegated_admin(tenant);
    body["offer"] = json!({"kind": "trial", "productId": "office-365-e3", "quantity": 25});
    body["delegatedAdminDuration"] = json!("P90D");
    let invitation = invite(&app, ADVISOR_A, body).await;
    assert_eq!(invitation["status"], "pending");
    assert_eq!(invitation["partnerName"], "Fabrikam Copenhagen");
    assert_eq!(invitation["delegatedAdminDuration"], "P90D");
    assert!(invitation["respondedAt"].is_null());
    let token = invitation["acceptToken"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43);
    let url = invitation["acceptUrl"].as_str().unwrap();
    assert!(url.ends_with(&read_path(&invitation, &token)), "{url}");
    assert_eq!(
        time(&invitation["expiresAt"]) - time(&invitation["createdAt"]),
        chrono::Duration::days(30)
    );

    // Only the hash is stored; the mail sender gets the link from the event.
    let id: Uuid = invitation["id"].as_str().unwrap().parse().unwrap();
    let hash: String = invitations::table
        .filter(invitations::id.eq(id))
        .select(invitations::token_hash)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(hash, hex::encode(Sha256::digest(token.as_bytes())));
    let created = events_of(&app).await.pop().unwrap();
    assert_eq!(created["type"], "invitation.created");
    assert_eq!(created["tenantId"], tenant.to_string());
    assert_eq!(created["data"]["acceptUrl"], url);

    // The customer follows the link and reads the terms.
    let res = app.get(&read_path(&invitation, &token), &admin).await;
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["terms"], TERMS);
    assert_eq!(read["offer"]["kind"], "trial");
    assert_eq!(
        read["roles"],
        json!(["userAdministrator", "licenseAdministrator"])
    );
    assert!(read.get("acceptToken").is_none());
    assert!(read.get("acceptUrl").is_none());

    // Yes.
    let res = accept(&app, tenant, &admin, &invitation, true).await;
    assert_eq!(res.status(), 200);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["invitation"]["status"], "accepted");
    assert!(accepted["invitation"]["respondedAt"].is_string());
    let sub = &accepted["subscription"];
    assert_eq!(sub["status"], "trial");
    assert_eq!(sub["quantity"], 25);
    assert_eq!(sub["advisor"]["mpnId"], ADVISOR_A);
    assert_eq!(sub["advisor"]["source"], "invitation");

    let listed: Value = app
        .get(
            &format!("/v1/tenants/{tenant}/partner-relationships"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], accepted["relationships"]);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "advisor");
    assert_eq!(items[0]["subscriptionIds"], json!([sub["id"]]));
    assert_eq!(items[1]["kind"], "delegatedAdmin");
    assert_eq!(items[1]["removableByCustomer"], true);
    assert_eq!(items[1]["roles"], read["roles"]);
    assert_eq!(
        time(&items[1]["expiresAt"]) - time(&items[1]["startsAt"]),
        chrono::Duration::days(90)
    );
    let read = app
        .get(
            &format!(
                "/v1/tenants/{tenant}/subscriptions/{}",
                sub["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(read.json::<Value>().await.unwrap(), *sub);

    let types = event_types(&app).await;
    assert_eq!(
        types,
        [
            "invitation.created",
            "relationship.created",
            "subscription.purchased",
            "advisor.added",
            "invitation.accepted"
        ]
    );
}

#[tokio::test]
async fn a_worldwide_purchase_offer_without_delegated_admin_becomes_an_active_subscription() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let invitation = invite(
        &app,
        ADVISOR_B,
        json!({"tenantId": tenant, "terms": TERMS, "requestsDelegatedAdmin": false,
               "offer": {"kind": "purchase", "productId": "power-bi-pro", "quantity": 3},
               "expiresInDays": 7}),
    )
    .await;
    assert!(invitation["delegatedAdminDuration"].is_null());
    assert_eq!(
        time(&invitation["expiresAt"]) - time(&invitation["createdAt"]),
        chrono::Duration::days(7)
    );
    let res = answer(
        &app,
        tenant,
        &admin,
        &invitation,
        "accept",
        json!({"token": invitation["acceptToken"]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["subscription"]["status"], "active");
    assert_eq!(accepted["subscription"]["advisor"]["mpnId"], ADVISOR_B);
    let kinds: Vec<&str> = accepted["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["advisor"]);
}

#[tokio::test]
async fn in_21vianet_an_invitation_makes_the_partner_advisor_of_an_existing_subscription() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 10}),
    )
    .await;
    let sub_path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    let res = app
        .request(
            Method::PUT,
            &format!("{sub_path}/advisor"),
            Some(&admin),
            Some(json!({"mpnId": ADVISOR_A})),
        )
        .await;
    assert_eq!(problem(res, 403).await["code"], "partner_initiated_only");

    let invitation = invite(
        &app,
        ADVISOR_A,
        json!({"tenantId": tenant, "terms": TERMS, "requestsDelegatedAdmin": false,
               "subscriptionIds": [sub["id"]]}),
    )
    .await;
    let res = accept(&app, tenant, &admin, &invitation, false).await;
    assert_eq!(res.status(), 200);
    let accepted: Value = res.json().await.unwrap();
    assert!(accepted["subscription"].is_null());
    let read: Value = app.get(&sub_path, &admin).await.json().await.unwrap();
    assert_eq!(read["advisor"]["mpnId"], ADVISOR_A);
    assert_eq!(read["advisor"]["source"], "invitation");
    assert_eq!(read["version"], 2);
    assert_eq!(
        accepted["relationships"][0]["subscriptionIds"],
        json!([sub["id"]])
    );
}

#[tokio::test]
async fn delegated_admin_must_be_authorised_and_a_refusal_changes_nothing() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let mut body = delegated_admin(tenant);
    body["offer"] = json!({"kind": "trial", "productId": "office-365-e3", "quantity": 5});
    let invitation = invite(&app, ADVISOR_A, body).await;
    let before = counts(&app);
    let p = problem(accept(&app, tenant, &admin, &invitation, false).await, 422).await;
    assert_eq!(p["code"], "validation_failed");
    assert_eq!(p["errors"][0]["field"], "authorizeDelegatedAdmin");
    assert_eq!(counts(&app), before);
    assert_eq!(stored_status(&app, &invitation["id"]), "pending");

    // The partner lost the capability meanwhile: R3 applies at acceptance too.
    app.patch(
        &format!("/v1/partners/{ADVISOR_A}"),
        &app.operator(),
        json!({"capabilities": ["advisor"]}),
    )
    .await;
    let p = problem(accept(&app, tenant, &admin, &invitation, true).await, 422).await;
    assert_eq!(p["code"], "partner_not_eligible");
    assert_eq!(p["errors"][0]["field"], "capability");
    assert_eq!(counts(&app), before);
    assert_eq!(stored_status(&app, &invitation["id"]), "pending");
}

#[tokio::test]
async fn a_wrong_token_is_refused_everywhere() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let invitation = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let other = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let wrong = other["acceptToken"].as_str().unwrap();
    let p = problem(app.get(&read_path(&invitation, wrong), &admin).await, 403).await;
    assert_eq!(p["code"], "invalid_token");
    for verb in ["accept", "decline"] {
        let body = json!({"token": wrong, "authorizeDelegatedAdmin": true});
        let body = if verb == "decline" {
            json!({"token": wrong})
        } else {
            body
        };
        let res = answer(&app, tenant, &admin, &invitation, verb, body).await;
        assert_eq!(problem(res, 403).await["code"], "invalid_token");
    }
    let res = app
        .get(
            &format!("/v1/invitations/{}", invitation["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(problem(res, 400).await["errors"][0]["field"], "token");
    assert_eq!(stored_status(&app, &invitation["id"]), "pending");
}

#[tokio::test]
async fn a_token_cannot_be_used_again_after_acceptance() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let invitation = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    assert_eq!(
        accept(&app, tenant, &admin, &invitation, true)
            .await
            .status(),
        200
    );
    let before = counts(&app);
    let p = problem(accept(&app, tenant, &admin, &invitation, true).await, 409).await;
    assert_eq!(p["code"], "invitation_not_pending");
    let body = json!({"token": invitation["acceptToken"]});
    let p = problem(
        answer(&app, tenant, &admin, &invitation, "decline", body).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "invitation_not_pending");
    assert_eq!(counts(&app), before);
    // Reading it still works: it shows how it was answered.
    let token = invitation["acceptToken"].as_str().unwrap();
    let read: Value = app
        .get(&read_path(&invitation, token), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "accepted");
}

#[tokio::test]
async fn an_expired_invitation_answers_410_and_becomes_expired_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let mut body = delegated_admin(tenant);
    body["offer"] = json!({"kind": "trial", "productId": "office-365-e3", "quantity": 5});
    let invitation = invite(&app, ADVISOR_A, body).await;
    age(&app, &invitation);
    let (subs_before, rels_before, _) = counts(&app);

    let p = problem(accept(&app, tenant, &admin, &invitation, true).await, 410).await;
    assert_eq!(p["code"], "invitation_expired");
    assert_eq!(stored_status(&app, &invitation["id"]), "expired");
    let p = problem(accept(&app, tenant, &admin, &invitation, true).await, 410).await;
    assert_eq!(p["code"], "invitation_expired");
    let body = json!({"token": invitation["acceptToken"]});
    let res = answer(&app, tenant, &admin, &invitation, "decline", body).await;
    assert_eq!(problem(res, 410).await["code"], "invitation_expired");
    let (subs, rels, _) = counts(&app);
    assert_eq!((subs, rels), (subs_before, rels_before));
    let expired: Vec<Value> = events_of(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "invitation.expired")
        .collect();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["data"]["invitationId"], invitation["id"]);
}

#[tokio::test]
async fn reading_or_listing_an_overdue_invitation_shows_it_expired() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let read_me = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let list_me = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    age(&app, &read_me);
    age(&app, &list_me);
    let token = read_me["acceptToken"].as_str().unwrap();
    let read: Value = app
        .get(&read_path(&read_me, token), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"], "expired");
    assert_eq!(stored_status(&app, &read_me["id"]), "expired");

    let path = format!("/v1/partners/{ADVISOR_A}/invitations");
    let partner = app.partner(ADVISOR_A);
    let page: Value = app
        .get(&format!("{path}?status=pending"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
    let page: Value = app
        .get(&format!("{path}?status=expired"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(stored_status(&app, &list_me["id"]), "expired");
    let expired = event_types(&app)
        .await
        .into_iter()
        .filter(|t| t == "invitation.expired")
        .count();
    assert_eq!(expired, 2);
}

#[tokio::test]
async fn accepting_twice_concurrently_creates_everything_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let mut body = delegated_admin(tenant);
    body["offer"] = json!({"kind": "purchase", "productId": "office-365-e1", "quantity": 5});
    let invitation = invite(&app, ADVISOR_A, body).await;
    let requests = (0..6).map(|_| accept(&app, tenant, &admin, &invitation, true));
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    let (subs, rels, _) = counts(&app);
    assert_eq!((subs, rels), (1, 1));
    let accepted = event_types(&app)
        .await
        .into_iter()
        .filter(|t| t == "invitation.accepted")
        .count();
    assert_eq!(accepted, 1);
}

#[tokio::test]
async fn declining_creates_nothing_and_revoking_withdraws_a_pending_invitation() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let declined = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let before = counts(&app);
    let body = json!({"token": declined["acceptToken"]});
    let res = answer(&app, tenant, &admin, &declined, "decline", body).await;
    assert_eq!(res.status(), 200);
    let view: Value = res.json().await.unwrap();
    assert_eq!(view["status"], "declined");
    assert!(view["respondedAt"].is_string());
    let (subs, rels, events) = counts(&app);
    assert_eq!((subs, rels, events), (before.0, before.1, before.2 + 1));
    let p = problem(accept(&app, tenant, &admin, &declined, true).await, 409).await;
    assert_eq!(p["code"], "invitation_not_pending");

    let revoked = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let path = format!(
        "/v1/partners/{ADVISOR_A}/invitations/{}",
        revoked["id"].as_str().unwrap()
    );
    let other = app.partner(ADVISOR_B);
    let p = problem(
        app.request(Method::DELETE, &path, Some(&other), None).await,
        403,
    )
    .await;
    assert_eq!(p["code"], "forbidden");
    let foreign = format!(
        "/v1/partners/{ADVISOR_B}/invitations/{}",
        revoked["id"].as_str().unwrap()
    );
    let p = problem(
        app.request(Method::DELETE, &foreign, Some(&other), None)
            .await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let partner = app.partner(ADVISOR_A);
    let res = app
        .request(Method::DELETE, &path, Some(&partner), None)
        .await;
    assert_eq!(res.status(), 204);
    let p = problem(
        app.request(Method::DELETE, &path, Some(&partner), None)
            .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "invitation_not_pending");
    let p = problem(accept(&app, tenant, &admin, &revoked, true).await, 409).await;
    assert_eq!(p["code"], "invitation_not_pending");
    let types = event_types(&app).await;
    assert!(types.contains(&"invitation.declined".to_owned()));
    assert!(types.contains(&"invitation.revoked".to_owned()));

    let expired = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    age(&app, &expired);
    let path = format!(
        "/v1/partners/{ADVISOR_A}/invitations/{}",
        expired["id"].as_str().unwrap()
    );
    let p = problem(
        app.request(Method::DELETE, &path, Some(&partner), None)
            .await,
        410,
    )
    .await;
    assert_eq!(p["code"], "invitation_expired");
    assert_eq!(stored_status(&app, &expired["id"]), "expired");
}

#[tokio::test]
async fn invitations_belong_to_their_partner_and_their_tenant() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let other_tenant = app.create_tenant("worldwide", "DK").await;
    let other_admin = app.tenant_admin(other_tenant);
    let invitation = invite(&app, ADVISOR_A, delegated_admin(tenant)).await;
    let token = invitation["acceptToken"].as_str().unwrap();

    // Another tenant's admin learns nothing, even with the right token.
    let p = problem(
        app.get(&read_path(&invitation, token), &other_admin).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let p = problem(
        accept(&app, other_tenant, &other_admin, &invitation, true).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    let p = problem(
        accept(&app, tenant, &other_admin, &invitation, true).await,
        404,
    )
    .await;
    assert_eq!(p["code"], "not_found");
    // Only the tenant's admin answers: not the partner, not an operator.
    for token in [app.partner(ADVISOR_A), app.operator()] {
        let p = problem(accept(&app, tenant, &token, &invitation, true).await, 403).await;
        assert_eq!(p["code"], "forbidden");
        let p = problem(app.get(&read_path(&invitation, "x"), &token).await, 403).await;
        assert_eq!(p["code"], "forbidden");
    }
    // A partner acts only on its own path; operators and admins do not invite.
    let path = format!("/v1/partners/{ADVISOR_A}/invitations");
    for token in [app.partner(ADVISOR_B), app.operator(), admin.clone()] {
        let p = problem(app.get(&path, &token).await, 403).await;
        assert_eq!(p["code"], "forbidden");
        let p = problem(app.post(&path, &token, delegated_admin(tenant)).await, 403).await;
        assert_eq!(p["code"], "forbidden");
    }
    let page: Value = app
        .get(
            &format!("/v1/partners/{ADVISOR_B}/invitations"),
            &app.partner(ADVISOR_B),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page, json!({"items": [], "nextCursor": null}));
}

#[tokio::test]
async fn the_partner_lists_its_invitations_by_page_and_status() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(invite(&app, ADVISOR_A, delegated_admin(tenant)).await);
    }
    accept(&app, tenant, &admin, &ids[1], true).await;
    let partner = app.partner(ADVISOR_A);
    let path = format!("/v1/partners/{ADVISOR_A}/invitations");
    let first: Value = app
        .get(&format!("{path}?limit=2"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["items"][0]["id"], ids[0]["id"]);
    assert!(first["items"][0].get("acceptToken").is_none());
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("{path}?limit=2&cursor={cursor}"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["id"], ids[2]["id"]);
    assert!(second["nextCursor"].is_null());
    let accepted: Value = app
        .get(&format!("{path}?status=accepted"), &partner)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["items"].as_array().unwrap().len(), 1);
    assert_eq!(accepted["items"][0]["id"], ids[1]["id"]);
    let pending: Value = app
        .get(
            &format!("{path}?status=pending&tenantId={tenant}"),
            &partner,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["items"].as_array().unwrap().len(), 2);
    let p = problem(app.get(&format!("{path}?status=lost"), &partner).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "status");
}

#[tokio::test]
async fn invalid_invitations_are_refused_and_leave_nothing() {
    let app = TestApp::spawn().await;
    let (tenant, _) = world(&app, "worldwide", "DK").await;
    let china = app.create_tenant("china21Vianet", "CN").await;
    app.create_partner(json!({
        "mpnId": "4567890", "kind": "location", "globalMpnId": GLOBAL, "name": "Fabrikam Advisory",
        "capabilities": ["advisor"]
    }))
    .await;
    let before = counts(&app);
    let da = delegated_admin(tenant);
    let with = |extra: Value| {
        let mut body = da.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            ADVISOR_A,
            with(json!({"roles": []})),
            "validation_failed",
            "roles",
        ),
        (
            ADVISOR_A,
            with(json!({"requestsDelegatedAdmin": false})),
            "validation_failed",
            "roles",
        ),
        (
            ADVISOR_A,
            with(json!({"roles": ["userAdministrator", "userAdministrator"]})),
            "validation_failed",
            "roles",
        ),
        (
            ADVISOR_A,
            with(json!({"roles": ["owner"]})),
            "validation_failed",
            "roles[0]",
        ),
        (
            ADVISOR_A,
            with(json!({"delegatedAdminDuration": "P731D"})),
            "validation_failed",
            "delegatedAdminDuration",
        ),
        (
            ADVISOR_A,
            with(json!({"delegatedAdminDuration": "P2Y"})),
            "validation_failed",
            "delegatedAdminDuration",
        ),
        (
            ADVISOR_A,
            json!({"tenantId": tenant, "terms": TERMS, "requestsDelegatedAdmin": false}),
            "validation_failed",
            "requestsDelegatedAdmin",
        ),
        (
            ADVISOR_A,
            with(json!({"terms": "  "})),
            "validation_failed",
            "terms",
        ),
        (
            ADVISOR_A,
            with(json!({"expiresInDays": 31})),
            "validation_failed",
            "expiresInDays",
        ),
        (
            ADVISOR_A,
            with(json!({"tenantId": Uuid::new_v4()})),
            "validation_failed",
            "tenantId",
        ),
        (
            ADVISOR_A,
            with(
                json!({"offer": {"kind": "trial", "productId": "exchange-online-plan-1", "quantity": 1}}),
            ),
            "validation_failed",
            "offer.kind",
        ),
        (
            ADVISOR_A,
            with(json!({"offer": {"kind": "purchase", "productId": "nope", "quantity": 1}})),
            "validation_failed",
            "offer.productId",
        ),
        (
            ADVISOR_A,
            with(
                json!({"offer": {"kind": "purchase", "productId": "office-365-e1", "quantity": 0}}),
            ),
            "validation_failed",
            "offer.quantity",
        ),
        (
            ADVISOR_A,
            with(
                json!({"tenantId": china, "offer": {"kind": "purchase", "productId": "azure-plan", "quantity": 1}}),
            ),
            "validation_failed",
            "offer.productId",
        ),
        (
            ADVISOR_A,
            with(json!({"offer": {"kind": "purchase", "productId": "azure-plan", "quantity": 1}})),
            "partner_not_eligible",
            "serviceFamily",
        ),
        (
            ADVISOR_A,
            with(json!({"subscriptionIds": [Uuid::new_v4()]})),
            "validation_failed",
            "subscriptionIds[0]",
        ),
        ("4567890", da.clone(), "partner_not_eligible", "capability"),
        (GLOBAL, da.clone(), "partner_id_not_transactable", ""),
        ("7777777", da.clone(), "partner_not_found", ""),
    ];
    for (mpn, body, code, field) in cases {
        let res = app
            .post(
                &format!("/v1/partners/{mpn}/invitations"),
                &app.partner(mpn),
                body.clone(),
            )
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], code, "{body}: {p}");
        if !field.is_empty() {
            assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        }
    }
    assert_eq!(counts(&app), before);
    let stored: i64 = invitations::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_new_delegated_admin_invitation_replaces_the_earlier_relationship() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let first = grant_delegated_admin(&app, tenant, &admin, ADVISOR_A).await;
    let mut body = delegated_admin(tenant);
    body["roles"] = json!(["globalAdministrator"]);
    let second = invite(&app, ADVISOR_A, body).await;
    let res = accept(&app, tenant, &admin, &second, true).await;
    assert_eq!(res.status(), 200);
    let listed: Value = app
        .get(
            &format!("/v1/tenants/{tenant}/partner-relationships"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["roles"], json!(["globalAdministrator"]));
    assert_ne!(items[0]["id"], first["relationships"][0]["id"]);
    assert_eq!(
        time(&items[0]["expiresAt"]) - time(&items[0]["since"]),
        chrono::Duration::days(730)
    );
    let removed: Vec<Value> = events_of(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "relationship.removed")
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["data"]["reason"], "superseded");
}
