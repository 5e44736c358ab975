//! Prometheus metrics, written in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Everything counted for one method and route template.
#[derive(Default)]
struct RouteSeries {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
    statements: StatementCount,
}

/// SQL statements sent by the requests of one route.
#[derive(Default)]
struct StatementCount {
    total: u64,
    max: u32,
}

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counts by route template and status, and latency by route template.
#[derive(Default)]
pub struct Metrics {
    /// By method, then route template: a request of a known route allocates nothing.
    series: Mutex<BTreeMap<String, BTreeMap<String, RouteSeries>>>,
}

/// The entry for `key`, inserted (its key allocated) only the first time.
fn slot<'a, V: Default>(map: &'a mut BTreeMap<String, V>, key: &str) -> &'a mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Metrics {
    pub fn observe(
        &self,
        method: &str,
        route: &str,
        status: u16,
        elapsed: Duration,
        statements: u32,
    ) {
        let Ok(mut series) = self.series.lock() else {
            return;
        };
        let route = slot(slot(&mut series, method), route);
        *route.statuses.entry(status).or_default() += 1;
        let histogram = &mut route.latency;
        let seconds = elapsed.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
        let most = &mut route.statements;
        most.total += u64::from(statements);
        most.max = most.max.max(statements);
    }

    /// The exposition text, with the pool's gauges (`open`, `idle`, `waiting`, `max`).
    pub fn render(&self, pool: (u32, u32, i64), pool_max: u32) -> String {
        let mut out = String::new();
        let (open, idle, waiting) = pool;
        let gauges = [
            (
                "partnerlink_db_pool_connections",
                "Connections open in the pool.",
                open as i64,
            ),
            (
                "partnerlink_db_pool_idle",
                "Idle connections in the pool.",
                idle as i64,
            ),
            (
                "partnerlink_db_pool_waiting",
                "Requests waiting for a connection.",
                waiting,
            ),
            (
                "partnerlink_db_pool_max",
                "Largest size of the pool.",
                pool_max as i64,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let Ok(series) = self.series.lock() else {
            return out;
        };
        out.push_str(
            "# HELP partnerlink_http_requests_total HTTP requests by route template and status.\n",
        );
        out.push_str("# TYPE partnerlink_http_requests_total counter\n");
        for (method, route, one) in routes(&series) {
            for (status, n) in &one.statuses {
                let _ = writeln!(
                    out,
                    "partnerlink_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP partnerlink_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE partnerlink_http_request_duration_seconds histogram\n");
        for (method, route, one) in routes(&series) {
            let h = &one.latency;
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(
                    out,
                    "partnerlink_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "partnerlink_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 partnerlink_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 partnerlink_http_request_duration_seconds_count{{{labels}}} {}",
                h.count, h.sum, h.count
            );
        }
        out.push_str(
            "# HELP partnerlink_db_statements_total SQL statements sent, by route template.\n",
        );
        out.push_str("# TYPE partnerlink_db_statements_total counter\n");
        for (method, route, one) in routes(&series) {
            let _ = writeln!(
                out,
                "partnerlink_db_statements_total{{method=\"{method}\",route=\"{}\"}} {}",
                escape(route),
                one.statements.total
            );
        }
        out.push_str("# HELP partnerlink_db_statements_per_request_max Most SQL statements one request sent, by route template.\n");
        out.push_str("# TYPE partnerlink_db_statements_per_request_max gauge\n");
        for (method, route, one) in routes(&series) {
            let _ = writeln!(
                out,
                "partnerlink_db_statements_per_request_max{{method=\"{method}\",route=\"{}\"}} {}",
                escape(route),
                one.statements.max
            );
        }
        out
    }
}

/// Every (method, route template) counted, in order.
fn routes(
    series: &BTreeMap<String, BTreeMap<String, RouteSeries>>,
) -> impl Iterator<Item = (&str, &str, &RouteSeries)> {
    series.iter().flat_map(|(method, by_route)| {
        by_route
            .iter()
            .map(move |(route, one)| (method.as_str(), route.as_str(), one))
    })
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}
