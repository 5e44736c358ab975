//! Typed settings, each read from an environment variable with a documented default.

use std::net::SocketAddr;
use std::time::Duration;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 shared secret; `None` with no RS256 key either means development mode.
    pub hs256_secret: Option<String>,
    /// PEM file of an RS256 public key.
    pub rs256_public_key_file: Option<String>,
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub listen: SocketAddr,
    pub workers: usize,
    pub pool_size: u32,
    pub pool_acquire_timeout: Duration,
    pub db_connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub body_limit: usize,
    /// Largest total of header name and value bytes a request may carry.
    pub max_header_bytes: usize,
    /// How long the service works on one request before answering 504.
    pub request_timeout: Duration,
    /// How long a client may take to send a request's head (actix's
    /// `client_request_timeout`); slower clients get 408 and are disconnected.
    pub header_read_timeout: Duration,
    pub max_page_size: i64,
    pub migrate_on_start: bool,
    pub log_format: LogFormat,
    pub jwt: JwtSettings,
    pub public_url: PublicUrl,
}

/// The base URL callers reach the service at, for links handed out in events
/// (`PARTNERLINK_PUBLIC_URL`): an `http` or `https` URL without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub const DEFAULT: &'static str = "http://127.0.0.1:8080";

    pub fn parse(text: &str) -> Result<Self, String> {
        let url = text.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("expected an http:// or https:// URL")?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err("the URL has no host".into());
        }
        if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace()) {
            return Err("the URL must not carry a query, fragment or spaces".into());
        }
        Ok(PublicUrl(url.to_owned()))
    }

    /// The configured value, or the default; what `Settings::from_env` reads.
    pub fn from_env() -> Result<Self, SettingError> {
        let name = "PARTNERLINK_PUBLIC_URL";
        match var(name) {
            None => Ok(PublicUrl::default()),
            Some(value) => Self::parse(&value).map_err(|reason| SettingError {
                name,
                value,
                reason,
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for PublicUrl {
    fn default() -> Self {
        PublicUrl(Self::DEFAULT.to_owned())
    }
}

/// A setting whose value cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is not valid: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// actix-http refuses a request head (request line and headers) over 128 KiB on its own,
/// with an empty 431; the configurable limit stays well below so that the service,
/// not the parser, answers with a problem.
const MAX_HEADER_BYTES_CEILING: usize = 64 * 1024;

/// A database on this host: TLS over loopback protects nothing and cost a tenth of a
/// request's instructions (libpq's default `sslmode=prefer` uses it when the server has it).
pub const DEFAULT_DATABASE_URL: &str =
    "postgres://postgres@127.0.0.1:5432/partnerlink?sslmode=disable";

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parsed<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, SettingError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|e: T::Err| SettingError {
            name,
            reason: e.to_string(),
            value,
        }),
    }
}

fn millis(name: &'static str, default_ms: u64) -> Result<Duration, SettingError> {
    parsed(name, default_ms).map(Duration::from_millis)
}

impl Settings {
    /// Reads every setting from the environment.
    pub fn from_env() -> Result<Self, SettingError> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let log_format = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(SettingError {
                    name: "LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "expected text or json".into(),
                })
            }
        };
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            listen: parsed(
                "PARTNERLINK_LISTEN",
                SocketAddr::from(([127, 0, 0, 1], 8080)),
            )?,
            workers: parsed("PARTNERLINK_WORKERS", cores)?.max(1),
            // Requests hold a connection only inside one blocking closure. Two per core
            // keep PostgreSQL busy; more only add blocking threads that sleep and are
            // woken between jobs (README "Twelfth round": 4 against 8 on 2 cores).
            pool_size: parsed("PARTNERLINK_POOL_SIZE", (cores as u32 * 2).clamp(4, 32))?.max(1),
            pool_acquire_timeout: millis("PARTNERLINK_POOL_ACQUIRE_TIMEOUT_MS", 2_000)?,
            db_connect_timeout: millis("PARTNERLINK_DB_CONNECT_TIMEOUT_MS", 3_000)?,
            statement_timeout: millis("PARTNERLINK_STATEMENT_TIMEOUT_MS", 5_000)?,
            body_limit: parsed("PARTNERLINK_BODY_LIMIT_BYTES", 64 * 1024)?,
            max_header_bytes: parsed("PARTNERLINK_MAX_HEADER_BYTES", 16 * 1024)?
                .clamp(1024, MAX_HEADER_BYTES_CEILING),
            // Above the statement (5 s) and pool acquire (2 s) timeouts together, so a
            // slow database reports its own 503 before the request as a whole gives up.
            // At least 100 ms: a timeout of 0 would answer every request with 504.
            request_timeout: millis("PARTNERLINK_REQUEST_TIMEOUT_MS", 10_000)?
                .max(Duration::from_millis(100)),
            header_read_timeout: millis("PARTNERLINK_HEADER_READ_TIMEOUT_MS", 5_000)?,
            max_page_size: parsed("PARTNERLINK_MAX_PAGE_SIZE", 200i64)?.clamp(1, 1_000),
            migrate_on_start: parsed("PARTNERLINK_MIGRATE_ON_START", true)?,
            log_format,
            jwt: JwtSettings {
                hs256_secret: var("PARTNERLINK_JWT_HS256_SECRET"),
                rs256_public_key_file: var("PARTNERLINK_JWT_RS256_PUBLIC_KEY_FILE"),
                issuer: var("PARTNERLINK_JWT_ISSUER").unwrap_or_else(|| "partnerlink-dev".into()),
                audience: var("PARTNERLINK_JWT_AUDIENCE").unwrap_or_else(|| "partnerlink".into()),
                leeway: Duration::from_secs(parsed("PARTNERLINK_JWT_LEEWAY_SECS", 30u64)?),
            },
            public_url: PublicUrl::from_env()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_http_bases_without_a_trailing_slash() {
        assert_eq!(
            PublicUrl::parse("https://partnerlink.example/")
                .unwrap()
                .as_str(),
            "https://partnerlink.example"
        );
        assert_eq!(
            PublicUrl::parse(" http://10.0.0.1:8080/api ")
                .unwrap()
                .as_str(),
            "http://10.0.0.1:8080/api"
        );
        for bad in [
            "",
            "partnerlink.example",
            "ftp://x",
            "https://",
            "https://x/?a=1",
            "https://x#y",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
