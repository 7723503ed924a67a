//! The in-memory indicator index: every check is answered from here, without a database.
//!
//! The index holds, per canonical indicator, the list of reports that name it, each reduced to
//! the few facts a check needs (partner, source kind, fraud type, TLP, date, amount, aangifte,
//! retracted). Keeping the reports rather than ready-made totals is what lets one index answer
//! every partner differently under TLP, and lets the score decay with the clock.
//!
//! Memory is the constraint (10 million indicators in well under 1.5 GiB), so:
//! - an indicator is keyed by a 128-bit keyed hash of its kind and canonical value, not by the
//!   string itself; the key is random per process (see [`IndicatorIndex::new`]), so nobody can
//!   craft a value that collides with a reported one;
//! - the report facts are 32-byte records in one vector, linked per indicator (newest first),
//!   so an indicator costs a hash-table slot plus 32 bytes per report naming it.
//!
//! Citizen reports (the public web form) are unverified: they inform partners, they never decide.
//! An unverified citizen report carries no weight in any score, so no number of them changes a
//! check's status, a payment decision or a call decision. Partners see them as a count
//! ([`RecordView::unverified_citizen_reports`]) until a partner report the reader may see names
//! the same indicator (then they are listed among its reports, still without weight) or a
//! helpdesk or police reviewer verifies them (then they count like any report, with the citizen
//! weight). A report the reviewer rejects counts nowhere.
//!
//! Review statuses are last-writer-wins: each carries the change-feed position it was written
//! at, and the index ignores a status older than the one it holds, so a change that arrives late
//! or twice (the server's own write, then the feed) never undoes a newer one.
//!
//! The index never does I/O: the server loads it from the store and applies every write.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use xxhash_rust::xxh3::xxh3_128_with_seed;

use crate::indicator::{Indicator, IndicatorKind};
use crate::money::{Currency, Money};
use crate::partner::{PartnerKind, Viewer};
use crate::report::{FRAUD_TYPE_COUNT, FraudType, Tlp};
use crate::scoring::ScoringPolicy;
use crate::timestamp::Timestamp;

mod network;
#[cfg(test)]
mod tests;
mod views;

pub use network::{MAX_DEPTH, MAX_NODES, Neighbourhood, NetEdge};
pub use views::{PublicThreshold, PublicView, RecordView};

/// The status of an indicator record as set by review (DESIGN §2). `expired` is not stored: an
/// indicator whose reports are all past retention answers as expired by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorStatus {
    Active,
    Disputed,
    Cleared,
    Expired,
}

impl IndicatorStatus {
    /// The stable key.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorStatus::Active => "active",
            IndicatorStatus::Disputed => "disputed",
            IndicatorStatus::Cleared => "cleared",
            IndicatorStatus::Expired => "expired",
        }
    }

    /// The status for a stable key.
    pub fn from_key(key: &str) -> Option<IndicatorStatus> {
        [
            IndicatorStatus::Active,
            IndicatorStatus::Disputed,
            IndicatorStatus::Cleared,
            IndicatorStatus::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == key)
    }
}

/// What a check answers for one indicator (API.md `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    Reported,
    NotReported,
    Disputed,
}

impl CheckStatus {
    /// The stable key.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Reported => "reported",
            CheckStatus::NotReported => "not_reported",
            CheckStatus::Disputed => "disputed",
        }
    }
}

/// The identity of an indicator in the index: a keyed 128-bit hash of kind and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexKey([u64; 2]);

impl Hash for IndexKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
    }
}

/// The key is already a uniformly distributed keyed hash, so the table uses it as it is.
#[derive(Debug, Clone, Copy, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct BuildKeyHasher;

impl BuildHasher for BuildKeyHasher {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher::default()
    }
}

const NONE: u32 = u32::MAX;
/// The owner of every citizen report in TLP decisions and partner counts: no partner.
const CITIZENS: u32 = u32::MAX;
const CITIZEN_SOURCE: u8 = PartnerKind::Citizen.code();
const FLAG_AANGIFTE: u8 = 1;
const FLAG_RETRACTED: u8 = 2;
/// A citizen report a helpdesk or police reviewer verified: it counts like a partner's.
const FLAG_VERIFIED: u8 = 4;
/// A citizen report a reviewer rejected: it counts nowhere.
const FLAG_REJECTED: u8 = 8;
/// The report names the indicator as a money mule's account (role `mule`).
const FLAG_MULE: u8 = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    head: u32,
    /// Its node in the network (`NONE` until a report links it with another indicator).
    node: u32,
    status: IndicatorStatus,
}

/// One report's facts about one indicator, 32 bytes.
#[derive(Debug, Clone, Copy)]
struct Contribution {
    report: u32,
    partner: u32,
    next: u32,
    occurred_minute: u32,
    amount_minor: u64,
    currency: u8,
    fraud_type: u8,
    tlp: u8,
    source: u8,
    flags: u8,
}

impl Contribution {
    fn is_citizen(&self) -> bool {
        self.source == CITIZEN_SOURCE
    }

    /// A citizen report no reviewer has verified (or rejected) yet.
    fn is_unverified_citizen(&self) -> bool {
        self.is_citizen() && self.flags & (FLAG_VERIFIED | FLAG_REJECTED) == 0
    }

    /// The partner that filed the report, for TLP and partner counts.
    fn owner(&self) -> u32 {
        if self.is_citizen() { CITIZENS } else { self.partner }
    }
}

/// The facts of one report about one indicator, as the index takes them.
#[derive(Debug, Clone, Copy)]
pub struct ReportFacts {
    /// The report's sequence number in the store.
    pub report: u32,
    /// The reporting partner's number.
    pub partner: u32,
    pub source: PartnerKind,
    pub fraud_type: FraudType,
    pub tlp: Tlp,
    pub occurred_at: Timestamp,
    pub amount: Option<Money>,
    pub aangifte: bool,
    pub retracted: bool,
    /// The report names this indicator in the role `mule` (an account that received or passed
    /// on fraud money).
    pub mule: bool,
    /// For citizen reports: a tag of the submitter's pseudonym, so that one person counts once
    /// per indicator however often they report it. Ignored for partner reports.
    pub submitter: u32,
    /// For citizen reports: what a reviewer decided. Ignored for partner reports.
    pub review: CitizenReview,
}

/// A reviewer's decision about a citizen report (the triage queue of the helpdesk and police).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CitizenReview {
    /// Not reviewed yet: informs partners, decides nothing.
    #[default]
    Unverified,
    /// Checked and found credible: counts like any report, with the citizen weight.
    Verified,
    /// Checked and found not credible: counts nowhere.
    Rejected,
}

impl CitizenReview {
    /// The stable key.
    pub fn as_str(self) -> &'static str {
        match self {
            CitizenReview::Unverified => "unverified",
            CitizenReview::Verified => "verified",
            CitizenReview::Rejected => "rejected",
        }
    }

    /// The review for a stable key.
    pub fn from_key(key: &str) -> Option<CitizenReview> {
        [CitizenReview::Unverified, CitizenReview::Verified, CitizenReview::Rejected]
            .into_iter()
            .find(|r| r.as_str() == key)
    }

    fn flag(self) -> u8 {
        match self {
            CitizenReview::Unverified => 0,
            CitizenReview::Verified => FLAG_VERIFIED,
            CitizenReview::Rejected => FLAG_REJECTED,
        }
    }
}

/// What one viewer may know about one indicator at one moment.
/// The index of all indicator records.
#[derive(Debug)]
pub struct IndicatorIndex {
    seed: u64,
    entries: HashMap<IndexKey, Entry, BuildKeyHasher>,
    contributions: Vec<Contribution>,
    currencies: Vec<Currency>,
    /// The change-feed position of each status held (only indicators whose status was ever
    /// set, few of all), so an older status that arrives later is ignored.
    status_positions: HashMap<IndexKey, i64, BuildKeyHasher>,
    /// Which reports link which indicators, and the components they make.
    network: network::Network,
}

impl Default for IndicatorIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorIndex {
    /// An empty index with a fresh random hash key.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty index with room for `indicators` records and `contributions` report links.
    pub fn with_capacity_for(indicators: usize, contributions: usize) -> Self {
        let mut seed = [0u8; 8];
        // Without OS randomness the index still works; only collision resistance against a
        // party that knows the build would be lost, so fall back to the clock.
        if getrandom::fill(&mut seed).is_err() {
            seed = (Timestamp::now().millis() as u64).to_le_bytes();
        }
        IndicatorIndex {
            seed: u64::from_le_bytes(seed),
            entries: HashMap::with_capacity_and_hasher(indicators, BuildKeyHasher),
            contributions: Vec::with_capacity(contributions),
            currencies: Vec::new(),
            status_positions: HashMap::with_hasher(BuildKeyHasher),
            network: network::Network::default(),
        }
    }

    /// An empty index with room for `indicators` records.
    pub fn with_capacity(indicators: usize) -> Self {
        Self::with_capacity_for(indicators, indicators)
    }

    /// The key of an indicator given by kind and canonical value.
    pub fn key(&self, kind: IndicatorKind, canonical: &str) -> IndexKey {
        // One seed per kind keeps `url:x` and `domain:x` apart without building a buffer.
        let seed = self.seed ^ u64::from(kind.code()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let v = xxh3_128_with_seed(canonical.as_bytes(), seed);
        IndexKey([v as u64, (v >> 64) as u64])
    }

    /// The key of a parsed indicator.
    pub fn key_of(&self, indicator: &Indicator) -> IndexKey {
        self.key(indicator.kind(), indicator.canonical())
    }

    /// Number of indicators with at least one report or a status.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of report-indicator links held.
    pub fn links(&self) -> usize {
        self.contributions.len()
    }

    /// Adds one report's facts about an indicator. Adding the same report twice is a no-op
    /// (the store's change feed and the writer may both deliver it); returns whether it was new.
    pub fn add(&mut self, key: IndexKey, facts: &ReportFacts) -> bool {
        let entry = self.entries.entry(key).or_insert(Entry {
            head: NONE,
            node: NONE,
            status: IndicatorStatus::Active,
        });
        let mut at = entry.head;
        while at != NONE {
            let c = &self.contributions[at as usize];
            if c.report == facts.report {
                return false;
            }
            at = c.next;
        }
        let currency = match facts.amount {
            None => 0,
            Some(m) => match self.currencies.iter().position(|c| *c == m.currency()) {
                Some(i) => u8::try_from(i + 1).unwrap_or(0),
                None if self.currencies.len() < 255 => {
                    self.currencies.push(m.currency());
                    u8::try_from(self.currencies.len()).unwrap_or(0)
                }
                None => 0,
            },
        };
        let Ok(position) = u32::try_from(self.contributions.len()) else {
            return false;
        };
        let mut flags = 0;
        if facts.aangifte {
            flags |= FLAG_AANGIFTE;
        }
        if facts.retracted {
            flags |= FLAG_RETRACTED;
        }
        if facts.mule {
            flags |= FLAG_MULE;
        }
        if facts.source == PartnerKind::Citizen {
            flags |= facts.review.flag();
        }
        self.contributions.push(Contribution {
            report: facts.report,
            // A citizen report keeps its submitter's tag where a partner report keeps the
            // partner: all citizen reports share one partner, and the tag is what tells them apart.
            partner: if facts.source == PartnerKind::Citizen {
                facts.submitter
            } else {
                facts.partner
            },
            next: entry.head,
            occurred_minute: facts.occurred_at.minutes(),
            amount_minor: facts.amount.map_or(0, |m| u64::try_from(m.minor()).unwrap_or(0)),
            currency,
            fraud_type: facts.fraud_type.index() as u8,
            tlp: facts.tlp.index() as u8,
            source: facts.source.code(),
            flags,
        });
        entry.head = position;
        true
    }

    /// Takes a report out of an indicator's counts; returns whether anything changed.
    pub fn retract(&mut self, key: IndexKey, report: u32) -> bool {
        let Some(c) = self.contribution_mut(key, report) else {
            return false;
        };
        let changed = c.flags & FLAG_RETRACTED == 0;
        c.flags |= FLAG_RETRACTED;
        // A report out of the counts links nothing any more.
        self.unlink(report);
        changed
    }

    /// The numbers of every report that names `key`, retracted ones too, oldest first (for a
    /// subject-access export; checks read [`IndicatorIndex::visible_reports`]).
    pub fn reports(&self, key: IndexKey) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = self.entries.get(&key).map_or(NONE, |e| e.head);
        while at != NONE {
            let c = &self.contributions[at as usize];
            out.push(c.report);
            at = c.next;
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The facts of `report` in the list of `key`, if the report names it.
    fn contribution_mut(&mut self, key: IndexKey, report: u32) -> Option<&mut Contribution> {
        let mut at = self.entries.get(&key)?.head;
        while at != NONE {
            let c = &self.contributions[at as usize];
            if c.report == report {
                return self.contributions.get_mut(at as usize);
            }
            at = c.next;
        }
        None
    }

    /// Records a reviewer's decision about a citizen report; returns whether anything changed.
    /// A decision is final: a report already verified or rejected keeps its first decision.
    pub fn review(&mut self, key: IndexKey, report: u32, review: CitizenReview) -> bool {
        match self.contribution_mut(key, report) {
            Some(c) if c.is_unverified_citizen() => {
                c.flags |= review.flag();
                review != CitizenReview::Unverified
            }
            _ => false,
        }
    }

    /// Sets the review status of an indicator (creating the record if it has no reports yet),
    /// as written at change-feed `position`. A status older than the one held is ignored, so
    /// statuses may arrive out of order and more than once; returns whether it was applied.
    pub fn set_status(&mut self, key: IndexKey, status: IndicatorStatus, position: i64) -> bool {
        match self.status_positions.get(&key) {
            Some(held) if *held > position => return false,
            _ => {}
        }
        self.status_positions.insert(key, position);
        self.entries
            .entry(key)
            .or_insert(Entry {
                head: NONE,
                node: NONE,
                status: IndicatorStatus::Active,
            })
            .status = status;
        true
    }

    /// The stored review status of an indicator.
    pub fn status(&self, key: IndexKey) -> IndicatorStatus {
        self.entries.get(&key).map_or(IndicatorStatus::Active, |e| e.status)
    }

    /// Approximate heap bytes held, for the metrics endpoint.
    pub fn heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(IndexKey, Entry)>() + 1;
        self.entries.capacity() * slot + self.contributions.capacity() * std::mem::size_of::<Contribution>() + self.network.heap_bytes()
    }
}
