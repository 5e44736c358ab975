//! What the service writes to its logs: every request, and never a secret.

use reqwest::{Client, Method, RequestBuilder};
use serde_json::{json, Value};

use crate::common::{TestApp, SECRET};
use crate::instances::Instance;
use crate::invitations::delegated_admin;
use crate::subscriptions::{world, ADVISOR_A};

fn call(
    client: &Client,
    instance: &Instance,
    method: Method,
    path: &str,
    token: &str,
) -> RequestBuilder {
    client
        .request(method, format!("{}{path}", instance.address))
        .bearer_auth(token)
}

#[tokio::test]
async fn bearer_and_invitation_tokens_never_reach_the_logs() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "china21Vianet", "CN").await;
    let partner = app.partner(ADVISOR_A);
    let instance =
        Instance::start_logging(&app.db, &[("LOG_FORMAT", "json"), ("RUST_LOG", "trace")]).await;
    let client = Client::new();

    let res = call(
        &client,
        &instance,
        Method::POST,
        &format!("/v1/partners/{ADVISOR_A}/invitations"),
        &partner,
    )
    .json(&delegated_admin(tenant))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 201);
    let invitation: Value = res.json().await.unwrap();
    let id = invitation["id"].as_str().unwrap();
    let token = invitation["acceptToken"].as_str().unwrap();
    let other = if token.ends_with('A') { 'B' } else { 'A' };
    let wrong_token = format!("{}{other}", &token[..token.len() - 1]);
    let (unsigned, signature) = admin.rsplit_once('.').unwrap();
    let forged = format!("{unsigned}.{}", "A".repeat(signature.len()));
    let accept = format!("/v1/tenants/{tenant}/invitations/{id}/accept");

    // Error paths first: a wrong invitation token (in the query and in a body), the
    // token in a field of another type (the problem quotes it back to the caller), a
    // forged and a malformed bearer token.
    let res = call(
        &client,
        &instance,
        Method::GET,
        &format!("/v1/invitations/{id}?token={wrong_token}"),
        &admin,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 403);
    let res = call(&client, &instance, Method::POST, &accept, &admin)
        .json(&json!({"token": wrong_token, "authorizeDelegatedAdmin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = call(&client, &instance, Method::POST, &accept, &admin)
        .json(&json!({"token": token, "authorizeDelegatedAdmin": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    for bad in [forged.as_str(), "not.a-jwt", unsigned] {
        let res = call(&client, &instance, Method::POST, &accept, bad)
            .json(&json!({"token": token, "authorizeDelegatedAdmin": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{bad}");
    }

    // The customer reads the invitation through its link, then accepts it.
    let res = call(
        &client,
        &instance,
        Method::GET,
        &format!("/v1/invitations/{id}?token={token}"),
        &admin,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = call(&client, &instance, Method::POST, &accept, &admin)
        .json(&json!({"token": token, "authorizeDelegatedAdmin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let output = instance.stop();
    let finished: Vec<Value> = output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "request finished")
        .collect();
    let accepts = finished
        .iter()
        .filter(|line| line["span"]["path"] == accept.as_str())
        .count();
    assert_eq!(accepts, 6, "every accept request is logged:\n{output}");
    assert!(finished.len() >= 9, "{output}");

    for (what, secret) in [
        ("the partner's bearer token", partner.as_str()),
        ("the admin's bearer token", admin.as_str()),
        ("the admin token's signature", signature),
        ("the forged bearer token", forged.as_str()),
        ("the invitation token", token),
        ("the wrong invitation token", wrong_token.as_str()),
        ("the JWT secret", SECRET),
    ] {
        assert!(!output.contains(secret), "{what} is in the logs");
    }
}
