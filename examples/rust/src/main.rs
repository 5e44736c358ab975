//! The article's worldwide flow through a client that progenitor generated (build.rs)
//! from openapi/openapi-3.0.json.
//!
//! Environment: PARTNERLINK_URL (the running service), PARTNERLINK_BIN (the service's
//! binary, which mints the bearer tokens with the service's own secret).

#[allow(clippy::all, unused, mismatched_lifetime_syntaxes)]
mod partnerlink {
    include!(concat!(env!("OUT_DIR"), "/partnerlink.rs"));
}

use futures::TryStreamExt;
use partnerlink::{types, ByteStream, Client, Error};
use std::num::NonZeroU32;
use std::process::{Command, ExitCode};
use std::time::{SystemTime, UNIX_EPOCH};

type Result<T, E = String> = std::result::Result<T, E>;

fn check(condition: bool, what: impl std::fmt::Display) -> Result<()> {
    if condition {
        Ok(())
    } else {
        Err(format!("mismatch: {what}"))
    }
}

fn token(args: &[&str]) -> Result<String> {
    let bin = std::env::var("PARTNERLINK_BIN")
        .unwrap_or_else(|_| "../../target/debug/partnerlink".into());
    let out = Command::new(&bin)
        .args(["token", "--sub", "example-rust"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {bin}: {e}"))?;
    check(
        out.status.success(),
        format_args!("{bin} token: {}", String::from_utf8_lossy(&out.stderr)),
    )?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn client(base_url: &str, bearer: &str) -> Result<Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = format!("Bearer {bearer}")
        .parse()
        .map_err(|e| format!("bad token: {e}"))?;
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Client::new_with_client(base_url, http))
}

/// progenitor types only `application/json` responses, so a refusal arrives as the raw
/// `application/problem+json` body: decode it into the document's `Problem` schema.
async fn problem(error: Error<ByteStream>, what: &str) -> Result<types::Problem> {
    let Error::ErrorResponse(response) = error else {
        return Err(format!("{what}: expected a problem response, got {error}"));
    };
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    check(
        content_type.starts_with("application/problem+json"),
        format_args!("{what}: content type {content_type:?}"),
    )?;
    let body: Vec<u8> = response
        .into_inner_stream()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .map_err(|e| format!("{what}: reading the problem: {e}"))?;
    serde_json::from_slice(&body).map_err(|e| format!("{what}: not a Problem: {e}"))
}

async fn expect_problem<T: std::fmt::Debug>(
    result: Result<partnerlink::ResponseValue<T>, Error<ByteStream>>,
    status: u16,
    code: &str,
    what: &str,
) -> Result<()> {
    let error = match result {
        Ok(v) => {
            return Err(format!(
                "mismatch: {what}: expected {status} {code}, got {v:?}"
            ))
        }
        Err(e) => e,
    };
    let problem = problem(error, what).await?;
    check(
        problem.status == i32::from(status) && problem.code == code,
        format_args!(
            "{what}: expected {status} {code}, got {} {}",
            problem.status, problem.code
        ),
    )
}

/// A success's body, or the problem's code as the error.
async fn ok<T>(
    result: Result<partnerlink::ResponseValue<T>, Error<ByteStream>>,
    what: &str,
) -> Result<T> {
    match result {
        Ok(v) => Ok(v.into_inner()),
        Err(Error::ErrorResponse(r)) => {
            let status = r.status();
            let p = problem(Error::ErrorResponse(r), what).await?;
            Err(format!("{what}: {status} {}: {}", p.code, p.detail))
        }
        Err(e) => Err(format!("{what}: {e}")),
    }
}

async fn create_partner(
    operator: &Client,
    mpn_id: &str,
    kind: types::PartnerKind,
    global_mpn_id: Option<&str>,
) -> Result<()> {
    let global_mpn_id = global_mpn_id
        .map(types::NewPartnerGlobalMpnId::try_from)
        .transpose()
        .map_err(|e| e.to_string())?;
    let capabilities = match kind {
        types::PartnerKind::Location => vec![types::Capability::Advisor],
        types::PartnerKind::Global => vec![],
    };
    let body = types::NewPartner::builder()
        .mpn_id(mpn_id)
        .kind(kind)
        .global_mpn_id(global_mpn_id)
        .name(format!("Fabrikam {kind} {mpn_id}").as_str())
        .clouds(vec![types::Cloud::Worldwide])
        .country_codes(vec![types::CountryCode::Dk])
        .service_families(vec![types::ServiceFamily::Microsoft365])
        .capabilities(capabilities)
        .contact_email(format!("partner-{mpn_id}@example.com").as_str());
    let what = format!("create partner {mpn_id}");
    let partner = ok(operator.create_partner().body(body).send().await, &what).await?;
    check(
        partner.mpn_id.as_str() == mpn_id && partner.kind == kind,
        format_args!("partner {mpn_id} as sent"),
    )
}

async fn scenario() -> Result<String> {
    let base_url =
        std::env::var("PARTNERLINK_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    // Distinct MPN IDs per run and per language (this one: 8xxxxxx), so scenarios share a service.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .subsec_nanos();
    let base = 8_000_000 + (nanos % 100_000) * 10;
    let (global_id, location_a, location_b) = (
        base.to_string(),
        (base + 1).to_string(),
        (base + 2).to_string(),
    );

    let operator = client(&base_url, &token(&["--role", "operator"])?)?;
    let tenant = ok(
        operator
            .create_tenant()
            .body(
                types::NewTenant::builder()
                    .display_name("Contoso Rust ApS")
                    .cloud(types::Cloud::Worldwide)
                    .country_code(types::CountryCode::Dk),
            )
            .send()
            .await,
        "create tenant",
    )
    .await?;
    let tenant_id = tenant.id;

    create_partner(&operator, &global_id, types::PartnerKind::Global, None).await?;
    for location in [&location_a, &location_b] {
        create_partner(
            &operator,
            location,
            types::PartnerKind::Location,
            Some(&global_id),
        )
        .await?;
    }

    let admin = client(
        &base_url,
        &token(&["--role", "tenantAdmin", "--tenant", &tenant_id.to_string()])?,
    )?;
    let purchase = |mpn_id: &str| -> Result<types::Purchase> {
        Ok(types::Purchase {
            partner_mpn_id: Some(mpn_id.parse().map_err(|e| format!("{e}"))?),
            product_id: "office-365-e3".parse().map_err(|e| format!("{e}"))?,
            quantity: NonZeroU32::new(10).ok_or("zero seats")?,
            trial: None,
        })
    };

    // A global id does not transact (section 2).
    expect_problem(
        admin
            .purchase_subscription()
            .tenant_id(tenant_id)
            .body(purchase(&global_id)?)
            .send()
            .await,
        422,
        "partner_id_not_transactable",
        "buy with the global id",
    )
    .await?;

    // R1: buy with a partner.
    let subscription = ok(
        admin
            .purchase_subscription()
            .tenant_id(tenant_id)
            .body(purchase(&location_a)?)
            .send()
            .await,
        "purchase",
    )
    .await?;
    check(
        subscription
            .advisor
            .as_ref()
            .is_some_and(|a| a.mpn_id.as_str() == location_a),
        "the purchase's advisor is location A",
    )?;
    let subscription_id = subscription.id;

    // R6: the relationships list the advisor with the subscription it advises.
    let page = ok(
        admin
            .list_partner_relationships()
            .tenant_id(tenant_id)
            .send()
            .await,
        "list relationships",
    )
    .await?;
    let entry = page
        .items
        .iter()
        .find(|r| r.kind == types::RelationshipKind::Advisor && r.mpn_id.as_str() == location_a)
        .ok_or("mismatch: an advisor relationship with location A")?;
    check(
        entry.subscription_ids.contains(&subscription_id),
        "it names the subscription",
    )?;

    // R5: change the advisor in one step.
    let changed = ok(
        admin
            .set_advisor()
            .tenant_id(tenant_id)
            .subscription_id(subscription_id)
            .body(types::AdvisorRequest::builder().mpn_id(location_b.as_str()))
            .send()
            .await,
        "change the advisor",
    )
    .await?;
    check(
        changed.mpn_id.as_str() == location_b && changed.valid_to.is_none(),
        "location B is current",
    )?;

    let history = ok(
        admin
            .get_advisor_history()
            .tenant_id(tenant_id)
            .subscription_id(subscription_id)
            .send()
            .await,
        "read the history",
    )
    .await?;
    check(
        history.items.len() == 2,
        format_args!("two history entries, got {}", history.items.len()),
    )?;
    let find = |mpn_id: &str| history.items.iter().find(|a| a.mpn_id.as_str() == mpn_id);
    let (old, current) = find(&location_a)
        .zip(find(&location_b))
        .ok_or("mismatch: the history holds A and B")?;
    check(
        old.valid_to == Some(current.valid_from),
        format_args!(
            "the old one ends ({:?}) as the new one begins ({})",
            old.valid_to, current.valid_from
        ),
    )?;
    check(current.valid_to.is_none(), "the new association is current")?;

    // R7: remove the advisor; afterwards there is none.
    let removed = admin
        .remove_advisor()
        .tenant_id(tenant_id)
        .subscription_id(subscription_id)
        .send()
        .await;
    match removed {
        Ok(r) => check(
            r.status() == reqwest::StatusCode::NO_CONTENT,
            format_args!("remove the advisor: {}", r.status()),
        )?,
        Err(e) => ok::<()>(Err(e), "remove the advisor").await?,
    }
    expect_problem(
        admin
            .get_advisor()
            .tenant_id(tenant_id)
            .subscription_id(subscription_id)
            .send()
            .await,
        404,
        "no_advisor",
        "the advisor after removal",
    )
    .await?;

    Ok(format!(
        "rust client (progenitor): worldwide flow OK (tenant {tenant_id}, partners {global_id}/{location_a}/{location_b})"
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match scenario().await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rust client scenario failed: {e}");
            ExitCode::FAILURE
        }
    }
}
