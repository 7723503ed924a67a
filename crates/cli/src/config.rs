//! Configuration, layered: built-in defaults < TOML file < environment < command-line flags.
//!
//! Every option has a TOML key and an environment variable: `VANGNET_` followed by its path
//! in upper case with `_` between the parts (`limits.max_body_bytes` →
//! `VANGNET_LIMITS_MAX_BODY_BYTES`). `VANGNET_DB` and `VANGNET_LISTEN` are the two API.md
//! names. `vangnet.example.toml` documents every option with its default.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_server::{HttpSettings, Rate, Settings};

/// A secret that never prints.
#[derive(Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "Secret(unset)" } else { "Secret(***)" })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Database URL: a SQLite file path (`./vangnet.db`, `sqlite://…`) or `postgres://…`.
    pub db: String,
    /// Address the server listens on.
    pub listen: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter: `info`, `debug`, `vangnet_server=debug,info` …
    pub log_level: String,
    pub limits: LimitsConfig,
    pub metrics: MetricsConfig,
    pub auth: AuthConfig,
    pub index: IndexConfig,
    pub scoring: ScoringConfig,
    pub audit: AuditConfig,
    pub public: PublicConfig,
    pub console: ConsoleConfig,
    pub screening: ScreeningConfig,
    pub calls: CallsConfig,
    pub streams: StreamsConfig,
    pub pnbf: PnbfConfig,
    pub disputes: DisputesConfig,
    pub retention: RetentionConfig,
    pub mules: MulesConfig,
}

/// The money-mule detectors' thresholds (`vangnet_core::mules::Thresholds`, in hours where
/// the core counts milliseconds). The defaults are the values `vangnet mules evaluate` tuned
/// on the generator's data (BENCHMARKS.md).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MulesConfig {
    pub window_hours: u32,
    pub edges_per_account: usize,
    pub max_accounts: usize,
    pub fan_in: usize,
    pub fan_out: usize,
    pub fan_max: usize,
    #[serde(default)]
    pub fan_purity: f64,
    #[serde(default)]
    pub fan_min_amount_cents: i64,
    pub span_hours: u32,
    pub min_amount_cents: i64,
    pub pass_through_hours: u32,
    pub pass_through_share: f64,
    pub pass_through_min_cents: i64,
    pub cycle_hops: usize,
    pub cycle_hours: u32,
    pub scatter: usize,
    pub gather: usize,
    pub bipartite: usize,
    pub pair_days: u32,
    pub max_pairs: usize,
    pub search_budget: usize,
    pub min_score: f64,
    pub memory_hours: u32,
    /// The server's terms (days): transactions, for the window replay after a restart and the
    /// "payees its customers paid" rule; flags.
    #[serde(default = "default_transaction_days")]
    pub transaction_days: u32,
    #[serde(default = "default_flag_days")]
    pub flag_days: u32,
    /// The mule score (`vangnet_core::mules::ScorePolicy`): a flag's half-life in days, the
    /// share a pattern's non-central account gets, and the weight of one partner's mule report.
    #[serde(default = "default_score_half_life_days")]
    pub score_half_life_days: u32,
    #[serde(default = "default_score_member_factor")]
    pub score_member_factor: f64,
    #[serde(default = "default_score_report_weight")]
    pub score_report_weight: f64,
}

fn default_transaction_days() -> u32 {
    30
}
fn default_flag_days() -> u32 {
    90
}
fn default_score_half_life_days() -> u32 {
    14
}
fn default_score_member_factor() -> f64 {
    0.5
}
fn default_score_report_weight() -> f64 {
    0.6
}

const HOUR_MS: i64 = 3_600_000;

/// The shipped `[mules]` thresholds: what `vangnet mules evaluate` chose on the first 60% of
/// the generator's HI file of 5,000,000 transactions (seed 1), starting from the core's
/// defaults (BENCHMARKS.md 11). The rest are the core's defaults.
pub fn tuned_mule_thresholds() -> vangnet_core::mules::Thresholds {
    vangnet_core::mules::Thresholds {
        fan_in: 10,
        fan_out: 3,
        fan_max: 12,
        span_ms: 24 * HOUR_MS,
        min_amount: 5_000,
        pass_through_ms: 24 * HOUR_MS,
        pass_through_min: 100_000,
        cycle_ms: 24 * HOUR_MS,
        scatter: 2,
        gather: 4,
        bipartite: 2,
        min_score: 0.7,
        memory_ms: 0,
        ..vangnet_core::mules::Thresholds::default()
    }
}

impl MulesConfig {
    pub fn from_thresholds(t: &vangnet_core::mules::Thresholds) -> MulesConfig {
        let hours = |ms: i64| u32::try_from(ms / HOUR_MS).unwrap_or(u32::MAX);
        MulesConfig {
            window_hours: hours(t.window_ms),
            edges_per_account: t.edges_per_account,
            max_accounts: t.max_accounts,
            fan_in: t.fan_in,
            fan_out: t.fan_out,
            fan_max: t.fan_max,
            fan_purity: t.fan_purity,
            fan_min_amount_cents: t.fan_min_amount,
            span_hours: hours(t.span_ms),
            min_amount_cents: t.min_amount,
            pass_through_hours: hours(t.pass_through_ms),
            pass_through_share: t.pass_through_share,
            pass_through_min_cents: t.pass_through_min,
            cycle_hops: t.cycle_hops,
            cycle_hours: hours(t.cycle_ms),
            scatter: t.scatter,
            gather: t.gather,
            bipartite: t.bipartite,
            pair_days: u32::try_from(t.pair_ms / (24 * HOUR_MS)).unwrap_or(u32::MAX),
            max_pairs: t.max_pairs,
            search_budget: t.search_budget,
            min_score: t.min_score,
            memory_hours: hours(t.memory_ms),
            transaction_days: default_transaction_days(),
            flag_days: default_flag_days(),
            score_half_life_days: default_score_half_life_days(),
            score_member_factor: default_score_member_factor(),
            score_report_weight: default_score_report_weight(),
        }
    }

    /// The server's mule settings: the thresholds, the score and the terms.
    pub fn settings(&self) -> anyhow::Result<vangnet_services::mules::MuleSettings> {
        let day = 24 * HOUR_MS;
        anyhow::ensure!(
            (1..=3_650).contains(&self.transaction_days),
            "mules.transaction_days must be 1 to 3650"
        );
        anyhow::ensure!((1..=3_650).contains(&self.flag_days), "mules.flag_days must be 1 to 3650");
        anyhow::ensure!(
            (1..=self.flag_days).contains(&self.score_half_life_days),
            "mules.score_half_life_days must be 1 to flag_days"
        );
        let score = vangnet_core::mules::ScorePolicy {
            half_life_ms: i64::from(self.score_half_life_days) * day,
            max_age_ms: i64::from(self.flag_days) * day,
            member_factor: self.score_member_factor,
            report_weight: self.score_report_weight,
            ..vangnet_core::mules::ScorePolicy::default()
        };
        if let Some(problem) = score.problems().first() {
            anyhow::bail!("mules.score_{problem}");
        }
        Ok(vangnet_services::mules::MuleSettings {
            thresholds: self.thresholds()?,
            score,
            transaction_days: self.transaction_days,
            flag_days: self.flag_days,
        })
    }

    /// The core's thresholds; an error names the option out of its range.
    pub fn thresholds(&self) -> anyhow::Result<vangnet_core::mules::Thresholds> {
        let check = |ok: bool, name: &str, range: &str| {
            if ok {
                Ok(())
            } else {
                Err(anyhow::anyhow!("mules.{name} must be {range}"))
            }
        };
        check((1..=24 * 90).contains(&self.window_hours), "window_hours", "1 to 2160")?;
        check((1..=4_096).contains(&self.edges_per_account), "edges_per_account", "1 to 4096")?;
        check(self.max_accounts >= 16, "max_accounts", "at least 16")?;
        for (v, name) in [
            (self.fan_in, "fan_in"),
            (self.fan_out, "fan_out"),
            (self.scatter, "scatter"),
            (self.gather, "gather"),
            (self.bipartite, "bipartite"),
        ] {
            check((2..=self.fan_max).contains(&v), name, "2 to fan_max")?;
        }
        check((3..=6).contains(&self.cycle_hops), "cycle_hops", "3 to 6")?;
        check(
            (1..=self.window_hours).contains(&self.span_hours),
            "span_hours",
            "1 to window_hours",
        )?;
        check(
            (1..=self.window_hours).contains(&self.cycle_hours),
            "cycle_hours",
            "1 to window_hours",
        )?;
        check(
            self.pass_through_hours <= self.window_hours,
            "pass_through_hours",
            "at most window_hours",
        )?;
        check(
            self.min_amount_cents >= 0 && self.pass_through_min_cents >= 0 && self.fan_min_amount_cents >= 0,
            "min_amount_cents",
            "0 or more",
        )?;
        check((0.0..=1.0).contains(&self.pass_through_share), "pass_through_share", "0 to 1")?;
        check((0.0..=1.0).contains(&self.min_score), "min_score", "0 to 1")?;
        check((0.0..=1.0).contains(&self.fan_purity), "fan_purity", "0 to 1")?;
        check(self.search_budget >= 1, "search_budget", "at least 1")?;
        check((1..=3_650).contains(&self.pair_days), "pair_days", "1 to 3650")?;
        check(self.max_pairs >= 16, "max_pairs", "at least 16")?;
        Ok(vangnet_core::mules::Thresholds {
            window_ms: i64::from(self.window_hours) * HOUR_MS,
            edges_per_account: self.edges_per_account,
            max_accounts: self.max_accounts,
            fan_in: self.fan_in,
            fan_out: self.fan_out,
            fan_max: self.fan_max,
            fan_purity: self.fan_purity,
            fan_min_amount: self.fan_min_amount_cents,
            span_ms: i64::from(self.span_hours) * HOUR_MS,
            min_amount: self.min_amount_cents,
            pass_through_ms: i64::from(self.pass_through_hours) * HOUR_MS,
            pass_through_share: self.pass_through_share,
            pass_through_min: self.pass_through_min_cents,
            cycle_hops: self.cycle_hops,
            cycle_ms: i64::from(self.cycle_hours) * HOUR_MS,
            scatter: self.scatter,
            gather: self.gather,
            bipartite: self.bipartite,
            pair_ms: i64::from(self.pair_days) * 24 * HOUR_MS,
            max_pairs: self.max_pairs,
            search_budget: self.search_budget,
            min_score: self.min_score,
            memory_ms: i64::from(self.memory_hours) * HOUR_MS,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a report is kept when no shorter term applies.
    pub default_days: u32,
    /// Days after an indicator was cleared that the reports naming it are deleted.
    pub cleared_days: u32,
    /// Days a decided dispute, a decided objection and a closed clearance review are kept.
    pub decided_days: u32,
    /// Terms per fraud type: `investment = 1460`.
    pub by_fraud_type: std::collections::BTreeMap<String, u32>,
    /// Terms per source kind: `citizen = 365`.
    pub by_source: std::collections::BTreeMap<String, u32>,
    /// How often every node sweeps (seconds).
    pub interval_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DisputesConfig {
    /// Days from opening to the due decision.
    pub decision_days: u32,
    /// Days before the due date that the dispute is marked `due_soon`.
    pub remind_days_before: u32,
    /// The partner kinds that decide, comma-separated (`police,operator`).
    pub deciders: String,
    /// Other deciders for disputes about indicators reported mostly for one fraud type:
    /// `romance = "police"`.
    pub deciders_by_fraud_type: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PnbfConfig {
    pub term_days: u32,
    pub reminder_days: u32,
    pub max_payment_age_months: u32,
    pub min_reports_fake_seller: u32,
    pub naw_retention_days: u32,
    /// A file with the 32-byte NAW key in hex; made by `serve` and `demo` when missing.
    /// Empty: beside the SQLite file (`vangnet.db` → `vangnet-naw.key`), and required with
    /// PostgreSQL; `none`: no NAW can be entered or read.
    pub naw_key_file: String,
    pub tick_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StreamsConfig {
    pub url: String,
    pub prefix: String,
    pub concurrency: usize,
    pub ack_wait_secs: u64,
    pub max_deliver: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    /// The key banks and telecom providers share for subscriber references.
    pub subscriber_key: Secret,
    pub active_timeout_secs: u64,
    pub known_caller_days: u32,
    pub max_subscribers: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScreeningConfig {
    /// A payment rules file; empty for the built-in rules (`rules/payments.toml`).
    pub rules_file: String,
    pub rules_reload_secs: u64,
    pub max_state_entries: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublicConfig {
    /// Independent reports needed before the public check says `reported`.
    pub min_reports: f64,
    /// What one citizen counts towards `min_reports` (a partner report counts 1).
    pub citizen_weight: f64,
    pub check_rate_per_second: f64,
    pub check_rate_burst: u32,
    pub report_rate_per_minute: f64,
    pub report_rate_burst: u32,
    pub trust_forwarded_for: bool,
    pub secure_cookies: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    pub session_ttl_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_sessions: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub max_concurrency: usize,
    pub request_timeout_secs: u64,
    /// Requests per second per partner organisation; 0 turns the limit off.
    pub partner_rate_per_second: f64,
    pub partner_rate_burst: u32,
    /// Client connections open at once (keep it well below the process's file-descriptor limit).
    pub max_connections: usize,
    /// Client connections open at once from one address (IPv6 by /64); 0 turns it off (behind a proxy).
    pub max_connections_per_address: usize,
    /// Time for a request's header to arrive, from the connection's start or the previous answer.
    pub header_read_timeout_secs: u64,
    /// Time a connection may move no bytes at all before it is closed.
    pub idle_timeout_secs: u64,
    /// Wrong tokens per second from one client address before it is answered 429.
    pub auth_failure_rate_per_second: f64,
    pub auth_failure_rate_burst: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served without a token (HOST:PORT); empty: only on the main
    /// listener, for operators' tokens.
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub token_cache_ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexConfig {
    pub feed_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    pub half_life_days: f64,
    pub retention_days: u32,
    pub aangifte_factor: f64,
    pub weights: WeightsConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightsConfig {
    pub police: f64,
    pub helpdesk: f64,
    pub bank: f64,
    pub psp: f64,
    pub telecom: f64,
    pub marketplace: f64,
    pub victim_support: f64,
    pub operator: f64,
    /// Reports from the public web form.
    pub citizen: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Key for the pseudonyms of indicators in the audit log (at least 32 characters). When
    /// empty, one is made at first start and kept in the database.
    pub key: Secret,
    /// Check hits of one partner on one indicator within this many seconds make one entry.
    pub check_hits_window_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        let Settings { http: h, services: s } = Settings::default();
        let p = ScoringPolicy::default();
        let w = p.base_weights;
        Config {
            db: "./vangnet.db".to_owned(),
            listen: h.listen.to_string(),
            log_format: "text".to_owned(),
            log_level: "info".to_owned(),
            limits: LimitsConfig {
                max_body_bytes: h.max_body_bytes,
                max_concurrency: h.max_concurrency,
                request_timeout_secs: h.request_timeout.as_secs(),
                partner_rate_per_second: s.partner_rate.per_second,
                partner_rate_burst: s.partner_rate.burst,
                max_connections: h.connections.max_connections,
                max_connections_per_address: h.connections.max_per_address,
                header_read_timeout_secs: h.connections.header_read_timeout.as_secs(),
                idle_timeout_secs: h.connections.idle_timeout.as_secs(),
                auth_failure_rate_per_second: s.auth_failure_rate.per_second,
                auth_failure_rate_burst: s.auth_failure_rate.burst,
            },
            metrics: MetricsConfig {
                listen: h.metrics_listen.map(|a| a.to_string()).unwrap_or_default(),
            },
            auth: AuthConfig {
                token_cache_ttl_secs: s.token_cache_ttl.as_secs(),
            },
            index: IndexConfig {
                feed_interval_ms: u64::try_from(s.feed_interval.as_millis()).unwrap_or(500),
            },
            scoring: ScoringConfig {
                half_life_days: p.half_life_days,
                retention_days: p.retention_days,
                aangifte_factor: p.aangifte_factor,
                weights: WeightsConfig {
                    police: w[0],
                    helpdesk: w[1],
                    bank: w[2],
                    psp: w[3],
                    telecom: w[4],
                    marketplace: w[5],
                    victim_support: w[6],
                    operator: w[7],
                    citizen: w[8],
                },
            },
            audit: AuditConfig {
                key: Secret::default(),
                check_hits_window_secs: s.audit_hits_window.as_secs(),
            },
            public: PublicConfig {
                min_reports: s.public.threshold.min_reports,
                citizen_weight: s.public.threshold.citizen_weight,
                check_rate_per_second: s.public.check_rate.per_second,
                check_rate_burst: s.public.check_rate.burst,
                report_rate_per_minute: s.public.report_rate.per_second * 60.0,
                report_rate_burst: s.public.report_rate.burst,
                trust_forwarded_for: h.trust_forwarded_for,
                secure_cookies: h.secure_cookies,
            },
            console: ConsoleConfig {
                session_ttl_secs: s.console.session_ttl.as_secs(),
                idle_timeout_secs: s.console.idle_timeout.as_secs(),
                max_sessions: s.console.max_sessions,
            },
            streams: {
                let d = vangnet_streams::StreamSettings::default();
                StreamsConfig {
                    url: d.url,
                    prefix: d.prefix,
                    concurrency: d.concurrency,
                    ack_wait_secs: d.ack_wait.as_secs(),
                    max_deliver: d.max_deliver,
                }
            },
            calls: CallsConfig {
                subscriber_key: Secret::default(),
                active_timeout_secs: s.calls.active_timeout.as_secs(),
                known_caller_days: s.calls.known_caller_days,
                max_subscribers: s.calls.max_subscribers,
            },
            mules: MulesConfig::from_thresholds(&tuned_mule_thresholds()),
            retention: RetentionConfig {
                default_days: s.retention.default_days,
                cleared_days: s.retention.cleared_days,
                decided_days: s.retention.decided_days,
                by_fraud_type: s.retention.by_fraud_type.iter().map(|(t, d)| (t.as_str().to_owned(), *d)).collect(),
                by_source: s.retention.by_source.iter().map(|(k, d)| (k.as_str().to_owned(), *d)).collect(),
                interval_secs: s.retention_interval.as_secs(),
            },
            disputes: DisputesConfig {
                decision_days: s.disputes.decision_days,
                remind_days_before: s.disputes.remind_days_before,
                deciders: kinds_text(&s.disputes.deciders),
                deciders_by_fraud_type: s
                    .disputes
                    .deciders_by_fraud_type
                    .iter()
                    .map(|(t, k)| (t.as_str().to_owned(), kinds_text(k)))
                    .collect(),
            },
            pnbf: {
                let p = &s.pnbf.procedure;
                PnbfConfig {
                    term_days: p.term_days,
                    reminder_days: p.reminder_days,
                    max_payment_age_months: p.max_payment_age_months,
                    min_reports_fake_seller: p.min_reports_fake_seller,
                    naw_retention_days: p.naw_retention_days,
                    naw_key_file: String::new(),
                    tick_secs: s.pnbf.tick.as_secs(),
                }
            },
            screening: ScreeningConfig {
                rules_file: String::new(),
                rules_reload_secs: s.screening.rules_reload.as_secs(),
                max_state_entries: s.screening.max_state_entries,
            },
        }
    }
}

/// Flags that override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub db: Option<String>,
    pub listen: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Partner kinds as the configuration writes them: `police,operator`.
fn kinds_text(kinds: &[vangnet_core::PartnerKind]) -> String {
    kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
}

/// Comma-separated partner kinds that may decide disputes (not citizens; at least one).
fn parse_kinds(text: &str, name: &str) -> anyhow::Result<Vec<vangnet_core::PartnerKind>> {
    let mut kinds = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match vangnet_core::PartnerKind::partner_kind_from_key(part) {
            Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
            Some(_) => {}
            None => bail!("{name}: `{part}` is not a partner kind"),
        }
    }
    if kinds.is_empty() {
        bail!("{name} must name at least one partner kind");
    }
    Ok(kinds)
}

/// Every leaf of a table as (path, environment variable name).
fn leaves(table: &toml::Table, prefix: &[String], out: &mut Vec<(Vec<String>, String)>) {
    for (key, value) in table {
        let mut path = prefix.to_vec();
        path.push(key.clone());
        match value {
            toml::Value::Table(inner) => leaves(inner, &path, out),
            _ => {
                let env = format!("VANGNET_{}", path.join("_").to_ascii_uppercase());
                out.push((path, env));
            }
        }
    }
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = table;
    for p in parents {
        let entry = at.entry(p.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        let toml::Value::Table(next) = entry else {
            return;
        };
        at = next;
    }
    at.insert(last.clone(), value);
}

/// An environment value as the TOML type of the default it replaces.
fn env_value(default: &toml::Value, raw: &str, name: &str) -> anyhow::Result<toml::Value> {
    Ok(match default {
        toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().with_context(|| format!("{name} must be a whole number"))?),
        toml::Value::Float(_) => toml::Value::Float(raw.trim().parse().with_context(|| format!("{name} must be a number"))?),
        toml::Value::Boolean(_) => toml::Value::Boolean(raw.trim().parse().with_context(|| format!("{name} must be true or false"))?),
        _ => toml::Value::String(raw.to_owned()),
    })
}

impl Config {
    /// Loads the layers: defaults, then `file` (if given), then the environment, then flags.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        Self::load_with_env(file, overrides, |name| std::env::var(name).ok())
    }

    pub fn load_with_env(file: Option<&Path>, overrides: &Overrides, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let defaults = toml::Table::try_from(Config::default()).context("the built-in defaults do not serialise")?;
        let mut table = defaults.clone();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the configuration file {}", path.display()))?;
            let file_table: toml::Table = toml::from_str(&text).with_context(|| format!("{} is not valid TOML", path.display()))?;
            merge(&mut table, file_table);
        }
        let mut names = Vec::new();
        leaves(&defaults, &[], &mut names);
        for (path, name) in names {
            if let Some(raw) = env(&name) {
                let mut default = &toml::Value::Table(defaults.clone());
                for p in &path {
                    default = default.get(p).unwrap_or(default);
                }
                set_path(&mut table, &path, env_value(default, &raw, &name)?);
            }
        }
        let flag = |table: &mut toml::Table, key: &str, value: &Option<String>| {
            if let Some(v) = value {
                table.insert(key.to_owned(), toml::Value::String(v.clone()));
            }
        };
        flag(&mut table, "db", &overrides.db);
        flag(&mut table, "listen", &overrides.listen);
        flag(&mut table, "log_format", &overrides.log_format);
        flag(&mut table, "log_level", &overrides.log_level);
        let config: Config = table.try_into().context("the configuration is not valid")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !matches!(self.log_format.as_str(), "text" | "json") {
            bail!("log_format must be `text` or `json`, not `{}`", self.log_format);
        }
        self.listen_addr()?;
        if self.limits.max_body_bytes < 1024 {
            bail!("limits.max_body_bytes must be at least 1024");
        }
        if self.limits.max_concurrency == 0 || self.limits.request_timeout_secs == 0 {
            bail!("limits.max_concurrency and limits.request_timeout_secs must be positive");
        }
        let l = &self.limits;
        if l.max_connections == 0 || l.header_read_timeout_secs == 0 || l.idle_timeout_secs == 0 {
            bail!("limits.max_connections, limits.header_read_timeout_secs and limits.idle_timeout_secs must be positive");
        }
        if l.auth_failure_rate_per_second.is_nan() {
            bail!("limits.auth_failure_rate_per_second must be a number (0 turns the limit off)");
        }
        self.metrics_addr()?;
        if self.scoring.half_life_days.is_nan() || self.scoring.half_life_days <= 0.0 || self.scoring.retention_days == 0 {
            bail!("scoring.half_life_days and scoring.retention_days must be positive");
        }
        let p = &self.public;
        if !(p.min_reports.is_finite() && p.min_reports >= 1.0 && p.citizen_weight.is_finite() && p.citizen_weight >= 0.0) {
            bail!("public.min_reports must be at least 1 and public.citizen_weight at least 0");
        }
        if p.check_rate_per_second.is_nan() || p.report_rate_per_minute.is_nan() {
            bail!("public rates must be numbers (0 turns a limit off)");
        }
        if self.console.session_ttl_secs == 0 || self.console.idle_timeout_secs == 0 || self.console.max_sessions == 0 {
            bail!("console.session_ttl_secs, console.idle_timeout_secs and console.max_sessions must be positive");
        }
        let prefix = &self.streams.prefix;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            bail!("streams.prefix must be letters, digits, _ or - (it starts every subject)");
        }
        let shared = self.calls.subscriber_key.expose();
        if !shared.is_empty() && shared.len() < 32 {
            bail!("calls.subscriber_key must be at least 32 characters");
        }
        let key = self.audit.key.expose();
        if !key.is_empty() && key.len() < 32 {
            bail!("audit.key must be at least 32 characters");
        }
        let p = &self.pnbf;
        if p.term_days == 0 || p.reminder_days >= p.term_days {
            bail!("pnbf.term_days must be at least 1 and pnbf.reminder_days less than it");
        }
        if p.max_payment_age_months == 0 || p.naw_retention_days == 0 || p.tick_secs == 0 {
            bail!("pnbf.max_payment_age_months, pnbf.naw_retention_days and pnbf.tick_secs must be at least 1");
        }
        let d = &self.disputes;
        if d.decision_days == 0 || d.remind_days_before >= d.decision_days {
            bail!("disputes.decision_days must be at least 1 and disputes.remind_days_before less than it");
        }
        self.dispute_policy()?;
        self.retention_policy()?;
        if self.retention.interval_secs == 0 {
            bail!("retention.interval_secs must be at least 1");
        }
        Ok(())
    }

    /// The metrics listener's address, if one is configured.
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        let listen = self.metrics.listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        listen
            .parse()
            .map(Some)
            .with_context(|| format!("metrics.listen `{listen}` is not HOST:PORT"))
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listen
            .parse()
            .with_context(|| format!("listen address `{}` is not HOST:PORT", self.listen))
    }

    /// The server settings these options describe.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        Ok(Settings {
            http: HttpSettings {
                listen: self.listen_addr()?,
                metrics_listen: self.metrics_addr()?,
                connections: vangnet_server::connections::ConnectionLimits {
                    max_connections: self.limits.max_connections,
                    max_per_address: self.limits.max_connections_per_address,
                    header_read_timeout: Duration::from_secs(self.limits.header_read_timeout_secs),
                    idle_timeout: Duration::from_secs(self.limits.idle_timeout_secs),
                },
                max_body_bytes: self.limits.max_body_bytes,
                max_concurrency: self.limits.max_concurrency,
                request_timeout: Duration::from_secs(self.limits.request_timeout_secs),
                trust_forwarded_for: self.public.trust_forwarded_for,
                secure_cookies: self.public.secure_cookies,
            },
            services: self.services_settings()?,
        })
    }

    /// How long reports are kept (checked against the eight-year ceiling).
    pub fn retention_policy(&self) -> anyhow::Result<vangnet_core::retention::RetentionPolicy> {
        let r = &self.retention;
        let mut by_fraud_type = std::collections::BTreeMap::new();
        for (key, days) in &r.by_fraud_type {
            let t = vangnet_core::report::FraudType::from_key(key)
                .with_context(|| format!("retention.by_fraud_type: `{key}` is not a fraud type"))?;
            by_fraud_type.insert(t, *days);
        }
        let mut by_source = std::collections::BTreeMap::new();
        for (key, days) in &r.by_source {
            let kind =
                vangnet_core::PartnerKind::from_key(key).with_context(|| format!("retention.by_source: `{key}` is not a source kind"))?;
            by_source.insert(kind, *days);
        }
        let policy = vangnet_core::retention::RetentionPolicy {
            default_days: r.default_days,
            by_fraud_type,
            by_source,
            cleared_days: r.cleared_days,
            decided_days: r.decided_days,
        };
        policy.check()?;
        Ok(policy)
    }

    /// Who opens and decides disputes, and their term.
    pub fn dispute_policy(&self) -> anyhow::Result<vangnet_core::dispute::DisputePolicy> {
        let d = &self.disputes;
        let mut by_type = std::collections::BTreeMap::new();
        for (key, kinds) in &d.deciders_by_fraud_type {
            let fraud_type = vangnet_core::report::FraudType::from_key(key)
                .with_context(|| format!("disputes.deciders_by_fraud_type: `{key}` is not a fraud type"))?;
            by_type.insert(fraud_type, parse_kinds(kinds, &format!("disputes.deciders_by_fraud_type.{key}"))?);
        }
        Ok(vangnet_core::dispute::DisputePolicy {
            decision_days: d.decision_days,
            remind_days_before: d.remind_days_before,
            deciders: parse_kinds(&d.deciders, "disputes.deciders")?,
            deciders_by_fraud_type: by_type,
        })
    }

    /// The services' settings these options describe.
    pub fn services_settings(&self) -> anyhow::Result<vangnet_services::Settings> {
        use vangnet_services::settings::{ConsoleSettings, PnbfSettings, PublicSettings, ScreeningSettings};
        Ok(vangnet_services::Settings {
            auth_failure_rate: Rate {
                per_second: self.limits.auth_failure_rate_per_second,
                burst: self.limits.auth_failure_rate_burst,
            },
            partner_rate: Rate {
                per_second: self.limits.partner_rate_per_second,
                burst: self.limits.partner_rate_burst,
            },
            token_cache_ttl: Duration::from_secs(self.auth.token_cache_ttl_secs),
            feed_interval: Duration::from_millis(self.index.feed_interval_ms.max(10)),
            scoring: self.scoring_policy(),
            audit_key: (!self.audit.key.expose().is_empty()).then(|| self.audit.key.expose().as_bytes().to_vec()),
            audit_hits_window: Duration::from_secs(self.audit.check_hits_window_secs.max(1)),
            public: PublicSettings {
                threshold: vangnet_core::index::PublicThreshold {
                    min_reports: self.public.min_reports,
                    citizen_weight: self.public.citizen_weight,
                },
                check_rate: Rate {
                    per_second: self.public.check_rate_per_second,
                    burst: self.public.check_rate_burst,
                },
                report_rate: Rate {
                    per_second: self.public.report_rate_per_minute / 60.0,
                    burst: self.public.report_rate_burst,
                },
            },
            console: ConsoleSettings {
                session_ttl: Duration::from_secs(self.console.session_ttl_secs),
                idle_timeout: Duration::from_secs(self.console.idle_timeout_secs),
                max_sessions: self.console.max_sessions,
            },
            screening: ScreeningSettings {
                rules_file: (!self.screening.rules_file.trim().is_empty())
                    .then(|| std::path::PathBuf::from(self.screening.rules_file.trim())),
                rules_reload: Duration::from_secs(self.screening.rules_reload_secs.max(1)),
                max_state_entries: self.screening.max_state_entries.max(1),
            },
            calls: vangnet_services::settings::CallSettings {
                subscriber_key: (!self.calls.subscriber_key.expose().is_empty())
                    .then(|| self.calls.subscriber_key.expose().as_bytes().to_vec()),
                active_timeout: Duration::from_secs(self.calls.active_timeout_secs.max(1)),
                known_caller_days: self.calls.known_caller_days,
                max_subscribers: self.calls.max_subscribers.max(1),
            },
            disputes: self.dispute_policy()?,
            retention: self.retention_policy()?,
            retention_interval: Duration::from_secs(self.retention.interval_secs.max(1)),
            mules: self.mules.settings()?,
            pnbf: PnbfSettings {
                procedure: vangnet_core::pnbf::Procedure {
                    term_days: self.pnbf.term_days,
                    reminder_days: self.pnbf.reminder_days,
                    max_payment_age_months: self.pnbf.max_payment_age_months,
                    min_reports_fake_seller: self.pnbf.min_reports_fake_seller,
                    naw_retention_days: self.pnbf.naw_retention_days,
                },
                naw_key: self.naw_key()?,
                naw_key_file: self.naw_key_path().ok().flatten(),
                tick: Duration::from_secs(self.pnbf.tick_secs.max(1)),
            },
            clock: Default::default(),
        })
    }

    /// Where the NAW key is kept: `pnbf.naw_key_file`, or beside the SQLite file when that is
    /// empty (so every process of one installation finds the same key, wherever it starts);
    /// `None` for `none`. With PostgreSQL the file must be named: the nodes share it.
    pub fn naw_key_path(&self) -> anyhow::Result<Option<std::path::PathBuf>> {
        let configured = self.pnbf.naw_key_file.trim();
        if configured.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        if !configured.is_empty() {
            return Ok(Some(std::path::PathBuf::from(configured)));
        }
        let db = self.db.trim();
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            bail!(
                "pnbf.naw_key_file (VANGNET_PNBF_NAW_KEY_FILE) must be set with PostgreSQL: the key file every node shares \
                 (made with a fresh key when missing), or `none` to run without NAW"
            );
        }
        let file = Path::new(db.strip_prefix("sqlite://").or_else(|| db.strip_prefix("sqlite:")).unwrap_or(db));
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("vangnet");
        Ok(Some(file.with_file_name(format!("{stem}-naw.key"))))
    }

    /// The NAW key from its file, when the file exists.
    fn naw_key(&self) -> anyhow::Result<Option<[u8; 32]>> {
        let Ok(Some(path)) = self.naw_key_path() else { return Ok(None) };
        let path = path.display().to_string();
        let path = path.as_str();
        if !Path::new(path).exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read pnbf.naw_key_file {path}"))?;
        let bytes = hex::decode(text.trim()).with_context(|| format!("{path} must hold 64 hexadecimal characters (a 32-byte key)"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("{path} must hold 64 hexadecimal characters (a 32-byte key)"))?;
        Ok(Some(key))
    }

    /// Makes the NAW key file with a fresh random key when it is configured but missing
    /// (readable by its owner only). `serve` and `demo` call this before they start.
    pub fn ensure_naw_key(&self) -> anyhow::Result<()> {
        let Some(path) = self.naw_key_path()? else { return Ok(()) };
        let path = path.display().to_string();
        let path = path.as_str();
        if Path::new(path).exists() {
            return Ok(());
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for the NAW key: {e}"))?;
        let key = hex::encode(bytes);
        // Written whole to a file of its own, then linked into place: another process starting
        // at the same moment either finds no key file or a complete one, never half of one.
        let partial = format!("{path}.{}.partial", std::process::id());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut file = options
            .open(&partial)
            .with_context(|| format!("cannot create pnbf.naw_key_file {path}"))?;
        writeln!(file, "{key}")?;
        file.sync_all()?;
        drop(file);
        let linked = std::fs::hard_link(&partial, path);
        let _ = std::fs::remove_file(&partial);
        match linked {
            Ok(()) => {}
            // Another process made it first: theirs is used.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot create pnbf.naw_key_file {path}")),
        }
        tracing::info!(
            file = path,
            "made a new NAW key; back it up: without it released NAW cannot be read"
        );
        Ok(())
    }

    /// The stream workers' settings.
    pub fn stream_settings(&self) -> vangnet_streams::StreamSettings {
        let s = &self.streams;
        vangnet_streams::StreamSettings {
            url: s.url.clone(),
            prefix: s.prefix.clone(),
            concurrency: s.concurrency.max(1),
            ack_wait: Duration::from_secs(s.ack_wait_secs.max(1)),
            max_deliver: s.max_deliver.max(1),
        }
    }

    pub fn scoring_policy(&self) -> ScoringPolicy {
        let w = &self.scoring.weights;
        ScoringPolicy {
            half_life_days: self.scoring.half_life_days,
            retention_days: self.scoring.retention_days,
            aangifte_factor: self.scoring.aangifte_factor,
            base_weights: [
                w.police,
                w.helpdesk,
                w.bank,
                w.psp,
                w.telecom,
                w.marketplace,
                w.victim_support,
                w.operator,
                w.citizen,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn layers_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("vangnet.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nlog_level = \"debug\"\n[limits]\nmax_body_bytes = 4096\n[scoring.weights]\npolice = 0.9\n",
        )
        .expect("write");
        let env: HashMap<&str, &str> = HashMap::from([("VANGNET_LOG_LEVEL", "warn"), ("VANGNET_LIMITS_PARTNER_RATE_PER_SECOND", "10")]);
        let overrides = Overrides {
            listen: Some("127.0.0.1:9100".into()),
            ..Overrides::default()
        };
        let config = Config::load_with_env(Some(&file), &overrides, |n| env.get(n).map(|v| (*v).to_owned())).expect("loads");
        assert_eq!(config.listen, "127.0.0.1:9100", "flags beat the environment and the file");
        assert_eq!(config.log_level, "warn", "the environment beats the file");
        assert_eq!(config.limits.max_body_bytes, 4096, "the file beats the defaults");
        assert_eq!(config.limits.partner_rate_per_second, 10.0);
        assert_eq!(config.scoring.weights.police, 0.9);
        assert_eq!(config.db, "./vangnet.db", "defaults fill the rest");
    }

    #[test]
    fn refuses_bad_values_and_unknown_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("vangnet.toml");
        std::fs::write(&file, "lisen = \"x\"\n").expect("write");
        assert!(Config::load_with_env(Some(&file), &Overrides::default(), |_| None).is_err());
        let env = |n: &str| (n == "VANGNET_LIMITS_MAX_BODY_BYTES").then(|| "lots".to_owned());
        assert!(Config::load_with_env(None, &Overrides::default(), env).is_err());
        let overrides = Overrides {
            listen: Some("nowhere".into()),
            ..Overrides::default()
        };
        assert!(Config::load_with_env(None, &overrides, |_| None).is_err());
    }

    #[test]
    fn the_example_file_is_complete_and_valid() {
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../vangnet.example.toml");
        let config = Config::load_with_env(Some(Path::new(example)), &Overrides::default(), |_| None).expect("the example loads");
        assert_eq!(config, Config::default(), "the example file states the defaults");
    }

    #[test]
    fn secrets_do_not_print() {
        let mut config = Config::default();
        config.audit.key = Secret("0123456789abcdef0123456789abcdef".into());
        assert!(!format!("{config:?}").contains("0123456789"));
    }
}
