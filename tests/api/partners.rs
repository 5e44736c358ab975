use std::collections::BTreeSet;

use diesel::prelude::*;
use partnerlink::db::schema::partners;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{problem, TestApp};

/// A complete, valid registration body; `fields` override the defaults.
fn partner_body(fields: Value) -> Value {
    let mut body = json!({
        "mpnId": "1234567",
        "kind": "global",
        "name": "Fabrikam Consulting",
        "clouds": ["worldwide"],
        "countryCodes": ["DK"],
        "serviceFamilies": ["microsoft365"],
        "capabilities": ["advisor", "reseller", "delegatedAdmin"],
        "contactEmail": "partners@fabrikam.example"
    });
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// The same body without one field.
fn without(field: &str) -> Value {
    let mut body = partner_body(json!({}));
    body.as_object_mut().unwrap().remove(field);
    body
}

fn partner_count(app: &TestApp) -> i64 {
    partners::table.count().get_result(&mut app.conn()).unwrap()
}

/// Every column of every partner, to prove a refused write changed nothing.
fn snapshot(app: &TestApp) -> Vec<String> {
    use partnerlink::db::models::PartnerRow;
    partners::table
        .order(partners::mpn_id)
        .select(PartnerRow::as_select())
        .load(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|row| format!("{row:?}"))
        .collect()
}

// ---------------------------------------------------------------- create

#[tokio::test]
async fn an_operator_registers_a_global_partner_and_anyone_reads_it() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"name": "  Fabrikam Consulting  ", "countryCodes": ["SE", "DK"]})),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/v1/partners/1234567");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["mpnId"], "1234567");
    assert_eq!(created["kind"], "global");
    assert!(created["globalMpnId"].is_null());
    assert_eq!(created["name"], "Fabrikam Consulting");
    assert_eq!(created["countryCodes"], json!(["DK", "SE"]));
    assert_eq!(created["status"], "active", "status defaults to active");
    assert!(created["createdAt"].as_str().is_some());

    for token in [
        app.operator(),
        app.tenant_admin(Uuid::new_v4()),
        app.partner("7654321"),
    ] {
        let res = app.get(&location, &token).await;
        assert_eq!(res.status(), 200);
        let read: Value = res.json().await.unwrap();
        assert_eq!(read, created);
    }
}

#[tokio::test]
async fn a_location_names_its_registered_global_organisation() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({"mpnId": "1234567", "kind": "global"}))
        .await;
    let location = app
        .create_partner(json!({
            "mpnId": "2345678",
            "kind": "location",
            "globalMpnId": "1234567",
            "status": "suspended"
        }))
        .await;
    assert_eq!(location["kind"], "location");
    assert_eq!(location["globalMpnId"], "1234567");
    assert_eq!(location["status"], "suspended");
    let row: (String, Option<i32>) = partners::table
        .find(2345678)
        .select((partners::kind, partners::global_mpn_id))
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(row, ("location".to_owned(), Some(1234567)));
}

#[tokio::test]
async fn a_location_without_a_global_mpn_id_is_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"kind": "location"})),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["code"], "validation_failed");
    assert_eq!(p["errors"][0]["field"], "globalMpnId");
    assert_eq!(p["errors"][0]["code"], "required");
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn a_location_of_an_unregistered_organisation_is_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"kind": "location", "mpnId": "2345678", "globalMpnId": "1234567"})),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "globalMpnId");
    assert_eq!(p["errors"][0]["code"], "unknown_organisation");
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn a_location_cannot_be_the_organisation_of_another_location() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({"mpnId": "1234567"})).await;
    app.create_partner(json!({"mpnId": "2345678", "kind": "location", "globalMpnId": "1234567"}))
        .await;
    let before = snapshot(&app);
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"kind": "location", "mpnId": "3456789", "globalMpnId": "2345678"})),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "globalMpnId");
    assert_eq!(p["errors"][0]["code"], "unknown_organisation");
    assert_eq!(snapshot(&app), before);
}

#[tokio::test]
async fn a_location_cannot_name_itself_as_its_organisation() {
    let app = TestApp::spawn().await;
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"kind": "location", "mpnId": "2345678", "globalMpnId": "2345678"})),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "globalMpnId");
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn a_global_partner_must_not_name_a_global_mpn_id() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({"mpnId": "1234567"})).await;
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"kind": "global", "mpnId": "2345678", "globalMpnId": "1234567"})),
        )
        .await;
    let p = problem(res, 422).await;
    assert_eq!(p["errors"][0]["field"], "globalMpnId");
    assert_eq!(p["errors"][0]["code"], "not_allowed");
    assert_eq!(partner_count(&app), 1);
}

#[tokio::test]
async fn a_registered_mpn_id_cannot_be_registered_again() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({"mpnId": "1234567", "name": "First"}))
        .await;
    let before = snapshot(&app);
    let res = app
        .post(
            "/v1/partners",
            &app.operator(),
            partner_body(json!({"mpnId": " 1234567 ", "name": "Second"})),
        )
        .await;
    let p = problem(res, 409).await;
    assert_eq!(p["code"], "conflict");
    assert!(p["detail"].as_str().unwrap().contains("1234567"), "{p}");
    assert_eq!(snapshot(&app), before);
}

#[tokio::test]
async fn only_operators_register_partners() {
    let app = TestApp::spawn().await;
    for token in [app.tenant_admin(Uuid::new_v4()), app.partner("1234567")] {
        let res = app
            .post("/v1/partners", &token, partner_body(json!({})))
            .await;
        assert_eq!(problem(res, 403).await["code"], "forbidden");
    }
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn a_surrounding_white_space_of_an_mpn_id_is_trimmed() {
    let app = TestApp::spawn().await;
    let created = app.create_partner(json!({"mpnId": "\t12345 "})).await;
    assert_eq!(created["mpnId"], "12345");
    let created = app
        .create_partner(json!({"mpnId": "2147483647", "name": "Largest"}))
        .await;
    assert_eq!(created["mpnId"], "2147483647");
}

#[tokio::test]
async fn an_invalid_mpn_id_in_a_body_is_a_422_that_says_what_is_wrong() {
    let app = TestApp::spawn().await;
    let op = app.operator();
    for (value, says) in [
        (json!(""), "empty"),
        (json!("   "), "empty"),
        (json!("12a4567"), "non-digit character at position 3"),
        (json!("+1234567"), "non-digit character at position 1"),
        (json!("-1234567"), "non-digit character at position 1"),
        (json!("123 4567"), "non-digit character at position 4"),
        (json!("１２３４５６７"), "non-digit character at position 1"),
        (json!("١٢٣٤٥٦٧"), "non-digit character at position 1"),
        (json!("1234.5"), "non-digit character at position 5"),
        (json!("1234"), "too short"),
        (json!("12345678901"), "too long"),
        (json!("0123456"), "leading zero"),
        (json!("2147483648"), "out of range"),
        (json!("9999999999"), "out of range"),
        (json!(1234567), "string"),
        (json!(1234567.0), "string"),
        (json!(null), "string"),
        (json!(true), "string"),
        (json!(["1234567"]), "string"),
    ] {
        let res = app
            .post("/v1/partners", &op, partner_body(json!({"mpnId": value})))
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "invalid_mpn_id", "{value}: {p}");
        assert_eq!(p["errors"][0]["field"], "mpnId", "{value}: {p}");
        assert_eq!(p["errors"][0]["code"], "invalid_mpn_id", "{value}: {p}");
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains(says),
            "{value}: {detail:?} should say {says:?}"
        );
        assert_eq!(p["errors"][0]["message"], detail, "{value}");
    }
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn an_invalid_global_mpn_id_is_a_422_naming_that_field() {
    let app = TestApp::spawn().await;
    for value in [json!("0123456"), json!(1234567), json!("12x45")] {
        let res = app
            .post(
                "/v1/partners",
                &app.operator(),
                partner_body(json!({"kind": "location", "globalMpnId": value})),
            )
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "invalid_mpn_id", "{value}: {p}");
        assert_eq!(p["errors"][0]["field"], "globalMpnId", "{value}: {p}");
    }
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn every_partner_field_is_validated() {
    let app = TestApp::spawn().await;
    let op = app.operator();
    let long_email = format!("{}@fabrikam.example", "a".repeat(250));
    for (fields, field, code) in [
        (json!({"name": ""}), "name", "length"),
        (json!({"name": "   "}), "name", "blank"),
        (json!({"name": "x".repeat(201)}), "name", "length"),
        (json!({"name": 5}), "name", "invalid_value"),
        (json!({"kind": "branch"}), "kind", "invalid_value"),
        (json!({"kind": 5}), "kind", "invalid_value"),
        (json!({"status": ["active"]}), "status", "invalid_value"),
        (json!({"clouds": []}), "clouds", "empty"),
        (
            json!({"clouds": ["worldwide", "worldwide"]}),
            "clouds",
            "duplicate",
        ),
        (
            json!({"clouds": ["worldwide", "moon"]}),
            "clouds[1]",
            "invalid_value",
        ),
        (json!({"clouds": "worldwide"}), "clouds", "invalid_value"),
        (json!({"countryCodes": []}), "countryCodes", "empty"),
        (
            json!({"countryCodes": ["DK", "DK"]}),
            "countryCodes",
            "duplicate",
        ),
        (
            json!({"countryCodes": ["XX"]}),
            "countryCodes[0]",
            "invalid_value",
        ),
        (
            json!({"countryCodes": ["DK", "dk"]}),
            "countryCodes[1]",
            "invalid_value",
        ),
        (
            json!({"countryCodes": ["DNK"]}),
            "countryCodes[0]",
            "invalid_value",
        ),
        (
            json!({"countryCodes": ["UK"]}),
            "countryCodes[0]",
            "invalid_value",
        ),
        (json!({"serviceFamilies": []}), "serviceFamilies", "empty"),
        (
            json!({"serviceFamilies": ["office"]}),
            "serviceFamilies[0]",
            "invalid_value",
        ),
        (
            json!({"serviceFamilies": ["azure", "azure"]}),
            "serviceFamilies",
            "duplicate",
        ),
        (
            json!({"capabilities": ["advisor", "advisor"]}),
            "capabilities",
            "duplicate",
        ),
        (
            json!({"capabilities": ["billing"]}),
            "capabilities[0]",
            "invalid_value",
        ),
        (json!({"status": "deleted"}), "status", "invalid_value"),
        (
            json!({"contactEmail": "not an address"}),
            "contactEmail",
            "email",
        ),
        (json!({"contactEmail": ""}), "contactEmail", "email"),
        (
            json!({"contactEmail": long_email}),
            "contactEmail",
            "length",
        ),
        (
            json!({"website": "https://fabrikam.example"}),
            "website",
            "unknown_field",
        ),
    ] {
        let res = app
            .post("/v1/partners", &op, partner_body(fields.clone()))
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "validation_failed", "{fields}: {p}");
        let errors = p["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{fields}: expected {field}/{code} in {p}"
        );
    }
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn every_required_partner_field_is_required() {
    let app = TestApp::spawn().await;
    for field in [
        "mpnId",
        "kind",
        "name",
        "clouds",
        "countryCodes",
        "serviceFamilies",
        "capabilities",
        "contactEmail",
    ] {
        let res = app
            .post("/v1/partners", &app.operator(), without(field))
            .await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "validation_failed", "{field}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
        assert_eq!(p["errors"][0]["code"], "required", "{p}");
    }
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn a_partner_may_have_no_capabilities_yet() {
    let app = TestApp::spawn().await;
    let created = app.create_partner(json!({"capabilities": []})).await;
    assert_eq!(created["capabilities"], json!([]));
}

// ---------------------------------------------------------------- read

#[tokio::test]
async fn reading_a_missing_partner_is_404() {
    let app = TestApp::spawn().await;
    let p = problem(app.get("/v1/partners/1234567", &app.operator()).await, 404).await;
    assert_eq!(p["code"], "not_found");
    assert!(p["detail"].as_str().unwrap().contains("1234567"));
    assert_eq!(p["instance"], "/v1/partners/1234567");
}

#[tokio::test]
async fn an_invalid_mpn_id_in_the_path_is_a_400() {
    let app = TestApp::spawn().await;
    let token = app.partner("1234567");
    for (path, says) in [
        ("/v1/partners/1234", "too short"),
        ("/v1/partners/012345", "leading zero"),
        ("/v1/partners/12a45", "non-digit character at position 3"),
        ("/v1/partners/%2B12345", "non-digit character at position 1"),
        ("/v1/partners/12345678901", "too long"),
        ("/v1/partners/2147483648", "out of range"),
        ("/v1/partners/%20", "empty"),
    ] {
        let p = problem(app.get(path, &token).await, 400).await;
        assert_eq!(p["code"], "invalid_mpn_id", "{path}: {p}");
        assert_eq!(p["errors"][0]["field"], "mpnId", "{path}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(says), "{path}: {p}");
    }
    let res = app
        .patch("/v1/partners/0123", &app.operator(), json!({"name": "X"}))
        .await;
    assert_eq!(problem(res, 400).await["code"], "invalid_mpn_id");
}

// ---------------------------------------------------------------- update

#[tokio::test]
async fn a_patch_changes_only_the_given_fields() {
    let app = TestApp::spawn().await;
    let created = app.create_partner(json!({})).await;
    let res = app
        .patch(
            "/v1/partners/1234567",
            &app.operator(),
            json!({"name": " Fabrikam A/S ", "countryCodes": ["NO", "DK"], "status": "suspended"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["name"], "Fabrikam A/S");
    assert_eq!(updated["countryCodes"], json!(["DK", "NO"]));
    assert_eq!(updated["status"], "suspended");
    for kept in [
        "mpnId",
        "kind",
        "globalMpnId",
        "clouds",
        "serviceFamilies",
        "capabilities",
        "contactEmail",
        "createdAt",
    ] {
        assert_eq!(updated[kept], created[kept], "{kept}");
    }
    let read: Value = app
        .get("/v1/partners/1234567", &app.operator())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, updated);

    // An empty patch changes nothing visible.
    let res = app
        .patch("/v1/partners/1234567", &app.operator(), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let same: Value = res.json().await.unwrap();
    assert_eq!(same, updated);
}

#[tokio::test]
async fn patching_a_missing_partner_is_404_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .patch(
            "/v1/partners/1234567",
            &app.operator(),
            json!({"name": "X"}),
        )
        .await;
    assert_eq!(problem(res, 404).await["code"], "not_found");
    assert_eq!(partner_count(&app), 0);
}

#[tokio::test]
async fn only_operators_patch_partners() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({})).await;
    let before = snapshot(&app);
    for token in [app.tenant_admin(Uuid::new_v4()), app.partner("1234567")] {
        let res = app
            .patch("/v1/partners/1234567", &token, json!({"name": "Mine now"}))
            .await;
        assert_eq!(problem(res, 403).await["code"], "forbidden");
    }
    assert_eq!(snapshot(&app), before);
}

#[tokio::test]
async fn a_patch_is_validated_and_a_refused_patch_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({})).await;
    let before = snapshot(&app);
    let op = app.operator();
    for (body, field, code) in [
        (json!({"name": ""}), "name", "length"),
        (json!({"name": "  "}), "name", "blank"),
        (json!({"clouds": []}), "clouds", "empty"),
        (json!({"clouds": ["moon"]}), "clouds[0]", "invalid_value"),
        (
            json!({"countryCodes": ["DK", "DK"]}),
            "countryCodes",
            "duplicate",
        ),
        (
            json!({"countryCodes": ["ZZ"]}),
            "countryCodes[0]",
            "invalid_value",
        ),
        (json!({"serviceFamilies": []}), "serviceFamilies", "empty"),
        (
            json!({"capabilities": ["reseller", "reseller"]}),
            "capabilities",
            "duplicate",
        ),
        (json!({"status": "gone"}), "status", "invalid_value"),
        (json!({"contactEmail": "nobody"}), "contactEmail", "email"),
        (json!({"kind": "location"}), "kind", "unknown_field"),
        (json!({"mpnId": "2345678"}), "mpnId", "unknown_field"),
        (
            json!({"globalMpnId": "2345678"}),
            "globalMpnId",
            "unknown_field",
        ),
        (json!({"name": "Valid", "clouds": []}), "clouds", "empty"),
    ] {
        let res = app.patch("/v1/partners/1234567", &op, body.clone()).await;
        let p = problem(res, 422).await;
        assert_eq!(p["code"], "validation_failed", "{body}: {p}");
        let errors = p["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body}: expected {field}/{code} in {p}"
        );
    }
    assert_eq!(snapshot(&app), before);
}

// ---------------------------------------------------------------- search

/// Registers a small directory: two organisations with locations in several countries.
async fn seed_directory(app: &TestApp) {
    for fields in [
        json!({"mpnId": "1000001", "kind": "global", "name": "Fabrikam Holding",
               "countryCodes": ["DK", "SE"], "clouds": ["worldwide"],
               "serviceFamilies": ["microsoft365", "dynamics365"], "capabilities": []}),
        json!({"mpnId": "1000002", "kind": "location", "globalMpnId": "1000001",
               "name": "Fabrikam Denmark", "countryCodes": ["DK"], "clouds": ["worldwide"],
               "serviceFamilies": ["microsoft365"], "capabilities": ["advisor", "reseller"]}),
        json!({"mpnId": "1000003", "kind": "location", "globalMpnId": "1000001",
               "name": "Fabrikam Sweden", "countryCodes": ["SE"], "clouds": ["worldwide"],
               "serviceFamilies": ["dynamics365"], "capabilities": ["advisor"],
               "status": "suspended"}),
        json!({"mpnId": "2000001", "kind": "global", "name": "Contoso 100% Cloud",
               "countryCodes": ["CN"], "clouds": ["china21Vianet"],
               "serviceFamilies": ["microsoft365", "azure"], "capabilities": []}),
        json!({"mpnId": "2000002", "kind": "location", "globalMpnId": "2000001",
               "name": "Contoso_Beijing", "countryCodes": ["CN"], "clouds": ["china21Vianet"],
               "serviceFamilies": ["microsoft365", "azure"],
               "capabilities": ["advisor", "reseller", "delegatedAdmin"]}),
        json!({"mpnId": "30000", "kind": "global", "name": "Northwind 1000002 Traders",
               "countryCodes": ["NO", "DK"], "clouds": ["worldwide", "china21Vianet"],
               "serviceFamilies": ["powerPlatform"], "capabilities": ["delegatedAdmin"]}),
    ] {
        app.create_partner(fields).await;
    }
}

/// The MPN IDs of every partner the search finds, walking all pages.
async fn search_ids(app: &TestApp, query: &str) -> Vec<String> {
    let token = app.tenant_admin(Uuid::new_v4());
    let sep = if query.is_empty() { "" } else { "&" };
    let path = format!("/v1/partners?{query}{sep}limit=200");
    let res = app.get(&path, &token).await;
    assert_eq!(res.status(), 200, "{path}");
    let page: Value = res.json().await.unwrap();
    assert!(page["nextCursor"].is_null(), "{path}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["mpnId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn search_without_filters_lists_everyone_ordered_by_mpn_id() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    // Ordered by the number, not the text: 30000 comes first.
    assert_eq!(
        search_ids(&app, "").await,
        ["30000", "1000001", "1000002", "1000003", "2000001", "2000002"]
    );
}

#[tokio::test]
async fn search_filters_by_each_criterion_and_all_of_them_together() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    for (query, expected) in [
        ("country=DK", vec!["30000", "1000001", "1000002"]),
        ("country=SE", vec!["1000001", "1000003"]),
        ("country=US", vec![]),
        ("service=dynamics365", vec!["1000001", "1000003"]),
        ("service=azure", vec!["2000001", "2000002"]),
        ("cloud=china21Vianet", vec!["30000", "2000001", "2000002"]),
        (
            "cloud=worldwide",
            vec!["30000", "1000001", "1000002", "1000003"],
        ),
        ("capability=reseller", vec!["1000002", "2000002"]),
        ("capability=delegatedAdmin", vec!["30000", "2000002"]),
        ("kind=global", vec!["30000", "1000001", "2000001"]),
        ("kind=location", vec!["1000002", "1000003", "2000002"]),
        ("status=suspended", vec!["1000003"]),
        (
            "status=active",
            vec!["30000", "1000001", "1000002", "2000001", "2000002"],
        ),
        (
            "country=DK&service=microsoft365&capability=advisor",
            vec!["1000002"],
        ),
        ("country=DK&kind=location&status=suspended", vec![]),
        (
            "cloud=worldwide&capability=advisor&status=active",
            vec!["1000002"],
        ),
    ] {
        assert_eq!(search_ids(&app, query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn search_text_matches_part_of_the_name_case_insensitively_or_an_exact_mpn_id() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    for (query, expected) in [
        ("q=fabrikam", vec!["1000001", "1000002", "1000003"]),
        ("q=FABRIKAM%20DEN", vec!["1000002"]),
        ("q=%20%20sweden%20", vec!["1000003"]),
        ("q=olding", vec!["1000001"]),
        ("q=nothing-like-it", vec![]),
        // An exact MPN ID, or a name containing those digits.
        ("q=1000002", vec!["30000", "1000002"]),
        ("q=2000001", vec!["2000001"]),
        // Part of an MPN ID is not a match.
        ("q=20000", vec![]),
        ("q=fabrikam&country=SE", vec!["1000001", "1000003"]),
        // An empty q is no filter.
        (
            "q=",
            vec![
                "30000", "1000001", "1000002", "1000003", "2000001", "2000002",
            ],
        ),
    ] {
        assert_eq!(search_ids(&app, query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn search_text_treats_percent_and_underscore_literally() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    for (query, expected) in [
        ("q=%25", vec!["2000001"]),
        ("q=100%25", vec!["2000001"]),
        ("q=_", vec!["2000002"]),
        ("q=contoso_", vec!["2000002"]),
        ("q=contoso%25", vec![]),
        ("q=fabrikam_denmark", vec![]),
        ("q=%5C", vec![]),
    ] {
        assert_eq!(search_ids(&app, query).await, expected, "{query}");
    }
}

#[tokio::test]
async fn search_text_matches_an_mpn_id_only_in_its_canonical_form() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    for query in ["q=01000002", "q=%2B1000002", "q=0030000"] {
        assert_eq!(
            search_ids(&app, query).await,
            Vec::<String>::new(),
            "{query}"
        );
    }
    assert_eq!(search_ids(&app, "q=%201000003%20").await, ["1000003"]);
}

#[tokio::test]
async fn search_pages_walk_every_partner_once_in_mpn_id_order() {
    let app = TestApp::spawn().await;
    seed_directory(&app).await;
    for n in 0..5 {
        app.create_partner(
            json!({"mpnId": format!("{}", 5000000 + n), "name": format!("Extra {n}")}),
        )
        .await;
    }
    let token = app.partner("1000002");
    let all = search_ids(&app, "").await;
    assert_eq!(all.len(), 11);

    let mut seen: Vec<String> = Vec::new();
    let mut path = "/v1/partners?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let res = app.get(&path, &token).await;
        assert_eq!(res.status(), 200, "{path}");
        let page: Value = res.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty() && items.len() <= 2, "{page}");
        seen.extend(
            items
                .iter()
                .map(|p| p["mpnId"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/partners?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no partner twice: {seen:?}");
    assert_eq!(seen, all, "none missing, in MPN ID order");
    let numbers: Vec<i64> = seen.iter().map(|s| s.parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]));

    // Paging with a filter keeps the filter on every page.
    let mut seen = Vec::new();
    let mut path = "/v1/partners?country=DK&limit=2".to_owned();
    loop {
        let page: Value = app.get(&path, &token).await.json().await.unwrap();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["mpnId"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/partners?country=DK&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, search_ids(&app, "country=DK").await);
}

#[tokio::test]
async fn an_exactly_full_last_page_has_no_next_cursor() {
    let app = TestApp::spawn().await;
    app.create_partner(json!({"mpnId": "1000001"})).await;
    app.create_partner(json!({"mpnId": "1000002"})).await;
    let page: Value = app
        .get("/v1/partners?limit=2", &app.operator())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["nextCursor"].is_null());
    let page: Value = app
        .get("/v1/partners", &app.operator())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page, json!({"items": page["items"], "nextCursor": null}));
}

#[tokio::test]
async fn bad_search_parameters_are_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let token = app.tenant_admin(Uuid::new_v4());
    let long_q = "a".repeat(101);
    let foreign_cursor = base64_url("v1:not-a-number");
    for (query, field) in [
        ("country=XX", "country"),
        ("country=dk", "country"),
        ("country=DNK", "country"),
        ("service=office", "service"),
        ("cloud=moon", "cloud"),
        ("capability=billing", "capability"),
        ("kind=branch", "kind"),
        ("status=deleted", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
        (&format!("cursor={foreign_cursor}"), "cursor"),
        (&format!("q={long_q}"), "q"),
        ("sort=name", "sort"),
        ("country=DK&country=SE", "country"),
    ] {
        let p = problem(app.get(&format!("/v1/partners?{query}"), &token).await, 400).await;
        assert_eq!(p["code"], "validation_failed", "{query}: {p}");
        assert_eq!(p["errors"][0]["field"], field, "{query}: {p}");
    }
    let p = problem(
        app.get("/v1/partners?country=DK&country=SE", &token).await,
        400,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "duplicate_field", "{p}");
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}
