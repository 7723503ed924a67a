//! Money-mule patterns in a stream of transfers (no I/O): the eight typologies of the AMLworld
//! and AMLSim data sets (fan-in, fan-out, cycle, scatter-gather, gather-scatter, bipartite,
//! stack) and pass-through (money out soon after it came in), each found the moment the
//! transfer that completes it arrives, never looking ahead of that transfer's own time.
//!
//! Accounts are numbers (the services give each account a keyed pseudonym and a number; the
//! core never sees an IBAN). Memory is bounded: [`graph::Window`] keeps, per account, at most
//! [`Thresholds::edges_per_account`] transfers in and out within [`Thresholds::window_ms`],
//! and at most [`Thresholds::max_accounts`] accounts (see its docs for the eviction).
//!
//! Every [`Flag`] says why: the pattern, the accounts involved, the money and the time span.

pub mod detect;
pub mod graph;
pub mod monitor;
pub mod score;

pub use detect::{Detector, Thresholds};
pub use monitor::{Mark, Monitor, Verdict};
pub use score::{AccountFlag, MuleScore, ScorePolicy, ScoreReason};

/// An account in the transfer graph.
pub type Account = u64;

/// One transfer, `at` in milliseconds. `amount` is what the payer paid and `received` what
/// the payee got, each in minor units of its own account's currency (they differ only when the
/// transfer changed currency), so an account's money in and out compare in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub at: i64,
    pub from: Account,
    pub to: Account,
    pub amount: i64,
    pub received: i64,
}

/// The patterns the detectors find.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// Many accounts pay one.
    FanIn,
    /// One account pays many.
    FanOut,
    /// Money leaves an account soon after it came in, nearly all of it.
    PassThrough,
    /// Money returns to where it started over up to six hops, in time order.
    Cycle,
    /// One account pays several, which all pay one other.
    ScatterGather,
    /// Several pay one account, which pays several others.
    GatherScatter,
    /// A group of accounts pays a group of others, many to many.
    Bipartite,
    /// Two bipartite layers one after the other.
    Stack,
}

impl Pattern {
    pub const ALL: [Pattern; 8] = [
        Pattern::FanIn,
        Pattern::FanOut,
        Pattern::PassThrough,
        Pattern::Cycle,
        Pattern::ScatterGather,
        Pattern::GatherScatter,
        Pattern::Bipartite,
        Pattern::Stack,
    ];

    /// The stable key (the CSV's `pattern` column, the API's `pattern`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Pattern::FanIn => "fan_in",
            Pattern::FanOut => "fan_out",
            Pattern::PassThrough => "pass_through",
            Pattern::Cycle => "cycle",
            Pattern::ScatterGather => "scatter_gather",
            Pattern::GatherScatter => "gather_scatter",
            Pattern::Bipartite => "bipartite",
            Pattern::Stack => "stack",
        }
    }

    pub fn from_key(key: &str) -> Option<Pattern> {
        Pattern::ALL.into_iter().find(|p| p.as_str() == key)
    }
}

/// The most accounts one flag names (the rest are counted in [`Flag::more_accounts`]).
pub const MAX_FLAG_ACCOUNTS: usize = 32;

/// A pattern found, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub pattern: Pattern,
    /// The account the pattern centres on (the one paid in a fan-in, the hub, the start of a
    /// cycle …), first; then the others involved, at most [`MAX_FLAG_ACCOUNTS`] in all.
    pub accounts: Vec<Account>,
    /// Accounts involved beyond those listed.
    pub more_accounts: usize,
    /// The money the pattern moved (the sum of its transfers, minor units).
    pub amount: i64,
    /// The time span of its transfers.
    pub from: i64,
    pub to: i64,
    /// How strongly it matches, 0 to 1: how far past its threshold.
    pub score: f64,
}

impl Flag {
    /// The account the pattern centres on.
    pub fn centre(&self) -> Account {
        self.accounts[0]
    }
}
