//! Prometheus metrics through the Prometheus project's client (`prometheus-client`), served in
//! the OpenMetrics text format on `GET /metrics`. Routes are labelled by their template
//! (`/api/v1/indicators/{kind}/{value}`), never by the actual path, which could contain an
//! indicator value.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Status codes counted separately, with their label; others are counted as their class
/// (`4xx`, `5xx`).
const STATUSES: [(u16, &str); 15] = [
    (200, "200"),
    (201, "201"),
    (204, "204"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (409, "409"),
    (413, "413"),
    (415, "415"),
    (422, "422"),
    (429, "429"),
    (500, "500"),
    (503, "503"),
];

/// The labels of an answered request.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: &'static str,
}

/// The labels of a request's duration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

type Labelled = Family<[(&'static str, &'static str); 1], Counter>;

/// Counters by outcome. Each is a handle on its series in the registry: incrementing it is one
/// atomic add.
#[derive(Debug)]
pub struct Counters {
    pub checks_reported: Counter,
    pub checks_not_reported: Counter,
    pub checks_disputed: Counter,
    pub checks_invalid: Counter,
    pub reports_created: Counter,
    pub reports_existing: Counter,
    pub reports_conflict: Counter,
    pub reports_invalid: Counter,
    pub retractions: Counter,
    pub feed_changes: Counter,
    pub audit_written: Counter,
    pub audit_failures: Counter,
    pub public_checks_reported: Counter,
    pub public_checks_not_reported: Counter,
    pub public_checks_disputed: Counter,
    pub public_checks_invalid: Counter,
    pub public_rate_limited: Counter,
    pub citizen_reports: Counter,
    pub citizen_reports_rejected: Counter,
    pub honeypot_hits: Counter,
    /// Connections closed at once because the server holds `limits.max_connections`.
    pub connections_refused_total: Counter,
    /// Connections closed at once because their address holds `max_connections_per_address`.
    pub connections_refused_address: Counter,
    /// Requests with a wrong token refused because their address failed too often.
    pub auth_failures_limited: Counter,
}

/// Gauges set by the index follower and the accept loop.
#[derive(Debug)]
pub struct Gauges {
    pub index_indicators: Gauge,
    pub index_links: Gauge,
    pub index_bytes: Gauge,
    pub feed_position: Gauge,
    /// Open client connections (all listeners).
    pub connections_open: Gauge,
}

/// The registry and the handles the server counts with.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    pub counters: Counters,
    pub gauges: Gauges,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// A family of counters with one label, registered under `name` (the client adds `_total`),
/// and a handle on each of its `values`.
fn labelled<const N: usize>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    label: &'static str,
    values: [&'static str; N],
) -> [Counter; N] {
    let family = Labelled::default();
    registry.register(name, help, family.clone());
    values.map(|v| family.get_or_create_owned(&[(label, v)]))
}

fn counter(registry: &mut Registry, name: &str, help: &str) -> Counter {
    let c = Counter::default();
    registry.register(name, help, c.clone());
    c
}

fn gauge(registry: &mut Registry, name: &str, help: &str) -> Gauge {
    let g = Gauge::default();
    registry.register(name, help, g.clone());
    g
}

fn duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut r = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        r.register(
            "vangnet_http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> = Family::new_with_constructor(duration_histogram);
        r.register(
            "vangnet_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template",
            durations.clone(),
        );
        let [checks_reported, checks_not_reported, checks_disputed, checks_invalid] = labelled(
            &mut r,
            "vangnet_checks",
            "Indicators checked, by answer",
            "status",
            ["reported", "not_reported", "disputed", "invalid"],
        );
        let [reports_created, reports_existing, reports_conflict, reports_invalid] = labelled(
            &mut r,
            "vangnet_reports",
            "Reports submitted, by outcome",
            "outcome",
            ["created", "existing", "conflict", "invalid"],
        );
        let [
            public_checks_reported,
            public_checks_not_reported,
            public_checks_disputed,
            public_checks_invalid,
            public_rate_limited,
        ] = labelled(
            &mut r,
            "vangnet_public_checks",
            "Public (citizen) checks, by answer; rate_limited counts refused requests",
            "status",
            ["reported", "not_reported", "disputed", "invalid", "rate_limited"],
        );
        let [citizen_reports, citizen_reports_rejected, honeypot_hits] = labelled(
            &mut r,
            "vangnet_citizen_reports",
            "Reports through the citizen web form, by outcome (honeypot: caught as automated, not stored)",
            "outcome",
            ["stored", "rejected", "honeypot"],
        );
        let retractions = counter(&mut r, "vangnet_retractions", "Reports retracted");
        let feed_changes = counter(&mut r, "vangnet_feed_changes", "Change-feed entries applied to the index");
        let [audit_written, audit_failures] = labelled(
            &mut r,
            "vangnet_audit_entries",
            "Audit entries written by the background writer, and failed attempts",
            "result",
            ["written", "failed"],
        );
        let [connections_refused_total, connections_refused_address] = labelled(
            &mut r,
            "vangnet_connections_refused",
            "Connections closed at once, by the limit they hit",
            "limit",
            ["total", "per_address"],
        );
        let auth_failures_limited = counter(
            &mut r,
            "vangnet_auth_failures_limited",
            "Requests refused with 429 because their address sent too many wrong tokens",
        );
        let gauges = Gauges {
            connections_open: gauge(&mut r, "vangnet_connections_open", "Client connections open now"),
            index_indicators: gauge(&mut r, "vangnet_index_indicators", "Indicators held in the in-memory index"),
            index_links: gauge(&mut r, "vangnet_index_links", "Report-indicator links held in the in-memory index"),
            index_bytes: gauge(&mut r, "vangnet_index_heap_bytes", "Approximate heap bytes of the in-memory index"),
            feed_position: gauge(&mut r, "vangnet_feed_position", "Last change-feed position applied to the index"),
        };
        Metrics {
            registry: r,
            requests,
            durations,
            counters: Counters {
                checks_reported,
                checks_not_reported,
                checks_disputed,
                checks_invalid,
                reports_created,
                reports_existing,
                reports_conflict,
                reports_invalid,
                retractions,
                feed_changes,
                audit_written,
                audit_failures,
                public_checks_reported,
                public_checks_not_reported,
                public_checks_disputed,
                public_checks_invalid,
                public_rate_limited,
                citizen_reports,
                citizen_reports_rejected,
                honeypot_hits,
                connections_refused_total,
                connections_refused_address,
                auth_failures_limited,
            },
            gauges,
        }
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let status = match STATUSES.iter().find(|(code, _)| *code == status) {
            Some((_, label)) => *label,
            None if (400..500).contains(&status) => "4xx",
            None if status >= 500 => "5xx",
            None => "other",
        };
        // One copy of the method and route serves both families: the histogram is looked up
        // with the labels, which then move into the counter's.
        let labels = RouteLabels {
            method: method.to_owned(),
            route: route.to_owned(),
        };
        self.durations.get_or_create(&labels).observe(elapsed.as_secs_f64());
        let RouteLabels { method, route } = labels;
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Middleware: counts and times every request, and logs it by route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed);
    if status >= 500 {
        tracing::warn!(method, route, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request failed");
    } else {
        tracing::debug!(method, route, status, latency_ms = elapsed.as_secs_f64() * 1e3, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.observe("POST", "/api/v1/checks", 200, Duration::from_micros(300));
        m.observe("POST", "/api/v1/checks", 200, Duration::from_millis(3));
        m.observe("POST", "/api/v1/checks", 418, Duration::from_millis(3));
        m.counters.checks_reported.inc_by(2);
        let text = m.render();
        assert!(
            text.contains("vangnet_http_requests_total{method=\"POST\",route=\"/api/v1/checks\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("status=\"4xx\"} 1"));
        assert!(
            text.contains("vangnet_http_request_duration_seconds_bucket{le=\"0.0005\",method=\"POST\",route=\"/api/v1/checks\"} 1"),
            "{text}"
        );
        assert!(text.contains("vangnet_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/checks\"} 3"));
        assert!(text.contains("vangnet_checks_total{status=\"reported\"} 2"));
    }
}
