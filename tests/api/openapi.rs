use crate::common::TestApp;

/// The committed document is the snapshot of the API: regenerate it with
/// `cargo run -- openapi > openapi/openapi.json` when the API changes on purpose.
#[test]
fn committed_document_matches_the_code() {
    let generated = partnerlink::openapi::document().to_pretty_json().unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
}

/// The 3.0 rendition for 3.0-only generators: `cargo run -q -- openapi --3.0 > openapi/openapi-3.0.json`.
#[test]
fn committed_3_0_rendition_matches_the_code() {
    let generated = serde_json::to_string_pretty(&partnerlink::openapi30::document()).unwrap();
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/openapi/openapi-3.0.json"
    ))
    .unwrap();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "openapi/openapi-3.0.json is stale: run `cargo run -q -- openapi --3.0 > openapi/openapi-3.0.json`"
    );
    let doc: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(!committed.contains("\"null\""), "3.0 has no null type");
}

#[test]
fn every_operation_has_an_id_summary_tag_and_problem_errors() {
    let doc = serde_json::to_value(partnerlink::openapi::document()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: summary"
            );
            assert!(
                op["description"].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: description"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id}: tags"
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/problem+json"]["schema"]["$ref"]
                            .as_str()
                            .is_some_and(|r| r.ends_with("/Problem")),
                        "{id} {status}: problem schema"
                    );
                }
            }
            if path.starts_with("/v1/") {
                assert!(
                    op["security"][0]["bearer"].is_array(),
                    "{id}: bearer security"
                );
                assert!(op["responses"]["401"].is_object(), "{id}: 401");
            }
        }
    }
}

#[tokio::test]
async fn the_document_and_the_browser_are_served() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let served: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        served,
        serde_json::to_value(partnerlink::openapi::document()).unwrap()
    );
    let res = app
        .client
        .get(format!("{}/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("swagger"));
}

/// Every component schema and every property carries a description and an example; a
/// `$ref`, `oneOf` or `allOf` property is described on the wrapper and exemplified by its
/// target.
#[test]
fn every_schema_and_property_is_described_with_an_example() {
    let doc = serde_json::to_value(partnerlink::openapi::document()).unwrap();
    let mut missing = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if schema.get("description").is_none() {
            missing.push(format!("{name}: description"));
        }
        let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) else {
            continue;
        };
        for (property, spec) in properties {
            if spec.get("description").is_none() {
                missing.push(format!("{name}.{property}: description"));
            }
            let has = |key: &str| spec.get(key).is_some();
            if !["example", "examples", "$ref", "oneOf", "allOf"]
                .into_iter()
                .any(has)
            {
                missing.push(format!("{name}.{property}: example"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:#?}");
}
