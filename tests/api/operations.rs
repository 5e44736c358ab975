use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::common::{problem, sample, TestApp, TestDb};

/// A database that does not exist on the test server, and a short pool wait.
async fn spawn_without_database() -> TestApp {
    let db = TestDb::new();
    let missing = format!("pl_missing_{}", Uuid::new_v4().simple());
    let url = db
        .url
        .rsplit_once('/')
        .map(|(server, _)| format!("{server}/{missing}"))
        .unwrap();
    TestApp::spawn_with(db, move |s| {
        s.database_url = url;
        s.pool_acquire_timeout = Duration::from_millis(300);
    })
    .await
}

async fn metrics_text(app: &TestApp) -> String {
    let res = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(content_type.contains("version=0.0.4"), "{content_type}");
    res.text().await.unwrap()
}

#[tokio::test]
async fn liveness_answers_200_without_a_token() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readiness_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/health/ready", None, None).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readiness_is_a_503_problem_with_retry_after_when_the_database_is_missing() {
    let app = spawn_without_database().await;
    let started = Instant::now();
    let res = app.request(Method::GET, "/health/ready", None, None).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the pool gave up after its acquire timeout, not r2d2's 30 s default: {:?}",
        started.elapsed()
    );
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("Retry-After");
    assert!(
        retry_after.parse::<u64>().is_ok_and(|s| s >= 1),
        "{retry_after}"
    );
    let p = problem(res, 503).await;
    assert_eq!(p["code"], "service_unavailable");
    assert_eq!(p["instance"], "/health/ready");

    // Liveness does not depend on the database.
    let res = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn an_api_call_without_a_database_is_a_503_problem_not_a_500() {
    let app = spawn_without_database().await;
    let res = app.get("/v1/products", &app.operator()).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res, 503).await["code"], "service_unavailable");
    let res = app
        .post(
            "/v1/tenants",
            &app.operator(),
            serde_json::json!({"displayName": "C", "cloud": "worldwide", "countryCode": "DK"}),
        )
        .await;
    assert_eq!(problem(res, 503).await["code"], "service_unavailable");
    // Input errors are still reported as such, without touching the database.
    let res = app.get("/v1/tenants/not-a-uuid", &app.operator()).await;
    problem(res, 400).await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("worldwide", "DK").await;
    let token = app.tenant_admin(tenant);
    for _ in 0..2 {
        assert_eq!(
            app.get(&format!("/v1/tenants/{tenant}"), &token)
                .await
                .status(),
            200
        );
    }
    let missing = Uuid::new_v4();
    assert_eq!(
        app.get(&format!("/v1/tenants/{missing}"), &app.operator())
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/v1/nowhere/at/all", &token).await.status(), 404);
    // Inside the tenant scope's prefix, but no route: counted as unmatched, not as the
    // scope's template.
    let unrouted = format!("/v1/tenants/{tenant}/nowhere");
    assert_eq!(app.get(&unrouted, &token).await.status(), 404);

    let text = metrics_text(&app).await;
    assert!(
        text.contains("# TYPE partnerlink_http_requests_total counter"),
        "{text}"
    );
    let read = r#"partnerlink_http_requests_total{method="GET",route="/v1/tenants/{tenantId}",status="200"}"#;
    assert_eq!(sample(&text, read), Some(2.0), "{text}");
    let not_found = r#"partnerlink_http_requests_total{method="GET",route="/v1/tenants/{tenantId}",status="404"}"#;
    assert_eq!(sample(&text, not_found), Some(1.0), "{text}");
    let created =
        r#"partnerlink_http_requests_total{method="POST",route="/v1/tenants",status="201"}"#;
    assert_eq!(sample(&text, created), Some(1.0), "{text}");
    // No label carries a concrete id: the cardinality stays bounded.
    assert!(!text.contains(&tenant.to_string()), "{text}");
    assert!(!text.contains(&missing.to_string()), "{text}");
    assert!(!text.contains("/v1/nowhere"), "{text}");
    let unmatched =
        r#"partnerlink_http_requests_total{method="GET",route="unmatched",status="404"}"#;
    assert_eq!(sample(&text, unmatched), Some(2.0), "{text}");
}

#[tokio::test]
async fn metrics_have_a_latency_histogram() {
    let app = TestApp::spawn().await;
    let token = app.operator();
    for _ in 0..3 {
        assert_eq!(app.get("/v1/products", &token).await.status(), 200);
    }
    let text = metrics_text(&app).await;
    assert!(
        text.contains("# TYPE partnerlink_http_request_duration_seconds histogram"),
        "{text}"
    );
    let labels = r#"method="GET",route="/v1/products""#;
    let count = sample(
        &text,
        &format!("partnerlink_http_request_duration_seconds_count{{{labels}}}"),
    );
    assert_eq!(count, Some(3.0), "{text}");
    let inf = sample(
        &text,
        &format!("partnerlink_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}"),
    );
    assert_eq!(inf, Some(3.0), "{text}");
    let sum = sample(
        &text,
        &format!("partnerlink_http_request_duration_seconds_sum{{{labels}}}"),
    );
    assert!(sum.is_some_and(|s| s > 0.0), "{text}");
    // Buckets are cumulative: never decreasing with the bound.
    let buckets: Vec<f64> = text
        .lines()
        .filter(|l| {
            l.starts_with("partnerlink_http_request_duration_seconds_bucket{") && l.contains(labels)
        })
        .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert!(buckets.len() > 2, "{text}");
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
}

#[tokio::test]
async fn metrics_expose_the_pool_gauges() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/v1/products", &app.operator()).await.status(), 200);
    let text = metrics_text(&app).await;
    for gauge in [
        "partnerlink_db_pool_connections",
        "partnerlink_db_pool_idle",
        "partnerlink_db_pool_waiting",
        "partnerlink_db_pool_max",
    ] {
        assert!(
            text.contains(&format!("# TYPE {gauge} gauge")),
            "{gauge}: {text}"
        );
        assert!(sample(&text, gauge).is_some(), "{gauge}: {text}");
    }
    assert_eq!(
        sample(&text, "partnerlink_db_pool_max"),
        Some(f64::from(app.settings.pool_size))
    );
    assert!(
        sample(&text, "partnerlink_db_pool_connections").unwrap() >= 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "partnerlink_db_pool_waiting"),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test]
async fn every_exposed_line_is_valid_prometheus_text() {
    let app = TestApp::spawn().await;
    app.get("/v1/products", &app.operator()).await;
    app.get("/v1/nowhere", &app.operator()).await;
    let text = metrics_text(&app).await;
    assert!(text.ends_with('\n'));
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(name.starts_with("partnerlink_"), "{line}");
    }
}
