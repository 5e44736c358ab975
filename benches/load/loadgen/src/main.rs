//! partnerlink-loadgen: drives one benchmark scenario against a running partnerlink for a
//! fixed time at a fixed number of keep-alive HTTP/1.1 connections (closed loop: each
//! connection sends its next request when the previous answer is read, as wrk does) and
//! prints requests/s and latency percentiles.
//!
//! Ids are computed from small integers exactly as benches/load/sql/load.sql creates
//! them, so no id list is read. Tenant-admin tokens (HS256) are minted up front with the
//! secret the service was started with.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

const USAGE: &str = "usage: partnerlink-loadgen --scenario NAME [--url http://127.0.0.1:8080]
    [--connections 32] [--duration 20] [--warmup 3] [--requests N] [--threads 1]
    [--tenants 10000] [--subs 100000] [--secret S] [--issuer partnerlink-dev]
    [--audience partnerlink] [--seed 1] [--issued-at UNIX_SECONDS]
scenarios: get_subscription advisor_history_at partner_search put_advisor purchase
           partner_relationships
--requests N sends N requests in all (split over the connections) instead of running
for --duration seconds; no warm-up then. --issued-at (default: now) fixes the tokens'
iat, so that two runs send the same tokens (the service remembers verified ones).
Prints one JSON line last.";

/// Countries of worldwide tenants, indexed by t % 19 (bench_country in load.sql).
const COUNTRIES: [&str; 19] = [
    "DK", "SE", "NO", "FI", "DE", "NL", "FR", "GB", "IE", "US", "CA", "AU", "JP", "ES", "IT", "PL",
    "BR", "IN", "SG",
];
/// Free-text terms of the partner search (pgbench/partner_search.sql has the same list).
const TERMS: [&str; 8] = [
    "fabrikam",
    "contoso",
    "cloud",
    "digital",
    "northwind",
    "consulting",
    "copenhagen",
    "systems",
];
/// Worldwide Microsoft 365 products bought by the purchase scenario (pgbench/purchase.sql).
const PRODUCTS: [&str; 5] = [
    "office-365-e3",
    "microsoft-365-business-premium",
    "microsoft-365-e5",
    "office-365-e1",
    "microsoft-365-business-standard",
];
/// Eligible advisors per country (bench_advisor in load.sql).
const ADVISORS: u64 = 24;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    GetSubscription,
    AdvisorHistoryAt,
    PartnerSearch,
    PutAdvisor,
    Purchase,
    PartnerRelationships,
}

impl Scenario {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "get_subscription" => Scenario::GetSubscription,
            "advisor_history_at" => Scenario::AdvisorHistoryAt,
            "partner_search" => Scenario::PartnerSearch,
            "put_advisor" => Scenario::PutAdvisor,
            "purchase" => Scenario::Purchase,
            "partner_relationships" => Scenario::PartnerRelationships,
            _ => return None,
        })
    }
    fn expected_status(self) -> u16 {
        match self {
            Scenario::Purchase => 201,
            _ => 200,
        }
    }
}

struct Options {
    url: String,
    scenario: Scenario,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    requests: Option<u64>,
    threads: usize,
    tenants: u64,
    subs: u64,
    secret: String,
    issuer: String,
    audience: String,
    seed: u64,
    issued_at: Option<u64>,
}

fn parse_args() -> Result<Options, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut o = Options {
        url: "http://127.0.0.1:8080".into(),
        scenario: Scenario::GetSubscription,
        connections: 32,
        duration: Duration::from_secs(20),
        warmup: Duration::from_secs(3),
        requests: None,
        threads: 1,
        tenants: 10_000,
        subs: 100_000,
        secret: "partnerlink-bench-secret-0123456789abcdef".into(),
        issuer: "partnerlink-dev".into(),
        audience: "partnerlink".into(),
        seed: 1,
        issued_at: None,
    };
    let mut scenario = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--url" => o.url = value.trim_end_matches('/').to_owned(),
            "--scenario" => {
                scenario = Some(
                    Scenario::parse(value).ok_or_else(|| format!("unknown scenario {value}\n{USAGE}"))?,
                )
            }
            "--connections" => o.connections = num(value)?.max(1) as usize,
            "--duration" => o.duration = Duration::from_secs_f64(value.parse().map_err(|e| format!("{flag}: {e}"))?),
            "--warmup" => o.warmup = Duration::from_secs_f64(value.parse().map_err(|e| format!("{flag}: {e}"))?),
            "--requests" => o.requests = Some(num(value)?),
            "--threads" => o.threads = num(value)?.max(1) as usize,
            "--tenants" => o.tenants = num(value)?,
            "--subs" => o.subs = num(value)?,
            "--secret" => o.secret = value.clone(),
            "--issuer" => o.issuer = value.clone(),
            "--audience" => o.audience = value.clone(),
            "--seed" => o.seed = num(value)?,
            "--issued-at" => o.issued_at = Some(num(value)?),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    o.scenario = scenario.ok_or_else(|| format!("--scenario is required\n{USAGE}"))?;
    if o.tenants == 0 || o.subs < 6 * o.tenants {
        return Err("--subs must be at least 6 x --tenants".into());
    }
    Ok(o)
}

/// bench_uuid(k, n) of load.sql: a multiplicative hash of n leads, n ends the id.
fn bench_uuid(k: u32, n: u64) -> String {
    let h = n.wrapping_mul(2_654_435_761) % (1 << 32);
    format!("{h:08x}-{k:04x}-4000-8000-{n:012x}")
}

/// MPN ID of advisor index g (0..24) in country ci (bench_advisor in load.sql).
fn advisor_mpn(ci: u64, g: u64) -> u64 {
    2_000_001 + ci + 19 * (g + g / 4)
}

/// The advisor index of an MPN ID, if it is one of bench_advisor's.
fn advisor_index(mpn: u64) -> Option<u64> {
    let l = mpn.checked_sub(2_000_001)?;
    let m = l / 19;
    let g = m - m / 5;
    (m % 5 != 4 && g < ADVISORS).then_some(g)
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn mint(o: &Options, tenant: u64, now: u64) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "sub": format!("admin{tenant}@tenant.example"),
        "iss": o.issuer,
        "aud": o.audience,
        "iat": now,
        "exp": now + 6 * 3600,
        "roles": ["tenantAdmin"],
        "tid": bench_uuid(1, tenant),
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha256(o.secret.as_bytes(), signing.as_bytes()));
    format!("Bearer {signing}.{signature}")
}

/// RFC 3339 (UTC, seconds) of a Unix time; Howard Hinnant's civil-from-days.
fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// 2024-01-02T00:00:00Z: every subscription had an advisor from then for 58 days.
const HISTORY_FROM: u64 = 1_704_153_600;
const HISTORY_SPAN: u64 = 58 * 86_400;

struct Shared {
    o: Options,
    tokens: Vec<String>,
    /// put_advisor: the advisor index each subscription is believed to have (255: the
    /// one load.sql gave it).
    advisor: Vec<AtomicU8>,
    authority: String,
    host: String,
    port: u16,
}

struct Planned {
    method: &'static str,
    path: String,
    body: Option<String>,
    token: usize,
    /// put_advisor: the subscription changed, to learn its new advisor from the answer.
    sub: Option<u64>,
}

/// A worldwide tenant, uniformly (a 21Vianet one, t % 20 = 0, is replaced by t - 1).
fn worldwide_tenant(rng: &mut Rng, tenants: u64) -> u64 {
    let t = rng.range(1, tenants);
    if t % 20 == 0 {
        t - 1
    } else {
        t
    }
}

fn plan(shared: &Shared, rng: &mut Rng) -> Planned {
    let o = &shared.o;
    let tenant_of = |s: u64| (s - 1) % o.tenants + 1;
    match o.scenario {
        Scenario::GetSubscription => {
            let s = rng.range(1, o.subs);
            let t = tenant_of(s);
            Planned {
                method: "GET",
                path: format!("/v1/tenants/{}/subscriptions/{}", bench_uuid(1, t), bench_uuid(2, s)),
                body: None,
                token: t as usize,
                sub: None,
            }
        }
        Scenario::AdvisorHistoryAt => {
            let s = rng.range(1, o.subs);
            let t = tenant_of(s);
            let at = rfc3339(HISTORY_FROM + rng.range(0, HISTORY_SPAN - 1));
            Planned {
                method: "GET",
                path: format!(
                    "/v1/tenants/{}/subscriptions/{}/advisor/history?at={at}",
                    bench_uuid(1, t),
                    bench_uuid(2, s)
                ),
                body: None,
                token: t as usize,
                sub: None,
            }
        }
        Scenario::PartnerSearch => {
            let country = COUNTRIES[rng.range(0, 18) as usize];
            let term = TERMS[rng.range(0, TERMS.len() as u64 - 1) as usize];
            let t = rng.range(1, o.tenants);
            Planned {
                method: "GET",
                path: format!("/v1/partners?country={country}&service=microsoft365&q={term}&limit=20"),
                body: None,
                token: t as usize,
                sub: None,
            }
        }
        Scenario::PutAdvisor => {
            let t = worldwide_tenant(rng, o.tenants);
            let j = rng.range(0, 5);
            let s = j * o.tenants + t;
            let slot = &shared.advisor[(s - 1) as usize];
            let initial = (s + 1 + s % 4) % ADVISORS; // k = h - 1 = 1 + s % 4 in load.sql
            let believed = match slot.load(Ordering::Relaxed) {
                u8::MAX => initial,
                g => u64::from(g),
            };
            // Any advisor but the one believed current: when the belief is stale (pgbench
            // or an earlier run changed it), the request is still a change 22 times in 23.
            let g = (believed + 1 + rng.range(0, ADVISORS - 2)) % ADVISORS;
            slot.store(g as u8, Ordering::Relaxed);
            Planned {
                method: "PUT",
                path: format!(
                    "/v1/tenants/{}/subscriptions/{}/advisor",
                    bench_uuid(1, t),
                    bench_uuid(2, s)
                ),
                body: Some(format!(r#"{{"mpnId":"{}"}}"#, advisor_mpn(t % 19, g))),
                token: t as usize,
                sub: Some(s),
            }
        }
        Scenario::Purchase => {
            let t = worldwide_tenant(rng, o.tenants);
            let product = PRODUCTS[rng.range(0, PRODUCTS.len() as u64 - 1) as usize];
            let g = rng.range(0, ADVISORS - 1);
            let quantity = rng.range(1, 100);
            Planned {
                method: "POST",
                path: format!("/v1/tenants/{}/subscriptions", bench_uuid(1, t)),
                body: Some(format!(
                    r#"{{"productId":"{product}","quantity":{quantity},"partnerMpnId":"{}"}}"#,
                    advisor_mpn(t % 19, g)
                )),
                token: t as usize,
                sub: None,
            }
        }
        Scenario::PartnerRelationships => {
            let t = rng.range(1, o.tenants);
            Planned {
                method: "GET",
                path: format!("/v1/tenants/{}/partner-relationships", bench_uuid(1, t)),
                body: None,
                token: t as usize,
                sub: None,
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    statuses: std::collections::BTreeMap<u16, u64>,
    unexpected: u64,
    first_unexpected: Option<String>,
    io_errors: u64,
    /// Answers read, warm-up included.
    total: u64,
}

/// The `"mpnId":"…"` of a JSON answer, without parsing the whole document.
fn mpn_in(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = &text[text.find(r#""mpnId":""#)? + 9..];
    rest[..rest.find('"')?].parse().ok()
}

async fn connection(
    shared: Arc<Shared>,
    id: usize,
    quota: Option<u64>,
    measure_from: Instant,
    stop: Arc<AtomicBool>,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (shared.o.seed.wrapping_mul(1_000_003) + id as u64 + 1));
    let mut sent = 0u64;
    'reconnect: loop {
        let stream = match tokio::net::TcpStream::connect((shared.host.as_str(), shared.port)).await {
            Ok(s) => s,
            Err(e) => {
                tally.io_errors += 1;
                if tally.io_errors > 1000 {
                    eprintln!("connection {id}: giving up: {e}");
                    return tally;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(_) => {
                tally.io_errors += 1;
                continue;
            }
        };
        tokio::spawn(async move {
            let _ = conn.await;
        });
        loop {
            if let Some(q) = quota {
                if sent >= q {
                    return tally;
                }
            } else if stop.load(Ordering::Relaxed) {
                return tally;
            }
            let p = plan(&shared, &mut rng);
            let mut builder = Request::builder()
                .method(p.method)
                .uri(p.path.as_str())
                .header("host", shared.authority.as_str())
                .header("authorization", shared.tokens[p.token].as_str());
            if p.body.is_some() {
                builder = builder.header("content-type", "application/json");
            }
            let request = builder
                .body(Full::new(Bytes::from(p.body.unwrap_or_default())))
                .expect("request");
            let started = Instant::now();
            let response = match sender.send_request(request).await {
                Ok(r) => r,
                Err(_) => {
                    tally.io_errors += 1;
                    continue 'reconnect;
                }
            };
            let status = response.status().as_u16();
            let body = match response.into_body().collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    tally.io_errors += 1;
                    continue 'reconnect;
                }
            };
            let elapsed = started.elapsed();
            sent += 1;
            tally.total += 1;
            if let (Some(s), true) = (p.sub, status == 200) {
                if let Some(g) = mpn_in(&body).and_then(advisor_index) {
                    shared.advisor[(s - 1) as usize].store(g as u8, Ordering::Relaxed);
                }
            }
            if quota.is_none() && started < measure_from {
                continue; // warm-up
            }
            *tally.statuses.entry(status).or_default() += 1;
            if status != shared.o.scenario.expected_status() {
                tally.unexpected += 1;
                if tally.first_unexpected.is_none() {
                    tally.first_unexpected = Some(format!(
                        "{} {} -> {status}: {}",
                        p.method,
                        p.path,
                        String::from_utf8_lossy(&body[..body.len().min(400)])
                    ));
                }
            }
            tally.latencies_us.push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32);
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let authority = o
        .url
        .strip_prefix("http://")
        .unwrap_or_else(|| {
            eprintln!("only http:// URLs are supported");
            std::process::exit(2)
        })
        .to_owned();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(80)),
        None => (authority.clone(), 80),
    };
    let now = o
        .issued_at
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs());
    let mut tokens = Vec::with_capacity(o.tenants as usize + 1);
    tokens.push(String::new());
    for t in 1..=o.tenants {
        tokens.push(mint(&o, t, now));
    }
    let advisor = (0..o.subs).map(|_| AtomicU8::new(u8::MAX)).collect();
    let threads = o.threads;
    let shared = Arc::new(Shared {
        o,
        tokens,
        advisor,
        authority,
        host,
        port,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("runtime");
    let o = &shared.o;
    let (tallies, measured) = runtime.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let measure_from = start + if o.requests.is_some() { Duration::ZERO } else { o.warmup };
        let mut handles = Vec::new();
        for id in 0..o.connections {
            let quota = o.requests.map(|n| {
                let c = o.connections as u64;
                n / c + u64::from((id as u64) < n % c)
            });
            handles.push(tokio::spawn(connection(shared.clone(), id, quota, measure_from, stop.clone())));
        }
        if o.requests.is_none() {
            tokio::time::sleep_until((measure_from + o.duration).into()).await;
            stop.store(true, Ordering::Relaxed);
        }
        let mut tallies = Vec::new();
        for h in handles {
            tallies.push(h.await.expect("connection task"));
        }
        let measured = if o.requests.is_some() {
            start.elapsed()
        } else {
            o.duration
        };
        (tallies, measured)
    });
    let mut latencies = Vec::new();
    let mut statuses = std::collections::BTreeMap::new();
    let (mut unexpected, mut io_errors, mut total, mut first) = (0, 0, 0, None);
    for t in tallies {
        latencies.extend(t.latencies_us);
        for (k, v) in t.statuses {
            *statuses.entry(k).or_insert(0u64) += v;
        }
        unexpected += t.unexpected;
        io_errors += t.io_errors;
        total += t.total;
        first = first.or(t.first_unexpected);
    }
    latencies.sort_unstable();
    let n = latencies.len();
    let secs = measured.as_secs_f64();
    let mean = if n == 0 {
        0.0
    } else {
        latencies.iter().map(|&l| f64::from(l)).sum::<f64>() / n as f64 / 1000.0
    };
    if let Some(first) = &first {
        eprintln!("first unexpected answer: {first}");
    }
    let result = serde_json::json!({
        "scenario": format!("{:?}", o.scenario),
        "connections": o.connections,
        "seconds": (secs * 1000.0).round() / 1000.0,
        "requests": n,
        "rps": ((n as f64 / secs) * 10.0).round() / 10.0,
        "mean_ms": (mean * 1000.0).round() / 1000.0,
        "p50_ms": percentile(&latencies, 50.0),
        "p90_ms": percentile(&latencies, 90.0),
        "p99_ms": percentile(&latencies, 99.0),
        "max_ms": percentile(&latencies, 100.0),
        "statuses": statuses,
        "unexpected": unexpected,
        "io_errors": io_errors,
        "total_requests": total,
    });
    println!("{result}");
    if n == 0 || unexpected * 100 > n as u64 {
        std::process::exit(1);
    }
}
