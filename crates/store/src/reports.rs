//! Reports, the indicator records they touch and the change feed.

use async_trait::async_trait;
use vangnet_core::index::{CitizenReview, IndicatorIndex, IndicatorStatus, ReportFacts};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{AgeBand, Channel, FraudType, IndicatorRole, NewReport, Tlp};
use vangnet_core::{Money, Timestamp};

use crate::{Partner, StoreError};

/// An indicator as named in a stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIndicator {
    pub kind: IndicatorKind,
    pub value: String,
    pub role: IndicatorRole,
    pub derived: bool,
}

/// The retraction of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retraction {
    pub at: Timestamp,
    pub by_partner_id: String,
    pub reason: Option<String>,
}

/// A reviewer's decision about a citizen report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportReview {
    pub outcome: CitizenReview,
    pub at: Timestamp,
    pub by_partner_id: String,
    pub note: Option<String>,
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReport {
    pub seq: i64,
    pub id: String,
    pub partner_seq: i64,
    pub partner_id: String,
    pub partner_name: String,
    pub partner_kind: PartnerKind,
    pub external_id: Option<String>,
    pub fraud_type: FraudType,
    pub channel: Option<Channel>,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
    pub amount: Option<Money>,
    pub aangifte: bool,
    pub victim_age_band: AgeBand,
    pub tlp: Tlp,
    pub description: Option<String>,
    /// For citizen reports: the submitter's pseudonym (a keyed hash).
    pub submitter: Option<String>,
    pub indicators: Vec<StoredIndicator>,
    pub retraction: Option<Retraction>,
    /// For citizen reports: the reviewer's decision, once made.
    pub review: Option<ReportReview>,
}

impl StoredReport {
    /// Whether this report came from a citizen (the public web form).
    pub fn is_citizen(&self) -> bool {
        self.partner_kind == PartnerKind::Citizen
    }

    /// The review state of a citizen report (`Unverified` until a reviewer decides).
    pub fn citizen_review(&self) -> CitizenReview {
        self.review.as_ref().map_or(CitizenReview::Unverified, |r| r.outcome)
    }

    /// The facts the index keeps about this report, for each of its indicators.
    pub fn index_links(&self) -> Vec<(IndicatorKind, &str, ReportFacts)> {
        let facts = ReportFacts {
            report: u32::try_from(self.seq).unwrap_or(u32::MAX),
            partner: u32::try_from(self.partner_seq).unwrap_or(u32::MAX),
            source: self.partner_kind,
            fraud_type: self.fraud_type,
            tlp: self.tlp,
            occurred_at: self.occurred_at,
            amount: self.amount,
            aangifte: self.aangifte,
            retracted: self.retraction.is_some(),
            mule: false,
            submitter: self.submitter.as_deref().map_or(0, submitter_tag),
            review: self.citizen_review(),
        };
        self.indicators
            .iter()
            .map(|i| {
                let mule = i.role == IndicatorRole::Mule;
                (i.kind, i.value.as_str(), ReportFacts { mule, ..facts })
            })
            .collect()
    }
}

/// The id of the platform-internal source under which citizens' reports are filed (made by
/// migration 2; not a partner organisation, never has tokens, not listed among partners).
pub const CITIZEN_SOURCE_ID: &str = "00000000-0000-7000-8000-000000000001";

/// The index's 32-bit tag of a submitter pseudonym (its first eight hex digits).
pub fn submitter_tag(pseudonym: &str) -> u32 {
    pseudonym.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok()).unwrap_or_else(|| {
        pseudonym
            .bytes()
            .fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
    })
}

/// What happened to one report of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// Stored now.
    Created(StoredReport),
    /// The partner sent this `external_id` before with the same content; nothing was stored.
    /// `id` is the stored report's (read it with [`ReportStore::report`] when needed).
    Existing { id: String },
    /// The partner sent this `external_id` before with different content; nothing was stored.
    Conflict { existing_id: String },
}

/// What happened to a retraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetractOutcome {
    Retracted(StoredReport),
    AlreadyRetracted(StoredReport),
    NotFound,
    /// Only the partner that filed a report, or the police, may retract it.
    NotAllowed,
}

/// The stored record of an indicator: its review status and facts. Report counts per reader
/// come from the index, which applies TLP; the totals here include every report.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub kind: IndicatorKind,
    pub value: String,
    pub status: IndicatorStatus,
    pub status_reason: Option<String>,
    pub status_at: Option<Timestamp>,
    pub reports: i64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    pub country: Option<String>,
    pub bank_code: Option<String>,
    pub mixed_script: bool,
    pub confusable: bool,
    /// Reports per fraud type, in [`FraudType::ALL`] order.
    pub fraud_types: [i64; vangnet_core::report::FRAUD_TYPE_COUNT],
}

/// One entry of the change feed, which lets every server node's index follow writes made
/// elsewhere (another node, or `vangnet import` on the command line).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub at: Timestamp,
    pub event: ChangeEvent,
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeEvent {
    /// A report was stored; it is given whole so the index can add its links.
    Report(Box<StoredReport>),
    /// A report was retracted; its indicators are listed.
    Retraction {
        report_seq: i64,
        indicators: Vec<(IndicatorKind, String)>,
    },
    /// An indicator's review status changed (last writer wins, by the change's `seq`).
    Status {
        kind: IndicatorKind,
        value: String,
        status: IndicatorStatus,
    },
    /// A report was deleted (retention or erasure); one event per indicator it named.
    Deletion {
        report_seq: i64,
        kind: IndicatorKind,
        value: String,
    },
    /// A reviewer verified or rejected a citizen report; its indicators are listed.
    Review {
        report_seq: i64,
        review: CitizenReview,
        indicators: Vec<(IndicatorKind, String)>,
    },
}

/// The largest number of reports one `insert_reports` call takes.
pub const MAX_INSERT_BATCH: usize = 20_000;

/// Reports, the indicator records they touch, and the change feed that lets every node's index
/// follow them.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores reports from one partner (at most [`MAX_INSERT_BATCH`]), with their indicator
    /// records, change-feed rows and audit entries, in one transaction. Reports whose
    /// `external_id` the partner used before are not stored again.
    async fn insert_reports(
        &self,
        partner: &Partner,
        reports: &[NewReport],
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<InsertOutcome>, StoreError>;

    /// Retracts a report (by the partner that filed it, or by the police).
    async fn retract_report(
        &self,
        report_id: &str,
        by: &Partner,
        reason: Option<&str>,
        now: Timestamp,
    ) -> Result<RetractOutcome, StoreError>;

    /// A report by its public id.
    async fn report(&self, id: &str) -> Result<Option<StoredReport>, StoreError>;

    /// Reports by sequence number, in the order asked; unknown numbers are skipped.
    async fn reports_by_seq(&self, seqs: &[i64]) -> Result<Vec<StoredReport>, StoreError>;

    /// Sets the review status of an indicator, audited under `audit_subject` (the indicator's
    /// pseudonym: the audit log holds no indicator values). Returns the change-feed position
    /// the status was written at (statuses are last-writer-wins by this position).
    #[allow(clippy::too_many_arguments)]
    async fn set_indicator_status(
        &self,
        kind: IndicatorKind,
        value: &str,
        status: IndicatorStatus,
        reason: Option<&str>,
        actor: &str,
        audit_subject: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError>;

    /// The stored record of an indicator.
    async fn indicator(&self, kind: IndicatorKind, value: &str) -> Result<Option<IndicatorRow>, StoreError>;

    /// Fills an index with every report link and status; returns it with the change-feed
    /// position it reflects.
    async fn load_index(&self, index: IndicatorIndex) -> Result<(IndicatorIndex, i64), StoreError>;

    /// Changes after feed position `after`, oldest first, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>, StoreError>;

    /// The newest feed position.
    async fn feed_head(&self) -> Result<i64, StoreError>;

    /// Deletes change-feed rows older than `before` (the index loads from the tables
    /// themselves at start; the feed only serves nodes that are running).
    async fn prune_changes(&self, before: Timestamp) -> Result<u64, StoreError>;
}
