use diesel::prelude::*;
use partnerlink::db::schema::{partners, tenants};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp, TestDb};

fn tenant_count(app: &TestApp) -> i64 {
    tenants::table.count().get_result(&mut app.conn()).unwrap()
}

fn partner_count(app: &TestApp) -> i64 {
    partners::table.count().get_result(&mut app.conn()).unwrap()
}

/// Sends a raw body with the given media type (none when `None`).
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.address))
        .bearer_auth(app.operator())
        .body(body);
    if let Some(content_type) = content_type {
        req = req.header("content-type", content_type);
    }
    req.send().await.unwrap()
}

/// Writes a raw HTTP/1.1 request and reads the whole answer: status, head and body.
async fn raw_http(app: &TestApp, request: String) -> (u16, String, String) {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let app = TestApp::spawn().await;
    for body in [
        "",
        "{",
        "{\"displayName\": \"Contoso\",}",
        "{'displayName': 'Contoso'}",
        "not json at all",
        "{\"displayName\": \"Contoso\", \"cloud\": \"worldwide\", \"countryCode\": \"DK\"} trailing",
        "\u{feff}{}",
    ] {
        let res = raw(&app, Method::POST, "/v1/tenants", Some("application/json"), body).await;
        let p = problem(res, 400).await;
        assert_eq!(p["code"], "malformed_json", "{body:?}: {p}");
        assert_eq!(p["instance"], "/v1/tenants");
    }
    let res = raw(
        &app,
        Method::POST,
        "/v1/tenants",
        Some("application/json"),
        vec![b'{', 0xff, 0xfe, b'}'],
    )
    .await;
    assert_eq!(problem(res, 400).await["code"], "malformed_json");
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let res = raw(
        &app,
        Method::POST,
        "/v1/partners",
        Some("application/json"),
        deep,
    )
    .await;
    assert!(res.status().is_client_error());
    assert_eq!(tenant_count(&app), 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415_problem() {
    let app = TestApp::spawn().await;
    let body =
        json!({"displayName": "Contoso", "cloud": "worldwide", "countryCode": "DK"}).to_string();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/xml"),
        Some("application/jsonx"),
        Some("json"),
    ] {
        let res = raw(
            &app,
            Method::POST,
            "/v1/tenants",
            content_type,
            body.clone(),
        )
        .await;
        let p = problem(res, 415).await;
        assert_eq!(p["code"], "unsupported_media_type", "{content_type:?}: {p}");
    }
    assert_eq!(tenant_count(&app), 0);
    // JSON media types with parameters or a +json suffix are accepted.
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
    ] {
        let res = raw(
            &app,
            Method::POST,
            "/v1/tenants",
            Some(content_type),
            body.clone(),
        )
        .await;
        assert_eq!(res.status(), 201, "{content_type}");
    }
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_413() {
    let app = TestApp::spawn_with(TestDb::new(), |s| s.body_limit = 1024).await;
    let body = |len: usize| {
        let json =
            json!({"displayName": "Limit", "cloud": "worldwide", "countryCode": "DK"}).to_string();
        // JSON allows trailing whitespace: the same tenant at any length.
        format!("{json}{}", " ".repeat(len - json.len()))
    };
    let send = |text: String| {
        app.client
            .post(format!("{}/v1/tenants", app.address))
            .bearer_auth(app.operator())
            .header("content-type", "application/json")
            .body(text)
            .send()
    };
    assert_eq!(send(body(1024)).await.unwrap().status(), 201);
    let p = problem(send(body(1025)).await.unwrap(), 413).await;
    assert_eq!(p["code"], "payload_too_large");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem() {
    let app = TestApp::spawn_with(TestDb::new(), |s| s.body_limit = 1024).await;
    let big = json!({"displayName": "x".repeat(2000), "cloud": "worldwide", "countryCode": "DK"});
    let res = app.post("/v1/tenants", &app.operator(), big.clone()).await;
    let p = problem(res, 413).await;
    assert_eq!(p["code"], "payload_too_large");
    assert!(p["detail"].as_str().unwrap().contains("1024"), "{p}");

    // Without a Content-Length (chunked), the limit holds while reading.
    let body = big.to_string();
    let mut chunked = String::new();
    for chunk in body.as_bytes().chunks(256) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            chunk.len(),
            std::str::from_utf8(chunk).unwrap()
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let request = format!(
        "POST /v1/tenants HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunked}",
        app.operator()
    );
    let (status, head, body) = raw_http(&app, request).await;
    assert_eq!(status, 413, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["code"], "payload_too_large");
    assert_eq!(tenant_count(&app), 0);

    // A body just under the limit is read.
    let small = json!({"displayName": "x".repeat(200), "cloud": "worldwide", "countryCode": "DK"});
    let res = app.post("/v1/tenants", &app.operator(), small).await;
    assert_eq!(res.status(), 201);
}

/// A raw GET of the product list whose header names and values total `total` bytes.
fn get_with_header_bytes(token: &str, total: usize) -> String {
    let bearer = format!("Bearer {token}");
    let fixed = [
        ("Host", "localhost"),
        ("Authorization", bearer.as_str()),
        ("Connection", "close"),
    ];
    let used: usize = fixed.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>() + "X-Pad".len();
    let mut request = "GET /v1/products HTTP/1.1\r\n".to_owned();
    for (name, value) in fixed {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request + &format!("X-Pad: {}\r\n\r\n", "p".repeat(total - used))
}

#[tokio::test]
async fn headers_over_the_limit_are_a_431_problem() {
    let app = TestApp::spawn_with(TestDb::new(), |s| s.max_header_bytes = 2048).await;
    let token = app.operator();

    let (status, head, _) = raw_http(&app, get_with_header_bytes(&token, 2048)).await;
    assert_eq!(status, 200, "exactly at the limit: {head}");

    let (status, head, body) = raw_http(&app, get_with_header_bytes(&token, 2049)).await;
    assert_eq!(status, 431, "one byte over: {head}");
    let head = head.to_ascii_lowercase();
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("x-request-id: "), "{head}");
    let p: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(p["code"], "headers_too_large");
    assert_eq!(p["status"], 431);
    assert_eq!(p["instance"], "/v1/products");
    assert!(p["detail"].as_str().unwrap().contains("2048"), "{p}");
}

#[tokio::test]
async fn a_wrong_type_is_a_422_naming_the_field_path() {
    let app = TestApp::spawn().await;
    let op = app.operator();
    for (path, body, field) in [
        (
            "/v1/tenants",
            json!({"displayName": 42, "cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
        (
            "/v1/tenants",
            json!({"displayName": "C", "cloud": ["worldwide"], "countryCode": "DK"}),
            "cloud",
        ),
        (
            "/v1/tenants",
            json!({"displayName": "C", "cloud": "worldwide", "countryCode": null}),
            "countryCode",
        ),
        (
            "/v1/partners",
            json!({"mpnId": "1234567", "kind": "global", "name": "F", "clouds": ["worldwide", 7],
                   "countryCodes": ["DK"], "serviceFamilies": ["azure"], "capabilities": [],
                   "contactEmail": "a@b.example"}),
            "clouds[1]",
        ),
        (
            "/v1/partners",
            json!({"mpnId": "1234567", "kind": "global", "name": "F", "clouds": ["worldwide"],
                   "countryCodes": {"DK": true}, "serviceFamilies": ["azure"], "capabilities": [],
                   "contactEmail": "a@b.example"}),
            "countryCodes",
        ),
        (
            "/v1/partners",
            json!({"mpnId": "1234567", "kind": "global", "name": "F", "clouds": ["worldwide"],
                   "countryCodes": ["DK"], "serviceFamilies": ["azure"], "capabilities": [],
                   "contactEmail": "a@b.example", "status": false}),
            "status",
        ),
    ] {
        let res = app.post(path, &op, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "validation_failed", "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert!(p["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    let p = problem(
        app.post("/v1/tenants", &op, json!(["not", "an", "object"]))
            .await,
        422,
    )
    .await;
    assert_eq!(p["code"], "validation_failed");
    assert_eq!(tenant_count(&app), 0);
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn an_unknown_field_is_a_422_with_code_unknown_field() {
    let app = TestApp::spawn().await;
    let body =
        json!({"displayName": "C", "cloud": "worldwide", "countryCode": "DK", "colour": "blue"});
    let p = problem(app.post("/v1/tenants", &app.operator(), body).await, 422).await;
    assert_eq!(p["code"], "validation_failed", "{p}");
    assert_eq!(p["errors"][0]["code"], "unknown_field", "{p}");
    assert_eq!(p["errors"][0]["field"], "colour", "{p}");
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("colour"));
    // snake_case spellings of camelCase fields are unknown too, not silently accepted.
    let body = json!({"display_name": "C", "cloud": "worldwide", "countryCode": "DK"});
    let p = problem(app.post("/v1/tenants", &app.operator(), body).await, 422).await;
    assert_eq!(p["errors"][0]["code"], "unknown_field", "{p}");
    assert_eq!(p["errors"][0]["field"], "display_name", "{p}");
    assert_eq!(tenant_count(&app), 0);
}

#[tokio::test]
async fn a_repeated_member_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let body =
        r#"{"displayName": "A", "cloud": "worldwide", "countryCode": "DK", "displayName": "B"}"#;
    let res = raw(
        &app,
        Method::POST,
        "/v1/tenants",
        Some("application/json"),
        body,
    )
    .await;
    let p = problem(res, 422).await;
    assert_eq!(p["code"], "validation_failed", "{p}");
    assert_eq!(p["errors"][0]["field"], "displayName", "{p}");
    assert_eq!(p["errors"][0]["code"], "duplicate_field", "{p}");
    assert!(!p["detail"].as_str().unwrap().starts_with(':'), "{p}");
    assert_eq!(tenant_count(&app), 0);
}

#[tokio::test]
async fn a_missing_field_is_a_422_with_code_required() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (
            json!({"cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
        (json!({"displayName": "C", "countryCode": "DK"}), "cloud"),
        (
            json!({"displayName": "C", "cloud": "worldwide"}),
            "countryCode",
        ),
        (json!({}), "displayName"),
    ] {
        let p = problem(
            app.post("/v1/tenants", &app.operator(), body.clone()).await,
            422,
        )
        .await;
        assert_eq!(p["code"], "validation_failed", "{body}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
        assert_eq!(p["errors"][0]["code"], "required", "{body}: {p}");
    }
    assert_eq!(tenant_count(&app), 0);
}

#[tokio::test]
async fn a_bad_query_value_is_a_400_problem() {
    let app = TestApp::spawn().await;
    let token = app.operator();
    for (path, field) in [
        ("/v1/products?limit=abc", "limit"),
        ("/v1/products?limit=0", "limit"),
        ("/v1/products?limit=99999999999999999999", "limit"),
        ("/v1/products?cloud=moon", "cloud"),
        ("/v1/products?cursor=%%%", "cursor"),
        ("/v1/partners?country=XX", "country"),
        ("/v1/partners?unknown=1", "unknown"),
    ] {
        let p = problem(app.get(path, &token).await, 400).await;
        assert_eq!(p["code"], "validation_failed", "{path}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{path}: {p}");
    }
}

#[tokio::test]
async fn a_bad_uuid_in_the_path_is_a_400_problem() {
    let app = TestApp::spawn().await;
    for id in [
        "not-a-uuid",
        "123",
        "0b6f5e56-8f1e-4c41-9d36-2f7f9f4d2a1",
        "%20",
    ] {
        let path = format!("/v1/tenants/{id}");
        let p = problem(app.get(&path, &app.operator()).await, 400).await;
        assert_eq!(p["code"], "validation_failed", "{path}: {p}");
        assert_eq!(p["errors"][0]["field"], "tenantId", "{path}: {p}");
    }
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/v1",
        "/v1/unknown",
        "/v2/tenants",
        "/v1/tenants/x/y/z",
        "/health",
    ] {
        let res = app
            .request(Method::GET, path, Some(&app.operator()), None)
            .await;
        let p = problem(res, 404).await;
        assert_eq!(p["code"], "not_found", "{path}: {p}");
        assert_eq!(p["instance"], path, "{path}");
    }
    // Even without a token: the route is unknown before the caller matters.
    let res = app.request(Method::GET, "/v1/unknown", None, None).await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
}

#[tokio::test]
async fn a_known_path_with_a_wrong_method_is_a_405_with_allow() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4();
    for (method, path, allow) in [
        (Method::DELETE, format!("/v1/tenants/{id}"), vec!["GET"]),
        (Method::PUT, "/v1/tenants".to_owned(), vec!["POST"]),
        (
            Method::DELETE,
            "/v1/partners".to_owned(),
            vec!["GET", "POST"],
        ),
        (
            Method::PUT,
            "/v1/partners/1234567".to_owned(),
            vec!["GET", "PATCH"],
        ),
        (Method::POST, "/v1/products".to_owned(), vec!["GET"]),
        (Method::POST, "/health/live".to_owned(), vec!["GET"]),
    ] {
        let res = app
            .request(method.clone(), &path, Some(&app.operator()), None)
            .await;
        let header = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{method} {path}: no Allow header"));
        let mut allowed: Vec<&str> = header.split(',').map(str::trim).collect();
        allowed.sort_unstable();
        assert_eq!(allowed, allow, "{method} {path}");
        let p = problem(res, 405).await;
        assert_eq!(p["code"], "method_not_allowed", "{method} {path}: {p}");
    }
}

#[tokio::test]
async fn a_path_with_an_empty_segment_is_a_404_not_a_405() {
    let app = TestApp::spawn().await;
    for path in ["/v1/tenants/", "/v1/partners/"] {
        let res = app
            .request(Method::GET, path, Some(&app.operator()), None)
            .await;
        assert_ne!(
            res.status(),
            405,
            "{path}: GET is allowed on the template it resembles"
        );
        assert!(res.status().is_client_error(), "{path}");
        let status = res.status().as_u16();
        let p = problem(res, status).await;
        assert!(p["code"].is_string());
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let op = app.operator();
    let mut ids = std::collections::HashSet::new();
    let responses = vec![
        app.request(Method::GET, "/health/live", None, None).await,
        app.request(Method::GET, "/metrics", None, None).await,
        app.get("/v1/products", &op).await,
        app.request(Method::GET, "/v1/products", None, None).await,
        app.get("/v1/nowhere", &op).await,
        app.request(Method::DELETE, "/v1/products", Some(&op), None)
            .await,
        app.get("/v1/tenants/nope", &op).await,
        app.post("/v1/tenants", &op, json!({})).await,
    ];
    for res in responses {
        let status = res.status();
        let id = res
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{status} {}: no x-request-id", res.url()));
        assert!(!id.is_empty());
        if status.is_client_error() {
            let p = problem(res, status.as_u16()).await;
            assert_eq!(p["requestId"], id.as_str());
        }
        assert!(ids.insert(id), "request ids are unique");
    }
}

#[tokio::test]
async fn a_caller_supplied_request_id_is_echoed_and_named_in_the_problem() {
    let app = TestApp::spawn().await;
    let id = "caller-trace-0001";
    let res = app
        .client
        .get(format!("{}/v1/tenants/{}", app.address, Uuid::new_v4()))
        .bearer_auth(app.operator())
        .header("x-request-id", id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], id);
    let p = problem(res, 404).await;
    assert_eq!(p["requestId"], id);

    let res = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", id)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], id);

    // An unusable id (too long, or with spaces) is replaced, not echoed.
    for bad in ["x".repeat(300), "has spaces in it".to_owned()] {
        let res = app
            .client
            .get(format!("{}/v1/nowhere", app.address))
            .header("x-request-id", bad.as_str())
            .send()
            .await
            .unwrap();
        let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(echoed, bad);
        let p = problem(res, 404).await;
        assert_eq!(p["requestId"], echoed.as_str());
    }
}

#[tokio::test]
async fn every_problem_has_the_rfc_9457_members() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/tenants",
            &app.operator(),
            json!({"displayName": "", "cloud": "worldwide", "countryCode": "DK"}),
        )
        .await;
    let p: Value = problem(res, 422).await;
    for member in [
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "code",
        "requestId",
        "errors",
    ] {
        assert!(!p[member].is_null(), "{member}: {p}");
    }
    assert_eq!(p["type"], "urn:partnerlink:problem:validation_failed");
    assert_eq!(p["instance"], "/v1/tenants");
    let e = &p["errors"][0];
    assert_eq!(e["field"], "displayName");
    assert!(e["code"].is_string() && e["message"].is_string());
}
