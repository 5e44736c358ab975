//! Every list issues a bounded number of SQL statements whatever the page size: the
//! service counts statements through diesel's instrumentation and exposes the most
//! one request of a route sent in `/metrics`.

use serde_json::json;

use crate::common::TestApp;
use crate::invitations::{event_types, grant_delegated_admin};
use crate::relationships::{expire_delegated_admin, relationships_path};
use crate::subscriptions::{advisor_path, buy, subscription, world, ADVISOR_A, ADVISOR_B};

async fn most_statements(app: &TestApp, route: &str) -> u32 {
    most_statements_of(app, "GET", route).await
}

async fn most_statements_of(app: &TestApp, method: &str, route: &str) -> u32 {
    let series = format!(
        "partnerlink_db_statements_per_request_max{{method=\"{method}\",route=\"{route}\"}}"
    );
    app.metric(&series)
        .await
        .unwrap_or_else(|| panic!("no statement count for {method} {route}")) as u32
}

#[tokio::test]
async fn lists_send_the_same_statements_for_one_item_as_for_a_full_page() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    for i in 0..12 {
        let partner = if i % 2 == 0 { ADVISOR_A } else { ADVISOR_B };
        buy(
            &app,
            tenant,
            &admin,
            json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": partner}),
        )
        .await;
    }
    let sub = buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let advisor = advisor_path(tenant, &sub);
    for mpn in [ADVISOR_B, ADVISOR_A, ADVISOR_B] {
        let res = app
            .request(
                reqwest::Method::PUT,
                &advisor,
                Some(&admin),
                Some(json!({"mpnId": mpn})),
            )
            .await;
        assert_eq!(res.status(), 200);
    }
    let operator = app.operator();
    let cases = [
        (
            "/v1/tenants/{tenantId}/subscriptions",
            format!("/v1/tenants/{tenant}/subscriptions"),
            admin.clone(),
        ),
        (
            "/v1/tenants/{tenantId}/partner-relationships",
            format!("/v1/tenants/{tenant}/partner-relationships"),
            admin.clone(),
        ),
        ("/v1/partners", "/v1/partners".to_owned(), admin.clone()),
        ("/v1/products", "/v1/products".to_owned(), admin.clone()),
        ("/v1/events", "/v1/events".to_owned(), operator.clone()),
        (
            "/v1/tenants/{tenantId}/partner-matches",
            format!("/v1/tenants/{tenant}/partner-matches?productId=office-365-e3"),
            admin.clone(),
        ),
    ];
    // The history is one page: its statements stay fixed however long it grows.
    assert_eq!(
        app.get(&format!("{advisor}/history"), &admin)
            .await
            .status(),
        200
    );
    let history = most_statements(
        &app,
        "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor/history",
    )
    .await;
    assert!(history <= 4, "history: {history} statements");
    for (route, path, token) in cases {
        let sep = if path.contains('?') { '&' } else { '?' };
        let small = app.get(&format!("{path}{sep}limit=1"), &token).await;
        assert_eq!(small.status(), 200, "{path}");
        let one = most_statements(&app, route).await;
        let full = app.get(&format!("{path}{sep}limit=200"), &token).await;
        assert_eq!(full.status(), 200, "{path}");
        let many = most_statements(&app, route).await;
        assert_eq!(one, many, "{route}: statements grow with the page size");
        assert!(many <= 6, "{route}: {many} statements for one page");
    }
}

/// The hot reads are folded: one statement for a subscription with its advisor, now or
/// at an instant; two for the relationships (the tenant with its advice, the open
/// relationships) and two for a partner's customers when no delegated admin is due to
/// expire (no sweep, no transaction).
#[tokio::test]
async fn single_reads_send_one_statement_and_relationships_two() {
    let app = TestApp::spawn().await;
    let (tenant, admin, advisor) = subscription(
        &app,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let cases = [
        (
            "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}",
            advisor.strip_suffix("/advisor").unwrap().to_owned(),
            1,
        ),
        (
            "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor",
            advisor.clone(),
            1,
        ),
        (
            "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor/history",
            format!("{advisor}/history?at={}", at.replace('+', "%2B")),
            1,
        ),
        (
            "/v1/tenants/{tenantId}/partner-relationships",
            format!("/v1/tenants/{tenant}/partner-relationships"),
            2,
        ),
    ];
    for (route, path, expected) in cases {
        assert_eq!(app.get(&path, &admin).await.status(), 200, "{path}");
        assert_eq!(most_statements(&app, route).await, expected, "{route}");
    }
    let customers = format!("/v1/partners/{ADVISOR_A}/customers");
    let partner = app.partner(ADVISOR_A);
    assert_eq!(app.get(&customers, &partner).await.status(), 200);
    assert_eq!(
        most_statements(&app, "/v1/partners/{mpnId}/customers").await,
        2
    );
}

/// The writes read everything they check in one statement and write in one, with no
/// transaction around them: an advisor change reads the subscription with its tenant,
/// product, current advisor and the partner named, then ends, adds, records and bumps
/// the version if it is still the one read; a purchase with a partner (no
/// `Idempotency-Key`) reads the tenant with the product and partner, then writes the
/// subscription, its association and both events.
#[tokio::test]
async fn an_advisor_change_and_a_purchase_send_two_statements() {
    let app = TestApp::spawn().await;
    let (_, admin, advisor) = subscription(
        &app,
        json!({"productId": "office-365-e3", "quantity": 1, "partnerMpnId": ADVISOR_A}),
    )
    .await;
    assert_eq!(
        most_statements_of(&app, "POST", "/v1/tenants/{tenantId}/subscriptions").await,
        2
    );
    let res = app
        .request(
            reqwest::Method::PUT,
            &advisor,
            Some(&admin),
            Some(json!({"mpnId": ADVISOR_B})),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        most_statements_of(
            &app,
            "PUT",
            "/v1/tenants/{tenantId}/subscriptions/{subscriptionId}/advisor"
        )
        .await,
        2
    );
}

/// A sweep records every relationship it ends in one statement: the tenant's listing
/// that finds two delegated admins past their expiry sends what one that finds one does.
#[tokio::test]
async fn a_sweep_sends_as_many_statements_for_two_expiries_as_for_one() {
    let app = TestApp::spawn().await;
    let route = "/v1/tenants/{tenantId}/partner-relationships";
    let (first, _) = world(&app, "worldwide", "DK").await;
    let second = app.create_tenant("worldwide", "DK").await;
    let mut most = Vec::new();
    for (tenant, partners) in [(first, &[ADVISOR_A][..]), (second, &[ADVISOR_A, ADVISOR_B])] {
        let admin = app.tenant_admin(tenant);
        for mpn in partners {
            grant_delegated_admin(&app, tenant, &admin, mpn).await;
        }
        expire_delegated_admin(&app, tenant);
        assert_eq!(
            app.get(&relationships_path(tenant), &admin).await.status(),
            200
        );
        most.push(most_statements(&app, route).await);
    }
    assert_eq!(most[0], most[1], "statements grow with the expiries swept");
    let types = event_types(&app).await;
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "relationship.expired")
            .count(),
        3
    );
}
