//! Faults: the database going away, an exhausted pool, slow statements, vanishing clients.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use partnerlink::db::schema::{advisor_associations, events, subscriptions};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{problem, DbProxy, TestApp, TestDb};
use crate::subscriptions::{buy, subscription, world, ADVISOR_A, ADVISOR_B};

async fn wait_ready(app: &TestApp, want: u16) {
    for _ in 0..300 {
        let res = app
            .client
            .get(format!("{}/health/ready", app.address))
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("readiness never became {want}");
}

fn count_consistency(app: &TestApp) -> (i64, i64, i64, i64) {
    let mut conn = app.conn();
    let subs: i64 = subscriptions::table.count().get_result(&mut conn).unwrap();
    let assocs: i64 = advisor_associations::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let purchased: i64 = events::table
        .filter(events::type_.eq("subscription.purchased"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let advisor_events: i64 = events::table
        .filter(events::type_.eq_any(["advisor.added", "advisor.changed"]))
        .count()
        .get_result(&mut conn)
        .unwrap();
    (subs, purchased, assocs, advisor_events)
}

#[tokio::test]
async fn a_database_restart_under_load_fails_fast_then_recovers_without_losing_a_2xx() {
    let proxy = DbProxy::start().await;
    let db = TestDb::new();
    let url = proxy.url(&db);
    let app = TestApp::spawn_with(db, |s| {
        s.database_url = url;
        s.pool_size = 2;
        s.pool_acquire_timeout = Duration::from_millis(500);
        s.db_connect_timeout = Duration::from_secs(1);
    })
    .await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let path = format!("/v1/tenants/{tenant}/subscriptions");

    let load = (0..3).map(|_| {
        let (app, admin, path) = (&app, admin.clone(), path.clone());
        async move {
            let (mut created, mut refused) = (Vec::new(), 0);
            for _ in 0..40 {
                let res = app
                    .post(&path, &admin, json!({"productId": "office-365-e1", "quantity": 1, "partnerMpnId": ADVISOR_A}))
                    .await;
                match res.status().as_u16() {
                    201 => created.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()),
                    503 => {
                        assert!(res.headers().contains_key("retry-after"));
                        problem(res, 503).await;
                        refused += 1;
                    }
                    other => panic!("unexpected status {other} during the outage"),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            (created, refused)
        }
    });
    let outage = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.cut().await;
        wait_ready(&app, 503).await;
        let p = problem(app.get(&path, &admin).await, 503).await;
        assert_eq!(p["code"], "service_unavailable");
        tokio::time::sleep(Duration::from_millis(800)).await;
        proxy.restore();
        wait_ready(&app, 200).await;
    };
    let (results, ()) = tokio::join!(futures_util::future::join_all(load), outage);
    let refused: i64 = results.iter().map(|(_, r)| r).sum();
    let created: Vec<String> = results.into_iter().flat_map(|(c, _)| c).collect();

    buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 1}),
    )
    .await;
    let mut conn = app.conn();
    for id in &created {
        let id: uuid::Uuid = id.parse().unwrap();
        let found: i64 = subscriptions::table
            .filter(subscriptions::id.eq(id))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(found, 1, "a subscription answered 201 is in the database");
    }
    let (subs, purchased, assocs, advisor_events) = count_consistency(&app);
    // A 503 may hide a purchase that committed but whose acknowledgement the cut lost
    // (in doubt); such a purchase must still be whole.
    let in_doubt = subs - (created.len() as i64 + 1);
    assert!(
        (0..=refused).contains(&in_doubt),
        "{subs} subscriptions for {} answered 201 and {refused} answered 503",
        created.len()
    );
    assert_eq!(purchased, subs, "one event per committed purchase");
    assert_eq!(
        (assocs, advisor_events),
        (subs - 1, subs - 1),
        "no half-written purchase"
    );
}

/// Waits until a service connection is blocked on the test's row lock, so the request
/// is known to hold its pooled connection, however slow the machine.
async fn wait_for_lock_waiter(app: &TestApp) {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn();
    for _ in 0..400 {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .get_result(&mut conn)
        .unwrap();
        if waiting.n > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the request never reached the locked row");
}

/// Sets the advisor; with the test's row lock held, the request waits on it.
async fn put_advisor(app: &TestApp, advisor: &str, admin: &str, mpn: &str) -> reqwest::Response {
    app.request(
        reqwest::Method::PUT,
        advisor,
        Some(admin),
        Some(json!({"mpnId": mpn})),
    )
    .await
}

/// Holds a row lock on every subscription from the test's own connection.
fn lock_subscriptions(app: &TestApp) -> PgConnection {
    let mut conn = app.conn();
    conn.batch_execute("BEGIN; SELECT 1 FROM subscriptions FOR UPDATE")
        .unwrap();
    conn
}

/// An app with one pooled connection, which a request waits 300 ms for at most, and
/// statements that may wait 10 s on a row lock.
async fn one_connection_app() -> TestApp {
    TestApp::spawn_with(TestDb::new(), |s| {
        s.pool_size = 1;
        s.pool_acquire_timeout = Duration::from_millis(300);
        s.statement_timeout = Duration::from_secs(10);
    })
    .await
}

/// Holds the pool's only connection with an advisor change blocked on the test's row
/// lock, runs `starved` once the change waits on the lock, then releases the lock.
/// Returns the change's answer and what `starved` returned.
async fn while_the_pool_is_held<T>(
    app: &TestApp,
    admin: &str,
    advisor: &str,
    starved: impl std::future::Future<Output = T>,
) -> (reqwest::Response, T) {
    let mut lock = lock_subscriptions(app);
    let blocked = put_advisor(app, advisor, admin, ADVISOR_A);
    let starved = async {
        wait_for_lock_waiter(app).await;
        let out = starved.await;
        lock.batch_execute("COMMIT").unwrap();
        out
    };
    tokio::join!(blocked, starved)
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_within_the_acquire_timeout() {
    let app = one_connection_app().await;
    let (tenant, admin, advisor) =
        subscription(&app, json!({"productId": "office-365-e3", "quantity": 1})).await;
    let (blocked, starved) = while_the_pool_is_held(&app, &admin, &advisor, async {
        let res = app.get(&format!("/v1/tenants/{tenant}"), &admin).await;
        problem(res, 503).await
    })
    .await;
    assert_eq!(starved["code"], "service_unavailable");
    assert_eq!(
        blocked.status(),
        200,
        "the blocked change completes once the lock is released"
    );
}

/// A purchase refused with 503 because it waited out the acquire timeout behind a busy
/// pool never runs afterwards, when a connection frees up: the client was told it failed.
#[tokio::test]
async fn a_write_refused_for_a_busy_pool_is_never_run_later() {
    let app = one_connection_app().await;
    let (tenant, admin, advisor) =
        subscription(&app, json!({"productId": "office-365-e3", "quantity": 1})).await;
    let (blocked, refused) = while_the_pool_is_held(&app, &admin, &advisor, async {
        let res = app
            .post(
                &format!("/v1/tenants/{tenant}/subscriptions"),
                &admin,
                json!({"productId": "office-365-e1", "quantity": 1}),
            )
            .await;
        problem(res, 503).await
    })
    .await;
    assert_eq!(refused["code"], "service_unavailable");
    assert_eq!(blocked.status(), 200);
    // The refused job sat in the queue behind the blocked one; give it the time to run.
    let ready = app.get(&format!("/v1/tenants/{tenant}"), &admin).await;
    assert_eq!(ready.status(), 200);
    let (subs, ..) = count_consistency(&app);
    assert_eq!(subs, 1, "the refused purchase was not made after all");
}

/// A request dropped while it waits for a pool slot (here by the request timeout) stops
/// counting as waiting: the `partnerlink_db_pool_waiting` gauge goes back to 0.
#[tokio::test]
async fn a_request_dropped_while_waiting_for_the_pool_stops_counting_as_waiting() {
    let app = TestApp::spawn_with(TestDb::new(), |s| {
        s.pool_size = 1;
        s.pool_acquire_timeout = Duration::from_secs(30);
        s.request_timeout = Duration::from_millis(500);
        s.statement_timeout = Duration::from_secs(30);
    })
    .await;
    let (tenant, admin, advisor) =
        subscription(&app, json!({"productId": "office-365-e3", "quantity": 1})).await;
    let (_, (code, waiting)) = while_the_pool_is_held(&app, &admin, &advisor, async {
        let res = app.get(&format!("/v1/tenants/{tenant}"), &admin).await;
        let code = problem(res, 504).await["code"].clone();
        (code, app.metric("partnerlink_db_pool_waiting").await)
    })
    .await;
    assert_eq!(code, "request_timeout");
    assert_eq!(
        waiting,
        Some(0.0),
        "the dropped request no longer counts as waiting"
    );
}

#[tokio::test]
async fn the_statement_timeout_is_enforced_and_leaves_nothing_behind() {
    let db = TestDb::new();
    let app = TestApp::spawn_with(db, |s| s.statement_timeout = Duration::from_millis(300)).await;
    let (_, admin, advisor) =
        subscription(&app, json!({"productId": "office-365-e3", "quantity": 1})).await;
    let before = count_consistency(&app);
    let mut lock = lock_subscriptions(&app);
    let res = put_advisor(&app, &advisor, &admin, ADVISOR_A).await;
    lock.batch_execute("COMMIT").unwrap();
    let p = problem(res, 503).await;
    assert_eq!(p["code"], "service_unavailable");
    assert!(
        !p["detail"].as_str().unwrap().contains("canceling"),
        "no database text leaks"
    );
    assert_eq!(count_consistency(&app), before);
}

#[tokio::test]
async fn a_client_that_disconnects_mid_request_leaves_no_partial_write() {
    let app = TestApp::spawn().await;
    let (_, admin, path) = subscription(
        &app,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let mut lock = lock_subscriptions(&app);
    let body = json!({"mpnId": ADVISOR_B}).to_string();
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    wait_for_lock_waiter(&app).await;
    drop(stream);
    lock.batch_execute("COMMIT").unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Whether or not the change committed, it committed whole: history and events agree.
    let history: Value = app
        .get(&format!("{path}/history"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    let current: Vec<&Value> = items.iter().filter(|a| a["validTo"].is_null()).collect();
    assert_eq!(current.len(), 1);
    let (_, _, assocs, advisor_events) = count_consistency(&app);
    assert_eq!(assocs, advisor_events);
    assert_eq!(assocs as usize, items.len());
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_504_and_its_write_still_commits_whole() {
    let timeout = Duration::from_millis(1_000);
    let app = TestApp::spawn_with(TestDb::new(), |s| {
        s.request_timeout = timeout;
        s.statement_timeout = Duration::from_secs(30);
    })
    .await;
    let (tenant, admin, advisor) = subscription(
        &app,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let mut lock = lock_subscriptions(&app);
    let started = Instant::now();
    let res = put_advisor(&app, &advisor, &admin, ADVISOR_B).await;
    let waited = started.elapsed();
    assert!(res.headers().contains_key("x-request-id"));
    let p = problem(res, 504).await;
    assert_eq!(p["code"], "request_timeout");
    assert!(
        waited >= timeout && waited < timeout + Duration::from_secs(5),
        "answered after {waited:?}"
    );

    // A request under the timeout is answered while the timed-out one still waits.
    let res = app.get(&format!("/v1/tenants/{tenant}"), &admin).await;
    assert_eq!(res.status(), 200);

    // The timed-out change was not abandoned: once the lock is gone it commits, whole.
    lock.batch_execute("COMMIT").unwrap();
    let mut current = Value::Null;
    for _ in 0..200 {
        current = app.get(&advisor, &admin).await.json().await.unwrap();
        if current["mpnId"] == ADVISOR_B {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(current["mpnId"], ADVISOR_B, "{current}");
    let (_, _, assocs, advisor_events) = count_consistency(&app);
    assert_eq!((assocs, advisor_events), (2, 2));
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_headers_gets_408_and_is_disconnected() {
    let app = TestApp::spawn_with(TestDb::new(), |s| {
        s.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let addr = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("the connection is closed")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
