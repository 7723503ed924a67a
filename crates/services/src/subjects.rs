//! Subject access (AVG article 15): everything Vangnet holds about one indicator, for the
//! person it concerns — each report naming it (under TLP: a report the requester may not read
//! is listed with its date, fraud type, source kind and marking, its text withheld), its status
//! history, disputes, objections and clearance reviews, every access to it recorded in the audit
//! log (found by its pseudonym and its reports' ids), and when each item will be deleted. The
//! export itself is audited as a subject-access request, so the next export lists it.
//!
//! The police and the operator ask (the HTTP API, the console); `vangnet subject export` asks
//! as the operator at the command line. The reports naming the value come from the index (the
//! server's, or one the command line loads), so report links need no second database index.
//! The wire and HTML shapes are the adapters' business.

use std::collections::HashMap;

use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent, organisation_of, subject_pseudonym};
use vangnet_core::index::{CitizenReview, IndicatorStatus};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, IndicatorRole, Tlp};
use vangnet_core::retention::RetentionPolicy;
use vangnet_core::subject_access::{AccessKind, EntryClass, MAX_EXPORT_ENTRIES, MAX_EXPORT_REPORTS, classify, hit_count};
use vangnet_store::{
    ClearanceReviewRow, DisputeEvent, DisputeRequestRow, DisputeRow, IndicatorRow, MAX_AUDIT_SUBJECTS, Partner, Store, StoreError,
};

use crate::state::Services;

/// Who did something, as the export names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// A partner organisation.
    Partner { name: String, kind: PartnerKind },
    /// Someone using the public check (anonymous: no address is kept).
    Public,
    /// The operator at the command line.
    Operator,
    /// The platform itself (the retention sweep, the schedulers).
    System,
    /// An actor the log names that is no longer known (a partner deleted since).
    Unknown,
}

/// Who asks for an export.
#[derive(Debug, Clone)]
pub struct Requester {
    /// The audit log's actor.
    pub actor: String,
    /// What the requester may read under TLP.
    pub viewer: Viewer,
}

impl Requester {
    /// The operator at the command line: reads under TLP as the operator kind does.
    pub fn command_line() -> Requester {
        Requester {
            actor: "cli".to_owned(),
            viewer: Viewer {
                partner: u32::MAX,
                kind: PartnerKind::Operator,
            },
        }
    }
}

/// One report naming the indicator.
#[derive(Debug, Clone)]
pub struct ExportedReport {
    pub id: String,
    pub received_at: Timestamp,
    pub occurred_at: Timestamp,
    pub fraud_type: FraudType,
    /// The kind of organisation that filed it (`citizen` for the public form).
    pub source: PartnerKind,
    pub tlp: Tlp,
    /// What the indicator was in the report (the seller's account, the caller's number …).
    pub role: IndicatorRole,
    pub aangifte: bool,
    /// The report's own words; `None` when it has none or [`ExportedReport::withheld`].
    pub text: Option<String>,
    /// The requester may not read this report under its TLP marking: its text is withheld
    /// (the reporting organisation answers for it).
    pub withheld: bool,
    pub retracted_at: Option<Timestamp>,
    /// A citizen report's review.
    pub review: Option<CitizenReview>,
    /// When retention deletes it.
    pub delete_at: Timestamp,
}

/// A status the indicator was given.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub at: Timestamp,
    pub status: IndicatorStatus,
    pub by: Party,
}

/// A dispute about the indicator, with its moves.
#[derive(Debug, Clone)]
pub struct ExportedDispute {
    pub row: DisputeRow,
    pub opener: Party,
    pub events: Vec<(DisputeEvent, Party)>,
    /// When it is deleted (`None` while it is open).
    pub delete_at: Option<Timestamp>,
}

/// An access to the indicator or one of its reports.
#[derive(Debug, Clone)]
pub struct Access {
    pub at: Timestamp,
    pub by: Party,
    pub kind: AccessKind,
    /// How many times (check hits are counted per partner and time window).
    pub count: u64,
}

/// An earlier subject-access export.
#[derive(Debug, Clone)]
pub struct EarlierExport {
    pub at: Timestamp,
    pub by: Party,
}

/// Everything held about one indicator.
#[derive(Debug, Clone)]
pub struct SubjectExport {
    pub kind: IndicatorKind,
    pub value: String,
    pub generated_at: Timestamp,
    pub requested_by: Party,
    /// The stored record (its status and counts), if there is one.
    pub record: Option<IndicatorRow>,
    pub reports: Vec<ExportedReport>,
    /// More than [`MAX_EXPORT_REPORTS`] reports name it; the oldest are listed.
    pub reports_truncated: bool,
    pub status_history: Vec<StatusChange>,
    pub disputes: Vec<ExportedDispute>,
    /// Objections through the public form, with when each is deleted (`None` while pending).
    pub objections: Vec<(DisputeRequestRow, Option<Timestamp>)>,
    /// Reviews after a clearing, with when each is deleted (`None` while open).
    pub clearance_reviews: Vec<(ClearanceReviewRow, Option<Timestamp>)>,
    pub accesses: Vec<Access>,
    pub earlier_exports: Vec<EarlierExport>,
    /// More than [`MAX_EXPORT_ENTRIES`] audit entries concern it; the oldest are listed.
    pub entries_truncated: bool,
}

/// Why an export is refused.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    #[error("only the police and the operator export what is held about a person")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a partner of `kind` may export.
pub fn may_export(kind: PartnerKind) -> bool {
    matches!(kind, PartnerKind::Police | PartnerKind::Operator)
}

/// The export. `reports` are the numbers of the reports naming the indicator, from an index
/// (the server's own; the command line loads one: [`IndicatorIndex::reports`]). `key` is the
/// audit pseudonym key; the export is audited under `requester`.
///
/// [`IndicatorIndex::reports`]: vangnet_core::index::IndicatorIndex::reports
#[allow(clippy::too_many_arguments)]
pub async fn export(
    store: &dyn Store,
    key: &[u8],
    policy: &RetentionPolicy,
    indicator: &Indicator,
    reports: &[u32],
    requester: &Requester,
    now: Timestamp,
) -> Result<SubjectExport, StoreError> {
    let (kind, value) = (indicator.kind(), indicator.canonical());
    let pseudonym = format!("indicator:{}", subject_pseudonym(key, kind, value));
    let parties = Parties::load(store).await?;
    let record = store.indicator(kind, value).await?;

    let mut seqs: Vec<i64> = reports.iter().map(|&r| i64::from(r)).collect();
    seqs.sort_unstable();
    let reports_truncated = seqs.len() > MAX_EXPORT_REPORTS as usize;
    seqs.truncate(MAX_EXPORT_REPORTS as usize);
    // Reports deleted since the index learned of them are simply not found.
    let stored = store.reports_by_seq(&seqs).await?;
    let mut cleared: HashMap<(IndicatorKind, String), Option<Timestamp>> = HashMap::new();
    // Every report names this value: its record is read already.
    cleared.insert(
        (kind, value.to_owned()),
        record
            .as_ref()
            .filter(|r| r.status == IndicatorStatus::Cleared)
            .and_then(|r| r.status_at),
    );
    let mut reports = Vec::with_capacity(stored.len());
    for report in &stored {
        // The report goes when its own term ends, or soon after any value it names was cleared.
        let mut cleared_at: Option<Timestamp> = None;
        for named in &report.indicators {
            let entry = (named.kind, named.value.clone());
            let at = match cleared.get(&entry) {
                Some(at) => *at,
                None => {
                    let row = store.indicator(named.kind, &named.value).await?;
                    let at = row.filter(|r| r.status == IndicatorStatus::Cleared).and_then(|r| r.status_at);
                    cleared.insert(entry, at);
                    at
                }
            };
            cleared_at = match (cleared_at, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let owner = u32::try_from(report.partner_seq).unwrap_or(u32::MAX);
        let visible = requester.viewer.may_see(report.tlp, owner);
        let role = report
            .indicators
            .iter()
            .find(|i| i.kind == kind && i.value == value)
            .map_or(IndicatorRole::Other, |i| i.role);
        reports.push(ExportedReport {
            id: report.id.clone(),
            received_at: report.received_at,
            occurred_at: report.occurred_at,
            fraud_type: report.fraud_type,
            source: report.partner_kind,
            tlp: report.tlp,
            role,
            aangifte: report.aangifte,
            text: if visible { report.description.clone() } else { None },
            withheld: !visible,
            retracted_at: report.retraction.as_ref().map(|r| r.at),
            review: report.is_citizen().then(|| report.citizen_review()),
            delete_at: policy.delete_at(report.fraud_type, report.partner_kind, report.received_at, cleared_at),
        });
    }

    let mut disputes = Vec::new();
    for row in store.disputes_of(kind, value).await? {
        let events = store
            .dispute_events(&row.id)
            .await?
            .into_iter()
            .map(|e| {
                let by = parties.of(&e.actor);
                (e, by)
            })
            .collect();
        disputes.push(ExportedDispute {
            opener: parties.of(&format!("partner:{}", row.opener_id)),
            delete_at: policy.decided_delete_at(row.decided_at),
            events,
            row,
        });
    }
    let objections = store
        .dispute_requests_about(kind, value)
        .await?
        .into_iter()
        .map(|r| {
            let at = policy.decided_delete_at(r.decided_at);
            (r, at)
        })
        .collect();
    let clearance_reviews = store
        .clearance_reviews_about(kind, value)
        .await?
        .into_iter()
        .map(|r| {
            let at = policy.decided_delete_at(r.closed_at);
            (r, at)
        })
        .collect();

    let mut subjects = vec![pseudonym.clone()];
    subjects.extend(stored.iter().map(|r| format!("report:{}", r.id)));
    let (entries, entries_truncated) = audit_about(store, &subjects).await?;
    let mut accesses = Vec::new();
    let mut earlier_exports = Vec::new();
    let mut status_history = Vec::new();
    for entry in entries {
        let by = parties.of(&entry.actor);
        match classify(&entry.action, &entry.details) {
            EntryClass::Access(kind) => accesses.push(Access {
                at: entry.at,
                by,
                kind,
                count: hit_count(&entry.details),
            }),
            EntryClass::Status(status) => status_history.push(StatusChange { at: entry.at, status, by }),
            EntryClass::Export => earlier_exports.push(EarlierExport { at: entry.at, by }),
            EntryClass::Other => {}
        }
    }

    let reports_listed = reports.len();
    let export = SubjectExport {
        kind,
        value: value.to_owned(),
        generated_at: now,
        requested_by: parties.of(&requester.actor),
        record,
        reports,
        reports_truncated,
        status_history,
        disputes,
        objections,
        clearance_reviews,
        accesses,
        earlier_exports,
        entries_truncated,
    };
    store
        .append_audit(&[AuditEvent {
            at: now,
            actor: requester.actor.clone(),
            action: AuditAction::SubjectExport,
            subject: pseudonym,
            details: serde_json::json!({ "reports": reports_listed, "accesses": export.accesses.len() }).to_string(),
        }])
        .await?;
    Ok(export)
}

/// The audit entries about any of `subjects`, oldest first, at most [`MAX_EXPORT_ENTRIES`]
/// (and whether there were more).
async fn audit_about(store: &dyn Store, subjects: &[String]) -> Result<(Vec<vangnet_core::audit::AuditEntry>, bool), StoreError> {
    const PAGE: u32 = 5_000;
    let mut entries = Vec::new();
    for chunk in subjects.chunks(MAX_AUDIT_SUBJECTS) {
        let mut after = 0;
        loop {
            let page = store.audit_about(chunk, after, PAGE).await?;
            let full = page.len() == PAGE as usize;
            if let Some(last) = page.last() {
                after = last.seq;
            }
            entries.extend(page);
            if !full || entries.len() > MAX_EXPORT_ENTRIES as usize {
                break;
            }
        }
    }
    entries.sort_by_key(|e| e.seq);
    let truncated = entries.len() > MAX_EXPORT_ENTRIES as usize;
    entries.truncate(MAX_EXPORT_ENTRIES as usize);
    Ok((entries, truncated))
}

/// The partners by public id, to name the actors of the log.
struct Parties(HashMap<String, (String, PartnerKind)>);

impl Parties {
    async fn load(store: &dyn Store) -> Result<Parties, StoreError> {
        Ok(Parties(
            store.partners().await?.into_iter().map(|p| (p.id, (p.name, p.kind))).collect(),
        ))
    }

    fn of(&self, actor: &str) -> Party {
        if actor == "public" {
            return Party::Public;
        }
        if actor == "cli" {
            return Party::Operator;
        }
        if actor.starts_with("system:") {
            return Party::System;
        }
        match organisation_of(actor).strip_prefix("partner:").and_then(|id| self.0.get(id)) {
            Some((name, kind)) => Party::Partner {
                name: name.clone(),
                kind: *kind,
            },
            None => Party::Unknown,
        }
    }
}

impl Services {
    /// The export for `partner` (the police or the operator), audited.
    pub async fn export_subject(&self, partner: &Partner, indicator: &Indicator) -> Result<SubjectExport, SubjectError> {
        if !may_export(partner.kind) {
            return Err(SubjectError::Forbidden);
        }
        let requester = Requester {
            actor: partner.actor(),
            viewer: partner.viewer(),
        };
        let reports = {
            let index = self.index();
            index.reports(index.key_of(indicator))
        };
        Ok(export(
            self.store.as_ref(),
            self.registry.key(),
            &self.settings.retention,
            indicator,
            &reports,
            &requester,
            self.now(),
        )
        .await?)
    }
}
