use serde_json::json;
use uuid::Uuid;

use crate::common::{problem, TestApp};

#[tokio::test]
async fn problems_speak_danish_when_asked_and_keep_their_code() {
    let app = TestApp::spawn().await;
    let path = format!("{}/v1/tenants/{}", app.address, Uuid::new_v4());
    let res = app
        .client
        .get(&path)
        .bearer_auth(app.operator())
        .header("Accept-Language", "da-DK, en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "da");
    let danish = problem(res, 404).await;
    assert_eq!(danish["code"], "not_found");
    assert_eq!(danish["title"], "Ikke fundet");

    let res = app
        .client
        .get(&path)
        .bearer_auth(app.operator())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-language"], "en");
    let english = problem(res, 404).await;
    assert_eq!(english["code"], "not_found");
    assert_eq!(english["title"], "Not found");

    let res = app
        .client
        .post(format!("{}/v1/partners", app.address))
        .bearer_auth(app.operator())
        .header("Accept-Language", "da")
        .json(&json!({"mpnId": "0123"}))
        .send()
        .await
        .unwrap();
    let p = problem(res, 422).await;
    assert_eq!(p["code"], "invalid_mpn_id");
    assert_eq!(p["title"], "Ugyldigt MPN-id");
    assert_eq!(p["errors"][0]["field"], "mpnId");
}
