//! Database access: the pool, start-up (create, migrate) and one module per resource.

pub mod events;
pub mod idempotency;
pub mod invitations;
pub mod models;
pub mod partners;
pub mod products;
pub mod relationships;
pub mod schema;
pub mod subscriptions;
pub mod tenants;
pub mod writes;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web;
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool};
use diesel::PgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::Settings;
use crate::error::ApiError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Key of the advisory lock that serialises migrations of instances starting together.
const MIGRATION_LOCK: i64 = 0x7061_7274_6e65_726c; // "partnerl"

pub type PgPool = Pool<Manager>;

thread_local! {
    /// Set when the connection in use on this thread failed in a way that leaves it unusable.
    static DISCARD: Cell<bool> = const { Cell::new(false) };
}

/// diesel's manager, plus discarding a connection whose request saw it fail. Pooled
/// connections are not pinged on check-out (a round trip per request); a connection
/// lost to a database restart fails one request with 503 instead and is dropped here.
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    /// Called by r2d2 on the thread that returns the connection, right after `Db::run`.
    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        DISCARD.with(|d| d.replace(false)) || self.0.has_broken(conn)
    }
}

/// The pool and how many callers are waiting for a connection (for `/metrics`).
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    waiting: Arc<AtomicI64>,
}

/// A request's database job between `web::block` queueing it and a blocking thread
/// starting it. The first side to claim it decides: the thread runs it, or the request
/// (timed out, or dropped) abandons it and the thread skips it. Either way it stops
/// counting as waiting then.
struct Queued {
    claimed: AtomicBool,
    waiting: Arc<AtomicI64>,
}

impl Queued {
    fn new(waiting: &Arc<AtomicI64>) -> Arc<Self> {
        waiting.fetch_add(1, Ordering::Relaxed);
        Arc::new(Queued {
            claimed: AtomicBool::new(false),
            waiting: Arc::clone(waiting),
        })
    }

    /// True for the one side that claims the job first.
    fn claim(&self) -> bool {
        let first = !self.claimed.swap(true, Ordering::AcqRel);
        if first {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        first
    }
}

/// Abandons the job if the request is dropped (client gone, request timeout) before a
/// thread started it.
struct AbandonOnDrop(Arc<Queued>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.claim();
    }
}

#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u128,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET TIME ZONE 'UTC'",
            self.statement_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Why the service cannot start against its database; each says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot reach PostgreSQL at {url}: {cause}. Start PostgreSQL or set DATABASE_URL")]
    Unreachable { url: String, cause: String },
    #[error("cannot create the database {name} at {url}: {cause}. Create it, or connect as a user that may")]
    Create {
        name: String,
        url: String,
        cause: String,
    },
    #[error("migrating the database at {url} failed: {cause}")]
    Migrate { url: String, cause: String },
}

/// The URL with any password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={}", timeout.as_secs().max(1))
}

/// Splits `…/name?query` into the database name and the same URL on another database.
fn database_name(url: &str) -> Option<(String, String)> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let slash = base.rfind('/')?;
    if base[..slash].ends_with('/') {
        return None;
    }
    let name = base[slash + 1..].to_owned();
    let other = |db: &str| match query {
        Some(q) => format!("{}/{db}?{q}", &base[..slash]),
        None => format!("{}/{db}", &base[..slash]),
    };
    Some((name, other("postgres")))
}

/// Connects, creating the database first when it does not exist.
pub fn connect_or_create(url: &str, timeout: Duration) -> Result<PgConnection, StartupError> {
    let url = with_connect_timeout(url, timeout);
    match PgConnection::establish(&url) {
        Ok(conn) => Ok(conn),
        Err(e) if e.to_string().contains("does not exist") => {
            let (name, admin_url) =
                database_name(&url).ok_or_else(|| StartupError::Unreachable {
                    url: redact(&url),
                    cause: e.to_string(),
                })?;
            let create = |cause: String| StartupError::Create {
                name: name.clone(),
                url: redact(&url),
                cause,
            };
            let mut admin =
                PgConnection::establish(&admin_url).map_err(|e| create(e.to_string()))?;
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            match diesel::sql_query(format!("CREATE DATABASE {quoted}")).execute(&mut admin) {
                Ok(_) => tracing::info!(database = %name, "created the database"),
                // Another instance created it first.
                Err(e) if e.to_string().contains("already exists") => {}
                Err(e) => return Err(create(e.to_string())),
            }
            PgConnection::establish(&url).map_err(|e| StartupError::Unreachable {
                url: redact(&url),
                cause: e.to_string(),
            })
        }
        Err(e) => Err(StartupError::Unreachable {
            url: redact(&url),
            cause: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        }),
    }
}

/// Runs pending migrations; concurrent starters wait on an advisory lock.
pub fn migrate(conn: &mut PgConnection, url: &str) -> Result<usize, StartupError> {
    let failed = |cause: String| StartupError::Migrate {
        url: redact(url),
        cause,
    };
    // The fast path takes no lock: most starts have nothing to do.
    if !conn
        .has_pending_migration(MIGRATIONS)
        .map_err(|e| failed(e.to_string()))?
    {
        return Ok(0);
    }
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .execute(conn)
        .map_err(|e| failed(e.to_string()))?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|done| done.len())
        .map_err(|e| failed(e.to_string()));
    let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .execute(conn)
        .map_err(|e| failed(e.to_string()));
    let applied = result?;
    unlocked?;
    Ok(applied)
}

thread_local! {
    /// Statements sent by the connection in use on this (blocking) thread.
    static STATEMENTS: Cell<u32> = const { Cell::new(0) };
}

/// Counts every statement a connection sends, for the per-request statement count.
struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            STATEMENTS.with(|n| n.set(n.get() + 1));
        }
    }
}

impl Db {
    /// Builds the pool without connecting, so the service starts (not ready) while the
    /// database is down, and recovers by itself when it returns.
    pub fn new(settings: &Settings) -> Self {
        let manager = Manager(ConnectionManager::new(with_connect_timeout(
            &settings.database_url,
            settings.db_connect_timeout,
        )));
        // Process-wide and idempotent: every connection the pool opens counts its statements.
        let _ =
            diesel::connection::set_default_instrumentation(|| Some(Box::new(StatementCounter)));
        let pool = Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(settings.pool_acquire_timeout)
            .connection_customizer(Box::new(SessionSettings {
                statement_timeout_ms: settings.statement_timeout.as_millis(),
            }))
            .build_unchecked(manager);
        Db {
            pool,
            waiting: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Runs `f` with one pooled connection on the blocking thread pool. There are no
    /// more blocking threads than connections (`app::run`), so a request beyond the
    /// pool waits in the pool's queue, and a thread that finishes a job takes the next
    /// one without sleeping: a gate in front of `web::block` (a semaphore) cost every
    /// request a thread wake-up, ~1 context switch and ~20 % of `GET` throughput.
    pub async fn run<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = Instant::now() + self.pool.connection_timeout();
        let queued = Queued::new(&self.waiting);
        let abandon = AbandonOnDrop(Arc::clone(&queued));
        let pool = self.pool.clone();
        let job = web::block(move || {
            if !queued.claim() {
                return None;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let mut conn = match pool.get_timeout(remaining) {
                Ok(conn) => conn,
                Err(e) => return Some((Err(e.into()), 0)),
            };
            STATEMENTS.with(|n| n.set(0));
            let result = f(&mut conn);
            // Lost connections and timed-out statements report `Unavailable`; a fresh
            // connection is cheaper than finding out whether this one still works.
            DISCARD.with(|d| d.set(matches!(result, Err(ApiError::Unavailable(_)))));
            Some((result, STATEMENTS.with(Cell::get)))
        });
        tokio::pin!(job);
        let done = match tokio::time::timeout_at(deadline.into(), &mut job).await {
            Ok(done) => done,
            // Still queued at the deadline: abandoned. Already started: it runs to the end.
            Err(_) if abandon.0.claim() => Ok(None),
            Err(_) => job.await,
        };
        let Some((result, statements)) = done? else {
            tracing::warn!("no database connection: the pool stayed busy");
            return Err(ApiError::Unavailable(
                "the database is unavailable; retry shortly".into(),
            ));
        };
        crate::error::count_statements(statements);
        result
    }

    /// Runs `f` in one transaction: every write of a request commits or none does.
    pub async fn transaction<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |conn| conn.transaction(f)).await
    }

    /// Connections open, idle, and callers waiting for one.
    pub fn stats(&self) -> (u32, u32, i64) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.waiting.load(Ordering::Relaxed),
        )
    }

    pub fn max_size(&self) -> u32 {
        self.pool.max_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn finds_the_database_name() {
        assert_eq!(
            database_name("postgres://u@h:5432/app?connect_timeout=3"),
            Some((
                "app".into(),
                "postgres://u@h:5432/postgres?connect_timeout=3".into()
            ))
        );
    }
}
