//! Command line: `serve` (the default), `migrate`, `token`, `openapi`.

use std::process::ExitCode;

use partnerlink::app::Application;
use partnerlink::auth::{Authenticator, Role};
use partnerlink::config::Settings;
use partnerlink::domain::MpnId;
use partnerlink::{db, openapi, openapi30, telemetry};

/// glibc's malloc cost about a tenth of a search request's instructions (many small,
/// short-lived allocations across threads); mimalloc roughly halves that. Built with
/// `no_thp`: with transparent huge pages its arenas doubled the peak RSS (72 → 39 MiB).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: partnerlink [serve]
       partnerlink migrate
       partnerlink token --role operator|tenantAdmin|partner [--tenant UUID] [--mpn MPN_ID] [--sub NAME] [--ttl SECONDS]
       partnerlink openapi [--3.1 | --3.0]

Settings come from environment variables; see README.md.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let result = match args.first().map(String::as_str) {
        Some("serve" | "migrate") if args.len() > 1 => {
            Err(format!("unexpected arguments after {:?}\n{USAGE}", args[0]))
        }
        None | Some("serve") => serve(settings),
        Some("migrate") => migrate(&settings),
        Some("token") => token(&settings, &args[1..]),
        Some("openapi") => match args.get(1).map(String::as_str) {
            None | Some("--3.1") => openapi::document()
                .to_pretty_json()
                .map_err(|e| e.to_string()),
            Some("--3.0") => {
                serde_json::to_string_pretty(&openapi30::document()).map_err(|e| e.to_string())
            }
            Some(other) => Err(format!("unknown option {other}: expected --3.1 or --3.0")),
        }
        .map(|json| println!("{json}")),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("partnerlink: {message}");
    ExitCode::FAILURE
}

fn serve(settings: Settings) -> Result<(), String> {
    telemetry::init(settings.log_format).map_err(|e| format!("cannot start logging: {e}"))?;
    let served = actix_web::rt::System::new().block_on(async move {
        let listen = settings.listen;
        let app = Application::build(settings)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(%listen, "partnerlink is serving; API docs at /docs");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    telemetry::flush();
    served
}

fn migrate(settings: &Settings) -> Result<(), String> {
    let mut conn = db::connect_or_create(&settings.database_url, settings.db_connect_timeout)
        .map_err(|e| e.to_string())?;
    let applied = db::migrate(&mut conn, &settings.database_url).map_err(|e| e.to_string())?;
    println!("applied {applied} migration(s)");
    Ok(())
}

fn token(settings: &Settings, args: &[String]) -> Result<(), String> {
    let mut role = None;
    let mut tenant = None;
    let mut mpn = None;
    let mut sub = None;
    let mut ttl: i64 = 3600;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--role" => role = Some(value.parse::<Role>()?),
            "--tenant" => tenant = Some(value.parse().map_err(|e| format!("--tenant: {e}"))?),
            "--mpn" => mpn = Some(MpnId::parse(value).map_err(|e| format!("--mpn: {e}"))?),
            "--sub" => sub = Some(value.clone()),
            "--ttl" => ttl = value.parse().map_err(|e| format!("--ttl: {e}"))?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let role = role.ok_or_else(|| format!("--role is required\n{USAGE}"))?;
    match role {
        Role::TenantAdmin if tenant.is_none() => {
            return Err("a tenantAdmin token needs --tenant".into())
        }
        Role::Partner if mpn.is_none() => return Err("a partner token needs --mpn".into()),
        _ => {}
    }
    if settings.jwt.hs256_secret.is_none() {
        return Err(
            "minting needs PARTNERLINK_JWT_HS256_SECRET (the service must use the same secret)"
                .into(),
        );
    }
    let auth = Authenticator::from_settings(&settings.jwt)
        .map_err(|e| e.to_string())?
        .ok_or("no JWT key is configured")?;
    let sub = sub.unwrap_or_else(|| format!("cli-{}", serde_json_role(role)));
    let claims = auth.claims(&sub, role, tenant, mpn, ttl);
    let token = auth
        .mint(&claims)
        .ok_or("cannot sign with the configured key")?;
    println!("{token}");
    Ok(())
}

fn serde_json_role(role: Role) -> String {
    match role {
        Role::Operator => "operator",
        Role::TenantAdmin => "tenant-admin",
        Role::Partner => "partner",
    }
    .to_owned()
}
