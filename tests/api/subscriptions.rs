use diesel::prelude::*;
use partnerlink::db::schema::{advisor_associations, events, subscriptions};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp, TestDb};
use crate::invitations::events_after;

pub const GLOBAL: &str = "1234567";
pub const ADVISOR_A: &str = "2345678";
pub const ADVISOR_B: &str = "3456789";

/// A worldwide Danish tenant, an organisation with two advisor locations serving it.
pub async fn world(app: &TestApp, cloud: &str, country: &str) -> (Uuid, String) {
    app.create_partner(json!({"mpnId": GLOBAL, "clouds": ["worldwide", "china21Vianet"], "countryCodes": ["DK", "CN"]}))
        .await;
    for (mpn, name) in [
        (ADVISOR_A, "Fabrikam Copenhagen"),
        (ADVISOR_B, "Fabrikam Aarhus"),
    ] {
        app.create_partner(json!({
            "mpnId": mpn, "kind": "location", "globalMpnId": GLOBAL, "name": name,
            "clouds": ["worldwide", "china21Vianet"], "countryCodes": ["DK", "CN"],
            "serviceFamilies": ["microsoft365", "powerPlatform"]
        }))
        .await;
    }
    let tenant = app.create_tenant(cloud, country).await;
    (tenant, app.tenant_admin(tenant))
}

pub async fn buy(app: &TestApp, tenant: Uuid, token: &str, body: Value) -> Value {
    let res = app
        .post(&format!("/v1/tenants/{tenant}/subscriptions"), token, body)
        .await;
    let status = res.status();
    let value: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{value}");
    value
}

/// The advisor URL of a subscription as `buy` returned it.
pub fn advisor_path(tenant: Uuid, sub: &Value) -> String {
    format!(
        "/v1/tenants/{tenant}/subscriptions/{}/advisor",
        sub["id"].as_str().unwrap()
    )
}

/// A worldwide tenant in DK with one subscription bought with `body`: the tenant, its
/// admin's token and the subscription's advisor path.
pub async fn subscription(app: &TestApp, body: Value) -> (Uuid, String, String) {
    let (tenant, admin) = world(app, "worldwide", "DK").await;
    let sub = buy(app, tenant, &admin, body).await;
    (tenant, admin, advisor_path(tenant, &sub))
}

fn counts(app: &TestApp) -> (i64, i64, i64) {
    let mut conn = app.conn();
    (
        subscriptions::table.count().get_result(&mut conn).unwrap(),
        advisor_associations::table
            .count()
            .get_result(&mut conn)
            .unwrap(),
        events::table.count().get_result(&mut conn).unwrap(),
    )
}

#[tokio::test]
async fn a_purchase_with_a_partner_creates_the_subscription_and_its_advisor_in_one_step() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let res = app
        .post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &admin,
            json!({"productId": "office-365-e3", "quantity": 25, "partnerMpnId": ADVISOR_A}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let sub: Value = res.json().await.unwrap();
    assert_eq!(sub["status"], "active");
    assert!(sub["trialEndsAt"].is_null());
    assert_eq!(sub["advisor"]["mpnId"], ADVISOR_A);
    assert_eq!(sub["advisor"]["source"], "purchase");
    assert_eq!(sub["advisor"]["partnerName"], "Fabrikam Copenhagen");
    assert_eq!(sub["advisor"]["addedBy"], "test-actor");
    assert!(sub["resellerMpnId"].is_null());

    let read: Value = app
        .get(
            &format!(
                "/v1/tenants/{tenant}/subscriptions/{}",
                sub["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, sub);
    let feed: Value = app
        .get("/v1/events", &app.operator())
        .await
        .json()
        .await
        .unwrap();
    let types: Vec<&str> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["subscription.purchased", "advisor.added"]);
}

#[tokio::test]
async fn a_trial_needs_a_product_with_a_trial() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "microsoft-365-e5", "quantity": 5, "trial": true}),
    )
    .await;
    assert_eq!(sub["status"], "trial");
    assert!(sub["trialEndsAt"].is_string());
    let res = app
        .post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &admin,
            json!({"productId": "azure-plan", "quantity": 1, "trial": true}),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "trial");
}

#[tokio::test]
async fn refused_purchases_leave_no_row_and_no_event() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let china = app.create_tenant("china21Vianet", "CN").await;
    let china_admin = app.tenant_admin(china);
    let before = counts(&app);
    let cases: Vec<(Uuid, &str, Value, u16, &str)> = vec![
        (
            china,
            &china_admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
            403,
            "partner_initiated_only",
        ),
        (
            china,
            &china_admin,
            json!({"productId": "azure-plan", "quantity": 1}),
            422,
            "validation_failed",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "nope", "quantity": 1}),
            422,
            "validation_failed",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 0}),
            422,
            "validation_failed",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 300001}),
            422,
            "validation_failed",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": "9999999"}),
            422,
            "partner_not_found",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": GLOBAL}),
            422,
            "partner_id_not_transactable",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "azure-plan", "quantity": 1, "partnerMpnId": ADVISOR_A}),
            422,
            "partner_not_eligible",
        ),
        (
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": "01234"}),
            422,
            "invalid_mpn_id",
        ),
    ];
    for (t, token, body, status, code) in cases {
        let res = app
            .post(
                &format!("/v1/tenants/{t}/subscriptions"),
                token,
                body.clone(),
            )
            .await;
        let p = problem(res, status).await;
        assert_eq!(p["code"], code, "{body}: {p}");
    }
    let p = problem(
        app.post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": GLOBAL}),
        )
        .await,
        422,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains(ADVISOR_A), "{p}");
    assert_eq!(counts(&app), before);
}

#[tokio::test]
async fn every_eligibility_condition_is_named() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let base = json!({"kind": "location", "globalMpnId": GLOBAL, "clouds": ["worldwide"], "countryCodes": ["DK"], "serviceFamilies": ["microsoft365"], "capabilities": ["advisor"]});
    let variants = [
        ("4000001", json!({"status": "suspended"}), "active"),
        (
            "4000002",
            json!({"capabilities": ["reseller"]}),
            "capability",
        ),
        ("4000003", json!({"clouds": ["china21Vianet"]}), "cloud"),
        ("4000004", json!({"countryCodes": ["SE"]}), "countryCode"),
        (
            "4000005",
            json!({"serviceFamilies": ["azure"]}),
            "serviceFamily",
        ),
    ];
    for (mpn, change, condition) in variants {
        let mut body = base.clone();
        body["mpnId"] = json!(mpn);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.create_partner(body).await;
        let res = app
            .post(
                &format!("/v1/tenants/{tenant}/subscriptions"),
                &admin,
                json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": mpn}),
            )
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "partner_not_eligible");
        assert_eq!(p["errors"][0]["field"], condition, "{p}");
    }
}

#[tokio::test]
async fn idempotent_purchases_replay_and_refuse_another_body() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let url = format!("{}/v1/tenants/{tenant}/subscriptions", app.address);
    let body = json!({"productId": "office-365-e1", "quantity": 3, "partnerMpnId": ADVISOR_A});
    let send = |body: Value, key: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&admin)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(body.clone(), "order-1").await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    let again = send(body.clone(), "\"order-1\"").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let p = problem(
        send(
            json!({"productId": "office-365-e1", "quantity": 4}),
            "order-1",
        )
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(p["code"], "idempotency_key_reused");
    assert_eq!(counts(&app).0, 1);
    let p = problem(send(body, "").await.unwrap(), 400).await;
    assert_eq!(p["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn concurrent_purchases_with_one_key_buy_once() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let url = format!("{}/v1/tenants/{tenant}/subscriptions", app.address);
    let body = json!({"productId": "office-365-e1", "quantity": 3});
    let requests = (0..8).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&admin)
            .header("Idempotency-Key", "storm")
            .json(&body)
            .send()
    });
    let results = futures_util::future::join_all(requests).await;
    let statuses: Vec<u16> = results
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert!(statuses.contains(&201));
    assert_eq!(counts(&app).0, 1);
}

#[tokio::test]
async fn lifecycle_transitions_and_cancellation_ends_the_advisor() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 2, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    let res = app
        .patch(&path, &admin, json!({"status": "suspended"}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let p = problem(
        app.patch(&path, &admin, json!({"status": "trial"})).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "invalid_transition");
    let res = app
        .patch(&path, &admin, json!({"status": "active", "quantity": 10}))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["status"].as_str(), body["quantity"].as_i64()),
        (Some("active"), Some(10))
    );
    let body: Value = app
        .patch(&path, &app.operator(), json!({"status": "cancelled"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "cancelled");
    assert!(body["advisor"].is_null());
    let p = problem(
        app.patch(&path, &admin, json!({"status": "active"})).await,
        409,
    )
    .await;
    assert_eq!(p["code"], "invalid_transition");
    let p = problem(
        app.request(
            Method::PUT,
            &format!("{path}/advisor"),
            Some(&admin),
            Some(json!({"mpnId": ADVISOR_B})),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(p["code"], "conflict");
    let history: Value = app
        .get(&format!("{path}/advisor/history"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(history["items"][0]["validTo"].is_string());
}

#[tokio::test]
async fn a_trial_converts_to_active() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 2, "trial": true}),
    )
    .await;
    let path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    let body: Value = app
        .patch(&path, &admin, json!({"status": "active"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "active");
    assert!(body["trialEndsAt"].is_null());
}

#[tokio::test]
async fn the_list_pages_filters_and_embeds_advisors() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    for i in 0..5 {
        let partner = if i % 2 == 0 {
            json!(ADVISOR_A)
        } else {
            Value::Null
        };
        let mut body = json!({"productId": "office-365-e3", "quantity": i + 1});
        if !partner.is_null() {
            body["partnerMpnId"] = partner;
        }
        buy(&app, tenant, &admin, body).await;
    }
    buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "power-bi-pro", "quantity": 1}),
    )
    .await;
    let mut seen = Vec::new();
    let mut path = format!("/v1/tenants/{tenant}/subscriptions?limit=2&productId=office-365-e3");
    loop {
        let page: Value = app.get(&path, &admin).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["productId"], "office-365-e3");
            seen.push((
                item["quantity"].as_i64().unwrap(),
                item["advisor"]["mpnId"].as_str().map(str::to_owned),
            ));
        }
        match page["nextCursor"].as_str() {
            Some(c) => {
                path = format!(
                    "/v1/tenants/{tenant}/subscriptions?limit=2&productId=office-365-e3&cursor={c}"
                )
            }
            None => break,
        }
    }
    let expected: Vec<(i64, Option<String>)> = (1..=5)
        .map(|q| (q, (q % 2 == 1).then(|| ADVISOR_A.to_owned())))
        .collect();
    assert_eq!(seen, expected);
    let page: Value = app
        .get(
            &format!("/v1/tenants/{tenant}/subscriptions?status=cancelled"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn another_tenants_subscription_answers_404_on_every_call() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 2, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let id = sub["id"].as_str().unwrap();
    let intruder_tenant = app.create_tenant("worldwide", "DK").await;
    let intruder = app.tenant_admin(intruder_tenant);
    let own = format!("/v1/tenants/{tenant}/subscriptions/{id}");
    let crossed = format!("/v1/tenants/{intruder_tenant}/subscriptions/{id}");
    for path in [&own, &crossed] {
        for (method, suffix, body) in [
            (Method::GET, "", None),
            (Method::PATCH, "", Some(json!({"status": "suspended"}))),
            (Method::GET, "/advisor", None),
            (Method::PUT, "/advisor", Some(json!({"mpnId": ADVISOR_B}))),
            (Method::DELETE, "/advisor", None),
            (Method::GET, "/advisor/history", None),
        ] {
            let res = app
                .request(
                    method.clone(),
                    &format!("{path}{suffix}"),
                    Some(&intruder),
                    body,
                )
                .await;
            assert_eq!(
                problem(res, 404).await["code"],
                "not_found",
                "{method} {path}{suffix}"
            );
        }
    }
    let res = app
        .get(&format!("/v1/tenants/{tenant}/subscriptions"), &intruder)
        .await;
    problem(res, 404).await;
    let after: Value = app.get(&own, &admin).await.json().await.unwrap();
    assert_eq!(after, sub);
}

#[tokio::test]
async fn a_reseller_buys_for_its_customer_and_others_cannot() {
    let app = TestApp::spawn().await;
    let (tenant, _) = world(&app, "worldwide", "DK").await;
    {
        let mut conn = app.conn();
        diesel::sql_query(format!(
            "INSERT INTO partner_relationships (tenant_id, id, mpn_id, kind, since) VALUES ('{tenant}', gen_random_uuid(), {ADVISOR_A}, 'reseller', now())"
        ))
        .execute(&mut conn)
        .unwrap();
    }
    let reseller = app.partner(ADVISOR_A);
    let sub = buy(
        &app,
        tenant,
        &reseller,
        json!({"productId": "office-365-e3", "quantity": 2}),
    )
    .await;
    assert_eq!(sub["resellerMpnId"], ADVISOR_A);
    let list: Value = app
        .get(&format!("/v1/tenants/{tenant}/subscriptions"), &reseller)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let stranger = app.partner(ADVISOR_B);
    let res = app
        .post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &stranger,
            json!({"productId": "office-365-e3", "quantity": 2}),
        )
        .await;
    problem(res, 404).await;
    let res = app
        .post(
            &format!("/v1/tenants/{tenant}/subscriptions"),
            &app.operator(),
            json!({"productId": "office-365-e3", "quantity": 2}),
        )
        .await;
    problem(res, 403).await;
}

/// Event writers do not wait for each other, and an event committed after a later one
/// was served still comes after the reader's cursor: numbers are given at reading.
#[tokio::test]
async fn an_event_committed_late_is_served_after_the_cursor() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn().await;
    let insert = |name: &str| {
        format!(
            "INSERT INTO events (id, type, occurred_at, actor, data) \
             VALUES (gen_random_uuid(), 'test.event', now(), 'test', '{{\"name\": \"{name}\"}}')"
        )
    };
    let test_events = |after: i64| {
        let app = &app;
        async move {
            events_after(app, after)
                .await
                .iter()
                .filter(|e| e["type"] == "test.event")
                .map(|e| (e["sequence"].as_i64().unwrap(), e["data"]["name"].clone()))
                .collect::<Vec<_>>()
        }
    };
    let mut early = app.conn();
    early.batch_execute("BEGIN").unwrap();
    early.batch_execute(&insert("early")).unwrap();
    app.conn()
        .batch_execute(&format!("SET statement_timeout = 300; {}", insert("late")))
        .unwrap();

    let first = test_events(0).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let (late_sequence, name) = &first[0];
    assert_eq!(name, "late");

    early.batch_execute("COMMIT").unwrap();
    let next = test_events(*late_sequence).await;
    assert_eq!(next.len(), 1, "{next:?}");
    assert_eq!(next[0].1, "early");
    assert!(next[0].0 > *late_sequence);
    assert_eq!(test_events(0).await, [first[0].clone(), next[0].clone()]);
}

/// Stages `n` committed, not yet numbered `test.event`s, straight in the outbox.
fn stage_test_events(app: &TestApp, n: u32) {
    use diesel::connection::SimpleConnection;
    app.conn()
        .batch_execute(&format!(
            "INSERT INTO events (id, type, occurred_at, actor, data) \
             SELECT gen_random_uuid(), 'test.event', now(), 'test', '{{}}' \
             FROM generate_series(1, {n})"
        ))
        .unwrap();
}

/// Feed readers number events one at a time: concurrent readers of many unnumbered
/// events all answer, and every event gets one number of its own, in staging order
/// (a read numbers up to 1,000: two of the six number all 1,500).
#[tokio::test]
async fn concurrent_feed_readers_number_each_event_once() {
    let app = TestApp::spawn().await;
    stage_test_events(&app, 1500);
    let operator = app.operator();
    let reads = (0..6).map(|_| app.get("/v1/events?limit=200", &operator));
    for res in futures_util::future::join_all(reads).await {
        assert_eq!(res.status(), 200);
    }
    let numbered: Vec<(i64, Option<i64>)> = events::table
        .filter(events::type_.eq("test.event"))
        .order(events::staged)
        .select((events::staged, events::sequence))
        .load(&mut app.conn())
        .unwrap();
    let sequences: Vec<i64> = numbered.iter().map(|(_, s)| s.unwrap()).collect();
    assert_eq!(sequences.len(), 1500);
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
}

/// A read numbers at least a page and its look-ahead: the largest page of unnumbered
/// events is full and says more follow.
#[tokio::test]
async fn the_largest_page_of_unnumbered_events_is_full() {
    let app = TestApp::spawn_with(TestDb::new(), |s| s.max_page_size = 1_000).await;
    stage_test_events(&app, 1001);
    let page: Value = app
        .get("/v1/events?limit=1000", &app.operator())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 1000);
    assert!(page["nextCursor"].is_string(), "{}", page["nextCursor"]);
}
