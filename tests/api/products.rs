use serde_json::Value;
use uuid::Uuid;

use crate::common::{problem, TestApp};

#[tokio::test]
async fn the_catalogue_covers_both_clouds_with_trials() {
    let app = TestApp::spawn().await;
    let res = app
        .get("/v1/products", &app.tenant_admin(Uuid::new_v4()))
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert!(items.len() >= 8);
    assert!(page["nextCursor"].is_null());
    let in_cloud = |cloud: &str| {
        items
            .iter()
            .filter(|p| p["clouds"].as_array().unwrap().iter().any(|c| c == cloud))
            .collect::<Vec<_>>()
    };
    for cloud in ["worldwide", "china21Vianet"] {
        let products = in_cloud(cloud);
        assert!(
            products.iter().any(|p| p["trialAvailable"] == true),
            "{cloud}"
        );
        assert!(
            products.iter().any(|p| p["trialAvailable"] == false),
            "{cloud}"
        );
    }
    for family in ["microsoft365", "dynamics365", "powerPlatform", "azure"] {
        assert!(
            items.iter().any(|p| p["serviceFamily"] == family),
            "{family}"
        );
    }
}

#[tokio::test]
async fn the_catalogue_filters_and_pages() {
    let app = TestApp::spawn().await;
    let token = app.partner("1234567");
    let page: Value = app
        .get("/v1/products?cloud=china21Vianet", &token)
        .await
        .json()
        .await
        .unwrap();
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|p| p["clouds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "china21Vianet")));

    let mut seen = Vec::new();
    let mut path = "/v1/products?limit=3".to_owned();
    loop {
        let page: Value = app.get(&path, &token).await.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/products?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let all: Value = app
        .get("/v1/products?limit=200", &token)
        .await
        .json()
        .await
        .unwrap();
    let all: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, all);

    let p = problem(app.get("/v1/products?cloud=moon", &token).await, 400).await;
    assert_eq!(p["errors"][0]["field"], "cloud");
    let p = problem(app.get("/v1/products?cursor=garbage", &token).await, 400).await;
    assert_eq!(p["errors"][0]["code"], "invalid_cursor");
}
