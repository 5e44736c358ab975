use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp};

#[tokio::test]
async fn an_operator_creates_a_tenant_and_its_admin_reads_it() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/tenants",
            &app.operator(),
            json!({"displayName": "  Contoso A/S ", "cloud": "worldwide", "countryCode": "DK"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["displayName"], "Contoso A/S");
    assert_eq!(
        location,
        format!("/v1/tenants/{}", created["id"].as_str().unwrap())
    );

    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let res = app.get(&location, &app.tenant_admin(id)).await;
    assert_eq!(res.status(), 200);
    let read: Value = res.json().await.unwrap();
    assert_eq!(read, created);
}

#[tokio::test]
async fn another_tenants_admin_gets_404_as_for_a_missing_tenant() {
    let app = TestApp::spawn().await;
    let id = app.create_tenant("worldwide", "DK").await;
    let other = app.tenant_admin(Uuid::new_v4());
    let body = problem(app.get(&format!("/v1/tenants/{id}"), &other).await, 404).await;
    assert_eq!(body["code"], "not_found");
    let missing = Uuid::new_v4();
    let body = problem(
        app.get(&format!("/v1/tenants/{missing}"), &app.operator())
            .await,
        404,
    )
    .await;
    assert_eq!(body["code"], "not_found");
}

#[tokio::test]
async fn only_operators_create_tenants() {
    let app = TestApp::spawn().await;
    let body = json!({"displayName": "Contoso", "cloud": "worldwide", "countryCode": "DK"});
    let res = app
        .post(
            "/v1/tenants",
            &app.tenant_admin(Uuid::new_v4()),
            body.clone(),
        )
        .await;
    assert_eq!(problem(res, 403).await["code"], "forbidden");
    let res = app.post("/v1/tenants", &app.partner("1234567"), body).await;
    assert_eq!(problem(res, 403).await["code"], "forbidden");
    let mut conn = app.conn();
    use diesel::prelude::*;
    let count: i64 = partnerlink::db::schema::tenants::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn tenant_fields_are_validated() {
    let app = TestApp::spawn().await;
    let op = app.operator();
    for (body, field) in [
        (
            json!({"displayName": "", "cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
        (
            json!({"displayName": "   ", "cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
        (
            json!({"displayName": "x".repeat(201), "cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
        (
            json!({"displayName": "C", "cloud": "moon", "countryCode": "DK"}),
            "cloud",
        ),
        (
            json!({"displayName": "C", "cloud": "worldwide", "countryCode": "XX"}),
            "countryCode",
        ),
        (
            json!({"displayName": "C", "cloud": "worldwide", "countryCode": "dk"}),
            "countryCode",
        ),
        (
            json!({"displayName": "C", "cloud": "china21Vianet", "countryCode": "DK"}),
            "countryCode",
        ),
        (
            json!({"cloud": "worldwide", "countryCode": "DK"}),
            "displayName",
        ),
    ] {
        let res = app.post("/v1/tenants", &op, body.clone()).await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "validation_failed", "{body}");
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
}

#[tokio::test]
async fn a_21vianet_tenant_is_in_china() {
    let app = TestApp::spawn().await;
    let id = app.create_tenant("china21Vianet", "CN").await;
    let read: Value = app
        .get(&format!("/v1/tenants/{id}"), &app.operator())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["cloud"], "china21Vianet");
    assert_eq!(read["countryCode"], "CN");
}
