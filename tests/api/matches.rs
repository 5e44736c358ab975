use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp};
use crate::subscriptions::{buy, world, ADVISOR_A, ADVISOR_B, GLOBAL};

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["partner"]["mpnId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn matches_are_the_eligible_partners_ranked_deterministically() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let location = |mpn: &str, name: &str, extra: Value| {
        let mut body = json!({"mpnId": mpn, "kind": "location", "globalMpnId": GLOBAL, "name": name,
            "clouds": ["worldwide"], "countryCodes": ["DK"], "serviceFamilies": ["microsoft365"], "capabilities": ["advisor"]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    app.create_partner(location(
        "6000001",
        "Broad",
        json!({"serviceFamilies": ["microsoft365", "azure", "dynamics365"]}),
    ))
    .await;
    app.create_partner(location("6000002", "Alpha", json!({})))
        .await;
    for (mpn, extra) in [
        ("6000003", json!({"status": "suspended"})),
        ("6000004", json!({"capabilities": ["reseller"]})),
        ("6000005", json!({"countryCodes": ["SE"]})),
        ("6000006", json!({"clouds": ["china21Vianet"]})),
        ("6000007", json!({"serviceFamilies": ["azure"]})),
    ] {
        app.create_partner(location(mpn, "Ineligible", extra)).await;
    }
    // ADVISOR_B already advises one of the tenant's subscriptions.
    buy(
        &app,
        tenant,
        &admin,
        json!({"productId": "office-365-e1", "quantity": 1, "partnerMpnId": ADVISOR_B}),
    )
    .await;

    let path = format!("/v1/tenants/{tenant}/partner-matches?productId=office-365-e3");
    let page: Value = app.get(&path, &admin).await.json().await.unwrap();
    assert_eq!(ids(&page), [ADVISOR_B, "6000001", ADVISOR_A, "6000002"]);
    assert_eq!(page["items"][0]["worksWithTenant"], true);
    assert_eq!(page["items"][1]["worksWithTenant"], false);
    assert!(!ids(&page).contains(&GLOBAL.to_owned()));

    let first: Value = app
        .get(&format!("{path}&limit=3"), &admin)
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["nextCursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("{path}&limit=3&cursor={cursor}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&page));
    assert!(second["nextCursor"].is_null());

    let azure: Value = app
        .get(
            &format!("/v1/tenants/{tenant}/partner-matches?productId=azure-plan"),
            &admin,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&azure), ["6000001", "6000007"]);
}

#[tokio::test]
async fn matching_needs_a_known_product_and_the_tenants_admin() {
    let app = TestApp::spawn().await;
    let (tenant, admin) = world(&app, "worldwide", "DK").await;
    let p = problem(
        app.get(
            &format!("/v1/tenants/{tenant}/partner-matches?productId=nope"),
            &admin,
        )
        .await,
        400,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "productId");
    problem(
        app.get(&format!("/v1/tenants/{tenant}/partner-matches"), &admin)
            .await,
        400,
    )
    .await;
    let other = app.tenant_admin(Uuid::new_v4());
    problem(
        app.get(
            &format!("/v1/tenants/{tenant}/partner-matches?productId=office-365-e3"),
            &other,
        )
        .await,
        404,
    )
    .await;
    let partner = app.partner(ADVISOR_A);
    problem(
        app.get(
            &format!("/v1/tenants/{tenant}/partner-matches?productId=office-365-e3"),
            &partner,
        )
        .await,
        403,
    )
    .await;
}
