//! Request and cache metrics in the Prometheus text exposition format (version 0.0.4).
//!
//! Recording is lock-free on the hot path apart from a read lock on the route table: each route
//! template gets its own block of atomic counters the first time it is seen. Routes are labelled
//! by their template (`/v1/countries/{code}`), never by the raw path, so label cardinality is
//! bounded by the router; requests that matched no route share the `unmatched` label.
//!
//! Wiring: add [`track_requests`] with `Router::layer` (it needs the `MatchedPath` the router
//! inserts) and expose [`Metrics::render`], e.g. by merging [`metrics_router`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, Method};

use crate::caching::ResponseCache;

/// Content type of the exposition format produced by [`Metrics::render`].
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency histogram buckets, in seconds. Finer than Prometheus' defaults
/// at the low end because cache hits take tens of microseconds.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Route label of requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::PATCH => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

fn status_class_index(status: u16) -> usize {
    usize::from(status / 100).clamp(1, 5) - 1
}

/// A cumulative-on-render histogram of durations.
#[derive(Debug, Default)]
struct Histogram {
    /// Per-bucket (non-cumulative) counts; the last slot is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let slot = LATENCY_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[slot].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct RouteMetrics {
    requests: [[AtomicU64; STATUS_CLASSES.len()]; METHODS.len()],
    latency: Histogram,
}

/// Process-wide metrics registry; share it as `Arc<Metrics>`.
#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    in_flight: AtomicI64,
    routes: RwLock<HashMap<Arc<str>, Arc<RouteMetrics>>>,
    response_cache: OnceLock<ResponseCache>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicI64::new(0),
            routes: RwLock::new(HashMap::new()),
            response_cache: OnceLock::new(),
        }
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Reports the figures of `cache` in [`Metrics::render`]. Only the first cache registered
    /// is reported; [`crate::caching::CacheLayer::new`] calls this.
    pub fn observe_response_cache(&self, cache: ResponseCache) {
        // A second registration is ignored: one registry describes one service's cache.
        let _ = self.response_cache.set(cache);
    }

    fn route(&self, route: &str) -> Arc<RouteMetrics> {
        if let Ok(routes) = self.routes.read() {
            if let Some(found) = routes.get(route) {
                return Arc::clone(found);
            }
        }
        let mut routes = match self.routes.write() {
            Ok(routes) => routes,
            Err(poisoned) => poisoned.into_inner(),
        };
        Arc::clone(routes.entry(Arc::from(route)).or_default())
    }

    /// Records one finished request.
    pub fn record_request(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        let metrics = self.route(route);
        metrics.requests[method_index(method)][status_class_index(status)]
            .fetch_add(1, Ordering::Relaxed);
        metrics.latency.observe(elapsed);
    }

    /// Number of requests recorded for a route template, method and status class (`"2xx"`).
    pub fn request_count(&self, route: &str, method: &Method, status_class: &str) -> u64 {
        let Some(class) = STATUS_CLASSES.iter().position(|c| *c == status_class) else {
            return 0;
        };
        let routes = match self.routes.read() {
            Ok(routes) => routes,
            Err(poisoned) => poisoned.into_inner(),
        };
        routes.get(route).map_or(0, |metrics| {
            metrics.requests[method_index(method)][class].load(Ordering::Relaxed)
        })
    }

    /// Renders every metric in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let mut routes: Vec<(Arc<str>, Arc<RouteMetrics>)> = {
            let routes = match self.routes.read() {
                Ok(routes) => routes,
                Err(poisoned) => poisoned.into_inner(),
            };
            routes
                .iter()
                .map(|(name, metrics)| (Arc::clone(name), Arc::clone(metrics)))
                .collect()
        };
        routes.sort_by(|a, b| a.0.cmp(&b.0));

        out.push_str("# HELP refdata_http_requests_total HTTP requests by route template, method and status class.\n");
        out.push_str("# TYPE refdata_http_requests_total counter\n");
        for (route, metrics) in &routes {
            let route = escape_label(route);
            for (m, method) in METHODS.iter().enumerate() {
                for (c, class) in STATUS_CLASSES.iter().enumerate() {
                    let count = metrics.requests[m][c].load(Ordering::Relaxed);
                    if count > 0 {
                        let _ = writeln!(
                            out,
                            "refdata_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{class}\"}} {count}"
                        );
                    }
                }
            }
        }

        out.push_str("# HELP refdata_http_request_duration_seconds Time until the response head was ready, by route template.\n");
        out.push_str("# TYPE refdata_http_request_duration_seconds histogram\n");
        for (route, metrics) in &routes {
            let route = escape_label(route);
            let histogram = &metrics.latency;
            let mut cumulative = 0;
            for (slot, bound) in LATENCY_BUCKETS.iter().enumerate() {
                cumulative += histogram.buckets[slot].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "refdata_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            cumulative += histogram.buckets[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "refdata_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}"
            );
            let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "refdata_http_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
            );
            // Count equals the +Inf bucket by construction; use the same snapshot.
            let _ = writeln!(
                out,
                "refdata_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}"
            );
        }

        if let Some(cache) = self.response_cache.get() {
            let stats = cache.stats();
            let counters = [
                (
                    "hits",
                    "Requests answered from the response cache.",
                    stats.hits,
                ),
                (
                    "misses",
                    "Requests that rendered a response through the handlers.",
                    stats.misses,
                ),
                (
                    "evictions",
                    "Entries evicted to stay within the byte bound.",
                    stats.evictions,
                ),
                (
                    "uncacheable",
                    "GET/HEAD responses that could not be cached.",
                    stats.uncacheable,
                ),
            ];
            for (name, help, value) in counters {
                let _ = writeln!(out, "# HELP refdata_response_cache_{name}_total {help}");
                let _ = writeln!(out, "# TYPE refdata_response_cache_{name}_total counter");
                let _ = writeln!(out, "refdata_response_cache_{name}_total {value}");
            }
            let gauges = [
                (
                    "bytes",
                    "Weighted size of the response cache in bytes.",
                    stats.weighted_bytes,
                ),
                (
                    "max_bytes",
                    "Configured bound of the response cache in bytes.",
                    stats.max_bytes,
                ),
                ("entries", "Entries in the response cache.", stats.entries),
            ];
            for (name, help, value) in gauges {
                let _ = writeln!(out, "# HELP refdata_response_cache_{name} {help}");
                let _ = writeln!(out, "# TYPE refdata_response_cache_{name} gauge");
                let _ = writeln!(out, "refdata_response_cache_{name} {value}");
            }
        }

        out.push_str(
            "# HELP refdata_uptime_seconds Seconds since the metrics registry was created.\n",
        );
        out.push_str("# TYPE refdata_uptime_seconds gauge\n");
        let _ = writeln!(
            out,
            "refdata_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
        if let Some(rss) = resident_memory_bytes() {
            out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n");
            out.push_str("# TYPE process_resident_memory_bytes gauge\n");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `VmRSS` from `/proc/self/status`; `None` where procfs is absent.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Counts a request as in flight until dropped, also when the client goes away mid-request.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn enter(metrics: &'a Metrics) -> Self {
        metrics.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(metrics)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Middleware recording every request's route template, method, status class and latency.
///
/// Add it with `Router::layer(axum::middleware::from_fn_with_state(metrics, track_requests))`
/// so it sees the `MatchedPath` the router sets; add it last so it is the outermost layer and
/// also times cache hits.
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let _in_flight = InFlight::enter(&metrics);
    let method = request.method().clone();
    // Cloning a MatchedPath is a reference-count increment.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.record_request(
        route.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str),
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A router serving `GET /metrics`, to merge into the service's router.
pub fn metrics_router<S>(metrics: Arc<Metrics>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new().route(
        "/metrics",
        get(move || {
            let metrics = Arc::clone(&metrics);
            async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
                    )],
                    metrics.render(),
                )
                    .into_response()
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_route_method_and_status_class() {
        let metrics = Metrics::new();
        metrics.record_request(
            "/v1/countries/{code}",
            &Method::GET,
            200,
            Duration::from_micros(40),
        );
        metrics.record_request(
            "/v1/countries/{code}",
            &Method::GET,
            304,
            Duration::from_micros(20),
        );
        metrics.record_request(
            "/v1/countries/{code}",
            &Method::GET,
            404,
            Duration::from_millis(3),
        );
        metrics.record_request(
            "/v1/countries/{code}",
            &Method::GET,
            200,
            Duration::from_secs(20),
        );
        assert_eq!(
            metrics.request_count("/v1/countries/{code}", &Method::GET, "2xx"),
            2
        );
        assert_eq!(
            metrics.request_count("/v1/countries/{code}", &Method::GET, "4xx"),
            1
        );
        assert_eq!(
            metrics.request_count("/v1/countries/{code}", &Method::HEAD, "2xx"),
            0
        );

        let text = metrics.render();
        assert!(text.contains(
            "refdata_http_requests_total{route=\"/v1/countries/{code}\",method=\"GET\",status=\"2xx\"} 2\n"
        ));
        assert!(text.contains(
            "refdata_http_requests_total{route=\"/v1/countries/{code}\",method=\"GET\",status=\"3xx\"} 1\n"
        ));
        assert!(text.contains(
            "refdata_http_request_duration_seconds_bucket{route=\"/v1/countries/{code}\",le=\"0.0001\"} 2\n"
        ));
        assert!(text.contains(
            "refdata_http_request_duration_seconds_bucket{route=\"/v1/countries/{code}\",le=\"0.005\"} 3\n"
        ));
        assert!(text.contains(
            "refdata_http_request_duration_seconds_bucket{route=\"/v1/countries/{code}\",le=\"10\"} 3\n"
        ));
        assert!(text.contains(
            "refdata_http_request_duration_seconds_bucket{route=\"/v1/countries/{code}\",le=\"+Inf\"} 4\n"
        ));
        assert!(text.contains(
            "refdata_http_request_duration_seconds_count{route=\"/v1/countries/{code}\"} 4\n"
        ));
    }

    #[test]
    fn every_sample_line_is_well_formed() {
        let metrics = Metrics::new();
        metrics.record_request(
            "/a\"b\\c\nd",
            &Method::from_bytes(b"PURGE").expect("valid method"),
            999,
            Duration::ZERO,
        );
        let text = metrics.render();
        assert!(text.contains("route=\"/a\\\"b\\\\c\\nd\",method=\"OTHER\",status=\"5xx\""));
        for line in text.lines() {
            if line.starts_with('#') {
                let mut words = line.split(' ');
                assert!(matches!(words.nth(1), Some("HELP" | "TYPE")), "{line}");
                continue;
            }
            let (_, value) = line.rsplit_once(' ').expect("sample has a value");
            assert!(value.parse::<f64>().is_ok(), "bad value in {line}");
        }
    }
}
