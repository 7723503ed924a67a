//! Prometheus metrics, kept in atomics and rendered in the text exposition format on
//! `GET /metrics`. Routes are labelled by their template (`/api/v1/indicators/{kind}/{value}`),
//! never by the actual path, which could contain an indicator value.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Upper bounds of the latency histogram buckets, in seconds.
const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Status codes counted separately; others are counted as their class (`4xx`, `5xx`).
const STATUSES: [u16; 15] = [200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503];

#[derive(Debug, Default)]
struct RouteStats {
    statuses: [AtomicU64; STATUSES.len()],
    other_4xx: AtomicU64,
    other_5xx: AtomicU64,
    other: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Counters by outcome.
#[derive(Debug, Default)]
pub struct Counters {
    pub checks_reported: AtomicU64,
    pub checks_not_reported: AtomicU64,
    pub checks_disputed: AtomicU64,
    pub checks_invalid: AtomicU64,
    pub reports_created: AtomicU64,
    pub reports_existing: AtomicU64,
    pub reports_conflict: AtomicU64,
    pub reports_invalid: AtomicU64,
    pub retractions: AtomicU64,
    pub feed_changes: AtomicU64,
    pub audit_written: AtomicU64,
    pub audit_failures: AtomicU64,
    pub public_checks_reported: AtomicU64,
    pub public_checks_not_reported: AtomicU64,
    pub public_checks_disputed: AtomicU64,
    pub public_checks_invalid: AtomicU64,
    pub public_rate_limited: AtomicU64,
    pub citizen_reports: AtomicU64,
    pub citizen_reports_rejected: AtomicU64,
    pub honeypot_hits: AtomicU64,
    /// Connections closed at once because the server holds `limits.max_connections`.
    pub connections_refused_total: AtomicU64,
    /// Connections closed at once because their address holds `max_connections_per_address`.
    pub connections_refused_address: AtomicU64,
    /// Requests with a wrong token refused because their address failed too often.
    pub auth_failures_limited: AtomicU64,
}

/// Gauges set by the index follower.
#[derive(Debug, Default)]
pub struct Gauges {
    pub index_indicators: AtomicU64,
    pub index_links: AtomicU64,
    pub index_bytes: AtomicU64,
    pub feed_position: AtomicU64,
    /// Open client connections (all listeners).
    pub connections_open: AtomicU64,
}

#[derive(Debug, Default)]
pub struct Metrics {
    routes: RwLock<BTreeMap<(String, String), Arc<RouteStats>>>,
    pub counters: Counters,
    pub gauges: Gauges,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    fn route(&self, method: &str, route: &str) -> Arc<RouteStats> {
        let key = (method.to_owned(), route.to_owned());
        if let Some(stats) = self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
            return Arc::clone(stats);
        }
        let mut routes = self.routes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(routes.entry(key).or_default())
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let stats = self.route(method, route);
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => add(&stats.statuses[i], 1),
            None if (400..500).contains(&status) => add(&stats.other_4xx, 1),
            None if status >= 500 => add(&stats.other_5xx, 1),
            None => add(&stats.other, 1),
        }
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            add(&stats.buckets[i], 1);
        }
        add(&stats.count, 1);
        add(&stats.sum_micros, u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let routes = self.routes.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        out.push_str("# HELP vangnet_http_requests_total HTTP requests answered, by method, route template and status.\n");
        out.push_str("# TYPE vangnet_http_requests_total counter\n");
        for ((method, route), stats) in routes.iter() {
            let mut line = |status: &str, n: u64| {
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "vangnet_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                    );
                }
            };
            for (i, status) in STATUSES.iter().enumerate() {
                line(&status.to_string(), load(&stats.statuses[i]));
            }
            line("4xx", load(&stats.other_4xx));
            line("5xx", load(&stats.other_5xx));
            line("other", load(&stats.other));
        }
        out.push_str("# HELP vangnet_http_request_duration_seconds Time to answer HTTP requests, by method and route template.\n");
        out.push_str("# TYPE vangnet_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in routes.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += load(&stats.buckets[i]);
                let _ = writeln!(
                    out,
                    "vangnet_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = load(&stats.count);
            let _ = writeln!(out, "vangnet_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(
                out,
                "vangnet_http_request_duration_seconds_sum{{{labels}}} {}",
                load(&stats.sum_micros) as f64 / 1e6
            );
            let _ = writeln!(out, "vangnet_http_request_duration_seconds_count{{{labels}}} {count}");
        }
        drop(routes);
        let c = &self.counters;
        let mut family = |name: &str, help: &str, kind: &str, values: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in values {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        };
        family(
            "vangnet_checks_total",
            "Indicators checked, by answer.",
            "counter",
            &[
                ("status=\"reported\"", load(&c.checks_reported)),
                ("status=\"not_reported\"", load(&c.checks_not_reported)),
                ("status=\"disputed\"", load(&c.checks_disputed)),
                ("status=\"invalid\"", load(&c.checks_invalid)),
            ],
        );
        family(
            "vangnet_reports_total",
            "Reports submitted, by outcome.",
            "counter",
            &[
                ("outcome=\"created\"", load(&c.reports_created)),
                ("outcome=\"existing\"", load(&c.reports_existing)),
                ("outcome=\"conflict\"", load(&c.reports_conflict)),
                ("outcome=\"invalid\"", load(&c.reports_invalid)),
            ],
        );
        family(
            "vangnet_public_checks_total",
            "Public (citizen) checks, by answer; rate_limited counts refused requests.",
            "counter",
            &[
                ("status=\"reported\"", load(&c.public_checks_reported)),
                ("status=\"not_reported\"", load(&c.public_checks_not_reported)),
                ("status=\"disputed\"", load(&c.public_checks_disputed)),
                ("status=\"invalid\"", load(&c.public_checks_invalid)),
                ("status=\"rate_limited\"", load(&c.public_rate_limited)),
            ],
        );
        family(
            "vangnet_citizen_reports_total",
            "Reports through the citizen web form, by outcome (honeypot: caught as automated, not stored).",
            "counter",
            &[
                ("outcome=\"stored\"", load(&c.citizen_reports)),
                ("outcome=\"rejected\"", load(&c.citizen_reports_rejected)),
                ("outcome=\"honeypot\"", load(&c.honeypot_hits)),
            ],
        );
        family(
            "vangnet_retractions_total",
            "Reports retracted.",
            "counter",
            &[("", load(&c.retractions))],
        );
        family(
            "vangnet_feed_changes_total",
            "Change-feed entries applied to the index.",
            "counter",
            &[("", load(&c.feed_changes))],
        );
        family(
            "vangnet_audit_entries_total",
            "Audit entries written by the background writer, and failed attempts.",
            "counter",
            &[
                ("result=\"written\"", load(&c.audit_written)),
                ("result=\"failed\"", load(&c.audit_failures)),
            ],
        );
        family(
            "vangnet_connections_refused_total",
            "Connections closed at once, by the limit they hit.",
            "counter",
            &[
                ("limit=\"total\"", load(&c.connections_refused_total)),
                ("limit=\"per_address\"", load(&c.connections_refused_address)),
            ],
        );
        family(
            "vangnet_auth_failures_limited_total",
            "Requests refused with 429 because their address sent too many wrong tokens.",
            "counter",
            &[("", load(&c.auth_failures_limited))],
        );
        let g = &self.gauges;
        family(
            "vangnet_connections_open",
            "Client connections open now.",
            "gauge",
            &[("", load(&g.connections_open))],
        );
        family(
            "vangnet_index_indicators",
            "Indicators held in the in-memory index.",
            "gauge",
            &[("", load(&g.index_indicators))],
        );
        family(
            "vangnet_index_links",
            "Report-indicator links held in the in-memory index.",
            "gauge",
            &[("", load(&g.index_links))],
        );
        family(
            "vangnet_index_heap_bytes",
            "Approximate heap bytes of the in-memory index.",
            "gauge",
            &[("", load(&g.index_bytes))],
        );
        family(
            "vangnet_feed_position",
            "Last change-feed position applied to the index.",
            "gauge",
            &[("", load(&g.feed_position))],
        );
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
        m.counters.checks_reported.fetch_add(2, Ordering::Relaxed);
        let text = m.render();
        assert!(
            text.contains("vangnet_http_requests_total{method=\"POST\",route=\"/api/v1/checks\",status=\"200\"} 2"),
            "{text}"
        );
        assert!(text.contains("status=\"4xx\"} 1"));
        assert!(text.contains("vangnet_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/checks\",le=\"0.0005\"} 1"));
        assert!(text.contains("vangnet_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/checks\"} 3"));
        assert!(text.contains("vangnet_checks_total{status=\"reported\"} 2"));
    }
}
