use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use partnerlink::db::schema::{advisor_associations, events};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{problem, TestApp};
use crate::invitations::event_types;
use crate::subscriptions::{buy, world, ADVISOR_A, ADVISOR_B};

async fn put_advisor(
    app: &TestApp,
    path: &str,
    token: &str,
    mpn: &str,
    if_match: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client
        .put(format!("{}{path}/advisor", app.address))
        .bearer_auth(token)
        .json(&json!({"mpnId": mpn}));
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    req.send().await.unwrap()
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn add_change_and_remove_keep_an_exact_gapless_history() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 2}),
    )
    .await;
    let path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );

    let p = problem(app.get(&format!("{path}/advisor"), &admin).await, 404).await;
    assert_eq!(p["code"], "no_advisor");
    let res = put_advisor(&app, &path, &admin, ADVISOR_A, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let added: Value = res.json().await.unwrap();
    assert_eq!(added["source"], "customer");
    let res = put_advisor(&app, &path, &admin, ADVISOR_B, Some("\"2\"")).await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();

    let events_before: i64 = events::table.count().get_result(&mut app.conn()).unwrap();
    let res = put_advisor(&app, &path, &admin, ADVISOR_B, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"3\"");
    assert_eq!(res.json::<Value>().await.unwrap(), changed);
    let events_after: i64 = events::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(events_before, events_after);

    let history: Value = app
        .get(&format!("{path}/advisor/history"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["mpnId"], ADVISOR_B);
    assert!(items[0]["validTo"].is_null());
    assert_eq!(items[1]["mpnId"], ADVISOR_A);
    assert_eq!(items[1]["validTo"], items[0]["validFrom"]);
    assert_eq!(items[1]["removedBy"], "test-actor");

    // ?at= on the boundaries: the change instant belongs to the new association.
    let boundary = items[0]["validFrom"].as_str().unwrap().to_owned();
    let at = |t: &str| format!("{path}/advisor/history?at={}", t.replace('+', "%2B"));
    let h: Value = app.get(&at(&boundary), &admin).await.json().await.unwrap();
    assert_eq!(h["items"][0]["mpnId"], ADVISOR_B);
    let just_before =
        (time(&items[0]["validFrom"]) - chrono::Duration::microseconds(1)).to_rfc3339();
    let h: Value = app
        .get(&at(&just_before), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["items"][0]["mpnId"], ADVISOR_A);
    let before_all =
        (time(&items[1]["validFrom"]) - chrono::Duration::microseconds(1)).to_rfc3339();
    assert_eq!(
        problem(app.get(&at(&before_all), &admin).await, 404).await["code"],
        "no_advisor"
    );
    problem(
        app.get(&format!("{path}/advisor/history?at=yesterday"), &admin)
            .await,
        400,
    )
    .await;

    let res = app
        .request(
            Method::DELETE,
            &format!("{path}/advisor"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        problem(app.get(&format!("{path}/advisor"), &admin).await, 404).await["code"],
        "no_advisor"
    );
    let res = app
        .request(
            Method::DELETE,
            &format!("{path}/advisor"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(problem(res, 404).await["code"], "no_advisor");
    let sub_after: Value = app.get(&path, &admin).await.json().await.unwrap();
    assert!(sub_after["advisor"].is_null());
    assert_eq!(sub_after["status"], "active");

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
    assert_eq!(
        types,
        [
            "subscription.purchased",
            "advisor.added",
            "advisor.changed",
            "advisor.removed"
        ]
    );
    let seqs: Vec<i64> = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn a_stale_if_match_changes_nothing() {
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
    let p = problem(
        put_advisor(&app, &path, &admin, ADVISOR_B, Some("\"7\"")).await,
        412,
    )
    .await;
    assert_eq!(p["code"], "precondition_failed");
    let mut req = app
        .client
        .delete(format!("{}{path}/advisor", app.address))
        .bearer_auth(&admin);
    req = req.header("If-Match", "W/\"1\"");
    problem(req.send().await.unwrap(), 412).await;
    let res = app
        .client
        .patch(format!("{}{path}", app.address))
        .bearer_auth(&admin)
        .header("If-Match", "\"9\"")
        .json(&json!({"quantity": 3}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let after: Value = app.get(&path, &admin).await.json().await.unwrap();
    assert_eq!(after, sub);
}

#[tokio::test]
async fn in_21vianet_adding_is_refused_but_changing_is_allowed() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 2}),
    )
    .await;
    let path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    let p = problem(put_advisor(&app, &path, &admin, ADVISOR_A, None).await, 403).await;
    assert_eq!(p["code"], "partner_initiated_only");
    // An advisor that came through an invitation can be changed (R5 holds in both clouds).
    {
        let mut conn = app.conn();
        diesel::sql_query(format!(
            "INSERT INTO advisor_associations (tenant_id, subscription_id, id, mpn_id, valid_from, source, added_by) \
             VALUES ('{tenant}', '{}', gen_random_uuid(), {ADVISOR_A}, now() - interval '1 day', 'invitation', 'partner')",
            sub["id"].as_str().unwrap()
        ))
        .execute(&mut conn)
        .unwrap();
    }
    let res = put_advisor(&app, &path, &admin, ADVISOR_B, None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn twenty_concurrent_changes_leave_one_current_association_and_a_consistent_history() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let mut partners = vec![ADVISOR_A.to_owned(), ADVISOR_B.to_owned()];
    for i in 0..8 {
        let mpn = format!("{}", 5_000_000 + i);
        app.create_partner(json!({"mpnId": mpn, "kind": "location", "globalMpnId": crate::subscriptions::GLOBAL, "capabilities": ["advisor"]}))
            .await;
        partners.push(mpn);
    }
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 2}),
    )
    .await;
    let path = format!(
        "/v1/tenants/{tenant}/subscriptions/{}",
        sub["id"].as_str().unwrap()
    );
    let requests =
        (0..20).map(|i| put_advisor(&app, &path, &admin, &partners[i % partners.len()], None));
    let statuses: Vec<u16> = futures_util::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let mut conn = app.conn();
    let current: i64 = advisor_associations::table
        .filter(advisor_associations::valid_to.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(current, 1);
    let history: Value = app
        .get(&format!("{path}/advisor/history"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert_eq!(pair[1]["validTo"], pair[0]["validFrom"], "gapless");
        assert_ne!(
            pair[1]["mpnId"], pair[0]["mpnId"],
            "a change always names another partner"
        );
    }
    let changes: i64 = events::table
        .filter(events::type_.eq_any(["advisor.added", "advisor.changed"]))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(changes as usize, items.len());
}

/// A change that another change overtakes between its read and its write reads again:
/// the write waits for the other's lock, finds the version moved and writes nothing,
/// and the second attempt changes the advisor from the new version. With `If-Match` on
/// the first version, the second attempt answers 412 and nothing changes.
#[tokio::test]
async fn a_change_overtaken_between_its_read_and_its_write_reads_again() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    for (if_match, status) in [(None, 200), (Some("\"1\""), 412)] {
        let sub = buy(
            &app,
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 2, "partnerMpnId": ADVISOR_A}),
        )
        .await;
        let id = sub["id"].as_str().unwrap();
        let path = format!("/v1/tenants/{tenant}/subscriptions/{id}");
        let mut other = app.conn();
        other
            .batch_execute(&format!(
                "BEGIN; UPDATE subscriptions SET version = version + 1 WHERE id = '{id}'"
            ))
            .unwrap();
        let (res, ()) = tokio::join!(
            put_advisor(&app, &path, &admin, ADVISOR_B, if_match),
            async {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                other.batch_execute("COMMIT").unwrap();
            }
        );
        assert_eq!(res.status(), status, "If-Match {if_match:?}");
        let after: Value = app.get(&path, &admin).await.json().await.unwrap();
        let (advisor, version) = if status == 200 {
            assert_eq!(res.headers()["etag"], "\"3\"");
            (ADVISOR_B, 3)
        } else {
            (ADVISOR_A, 2)
        };
        assert_eq!(after["advisor"]["mpnId"], advisor);
        assert_eq!(after["version"], version);
    }
    let types = event_types(&app).await;
    assert_eq!(types.iter().filter(|t| *t == "advisor.changed").count(), 1);
}
