//! The audit log's hash chain.
//!
//! Every entry carries the SHA-256 of its own fields and of the previous entry's hash, and
//! sequence numbers have no gaps, so changing or removing any entry breaks the chain from that
//! point on. The store also keeps the chain head (last sequence number and hash) in a row of
//! its own, written in the same transaction, so cutting entries off the end is detected too;
//! an operator who records the head elsewhere can detect even a rewrite of the whole table.
//!
//! Audit entries never hold personal data in the clear: an indicator is named by a keyed hash
//! ([`subject_pseudonym`]), which answers "who looked at this IBAN?" for whoever holds the key
//! and the IBAN, and nothing for anyone else.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::indicator::IndicatorKind;
use crate::timestamp::Timestamp;

/// The hash the first entry links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    ReportCreate,
    ReportRetract,
    IndicatorRead,
    ReportRead,
    IndicatorStatus,
    CheckHits,
    PartnerCreate,
    TokenCreate,
    TokenRevoke,
    CallListChange,
    SignalRead,
    SignalOptOut,
    PnbfCaseOpen,
    PnbfCaseRead,
    PnbfCaseMove,
    PnbfNawRead,
    PnbfDirectoryChange,
    /// A reviewer read citizen reports in the triage queue (the submitters' own words).
    CitizenReportRead,
    /// A reviewer verified or rejected a citizen report.
    CitizenReportReview,
    /// A dispute was opened about an indicator.
    DisputeOpen,
    /// A dispute was decided or withdrawn.
    DisputeMove,
    /// A partner read a dispute (the person's reason and the history).
    DisputeRead,
    /// A reviewer read the objections people sent through the public form.
    DisputeRequestRead,
    /// A reviewer turned an objection from the public form into a dispute, or declined it.
    DisputeRequestDecide,
    /// A reviewer decided about a cleared indicator that a new report named.
    ClearanceReview,
    /// Reports past their retention term were deleted.
    RetentionDelete,
    /// An operator erased a report.
    ReportErase,
    /// Everything held about one indicator was exported for the person concerned (AVG art. 15).
    SubjectExport,
    /// A partner read one account's mule flags and score (or saw its IBAN in an alert).
    MuleAccountRead,
    /// A partner read a page of its mule alerts.
    MuleAlertsRead,
    /// A partner read the network around an indicator (or saw the indicator in one).
    NetworkRead,
}

impl AuditAction {
    /// The stable key stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::ReportCreate => "report.create",
            AuditAction::ReportRetract => "report.retract",
            AuditAction::IndicatorRead => "indicator.read",
            AuditAction::ReportRead => "report.read",
            AuditAction::IndicatorStatus => "indicator.status",
            AuditAction::CheckHits => "check.hits",
            AuditAction::PartnerCreate => "partner.create",
            AuditAction::TokenCreate => "token.create",
            AuditAction::CallListChange => "call_list.change",
            AuditAction::SignalRead => "signal.on_call",
            AuditAction::SignalOptOut => "signal.opt_out",
            AuditAction::TokenRevoke => "token.revoke",
            AuditAction::PnbfCaseOpen => "pnbf.case.open",
            AuditAction::PnbfCaseRead => "pnbf.case.read",
            AuditAction::PnbfCaseMove => "pnbf.case.move",
            AuditAction::PnbfNawRead => "pnbf.naw.read",
            AuditAction::PnbfDirectoryChange => "pnbf.directory.change",
            AuditAction::CitizenReportRead => "citizen_report.read",
            AuditAction::CitizenReportReview => "citizen_report.review",
            AuditAction::DisputeOpen => "dispute.open",
            AuditAction::DisputeMove => "dispute.move",
            AuditAction::DisputeRead => "dispute.read",
            AuditAction::DisputeRequestRead => "dispute_request.read",
            AuditAction::DisputeRequestDecide => "dispute_request.decide",
            AuditAction::ClearanceReview => "clearance_review.close",
            AuditAction::RetentionDelete => "retention.delete",
            AuditAction::ReportErase => "report.erase",
            AuditAction::SubjectExport => "subject.export",
            AuditAction::MuleAccountRead => "mule.account.read",
            AuditAction::MuleAlertsRead => "mule.alerts.read",
            AuditAction::NetworkRead => "network.read",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organisation an actor names: `partner:<id>` of `partner:<id>/<token id>` (what a
/// partner did with one of its tokens), anything else as it is.
pub fn organisation_of(actor: &str) -> &str {
    match actor.strip_prefix("partner:") {
        Some(rest) => rest.split_once('/').map_or(actor, |(id, _)| &actor[..8 + id.len()]),
        None => actor,
    }
}

/// An entry before it is chained: who did what to what, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Timestamp,
    /// `partner:<id>` for a partner, `cli` for an operator at the command line.
    pub actor: String,
    pub action: AuditAction,
    /// What was touched: `report:<id>`, `indicator:<kind>:<pseudonym>`, `partner:<id>` …
    pub subject: String,
    /// Further facts as compact JSON text, never personal data.
    pub details: String,
}

/// A chained entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Chains an event after the entry with sequence number `seq - 1` and hash `prev_hash`.
    pub fn chain(event: &AuditEvent, seq: u64, prev_hash: &str) -> AuditEntry {
        let action = event.action.as_str().to_owned();
        let hash = entry_hash(prev_hash, seq, event.at, &event.actor, &action, &event.subject, &event.details);
        AuditEntry {
            seq,
            at: event.at,
            actor: event.actor.clone(),
            action,
            subject: event.subject.clone(),
            details: event.details.clone(),
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }
}

/// SHA-256 over the previous hash and every field, each length-prefixed so no two different
/// entries can encode to the same bytes.
pub fn entry_hash(prev_hash: &str, seq: u64, at: Timestamp, actor: &str, action: &str, subject: &str, details: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash.as_bytes(),
        &seq.to_be_bytes(),
        &at.millis().to_be_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        subject.as_bytes(),
        details.as_bytes(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditBreak {
    #[error("entry {found} follows entry {previous}: entries in between were removed")]
    Gap { previous: u64, found: u64 },
    #[error("entry {seq} does not link to the entry before it: an earlier entry was changed or removed")]
    Link { seq: u64 },
    #[error("entry {seq} was changed after it was written: its hash does not match its content")]
    Altered { seq: u64 },
    #[error("the log ends at entry {last} but its recorded head is entry {head}: entries were removed from the end")]
    Truncated { last: u64, head: u64 },
    #[error("the log's head hash differs from the recorded head: the end of the log was rewritten")]
    HeadMismatch,
    #[error("the log's head is {actual}, not the expected {expected}")]
    ExpectedHead { expected: String, actual: String },
}

impl AuditBreak {
    /// The first sequence number that cannot be trusted, when there is one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            AuditBreak::Gap { found, .. } => Some(*found),
            AuditBreak::Link { seq } | AuditBreak::Altered { seq } => Some(*seq),
            AuditBreak::Truncated { last, .. } => Some(last + 1),
            AuditBreak::HeadMismatch | AuditBreak::ExpectedHead { .. } => None,
        }
    }
}

/// Checks entries one at a time, in sequence order, so a log of any size streams through.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    last_seq: u64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    /// A verifier expecting entry 1.
    pub fn new() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
        }
    }

    /// Checks the next entry.
    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), AuditBreak> {
        if entry.seq != self.last_seq + 1 {
            return Err(AuditBreak::Gap {
                previous: self.last_seq,
                found: entry.seq,
            });
        }
        if entry.prev_hash != self.last_hash {
            return Err(AuditBreak::Link { seq: entry.seq });
        }
        let expected = entry_hash(
            &entry.prev_hash,
            entry.seq,
            entry.at,
            &entry.actor,
            &entry.action,
            &entry.subject,
            &entry.details,
        );
        if expected != entry.hash {
            return Err(AuditBreak::Altered { seq: entry.seq });
        }
        self.last_seq = entry.seq;
        self.last_hash = entry.hash.clone();
        Ok(())
    }

    /// Compares the end of the chain with the head the store recorded.
    pub fn finish(&self, recorded_head: Option<(u64, &str)>) -> Result<(u64, String), AuditBreak> {
        let (head_seq, head_hash) = recorded_head.unwrap_or((0, GENESIS_HASH));
        if head_seq > self.last_seq {
            return Err(AuditBreak::Truncated {
                last: self.last_seq,
                head: head_seq,
            });
        }
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(AuditBreak::HeadMismatch);
        }
        Ok((self.last_seq, self.last_hash.clone()))
    }
}

/// The keyed pseudonym of an indicator for audit subjects: `<kind>:<32 hex digits>`.
pub fn subject_pseudonym(key: &[u8], kind: IndicatorKind, canonical: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| {
        // HMAC takes keys of any length; this branch cannot be reached.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&[0u8; 32]).expect("a 32-byte key is valid")
    });
    mac.update(kind.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(canonical.as_bytes());
    let digest = mac.finalize().into_bytes();
    format!("{}:{}", kind.as_str(), hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_of_an_actor() {
        assert_eq!(organisation_of("partner:p-1/t-9"), "partner:p-1");
        assert_eq!(organisation_of("partner:p-1"), "partner:p-1");
        assert_eq!(organisation_of("cli"), "cli");
        assert_eq!(organisation_of("system"), "system");
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent {
                    at: Timestamp::from_millis(1_700_000_000_000 + seq as i64),
                    actor: "partner:1".into(),
                    action: AuditAction::ReportCreate,
                    subject: format!("report:{seq}"),
                    details: "{}".into(),
                };
                let entry = AuditEntry::chain(&event, seq, &prev);
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head: Option<(u64, &str)>) -> Result<(u64, String), AuditBreak> {
        let mut v = ChainVerifier::new();
        for e in entries {
            v.check(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        let entries = chain(5);
        let head = entries.last().map(|e| (e.seq, e.hash.as_str()));
        assert_eq!(verify(&entries, head).map(|(n, _)| n), Ok(5));
    }

    #[test]
    fn detects_alteration_removal_and_truncation() {
        let entries = chain(5);
        let head = entries.last().map(|e| (e.seq, e.hash.clone())).expect("entries");
        let head = Some((head.0, head.1.as_str()));

        let mut altered = entries.clone();
        altered[2].details = "{\"changed\":true}".into();
        assert_eq!(verify(&altered, head), Err(AuditBreak::Altered { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, head), Err(AuditBreak::Gap { previous: 1, found: 3 }));

        let mut renumbered = entries.clone();
        renumbered.remove(1);
        for (i, e) in renumbered.iter_mut().enumerate() {
            e.seq = i as u64 + 1;
        }
        assert_eq!(verify(&renumbered, head), Err(AuditBreak::Link { seq: 2 }));

        let truncated = &entries[..3];
        assert_eq!(verify(truncated, head), Err(AuditBreak::Truncated { last: 3, head: 5 }));
    }

    #[test]
    fn pseudonyms_are_keyed() {
        let a = subject_pseudonym(b"key-a", IndicatorKind::Iban, "NL91ABNA0417164300");
        let b = subject_pseudonym(b"key-b", IndicatorKind::Iban, "NL91ABNA0417164300");
        assert!(a.starts_with("iban:") && a.len() == 5 + 32);
        assert_ne!(a, b);
        assert!(!a.contains("NL91"));
    }
}
