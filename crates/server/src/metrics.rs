//! The HTTP adapter's metrics: requests by method, route template and status, their durations,
//! and the connections. Registered in the same `prometheus-client` registry as the services'
//! metrics and served with them in the OpenMetrics text format on `GET /metrics`. Routes are
//! labelled by their template (`/api/v1/indicators/{kind}/{value}`), never by the actual path,
//! which could contain an indicator value.

use std::sync::Arc;
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

/// The HTTP families and handles.
#[derive(Debug)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Connections closed at once because the server holds `limits.max_connections`.
    pub connections_refused_total: Counter,
    /// Connections closed at once because their address holds `max_connections_per_address`.
    pub connections_refused_address: Counter,
    /// Open client connections (all listeners).
    pub connections_open: Gauge,
}

fn duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

impl HttpMetrics {
    /// Registers the HTTP families in `registry`.
    pub fn register(registry: &mut Registry) -> HttpMetrics {
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "vangnet_http_requests",
            "HTTP requests answered, by method, route template and status",
            requests.clone(),
        );
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> = Family::new_with_constructor(duration_histogram);
        registry.register(
            "vangnet_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template",
            durations.clone(),
        );
        let refused = Family::<[(&'static str, &'static str); 1], Counter>::default();
        registry.register(
            "vangnet_connections_refused",
            "Connections closed at once, by the limit they hit",
            refused.clone(),
        );
        let connections_open = Gauge::default();
        registry.register("vangnet_connections_open", "Client connections open now", connections_open.clone());
        HttpMetrics {
            requests,
            durations,
            connections_refused_total: refused.get_or_create_owned(&[("limit", "total")]),
            connections_refused_address: refused.get_or_create_owned(&[("limit", "per_address")]),
            connections_open,
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
}

/// Middleware: counts and times every request, and logs it by route template.
pub async fn track(State(metrics): State<Arc<HttpMetrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.observe(&method, &route, status, elapsed);
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
    use vangnet_services::Metrics;

    #[test]
    fn renders_prometheus_text() {
        let mut registry = Registry::default();
        let m = HttpMetrics::register(&mut registry);
        let services = Metrics::with(registry);
        m.observe("POST", "/api/v1/checks", 200, Duration::from_micros(300));
        m.observe("POST", "/api/v1/checks", 200, Duration::from_millis(3));
        m.observe("POST", "/api/v1/checks", 418, Duration::from_millis(3));
        services.counters.checks_reported.inc_by(2);
        let text = services.render();
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
