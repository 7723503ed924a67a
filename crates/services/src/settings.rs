//! The settings of the services. The CLI builds them from defaults, the configuration file,
//! the environment and flags; ARCHITECTURE.md documents every bound. Settings of a transport
//! (listen addresses, body sizes, connection limits, cookies) belong to its adapter.

use std::sync::Arc;
use std::time::Duration;

use vangnet_core::index::PublicThreshold;
use vangnet_core::scoring::ScoringPolicy;

pub use crate::clock::Clock;
pub use crate::limits::Rate;

/// What every service is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Requests per second per partner organisation.
    pub partner_rate: Rate,
    /// Wrong or unknown tokens per client address (then refused until the bucket refills).
    pub auth_failure_rate: Rate,
    /// How long an authenticated token is trusted before it is checked again (and so how
    /// long a revoked token may keep working).
    pub token_cache_ttl: Duration,
    /// How often the change feed is polled.
    pub feed_interval: Duration,
    pub scoring: ScoringPolicy,
    /// Key for the pseudonyms of indicators in the audit log; from the store when `None`.
    pub audit_key: Option<Vec<u8>>,
    /// Check hits of one partner on one indicator within this window make one audit entry.
    pub audit_hits_window: Duration,
    /// The citizen side: the public check and the report form.
    pub public: PublicSettings,
    /// Sessions of the partner console.
    pub console: ConsoleSettings,
    /// Payment screening.
    pub screening: ScreeningSettings,
    /// Call screening and the on-call signal.
    pub calls: CallSettings,
    /// The PNBF recovery procedure.
    pub pnbf: PnbfSettings,
    /// Who opens and decides disputes, and their term.
    pub disputes: vangnet_core::dispute::DisputePolicy,
    /// How long reports are kept before they are deleted.
    pub retention: vangnet_core::retention::RetentionPolicy,
    /// How often every node sweeps for reports past their term.
    pub retention_interval: Duration,
    /// Money-mule detection: thresholds, the score and the terms of transactions and flags.
    pub mules: MuleSettings,
    /// The platform's clock: the system clock, moved on by tests (shared by every copy of
    /// these settings, so that a restarted server keeps the time).
    pub clock: Arc<Clock>,
}

/// The PNBF recovery procedure: its terms and the key that protects the NAW.
#[derive(Clone)]
pub struct PnbfSettings {
    pub procedure: vangnet_core::pnbf::Procedure,
    /// The 32-byte key that encrypts the payee's name and address at rest
    /// (ChaCha20-Poly1305). Without it the NAW cannot be entered or read.
    pub naw_key: Option<[u8; 32]>,
    /// The file the key was read from, to name in messages.
    pub naw_key_file: Option<std::path::PathBuf>,
    /// How often the scheduler looks for terms, reminders and NAW deletions that are due.
    pub tick: Duration,
}

impl std::fmt::Debug for PnbfSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PnbfSettings")
            .field("procedure", &self.procedure)
            .field("naw_key", &self.naw_key.map(|_| "(set)"))
            .field("naw_key_file", &self.naw_key_file)
            .field("tick", &self.tick)
            .finish()
    }
}

impl Default for PnbfSettings {
    fn default() -> Self {
        PnbfSettings {
            procedure: vangnet_core::pnbf::Procedure::default(),
            naw_key: None,
            naw_key_file: None,
            tick: Duration::from_secs(60),
        }
    }
}

/// Payment screening: where the rules come from and how much state is kept in memory.
#[derive(Debug, Clone)]
pub struct ScreeningSettings {
    /// A rules file (`rules/payments.toml` documents the format); the built-in rules when `None`.
    pub rules_file: Option<std::path::PathBuf>,
    /// How often the rules file is checked for changes.
    pub rules_reload: Duration,
    /// Payer profiles and account histories held in memory (each kind); the least recently
    /// loaded are dropped first and read again from the store at the next start.
    pub max_state_entries: usize,
}

impl Default for ScreeningSettings {
    fn default() -> Self {
        ScreeningSettings {
            rules_file: None,
            rules_reload: Duration::from_secs(2),
            max_state_entries: 2_000_000,
        }
    }
}

/// Bounds and thresholds of the public (citizen) side.
#[derive(Debug, Clone)]
pub struct PublicSettings {
    /// When the public check answers `reported`.
    pub threshold: PublicThreshold,
    /// Public checks (page and API together) per client address.
    pub check_rate: Rate,
    /// Report-form submissions per client address.
    pub report_rate: Rate,
}

impl Default for PublicSettings {
    fn default() -> Self {
        PublicSettings {
            threshold: PublicThreshold::default(),
            check_rate: Rate {
                per_second: 0.5,
                burst: 20,
            },
            report_rate: Rate {
                per_second: 1.0 / 60.0,
                burst: 5,
            },
        }
    }
}

/// Sessions of the partner console.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// A session ends this long after sign-in.
    pub session_ttl: Duration,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// The most sessions held at once (oldest dropped first).
    pub max_sessions: usize,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            session_ttl: Duration::from_secs(8 * 3600),
            idle_timeout: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            partner_rate: Rate {
                per_second: 2_000.0,
                burst: 4_000,
            },
            auth_failure_rate: Rate {
                per_second: 1.0,
                burst: 20,
            },
            token_cache_ttl: Duration::from_secs(10),
            feed_interval: Duration::from_millis(500),
            scoring: ScoringPolicy::default(),
            audit_key: None,
            audit_hits_window: Duration::from_secs(60),
            public: PublicSettings::default(),
            console: ConsoleSettings::default(),
            screening: ScreeningSettings::default(),
            calls: CallSettings::default(),
            pnbf: PnbfSettings::default(),
            disputes: vangnet_core::dispute::DisputePolicy::default(),
            retention: vangnet_core::retention::RetentionPolicy::default(),
            retention_interval: Duration::from_secs(3_600),
            mules: MuleSettings::default(),
            clock: Arc::new(Clock::default()),
        }
    }
}

/// Settings of call screening.
#[derive(Debug, Clone)]
pub struct CallSettings {
    /// The key banks and telecom providers share for subscriber references; from the store
    /// (made at first start) when `None`.
    pub subscriber_key: Option<Vec<u8>>,
    /// A call without an `end` event counts as over after this long.
    pub active_timeout: Duration,
    /// Callers a subscriber completed calls with count as known for this long.
    pub known_caller_days: u32,
    /// Subscribers tracked at once.
    pub max_subscribers: usize,
}

impl Default for CallSettings {
    fn default() -> Self {
        CallSettings {
            subscriber_key: None,
            active_timeout: Duration::from_secs(2 * 3600),
            known_caller_days: 90,
            max_subscribers: 1_000_000,
        }
    }
}

/// Settings of the mule engine.
#[derive(Debug, Clone)]
pub struct MuleSettings {
    pub thresholds: vangnet_core::mules::Thresholds,
    pub score: vangnet_core::mules::ScorePolicy,
    /// Transactions are kept this long (days): the window replay after a restart and the
    /// "payees its customers paid" rule look back this far.
    pub transaction_days: u32,
    /// Flags are kept this long (days).
    pub flag_days: u32,
}

impl Default for MuleSettings {
    fn default() -> Self {
        MuleSettings {
            thresholds: vangnet_core::mules::Thresholds::default(),
            score: vangnet_core::mules::ScorePolicy::default(),
            transaction_days: 30,
            flag_days: 90,
        }
    }
}
