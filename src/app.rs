//! Builds the HTTP server; `main` and every test use this same code.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::MaxPageSize;
use crate::auth::{Authenticator, KeyError, Role};
use crate::config::Settings;
use crate::db::{self, Db, StartupError};
use crate::error::ApiError;
use crate::extract::{path_error, BodyLimit};
use crate::limits::{self, RequestLimits};
use crate::metrics::Metrics;
use crate::openapi::{document, routes};
use crate::telemetry::{request_context, PartnerlinkRootSpan};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Database(#[from] StartupError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot listen on {addr}: {cause}")]
    Bind { addr: String, cause: std::io::Error },
}

pub struct Application {
    server: Server,
    port: u16,
    /// The operator token logged in development mode.
    pub development_token: Option<String>,
}

/// Path templates of the documented routes with their methods, to tell 405 from 404.
struct RouteTable(Vec<(Vec<String>, Vec<&'static str>)>);

impl RouteTable {
    fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                ]
                .into_iter()
                .filter_map(|(m, present)| present.then_some(m))
                .collect();
                (segments, methods)
            })
            .collect();
        RouteTable(routes)
    }

    fn allowed(&self, path: &str) -> Option<String> {
        let wanted: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments.iter().zip(&wanted).all(|(s, w)| {
                        if s.starts_with('{') {
                            !w.is_empty()
                        } else {
                            s == w
                        }
                    })
            })
            .map(|(_, methods)| methods.join(", "))
    }
}

async fn no_route(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(allow) => ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow,
        },
        None => ApiError::RouteNotFound(req.path().to_owned()),
    })
}

impl Application {
    /// Prepares the database (unless disabled), binds the listener and builds the server.
    pub async fn build(settings: Settings) -> Result<Self, BuildError> {
        let (auth, development_token) = match Authenticator::from_settings(&settings.jwt)? {
            Some(auth) => (auth, None),
            None => {
                let (auth, _) = Authenticator::development(&settings.jwt);
                let claims = auth.claims("developer", Role::Operator, None, None, 12 * 3600);
                let token = auth.mint(&claims);
                tracing::warn!(
                    "DEVELOPMENT MODE: no JWT key is configured (PARTNERLINK_JWT_HS256_SECRET or \
                     PARTNERLINK_JWT_RS256_PUBLIC_KEY_FILE), so a random secret was generated; \
                     tokens die with this process. Do not run this in production."
                );
                if let Some(token) = &token {
                    tracing::warn!("development operator token (12 h): {token}");
                }
                (auth, token)
            }
        };
        if settings.migrate_on_start {
            let url = settings.database_url.clone();
            let timeout = settings.db_connect_timeout;
            let applied = web::block(move || {
                let mut conn = db::connect_or_create(&url, timeout)?;
                db::migrate(&mut conn, &url)
            })
            .await
            .map_err(|e| StartupError::Migrate {
                url: db::redact(&settings.database_url),
                cause: e.to_string(),
            })??;
            tracing::info!(applied, "database is migrated");
        }
        let db = web::Data::new(Db::new(&settings));
        let auth = web::Data::new(auth);
        let metrics = web::Data::new(Metrics::default());
        let doc = document();
        let table = web::Data::new(RouteTable::from_document(&doc));
        let body_limit = BodyLimit(settings.body_limit);
        let request_limits = RequestLimits {
            max_header_bytes: settings.max_header_bytes,
            timeout: settings.request_timeout,
        };
        let max_page = web::Data::new(MaxPageSize(settings.max_page_size));
        let public_url = web::Data::new(settings.public_url.clone());

        let listener = TcpListener::bind(settings.listen).map_err(|cause| BuildError::Bind {
            addr: settings.listen.to_string(),
            cause,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes)
                .split_for_parts();
            app.app_data(db.clone())
                .app_data(auth.clone())
                .app_data(metrics.clone())
                .app_data(table.clone())
                .app_data(max_page.clone())
                .app_data(public_url.clone())
                .app_data(body_limit)
                .app_data(request_limits)
                .app_data(web::PathConfig::default().error_handler(path_error))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header((actix_web::http::header::LOCATION, "/docs/"))
                            .finish()
                    }),
                )
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .default_service(web::to(no_route))
                .wrap(from_fn(limits::enforce))
                .wrap(from_fn(request_context))
                .wrap(TracingLogger::<PartnerlinkRootSpan>::new())
        })
        .workers(settings.workers)
        // Each worker has its own blocking threads; together no more than the pool's
        // connections, so a thread never waits for a connection (it would sleep and be
        // woken, twice per request under load) and requests beyond the pool queue in
        // `web::block`. Uncapped, tokio adds a thread whenever a request arrives in the
        // instant before a finished thread is idle again: 30 threads after a short load,
        // each with its own allocator heap.
        .worker_max_blocking_threads((settings.pool_size as usize / settings.workers).max(1))
        .client_request_timeout(settings.header_read_timeout)
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(|cause| BuildError::Bind {
            addr: settings.listen.to_string(),
            cause,
        })?
        .run();
        Ok(Application {
            server,
            port,
            development_token,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT; in-flight requests are drained first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
