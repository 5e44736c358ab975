use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use partnerlink::auth::Role;
use partnerlink::db::schema::{partners, tenants};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp, TestDb, SECRET};

const PROBE: &str = "/v1/products";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Valid operator claims as JSON, so any claim can be changed or removed.
fn operator_claims(app: &TestApp) -> Value {
    serde_json::to_value(app.claims(Role::Operator, None, None)).unwrap()
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A compact JWS assembled by hand: header and payload base64url, and the given signature.
fn handmade(header: &Value, claims: &Value, signature: &str) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!("{}.{}.{signature}", part(header), part(claims))
}

async fn with_authorization(app: &TestApp, method: Method, path: &str, value: &str) -> Response {
    app.client
        .request(method, format!("{}{path}", app.address))
        .header("authorization", value)
        .send()
        .await
        .unwrap()
}

/// Checks a 401: problem+json, code `unauthorized`, and a Bearer challenge.
async fn unauthorized(res: Response, case: &str) -> Value {
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(
        challenge
            .as_deref()
            .is_some_and(|c| c.starts_with("Bearer")),
        "{case}: WWW-Authenticate is {challenge:?}"
    );
    let p = problem(res, 401).await;
    assert_eq!(p["code"], "unauthorized", "{case}: {p}");
    p
}

#[tokio::test]
async fn a_request_without_an_authorization_header_is_401() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, PROBE, None, None).await;
    let p = unauthorized(res, "no header").await;
    assert!(p["detail"].as_str().unwrap().contains("Bearer"), "{p}");
}

#[tokio::test]
async fn an_authorization_that_is_not_a_bearer_token_is_401() {
    let app = TestApp::spawn().await;
    let token = app.operator();
    for value in [
        format!("Basic {}", URL_SAFE_NO_PAD.encode("operator:secret")),
        format!("Token {token}"),
        token.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        "Bearer    ".to_owned(),
    ] {
        let res = with_authorization(&app, Method::GET, PROBE, &value).await;
        unauthorized(res, &value).await;
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let token = app.operator();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = with_authorization(&app, Method::GET, PROBE, &format!("{scheme} {token}")).await;
        assert_eq!(res.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn a_garbage_token_is_401() {
    let app = TestApp::spawn().await;
    for token in [
        "garbage",
        "a.b.c",
        "....",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ] {
        let res = app.request(Method::GET, PROBE, Some(token), None).await;
        unauthorized(res, token).await;
    }
    // A valid token with its signature cut off or altered.
    let token = app.operator();
    let (unsigned, _) = token.rsplit_once('.').unwrap();
    for broken in [
        format!("{unsigned}."),
        format!("{unsigned}.AAAA"),
        format!("{token}x"),
    ] {
        let res = app.request(Method::GET, PROBE, Some(&broken), None).await;
        unauthorized(res, "broken signature").await;
    }
}

#[tokio::test]
async fn a_token_expired_beyond_the_leeway_is_401() {
    let app = TestApp::spawn().await;
    let mut claims = operator_claims(&app);
    claims["iat"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 120);
    let res = app
        .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
        .await;
    let p = unauthorized(res, "expired").await;
    assert!(p["detail"].as_str().unwrap().contains("expired"), "{p}");
}

#[tokio::test]
async fn a_token_expired_within_the_30_second_leeway_is_accepted() {
    let app = TestApp::spawn().await;
    let mut claims = operator_claims(&app);
    claims["exp"] = json!(now() - 10);
    let res = app
        .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_configured_leeway_is_the_boundary_of_expiry() {
    let app = TestApp::spawn_with(TestDb::new(), |s| {
        s.jwt.leeway = std::time::Duration::from_secs(5)
    })
    .await;
    // Two seconds either side of the 5 s boundary, for the clock ticking during the call.
    let mut claims = operator_claims(&app);
    claims["exp"] = json!(now() - 3);
    let token = hs256(&claims, SECRET);
    let res = app.request(Method::GET, PROBE, Some(&token), None).await;
    assert_eq!(res.status(), 200);
    claims["exp"] = json!(now() - 7);
    let token = hs256(&claims, SECRET);
    let res = app.request(Method::GET, PROBE, Some(&token), None).await;
    unauthorized(res, "expired beyond a 5 s leeway").await;
}

#[tokio::test]
async fn a_token_not_yet_valid_beyond_the_leeway_is_401() {
    let app = TestApp::spawn().await;
    let mut claims = operator_claims(&app);
    claims["nbf"] = json!(now() + 600);
    let res = app
        .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
        .await;
    unauthorized(res, "nbf in the future").await;
}

#[tokio::test]
async fn a_token_for_another_audience_is_401() {
    let app = TestApp::spawn().await;
    for aud in [
        json!("another-service"),
        json!(["another-service"]),
        json!(""),
    ] {
        let mut claims = operator_claims(&app);
        claims["aud"] = aud.clone();
        let res = app
            .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
            .await;
        unauthorized(res, &aud.to_string()).await;
    }
}

#[tokio::test]
async fn an_audience_list_that_names_this_service_is_accepted() {
    let app = TestApp::spawn().await;
    let mut claims = operator_claims(&app);
    claims["aud"] = json!(["another-service", "partnerlink"]);
    let res = app
        .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_token_from_another_issuer_is_401() {
    let app = TestApp::spawn().await;
    for iss in ["https://login.example.com", "partnerlink-dev2", ""] {
        let mut claims = operator_claims(&app);
        claims["iss"] = json!(iss);
        let res = app
            .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
            .await;
        unauthorized(res, iss).await;
    }
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_401() {
    let app = TestApp::spawn().await;
    let claims = operator_claims(&app);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = handmade(&json!({"alg": alg, "typ": "JWT"}), &claims, "");
        let res = app.request(Method::GET, PROBE, Some(&token), None).await;
        unauthorized(res, alg).await;
    }
    // Nor with a signature borrowed from a real token.
    let real = app.operator();
    let signature = real.rsplit_once('.').unwrap().1;
    let token = handmade(&json!({"alg": "none", "typ": "JWT"}), &claims, signature);
    let res = app.request(Method::GET, PROBE, Some(&token), None).await;
    unauthorized(res, "none with a signature").await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_401() {
    let app = TestApp::spawn().await;
    let claims = operator_claims(&app);
    let token = hs256(&claims, "another-secret-0123456789abcdef-another");
    let res = app.request(Method::GET, PROBE, Some(&token), None).await;
    let p = unauthorized(res, "other secret").await;
    assert!(p["detail"].as_str().unwrap().contains("signature"), "{p}");
    // A write with such a token changes nothing.
    let forged = hs256(&claims, "guess");
    let res = app
        .post(
            "/v1/tenants",
            &forged,
            json!({"displayName": "Forged", "cloud": "worldwide", "countryCode": "DK"}),
        )
        .await;
    unauthorized(res, "forged write").await;
    let count: i64 = tenants::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn an_rs256_token_is_401_when_only_hs256_is_configured() {
    let app = TestApp::spawn().await;
    let claims = operator_claims(&app);
    // Algorithm confusion: RS256 declared, "signed" with the HS256 secret as if it were a key.
    let mac = {
        let token = hs256(&claims, SECRET);
        token.rsplit_once('.').unwrap().1.to_owned()
    };
    for signature in [mac.as_str(), "c2lnbmF0dXJl", ""] {
        let token = handmade(&json!({"alg": "RS256", "typ": "JWT"}), &claims, signature);
        let res = app.request(Method::GET, PROBE, Some(&token), None).await;
        unauthorized(res, "RS256").await;
    }
}

#[tokio::test]
async fn hs256_is_pinned_and_other_hmac_algorithms_are_401_even_with_the_right_secret() {
    let app = TestApp::spawn().await;
    let claims = operator_claims(&app);
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let token = encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        let res = app.request(Method::GET, PROBE, Some(&token), None).await;
        unauthorized(res, &format!("{alg:?}")).await;
    }
}

#[tokio::test]
async fn a_token_missing_a_required_claim_is_401() {
    let app = TestApp::spawn().await;
    for claim in ["exp", "iss", "aud", "sub"] {
        let mut claims = operator_claims(&app);
        claims.as_object_mut().unwrap().remove(claim);
        let res = app
            .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
            .await;
        let p = unauthorized(res, claim).await;
        assert!(
            p["detail"].as_str().unwrap().contains(claim),
            "{claim}: {p}"
        );
    }
}

#[tokio::test]
async fn a_token_without_the_optional_iat_claim_is_accepted() {
    let app = TestApp::spawn().await;
    let mut claims = operator_claims(&app);
    claims.as_object_mut().unwrap().remove("iat");
    let res = app
        .request(Method::GET, PROBE, Some(&hs256(&claims, SECRET)), None)
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_tenant_admin_token_without_a_tenant_is_401() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("worldwide", "DK").await;
    let claims = app.claims(Role::TenantAdmin, None, None);
    let res = app.get(PROBE, &app.sign(&claims)).await;
    let p = unauthorized(res, "no tid").await;
    assert!(p["detail"].as_str().unwrap().contains("tid"), "{p}");
    let res = app
        .get(&format!("/v1/tenants/{tenant}"), &app.sign(&claims))
        .await;
    unauthorized(res, "no tid, tenant read").await;

    let mut claims = serde_json::to_value(&claims).unwrap();
    claims["tid"] = json!("not-a-uuid");
    let res = app.get(PROBE, &hs256(&claims, SECRET)).await;
    unauthorized(res, "bad tid").await;
}

#[tokio::test]
async fn a_partner_token_without_an_mpn_id_is_401() {
    let app = TestApp::spawn().await;
    let claims = app.claims(Role::Partner, None, None);
    let res = app.get(PROBE, &app.sign(&claims)).await;
    let p = unauthorized(res, "no mpn").await;
    assert!(p["detail"].as_str().unwrap().contains("mpn"), "{p}");

    let mut claims = serde_json::to_value(&claims).unwrap();
    for bad in ["0123456", "12a45", ""] {
        claims["mpn"] = json!(bad);
        let res = app.get(PROBE, &hs256(&claims, SECRET)).await;
        unauthorized(res, bad).await;
    }
}

#[tokio::test]
async fn a_token_without_a_known_role_is_403() {
    let app = TestApp::spawn().await;
    for roles in [json!([]), json!(["superuser"]), json!(["Operator"])] {
        let mut claims = operator_claims(&app);
        claims["roles"] = roles.clone();
        let token = hs256(&claims, SECRET);
        let p = problem(app.get(PROBE, &token).await, 403).await;
        assert_eq!(p["code"], "forbidden", "{roles}: {p}");
    }
}

#[tokio::test]
async fn an_authenticated_caller_without_the_role_is_403_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.create_tenant("worldwide", "DK").await;
    app.create_partner(json!({"mpnId": "1234567"})).await;
    let admin = app.tenant_admin(tenant);
    let partner = app.partner("1234567");
    for token in [&admin, &partner] {
        let res = app
            .post(
                "/v1/tenants",
                token,
                json!({"displayName": "Mine", "cloud": "worldwide", "countryCode": "DK"}),
            )
            .await;
        assert_eq!(problem(res, 403).await["code"], "forbidden");
        let res = app
            .post(
                "/v1/partners",
                token,
                json!({"mpnId": "2345678", "kind": "global", "name": "Mine",
                       "clouds": ["worldwide"], "countryCodes": ["DK"],
                       "serviceFamilies": ["azure"], "capabilities": [],
                       "contactEmail": "me@example.com"}),
            )
            .await;
        assert_eq!(problem(res, 403).await["code"], "forbidden");
        let res = app
            .patch(
                "/v1/partners/1234567",
                token,
                json!({"status": "suspended"}),
            )
            .await;
        assert_eq!(problem(res, 403).await["code"], "forbidden");
    }
    // A partner is authenticated but is no admin of the tenant: 403.
    let p = problem(
        app.get(&format!("/v1/tenants/{tenant}"), &partner).await,
        403,
    )
    .await;
    assert_eq!(p["code"], "forbidden");

    let mut conn = app.conn();
    let tenant_count: i64 = tenants::table.count().get_result(&mut conn).unwrap();
    assert_eq!(tenant_count, 1);
    let rows: Vec<(i32, String)> = partners::table
        .select((partners::mpn_id, partners::status))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows, vec![(1234567, "active".to_owned())]);
}

#[tokio::test]
async fn a_tenant_admin_of_another_tenant_gets_404_as_for_a_missing_tenant() {
    let app = TestApp::spawn().await;
    let mine = app.create_tenant("worldwide", "DK").await;
    let theirs = app.create_tenant("worldwide", "SE").await;
    let token = app.tenant_admin(mine);
    assert_eq!(
        app.get(&format!("/v1/tenants/{mine}"), &token)
            .await
            .status(),
        200
    );
    let other = problem(app.get(&format!("/v1/tenants/{theirs}"), &token).await, 404).await;
    let missing = Uuid::new_v4();
    let absent = problem(
        app.get(&format!("/v1/tenants/{missing}"), &token).await,
        404,
    )
    .await;
    assert_eq!(other["code"], "not_found");
    assert_eq!(absent["code"], "not_found");
    assert_eq!(other["title"], absent["title"]);
    // The detail tells nothing more about an existing tenant than about a missing one.
    assert_eq!(
        other["detail"]
            .as_str()
            .unwrap()
            .replace(&theirs.to_string(), "ID"),
        absent["detail"]
            .as_str()
            .unwrap()
            .replace(&missing.to_string(), "ID"),
    );
}

#[tokio::test]
async fn health_and_metrics_need_no_token() {
    let app = TestApp::spawn().await;
    for path in ["/health/live", "/health/ready", "/metrics", "/openapi.json"] {
        let res = app.request(Method::GET, path, None, None).await;
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn a_token_with_an_empty_subject_is_401() {
    let app = TestApp::spawn().await;
    for sub in ["", "   "] {
        let mut claims = operator_claims(&app);
        claims["sub"] = json!(sub);
        let res = app.get(PROBE, &hs256(&claims, SECRET)).await;
        let p = unauthorized(res, "empty sub").await;
        assert!(p["detail"].as_str().unwrap().contains("sub"), "{p}");
    }
}
