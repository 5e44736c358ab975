//! Test harness: a fresh database per test, cloned from a template migrated once per
//! test binary, and the real application bound to a free port.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

use diesel::prelude::*;
use diesel::PgConnection;
use partnerlink::app::Application;
use partnerlink::auth::{Authenticator, Claims, Role};
use partnerlink::config::Settings;
use partnerlink::domain::MpnId;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

fn server_url() -> String {
    std::env::var("PARTNERLINK_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn admin_connection() -> PgConnection {
    PgConnection::establish(&format!("{}/postgres", server_url()))
        .expect("PostgreSQL must run on 127.0.0.1:5432 (see README)")
}

/// Drops databases left by earlier runs whose process is gone.
fn drop_stale(conn: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 'pl\\_test\\_%' OR datname LIKE 'pl\\_tpl\\_%'",
    )
    .load(conn)
    .expect("list databases");
    for Name { datname } in names {
        let pid = datname
            .split('_')
            .nth(2)
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
            ))
            .execute(conn);
        }
    }
}

static TEMPLATE: LazyLock<String> = LazyLock::new(|| {
    let name = format!("pl_tpl_{}", std::process::id());
    let mut admin = admin_connection();
    drop_stale(&mut admin);
    diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .expect("create template");
    let url = format!("{}/{name}", server_url());
    let mut conn = PgConnection::establish(&url).expect("connect to template");
    partnerlink::db::migrate(&mut conn, &url).expect("migrate template");
    name
});

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A database of one test, dropped with it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn new() -> Self {
        let template = TEMPLATE.as_str();
        let name = format!(
            "pl_test_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = admin_connection();
        diesel::sql_query(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        ))
        .execute(&mut admin)
        .expect("create test database");
        let url = format!("{}/{name}", server_url());
        TestDb { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let mut admin = admin_connection();
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin);
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::from_env().expect("settings");
    settings.database_url = database_url.to_owned();
    settings.listen = "127.0.0.1:0".parse().expect("address");
    settings.workers = 1;
    settings.pool_size = 3;
    settings.migrate_on_start = false;
    settings.jwt.hs256_secret = Some(SECRET.to_owned());
    settings.jwt.rs256_public_key_file = None;
    settings.jwt.issuer = "partnerlink-dev".into();
    settings.jwt.audience = "partnerlink".into();
    settings
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub settings: Settings,
    auth: Authenticator,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new();
        Self::spawn_with(db, |_| {}).await
    }

    pub async fn spawn_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db.url);
        adjust(&mut settings);
        let app = Application::build(settings.clone())
            .await
            .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let auth = Authenticator::from_settings(&settings.jwt)
            .expect("keys")
            .expect("a key is configured");
        TestApp {
            address,
            client: reqwest::Client::new(),
            settings,
            auth,
            db,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.db.url).expect("connect to the test database")
    }

    pub fn claims(&self, role: Role, tid: Option<Uuid>, mpn: Option<&str>) -> Claims {
        let mpn = mpn.map(|m| MpnId::parse(m).expect("valid mpn"));
        self.auth.claims("test-actor", role, tid, mpn, 600)
    }

    pub fn sign(&self, claims: &Claims) -> String {
        self.auth.mint(claims).expect("mint")
    }

    pub fn operator(&self) -> String {
        self.sign(&self.claims(Role::Operator, None, None))
    }

    pub fn tenant_admin(&self, tenant: Uuid) -> String {
        self.sign(&self.claims(Role::TenantAdmin, Some(tenant), None))
    }

    pub fn partner(&self, mpn: &str) -> String {
        self.sign(&self.claims(Role::Partner, None, Some(mpn)))
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    /// The value of the `/metrics` sample whose name and labels are exactly `series`.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let res = self.request(Method::GET, "/metrics", None, None).await;
        sample(&res.text().await.unwrap(), series)
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Creates a tenant as an operator and returns its id.
    pub async fn create_tenant(&self, cloud: &str, country: &str) -> Uuid {
        let res = self
            .post(
                "/v1/tenants",
                &self.operator(),
                json!({"displayName": "Contoso", "cloud": cloud, "countryCode": country}),
            )
            .await;
        assert_eq!(res.status(), 201, "create tenant");
        let body: Value = res.json().await.expect("json");
        body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("tenant id")
    }

    /// Registers a partner as an operator; `fields` override the defaults.
    pub async fn create_partner(&self, fields: Value) -> Value {
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
        if let (Some(base), Some(extra)) = (body.as_object_mut(), fields.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let res = self.post("/v1/partners", &self.operator(), body).await;
        let status = res.status();
        let value: Value = res.json().await.expect("json");
        assert_eq!(status, 201, "create partner: {value}");
        value
    }
}

/// Reads a problem response, checking its media type and shape.
pub async fn problem(res: Response, status: u16) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = res.json().await.expect("problem json");
    assert_eq!(body["status"], status);
    assert!(body["type"]
        .as_str()
        .is_some_and(|t| t.ends_with(body["code"].as_str().unwrap_or("?"))));
    assert!(body["requestId"].as_str().is_some_and(|r| !r.is_empty()));
    body
}

/// A TCP proxy in front of PostgreSQL that a test can cut, as if the database
/// restarted: live connections are closed and new ones refused until restored.
pub struct DbProxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Proxied connections still open.
    live: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl DbProxy {
    pub async fn start() -> Self {
        use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
        use std::sync::Arc;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let live = Arc::new(AtomicUsize::new(0));
        let (up2, generation2, live2) = (up.clone(), generation.clone(), live.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up2.load(Ordering::SeqCst) {
                    continue;
                }
                let born = generation2.load(Ordering::SeqCst);
                let generation3 = generation2.clone();
                let live3 = live2.clone();
                live3.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _open = Open(live3);
                    let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let cut = async {
                        while generation3.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = cut => {}
                    }
                });
            }
        });
        DbProxy {
            port,
            up,
            generation,
            live,
        }
    }

    /// The database URL of `db` reached through this proxy.
    pub fn url(&self, db: &TestDb) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, db.name)
    }

    /// Returns once every live connection is closed, so that no request after it can
    /// still reach the database (on a busy machine the closing lags).
    pub async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        while self.live.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Counts a proxied connection as live until its task ends.
struct Open(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The value of the Prometheus sample whose name and labels are exactly `series`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}
