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

#[derive(Debug, Clone, Copy)]
struct Entry {
    head: u32,
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

/// When the public check says an indicator is `reported` (configurable; ARCHITECTURE.md).
///
/// Only reports marked TLP:CLEAR or TLP:GREEN count, and only while they count for the score
/// (not retracted, within retention). Every partner report counts 1; every distinct citizen
/// whose report a reviewer verified counts `citizen_weight` (unverified ones count nothing);
/// together they must reach `min_reports`, and at least one must be a partner report, so
/// citizens alone can never make an indicator `reported`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PublicThreshold {
    pub min_reports: f64,
    pub citizen_weight: f64,
}

impl Default for PublicThreshold {
    fn default() -> Self {
        PublicThreshold {
            min_reports: 2.0,
            citizen_weight: 0.5,
        }
    }
}

/// What a citizen may learn about one indicator: a status and the kinds of fraud, nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicView {
    pub status: CheckStatus,
    /// The fraud types of the counted reports, most reported first (empty unless reported).
    pub fraud_types: Vec<FraudType>,
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
#[derive(Debug, Clone, PartialEq)]
pub struct RecordView {
    pub status: CheckStatus,
    pub indicator_status: IndicatorStatus,
    pub reports: u32,
    pub reporting_partners: u32,
    pub aangifte_reports: u32,
    pub fraud_types: [u32; FRAUD_TYPE_COUNT],
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// The decayed, weighted evidence sum `S` of the score formula.
    pub evidence: f64,
    pub score: f64,
    /// Damage per currency, largest first.
    pub damage: Vec<Money>,
    /// Visible reports per source kind (in [`PartnerKind::ALL`] order) and their weights.
    pub by_source: [(u32, f64); 9],
    /// The half-life used, for the reasons.
    pub half_life_days: f64,
    /// Distinct citizens whose unverified reports name this indicator and are not counted
    /// above (no partner report the reader may see names it yet).
    pub unverified_citizen_reports: u32,
    /// Of the counted citizen reports, those still unverified (counted, but without weight).
    pub unweighted_citizen_reports: u32,
    /// Set when a URL was not reported itself and the answer is its registrable domain's.
    pub answered_for_domain: Option<String>,
}

impl RecordView {
    fn empty(indicator_status: IndicatorStatus, policy: &ScoringPolicy) -> RecordView {
        RecordView {
            status: CheckStatus::NotReported,
            indicator_status,
            reports: 0,
            reporting_partners: 0,
            aangifte_reports: 0,
            fraud_types: [0; FRAUD_TYPE_COUNT],
            first_seen: None,
            last_seen: None,
            evidence: 0.0,
            score: 0.0,
            damage: Vec::new(),
            by_source: [(0, 0.0); 9],
            half_life_days: policy.half_life_days,
            unverified_citizen_reports: 0,
            unweighted_citizen_reports: 0,
            answered_for_domain: None,
        }
    }

    /// The fraud types with at least one report, most reported first.
    pub fn fraud_type_counts(&self) -> Vec<(FraudType, u32)> {
        let mut out: Vec<(FraudType, u32)> = FraudType::ALL
            .iter()
            .filter_map(|t| {
                let n = self.fraud_types[t.index()];
                (n > 0).then_some((*t, n))
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Plain-language reasons for the answer, naming the facts and the score's inputs.
    pub fn reasons(&self) -> Vec<String> {
        let mut unverified = Vec::new();
        if self.unverified_citizen_reports > 0 {
            let n = self.unverified_citizen_reports;
            unverified.push(format!(
                "{n} unverified citizen report{} (not counted: a citizen report counts once a partner report names this value or the helpdesk or police verify it)",
                plural(n)
            ));
        }
        if self.reports == 0 {
            return unverified;
        }
        let mut reasons = Vec::with_capacity(5);
        if let Some(domain) = &self.answered_for_domain {
            reasons.push(format!(
                "this address itself is not reported, but its domain {domain} is; what follows is about the domain"
            ));
        }
        let types = self.fraud_type_counts();
        let mut what = String::new();
        for (i, (t, n)) in types.iter().enumerate() {
            if i > 0 {
                what.push_str(if i + 1 == types.len() { " and " } else { ", " });
            }
            if i == 0 {
                what.push_str(&format!("{n} report{} of {}", plural(*n), t.label_en()));
            } else {
                what.push_str(&format!("{n} of {}", t.label_en()));
            }
        }
        let last = self.last_seen.map(Timestamp::date_string).unwrap_or_default();
        reasons.push(format!(
            "{what} by {} partner{}, last on {last}",
            self.reporting_partners,
            plural(self.reporting_partners)
        ));
        if self.aangifte_reports > 0 {
            reasons.push(format!(
                "{} of the reports {} backed by an aangifte (police report)",
                self.aangifte_reports,
                if self.aangifte_reports == 1 { "is" } else { "are" }
            ));
        }
        let mut sources = Vec::new();
        for (kind, (n, weight)) in PartnerKind::ALL.iter().zip(self.by_source.iter()) {
            if *n > 0 {
                sources.push(format!("{n} from {kind} (weight {weight:.2})"));
            }
        }
        reasons.push(format!(
            "score {:.2} = 1 - exp(-{:.2}); {:.2} is the sum of report weights ({}), each halved every {} days since the report",
            self.score,
            self.evidence,
            self.evidence,
            sources.join(", "),
            self.half_life_days
        ));
        if self.unweighted_citizen_reports > 0 {
            let n = self.unweighted_citizen_reports;
            reasons.push(format!(
                "{n} of the citizen reports {} unverified and carr{} no weight until the helpdesk or police verify {}",
                if n == 1 { "is" } else { "are" },
                if n == 1 { "ies" } else { "y" },
                if n == 1 { "it" } else { "them" }
            ));
        }
        reasons.extend(unverified);
        if self.status == CheckStatus::Disputed {
            reasons.push("the holder disputes this listing; it is under review, so act with care".to_owned());
        }
        reasons
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

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
        let Some(entry) = self.entries.get(&key) else {
            return false;
        };
        let mut at = entry.head;
        while at != NONE {
            let c = &mut self.contributions[at as usize];
            if c.report == report {
                let changed = c.flags & FLAG_RETRACTED == 0;
                c.flags |= FLAG_RETRACTED;
                return changed;
            }
            at = c.next;
        }
        false
    }

    /// Records a reviewer's decision about a citizen report; returns whether anything changed.
    /// A decision is final: a report already verified or rejected keeps its first decision.
    pub fn review(&mut self, key: IndexKey, report: u32, review: CitizenReview) -> bool {
        let Some(entry) = self.entries.get(&key) else {
            return false;
        };
        let mut at = entry.head;
        while at != NONE {
            let c = &mut self.contributions[at as usize];
            if c.report == report {
                if !c.is_unverified_citizen() {
                    return false;
                }
                c.flags |= review.flag();
                return review != CitizenReview::Unverified;
            }
            at = c.next;
        }
        false
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
                status: IndicatorStatus::Active,
            })
            .status = status;
        true
    }

    /// The stored review status of an indicator.
    pub fn status(&self, key: IndexKey) -> IndicatorStatus {
        self.entries.get(&key).map_or(IndicatorStatus::Active, |e| e.status)
    }

    /// The coarse public answer about one indicator (see [`PublicThreshold`]).
    pub fn public_view(&self, key: IndexKey, now: Timestamp, policy: &ScoringPolicy, threshold: &PublicThreshold) -> PublicView {
        let not_reported = PublicView {
            status: CheckStatus::NotReported,
            fraud_types: Vec::new(),
        };
        let Some(entry) = self.entries.get(&key) else {
            return not_reported;
        };
        if entry.status == IndicatorStatus::Cleared {
            return not_reported;
        }
        let now_minute = now.minutes();
        let mut partner_reports = 0u32;
        let mut citizens: Vec<u32> = Vec::new();
        let mut types = [0u32; FRAUD_TYPE_COUNT];
        let mut at = entry.head;
        while at != NONE {
            let c = &self.contributions[at as usize];
            at = c.next;
            let public = matches!(Tlp::from_index(usize::from(c.tlp)), Some(Tlp::Clear | Tlp::Green));
            let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
            if c.flags & FLAG_RETRACTED != 0 || !public || !policy.retained(age_days) {
                continue;
            }
            if c.is_citizen() {
                if c.flags & FLAG_VERIFIED == 0 || citizens.contains(&c.partner) {
                    continue;
                }
                citizens.push(c.partner);
            } else {
                partner_reports += 1;
            }
            if let Some(slot) = types.get_mut(usize::from(c.fraud_type)) {
                *slot += 1;
            }
        }
        let weight = f64::from(partner_reports) + threshold.citizen_weight * citizens.len() as f64;
        if partner_reports == 0 || weight < threshold.min_reports {
            return not_reported;
        }
        let mut fraud_types: Vec<(FraudType, u32)> = FraudType::ALL
            .iter()
            .filter_map(|t| (types[t.index()] > 0).then_some((*t, types[t.index()])))
            .collect();
        fraud_types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        PublicView {
            status: if entry.status == IndicatorStatus::Disputed {
                CheckStatus::Disputed
            } else {
                CheckStatus::Reported
            },
            fraud_types: fraud_types.into_iter().map(|(t, _)| t).collect(),
        }
    }

    /// Walks the reports of an indicator that `viewer` may see and that still count at `now`.
    fn visible<'a>(
        &'a self,
        key: IndexKey,
        viewer: &'a Viewer,
        now: Timestamp,
        policy: &'a ScoringPolicy,
    ) -> impl Iterator<Item = &'a Contribution> + 'a {
        let mut at = self.entries.get(&key).map_or(NONE, |e| e.head);
        let now_minute = now.minutes();
        std::iter::from_fn(move || {
            while at != NONE {
                let c = &self.contributions[at as usize];
                at = c.next;
                let tlp = Tlp::from_index(usize::from(c.tlp)).unwrap_or(Tlp::Red);
                let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
                if c.flags & (FLAG_RETRACTED | FLAG_REJECTED) == 0 && viewer.may_see(tlp, c.owner()) && policy.retained(age_days) {
                    return Some(c);
                }
            }
            None
        })
    }

    /// The record of one indicator as `viewer` may see it at `now`.
    pub fn view(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> RecordView {
        let Some(entry) = self.entries.get(&key) else {
            return RecordView::empty(IndicatorStatus::Active, policy);
        };
        let mut view = RecordView::empty(entry.status, policy);
        if entry.status == IndicatorStatus::Cleared {
            return view;
        }
        let now_minute = now.minutes();
        let mut partners: Vec<u32> = Vec::new();
        let mut submitters: Vec<u32> = Vec::new();
        let mut damage: Vec<(u8, u64)> = Vec::new();
        let (mut first, mut last) = (u32::MAX, 0u32);
        let (counted, unverified) = self.counted(key, viewer, now, policy);
        for (c, weighted) in counted {
            if c.is_citizen() {
                // One person counts once per indicator, however often they report it.
                if submitters.contains(&c.partner) {
                    continue;
                }
                submitters.push(c.partner);
                if !weighted {
                    view.unweighted_citizen_reports += 1;
                }
            }
            view.reports += 1;
            if let Some(slot) = view.fraud_types.get_mut(usize::from(c.fraud_type)) {
                *slot += 1;
            }
            if !partners.contains(&c.owner()) {
                partners.push(c.owner());
            }
            first = first.min(c.occurred_minute);
            last = last.max(c.occurred_minute);
            let aangifte = c.flags & FLAG_AANGIFTE != 0;
            if aangifte {
                view.aangifte_reports += 1;
            }
            let source = PartnerKind::from_code(c.source).unwrap_or(PartnerKind::Operator);
            let weight = if weighted { policy.source_weight(source, aangifte) } else { 0.0 };
            let age_days = f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0;
            view.evidence += weight * policy.decay(age_days);
            if let Some(i) = PartnerKind::ALL.iter().position(|k| *k == source) {
                view.by_source[i].0 += 1;
                view.by_source[i].1 += weight;
            }
            if c.currency != 0 {
                match damage.iter_mut().find(|(cur, _)| *cur == c.currency) {
                    Some(d) => d.1 = d.1.saturating_add(c.amount_minor),
                    None => damage.push((c.currency, c.amount_minor)),
                }
            }
        }
        view.unverified_citizen_reports = unverified;
        if view.reports == 0 {
            if self.has_reports(entry) && entry.status == IndicatorStatus::Active && self.all_expired(entry, now, policy) {
                view.indicator_status = IndicatorStatus::Expired;
            }
            return view;
        }
        view.reporting_partners = partners.len() as u32;
        view.first_seen = Some(Timestamp::from_minutes(first));
        view.last_seen = Some(Timestamp::from_minutes(last));
        view.score = policy.score(view.evidence);
        view.status = if entry.status == IndicatorStatus::Disputed {
            CheckStatus::Disputed
        } else {
            CheckStatus::Reported
        };
        damage.sort_by_key(|d| std::cmp::Reverse(d.1));
        view.damage = damage
            .into_iter()
            .filter_map(|(cur, minor)| {
                let currency = *self.currencies.get(usize::from(cur) - 1)?;
                Some(Money::from_minor(i64::try_from(minor).unwrap_or(i64::MAX), currency))
            })
            .collect();
        view
    }

    fn has_reports(&self, entry: &Entry) -> bool {
        entry.head != NONE
    }

    fn all_expired(&self, entry: &Entry, now: Timestamp, policy: &ScoringPolicy) -> bool {
        let mut at = entry.head;
        let now_minute = now.minutes();
        let mut any = false;
        while at != NONE {
            let c = &self.contributions[at as usize];
            at = c.next;
            if c.flags & FLAG_RETRACTED != 0 {
                continue;
            }
            any = true;
            if policy.retained(f64::from(now_minute.saturating_sub(c.occurred_minute)) / 1440.0) {
                return false;
            }
        }
        any
    }

    /// What a check of `indicator` answers: its own record, or, for a URL that is not reported
    /// itself, its registrable domain's when that is (not on shared platforms).
    pub fn check(&self, indicator: &Indicator, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> RecordView {
        let own = self.view(self.key_of(indicator), viewer, now, policy);
        if own.status != CheckStatus::NotReported {
            return own;
        }
        match indicator.checked_domain() {
            Some(domain) => {
                let mut by_domain = self.view(self.key_of(&Indicator::Domain(domain.clone())), viewer, now, policy);
                if by_domain.status == CheckStatus::NotReported {
                    return own;
                }
                by_domain.answered_for_domain = Some(domain.as_str().to_owned());
                by_domain
            }
            None => own,
        }
    }

    /// The public answer for `indicator`, with a URL answered for its domain as in
    /// [`IndicatorIndex::check`]; the domain is returned when it answered.
    pub fn public_check(
        &self,
        indicator: &Indicator,
        now: Timestamp,
        policy: &ScoringPolicy,
        threshold: &PublicThreshold,
    ) -> (PublicView, Option<String>) {
        let own = self.public_view(self.key_of(indicator), now, policy, threshold);
        if own.status != CheckStatus::NotReported {
            return (own, None);
        }
        if let Some(domain) = indicator.checked_domain() {
            let by_domain = self.public_view(self.key_of(&Indicator::Domain(domain.clone())), now, policy, threshold);
            if by_domain.status != CheckStatus::NotReported {
                return (by_domain, Some(domain.as_str().to_owned()));
            }
        }
        (own, None)
    }

    /// Police reports backed by an aangifte about an indicator that `viewer` may see under
    /// TLP, within the retention period: the PNBF eligibility condition for the victim's bank.
    /// Only reports the bank may read count, so opening cases tells it nothing about AMBER+STRICT
    /// or RED reports; the condition's sentence never shows the number either. Retracted reports
    /// and cleared indicators count nothing.
    pub fn police_aangifte_reports(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> u32 {
        if self.status(key) == IndicatorStatus::Cleared {
            return 0;
        }
        let police = PartnerKind::Police.code();
        self.visible(key, viewer, now, policy)
            .filter(|c| c.flags & FLAG_AANGIFTE != 0 && c.source == police)
            .count() as u32
    }

    /// The reports of an indicator that count for `viewer` at `now`, newest first, each with
    /// whether it carries weight in the score; and the number of distinct citizens whose
    /// unverified reports are left out. Unverified citizen reports count (without weight) only
    /// when a partner report the viewer may see names the indicator too.
    fn counted<'a>(
        &'a self,
        key: IndexKey,
        viewer: &'a Viewer,
        now: Timestamp,
        policy: &'a ScoringPolicy,
    ) -> (Vec<(&'a Contribution, bool)>, u32) {
        let mut counted = Vec::new();
        let mut held_back: Vec<&Contribution> = Vec::new();
        let mut corroborated = false;
        for c in self.visible(key, viewer, now, policy) {
            if c.is_unverified_citizen() {
                held_back.push(c);
                continue;
            }
            corroborated |= !c.is_citizen();
            counted.push((c, true));
        }
        if held_back.is_empty() {
            return (counted, 0);
        }
        if corroborated {
            // After the weighted ones: a person counts once, and then with their weight.
            counted.extend(held_back.into_iter().map(|c| (c, false)));
            return (counted, 0);
        }
        let mut people: Vec<u32> = held_back
            .iter()
            .map(|c| c.partner)
            .filter(|p| !counted.iter().any(|(k, _)| k.is_citizen() && k.partner == *p))
            .collect();
        people.sort_unstable();
        people.dedup();
        (counted, people.len() as u32)
    }

    /// The sequence numbers of the reports that count for `viewer` about an indicator (as in
    /// [`IndicatorIndex::view`]), newest first. Unverified citizen reports without a partner
    /// report beside them are not among them: their text goes only to the triage queue.
    pub fn visible_reports(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> Vec<u32> {
        if self.status(key) == IndicatorStatus::Cleared {
            return Vec::new();
        }
        let mut reports: Vec<u32> = self
            .counted(key, viewer, now, policy)
            .0
            .into_iter()
            .map(|(c, _)| c.report)
            .collect();
        // Newest first, as the reader expects (report numbers grow).
        reports.sort_unstable_by(|a, b| b.cmp(a));
        reports
    }

    /// Approximate heap bytes held, for the metrics endpoint.
    pub fn heap_bytes(&self) -> usize {
        let slot = std::mem::size_of::<(IndexKey, Entry)>() + 1;
        self.entries.capacity() * slot + self.contributions.capacity() * std::mem::size_of::<Contribution>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    fn facts(report: u32, partner: u32, source: PartnerKind, tlp: Tlp, when: &str) -> ReportFacts {
        ReportFacts {
            report,
            partner,
            source,
            fraud_type: FraudType::Marketplace,
            tlp,
            occurred_at: t(when),
            amount: Some(Money::from_minor(25_000, Currency::EUR)),
            aangifte: false,
            retracted: false,
            submitter: 0,
            review: CitizenReview::Unverified,
        }
    }

    fn citizen(report: u32, submitter: u32, when: &str) -> ReportFacts {
        ReportFacts {
            submitter,
            ..facts(report, 99, PartnerKind::Citizen, Tlp::Green, when)
        }
    }

    fn verified(report: u32, submitter: u32, when: &str) -> ReportFacts {
        ReportFacts {
            review: CitizenReview::Verified,
            ..citizen(report, submitter, when)
        }
    }

    #[test]
    fn a_citizen_counts_once_per_indicator() {
        let mut index = IndicatorIndex::new();
        let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        index.add(key, &verified(1, 7, "2026-11-01T00:00:00Z"));
        index.add(key, &verified(2, 7, "2026-11-01T01:00:00Z"));
        index.add(key, &verified(3, 8, "2026-11-01T02:00:00Z"));
        let view = index.view(key, &BANK, t("2026-11-02T00:00:00Z"), &ScoringPolicy::default());
        assert_eq!(view.reports, 2, "the second report of submitter 7 does not count");
        assert_eq!(view.reporting_partners, 1, "all citizens are one source");
        assert_eq!(view.by_source[8].0, 2);
        assert_eq!(view.status, CheckStatus::Reported, "verified citizen reports count");
    }

    #[test]
    fn unverified_citizen_reports_inform_and_never_decide() {
        let policy = ScoringPolicy::default();
        let now = t("2026-11-02T00:00:00Z");
        let mut index = IndicatorIndex::new();
        let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        for report in 1..=500 {
            index.add(key, &citizen(report, report, "2026-11-01T00:00:00Z"));
        }
        let view = index.view(key, &BANK, now, &policy);
        assert_eq!((view.status, view.reports, view.score), (CheckStatus::NotReported, 0, 0.0));
        assert_eq!(view.unverified_citizen_reports, 500, "partners see them, as a count");
        assert!(
            view.reasons()[0].starts_with("500 unverified citizen reports"),
            "{:?}",
            view.reasons()
        );
        assert!(
            index.visible_reports(key, &BANK, now, &policy).is_empty(),
            "their text stays in the triage queue"
        );

        // A partner report the reader may see names it: the citizens are counted, without weight.
        index.add(key, &facts(1000, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
        let alone = {
            let mut only_bank = IndicatorIndex::new();
            let k = only_bank.key(IndicatorKind::Iban, "NL91ABNA0417164300");
            only_bank.add(k, &facts(1000, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
            only_bank.view(k, &BANK, now, &policy)
        };
        let view = index.view(key, &BANK, now, &policy);
        assert_eq!(
            (view.status, view.reports, view.unverified_citizen_reports),
            (CheckStatus::Reported, 501, 0)
        );
        assert_eq!(view.unweighted_citizen_reports, 500);
        assert_eq!(view.score, alone.score, "500 unverified citizens do not move the score");
        assert_eq!(index.visible_reports(key, &BANK, now, &policy).len(), 501);
        assert_eq!(index.visible_reports(key, &BANK, now, &policy)[0], 1000, "newest first");

        // An operator may not see the AMBER bank report: for it nothing corroborates them.
        let operator = index.view(key, &OPERATOR, now, &policy);
        assert_eq!(
            (operator.status, operator.unverified_citizen_reports),
            (CheckStatus::NotReported, 500)
        );

        // Verified, a citizen report weighs; rejected, it counts nowhere.
        let mut other = IndicatorIndex::new();
        let k = other.key(IndicatorKind::Phone, "+31612345678");
        other.add(k, &citizen(1, 1, "2026-11-01T00:00:00Z"));
        other.add(k, &citizen(2, 2, "2026-11-01T00:00:00Z"));
        assert!(other.review(k, 1, CitizenReview::Verified));
        assert!(!other.review(k, 1, CitizenReview::Rejected), "a decision is final");
        assert!(other.review(k, 2, CitizenReview::Rejected));
        let view = other.view(k, &BANK, now, &policy);
        assert_eq!(
            (view.status, view.reports, view.unverified_citizen_reports),
            (CheckStatus::Reported, 1, 0)
        );
        assert!((view.evidence - policy.source_weight(PartnerKind::Citizen, false) * policy.decay(1.0)).abs() < 1e-9);
    }

    #[test]
    fn a_url_is_answered_for_its_domain() {
        let policy = ScoringPolicy::default();
        let now = t("2026-11-02T00:00:00Z");
        let mut index = IndicatorIndex::new();
        let reported = Indicator::parse(None, "https://www.evilshop6.nl/").expect("valid");
        let domain = Indicator::Domain(reported.checked_domain().expect("a domain").clone());
        index.add(
            index.key_of(&reported),
            &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
        );
        index.add(
            index.key_of(&domain),
            &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
        );
        let other = Indicator::parse(None, "https://evilshop6.nl/other").expect("valid");
        assert_eq!(
            index.view(index.key_of(&other), &BANK, now, &policy).status,
            CheckStatus::NotReported
        );
        let checked = index.check(&other, &BANK, now, &policy);
        assert_eq!(
            (checked.status, checked.answered_for_domain.as_deref()),
            (CheckStatus::Reported, Some("evilshop6.nl"))
        );
        assert!(
            checked.reasons()[0].contains("its domain evilshop6.nl is"),
            "{:?}",
            checked.reasons()
        );
        let own = index.check(&reported, &BANK, now, &policy);
        assert_eq!(own.answered_for_domain, None, "a reported URL answers for itself");
        // On a shared platform one reported page says nothing about the others.
        let form = Indicator::parse(None, "https://docs.google.com/forms/d/evil/viewform").expect("valid");
        index.add(
            index.key_of(&form),
            &facts(2, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
        );
        let shared = Indicator::Domain(crate::indicator::Domain::parse("docs.google.com").expect("valid"));
        index.add(
            index.key_of(&shared),
            &facts(3, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
        );
        let another_form = Indicator::parse(None, "https://docs.google.com/forms/d/fine/viewform").expect("valid");
        assert_eq!(index.check(&another_form, &BANK, now, &policy).status, CheckStatus::NotReported);
    }

    #[test]
    fn statuses_keep_the_newest_feed_position() {
        let mut index = IndicatorIndex::new();
        let key = index.key(IndicatorKind::Domain, "fake-shop.nl");
        assert!(index.set_status(key, IndicatorStatus::Disputed, 5));
        assert!(index.set_status(key, IndicatorStatus::Cleared, 7));
        assert!(
            !index.set_status(key, IndicatorStatus::Disputed, 5),
            "an older status arriving late"
        );
        assert!(index.set_status(key, IndicatorStatus::Cleared, 7), "the same status twice");
        assert_eq!(index.status(key), IndicatorStatus::Cleared);
        // Out of order from the start: the newest wins whatever the order of arrival.
        let mut shuffled = IndicatorIndex::new();
        let key = shuffled.key(IndicatorKind::Domain, "fake-shop.nl");
        for (status, position) in [
            (IndicatorStatus::Cleared, 9),
            (IndicatorStatus::Disputed, 3),
            (IndicatorStatus::Active, 1),
            (IndicatorStatus::Cleared, 9),
            (IndicatorStatus::Disputed, 3),
        ] {
            shuffled.set_status(key, status, position);
        }
        assert_eq!(shuffled.status(key), IndicatorStatus::Cleared);
    }

    #[test]
    fn public_view_needs_enough_public_partner_reports() {
        let policy = ScoringPolicy::default();
        let threshold = PublicThreshold::default();
        let now = t("2026-11-02T00:00:00Z");
        let mut index = IndicatorIndex::new();
        let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        let status = |index: &IndicatorIndex| index.public_view(key, now, &policy, &threshold).status;

        for (report, submitter) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4)] {
            index.add(key, &verified(report, submitter, "2026-11-01T00:00:00Z"));
        }
        for report in 20..200 {
            index.add(key, &citizen(report, report, "2026-11-01T00:00:00Z"));
        }
        assert_eq!(status(&index), CheckStatus::NotReported, "citizens alone are never enough");

        index.add(key, &facts(10, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
        index.add(key, &facts(11, 2, PartnerKind::Police, Tlp::Red, "2026-11-01T00:00:00Z"));
        assert_eq!(
            index
                .public_view(
                    key,
                    now,
                    &policy,
                    &PublicThreshold {
                        min_reports: 1.0,
                        citizen_weight: 0.0
                    }
                )
                .status,
            CheckStatus::NotReported,
            "AMBER and RED reports are not public"
        );

        index.add(key, &facts(12, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
        let strict = PublicThreshold {
            min_reports: 2.0,
            citizen_weight: 0.0,
        };
        assert_eq!(index.public_view(key, now, &policy, &strict).status, CheckStatus::NotReported);
        let view = index.public_view(key, now, &policy, &threshold);
        assert_eq!(
            view.status,
            CheckStatus::Reported,
            "one partner report and four distinct verified citizens"
        );
        let mut unverified_only = IndicatorIndex::new();
        let k = unverified_only.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        unverified_only.add(k, &facts(12, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
        for report in 20..200 {
            unverified_only.add(k, &citizen(report, report, "2026-11-01T00:00:00Z"));
        }
        assert_eq!(
            unverified_only.public_view(k, now, &policy, &threshold).status,
            CheckStatus::NotReported,
            "one partner report and 180 unverified citizens"
        );
        assert_eq!(view.fraud_types, vec![FraudType::Marketplace]);

        index.retract(key, 12);
        assert_eq!(status(&index), CheckStatus::NotReported, "retracted reports do not count");
        index.add(key, &facts(13, 3, PartnerKind::Helpdesk, Tlp::Clear, "2026-11-01T00:00:00Z"));
        index.add(key, &facts(14, 3, PartnerKind::Helpdesk, Tlp::Clear, "2026-11-01T00:00:00Z"));
        assert_eq!(status(&index), CheckStatus::Reported);
        index.set_status(key, IndicatorStatus::Disputed, 1);
        assert_eq!(status(&index), CheckStatus::Disputed);
        index.set_status(key, IndicatorStatus::Cleared, 2);
        assert_eq!(status(&index), CheckStatus::NotReported, "cleared is shown as not reported");
        index.set_status(key, IndicatorStatus::Active, 3);
        assert_eq!(status(&index), CheckStatus::Reported);
        assert_eq!(
            index.public_view(key, t("2029-01-01T00:00:00Z"), &policy, &threshold).status,
            CheckStatus::NotReported
        );
    }

    const BANK: Viewer = Viewer {
        partner: 10,
        kind: PartnerKind::Bank,
    };
    const POLICE: Viewer = Viewer {
        partner: 11,
        kind: PartnerKind::Police,
    };
    const OPERATOR: Viewer = Viewer {
        partner: 12,
        kind: PartnerKind::Operator,
    };

    #[test]
    fn aggregates_what_the_viewer_may_see() {
        let mut index = IndicatorIndex::new();
        let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        assert!(index.add(key, &facts(1, 1, PartnerKind::Police, Tlp::Green, "2026-10-01T00:00:00Z")));
        assert!(index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Amber, "2026-10-15T00:00:00Z")));
        assert!(index.add(key, &facts(3, 3, PartnerKind::Helpdesk, Tlp::AmberStrict, "2026-11-01T00:00:00Z")));
        assert!(index.add(key, &facts(4, 3, PartnerKind::Helpdesk, Tlp::Red, "2026-11-01T00:00:00Z")));
        assert!(
            !index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Amber, "2026-10-15T00:00:00Z")),
            "same report twice"
        );
        let now = t("2026-11-02T00:00:00Z");
        let policy = ScoringPolicy::default();

        let bank = index.view(key, &BANK, now, &policy);
        assert_eq!((bank.reports, bank.reporting_partners), (2, 2));
        assert_eq!(bank.last_seen.map(Timestamp::date_string).as_deref(), Some("2026-10-15"));
        assert_eq!(bank.damage, vec![Money::from_minor(50_000, Currency::EUR)]);

        let police = index.view(key, &POLICE, now, &policy);
        assert_eq!((police.reports, police.reporting_partners), (3, 3));

        let operator = index.view(key, &OPERATOR, now, &policy);
        assert_eq!(operator.reports, 1, "operators see only CLEAR and GREEN");

        let owner = index.view(
            key,
            &Viewer {
                partner: 3,
                kind: PartnerKind::Helpdesk,
            },
            now,
            &policy,
        );
        assert_eq!(owner.reports, 4, "the reporting organisation sees its own RED report");
        assert_eq!(index.visible_reports(key, &BANK, now, &policy), vec![2, 1]);
    }

    #[test]
    fn score_decays_and_weighs_sources() {
        let mut index = IndicatorIndex::new();
        let policy = ScoringPolicy::default();
        let key = index.key(IndicatorKind::Phone, "+31612345678");
        let mut police = facts(1, 1, PartnerKind::Police, Tlp::Green, "2026-11-01T00:00:00Z");
        police.aangifte = true;
        index.add(key, &police);
        let fresh = index.view(key, &BANK, t("2026-11-01T00:00:00Z"), &policy);
        assert!((fresh.evidence - 1.0).abs() < 1e-9);
        assert!((fresh.score - (1.0 - (-1.0f64).exp())).abs() < 1e-9);
        let later = index.view(key, &BANK, t("2027-04-30T00:00:00Z"), &policy);
        assert!((later.evidence - 0.5).abs() < 1e-9, "halved after 180 days: {}", later.evidence);
        let reasons = fresh.reasons().join(" | ");
        assert!(
            reasons.contains("1 report of marketplace fraud by 1 partner, last on 2026-11-01"),
            "{reasons}"
        );
        assert!(reasons.contains("backed by an aangifte"), "{reasons}");
        assert!(reasons.contains("1 from police (weight 1.00)"), "{reasons}");
    }

    #[test]
    fn retraction_status_and_expiry() {
        let mut index = IndicatorIndex::new();
        let policy = ScoringPolicy::default();
        let now = t("2026-11-02T00:00:00Z");
        let key = index.key(IndicatorKind::Domain, "fake-shop.nl");
        index.add(key, &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
        index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
        assert!(index.retract(key, 1));
        assert!(!index.retract(key, 1));
        assert_eq!(index.view(key, &BANK, now, &policy).reports, 1);

        index.set_status(key, IndicatorStatus::Disputed, 4);
        let disputed = index.view(key, &BANK, now, &policy);
        assert_eq!(disputed.status, CheckStatus::Disputed);
        assert!(disputed.reasons().iter().any(|r| r.contains("disputes")));

        index.set_status(key, IndicatorStatus::Cleared, 5);
        let cleared = index.view(key, &BANK, now, &policy);
        assert_eq!((cleared.status, cleared.reports), (CheckStatus::NotReported, 0));

        let old = index.key(IndicatorKind::Domain, "old-shop.nl");
        index.add(old, &facts(3, 1, PartnerKind::Bank, Tlp::Green, "2023-01-01T00:00:00Z"));
        let expired = index.view(old, &BANK, now, &policy);
        assert_eq!(
            (expired.status, expired.indicator_status),
            (CheckStatus::NotReported, IndicatorStatus::Expired)
        );

        let unknown = index.key(IndicatorKind::Domain, "never-reported.nl");
        assert_eq!(index.view(unknown, &BANK, now, &policy).status, CheckStatus::NotReported);
    }

    #[test]
    fn keys_differ_per_kind_and_per_process() {
        let a = IndicatorIndex::new();
        let b = IndicatorIndex::new();
        assert_ne!(a.key(IndicatorKind::Domain, "x.nl"), a.key(IndicatorKind::Url, "x.nl"));
        assert_ne!(a.key(IndicatorKind::Domain, "x.nl"), b.key(IndicatorKind::Domain, "x.nl"));
        assert_eq!(std::mem::size_of::<Contribution>(), 32);
    }
}
