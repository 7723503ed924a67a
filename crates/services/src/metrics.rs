//! The services' metrics through the Prometheus project's client (`prometheus-client`): counters
//! by outcome and gauges of the index and the feed, in one registry that an adapter may extend
//! with its own families (the HTTP adapter adds requests, durations and connections) before the
//! services register theirs. Rendered in the OpenMetrics text format.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

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
    /// Requests with a wrong token refused because their address failed too often.
    pub auth_failures_limited: Counter,
}

/// Gauges set by the index follower.
#[derive(Debug)]
pub struct Gauges {
    pub index_indicators: Gauge,
    pub index_links: Gauge,
    pub index_bytes: Gauge,
    pub feed_position: Gauge,
}

/// The registry and the handles the services count with.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub counters: Counters,
    pub gauges: Gauges,
    pub disputes: DisputeMetrics,
    pub mules: MuleMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::with(Registry::default())
    }
}

/// A family of counters with one label, registered under `name` (the client adds `_total`),
/// and a handle on each of its `values`.
pub(crate) fn labelled<const N: usize>(
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

pub(crate) fn counter(registry: &mut Registry, name: &str, help: &str) -> Counter {
    let c = Counter::default();
    registry.register(name, help, c.clone());
    c
}

pub(crate) fn gauge(registry: &mut Registry, name: &str, help: &str) -> Gauge {
    let g = Gauge::default();
    registry.register(name, help, g.clone());
    g
}

impl Metrics {
    /// Registers the services' metrics in `registry`, beside what an adapter registered there.
    pub fn with(mut registry: Registry) -> Metrics {
        let r = &mut registry;
        let [checks_reported, checks_not_reported, checks_disputed, checks_invalid] = labelled(
            r,
            "vangnet_checks",
            "Indicators checked, by answer",
            "status",
            ["reported", "not_reported", "disputed", "invalid"],
        );
        let [reports_created, reports_existing, reports_conflict, reports_invalid] = labelled(
            r,
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
            r,
            "vangnet_public_checks",
            "Public (citizen) checks, by answer; rate_limited counts refused requests",
            "status",
            ["reported", "not_reported", "disputed", "invalid", "rate_limited"],
        );
        let [citizen_reports, citizen_reports_rejected, honeypot_hits] = labelled(
            r,
            "vangnet_citizen_reports",
            "Reports through the citizen web form, by outcome (honeypot: caught as automated, not stored)",
            "outcome",
            ["stored", "rejected", "honeypot"],
        );
        let retractions = counter(r, "vangnet_retractions", "Reports retracted");
        let feed_changes = counter(r, "vangnet_feed_changes", "Change-feed entries applied to the index");
        let [audit_written, audit_failures] = labelled(
            r,
            "vangnet_audit_entries",
            "Audit entries written by the background writer, and failed attempts",
            "result",
            ["written", "failed"],
        );
        let auth_failures_limited = counter(
            r,
            "vangnet_auth_failures_limited",
            "Requests refused with 429 because their address sent too many wrong tokens",
        );
        let gauges = Gauges {
            index_indicators: gauge(r, "vangnet_index_indicators", "Indicators held in the in-memory index"),
            index_links: gauge(r, "vangnet_index_links", "Report-indicator links held in the in-memory index"),
            index_bytes: gauge(r, "vangnet_index_heap_bytes", "Approximate heap bytes of the in-memory index"),
            feed_position: gauge(r, "vangnet_feed_position", "Last change-feed position applied to the index"),
        };
        let disputes = DisputeMetrics::register(r);
        let mules = MuleMetrics::register(r);
        Metrics {
            disputes,
            mules,
            registry,
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
                auth_failures_limited,
            },
            gauges,
        }
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Counters of the mule engine (handles on the registry's families: clones count together).
#[derive(Debug, Clone)]
pub struct MuleMetrics {
    pub observed: Counter,
    pub repeats: Counter,
    pub conflicts: Counter,
    pub dropped: Counter,
    /// Flags stored, per pattern in `Pattern::ALL` order.
    pub flags: [Counter; 8],
    /// Accounts in the detectors' window.
    pub accounts: Gauge,
}

impl MuleMetrics {
    pub(crate) fn register(r: &mut Registry) -> MuleMetrics {
        let [observed, repeats, conflicts, dropped] = labelled(
            r,
            "vangnet_mule_transactions",
            "Transactions taken into the mule detectors, repeats and conflicts of earlier ids, and payments dropped when the queue was full",
            "outcome",
            ["observed", "repeat", "conflict", "dropped"],
        );
        MuleMetrics {
            observed,
            repeats,
            conflicts,
            dropped,
            flags: labelled(
                r,
                "vangnet_mule_flags",
                "Mule patterns flagged on this node, by pattern",
                "pattern",
                vangnet_core::mules::Pattern::ALL.map(vangnet_core::mules::Pattern::as_str),
            ),
            accounts: gauge(r, "vangnet_mule_window_accounts", "Accounts in the mule detectors' window"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openmetrics_text() {
        let m = Metrics::default();
        m.counters.checks_reported.inc_by(2);
        m.gauges.feed_position.set(7);
        let text = m.render();
        assert!(text.contains("vangnet_checks_total{status=\"reported\"} 2"), "{text}");
        assert!(text.contains("vangnet_checks_total{status=\"invalid\"} 0"), "{text}");
        assert!(text.contains("vangnet_feed_position 7"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}

/// The disputes' metrics.
#[derive(Debug)]
pub struct DisputeMetrics {
    pub opened: Counter,
    pub upheld: Counter,
    pub rejected: Counter,
    pub withdrawn: Counter,
    /// Objections received through the public form.
    pub requests: Counter,
    pub open: Gauge,
    pub overdue: Gauge,
    pub due_soon: Gauge,
}

impl DisputeMetrics {
    pub(crate) fn register(r: &mut Registry) -> DisputeMetrics {
        let [opened, upheld, rejected, withdrawn] = labelled(
            r,
            "vangnet_dispute_moves",
            "Disputes opened, and decided or withdrawn, on this node",
            "move",
            ["opened", "upheld", "rejected", "withdrawn"],
        );
        DisputeMetrics {
            requests: counter(r, "vangnet_dispute_requests", "Objections received through the public form"),
            opened,
            upheld,
            rejected,
            withdrawn,
            open: gauge(r, "vangnet_disputes_open", "Open disputes (all nodes)"),
            overdue: gauge(r, "vangnet_disputes_overdue", "Open disputes past their decision date"),
            due_soon: gauge(r, "vangnet_disputes_due_soon", "Open disputes whose reminder is due"),
        }
    }
}
