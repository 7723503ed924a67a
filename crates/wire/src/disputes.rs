//! The dispute wire shapes: a dispute to open and a move on it, a dispute as its reader sees
//! it (with the moves the reader may make), the figures, the objections from the public form
//! and the reviews of cleared indicators. The API routes and the console build their answers
//! from these.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::dispute::{ClearanceOutcome, DisputeMove};
use vangnet_core::indicator::Indicator;
use vangnet_services::disputes::{Dispute, DisputeFigures};
use vangnet_store::{ClearanceReviewRow, DisputeEvent, DisputeRequestRow, Partner};

use crate::error::WireError;
use crate::registry::parse_kind;

/// A dispute to open, on behalf of the person concerned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeIn {
    /// iban, phone, url, domain, email, crypto or handle.
    #[schema(example = "iban")]
    pub kind: String,
    #[schema(example = "NL91ABNA0417164300")]
    pub value: String,
    /// Why the listing is wrong, in the person's or the partner's words (1 to 2,000
    /// characters). Only the dispute's readers (its opener and deciders) see it.
    #[schema(example = "The holder sold the bicycle and can show the delivery receipt.")]
    pub reason: String,
}

impl DisputeIn {
    pub fn indicator(&self) -> Result<Indicator, WireError> {
        let kind = parse_kind(Some(&self.kind), "kind")?;
        Indicator::parse(kind, &self.value).map_err(|e| WireError::indicator(&e, "value"))
    }
}

/// A decision on an open dispute.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// `upheld` (the listing goes: the indicator becomes `cleared`) or `rejected` (it stays).
    #[schema(example = "upheld")]
    pub outcome: String,
    /// Why (1 to 2,000 characters).
    pub reason: String,
    /// The dispute's `version` the decision was made on; a move made in between → 409
    /// `dispute_changed`.
    pub version: Option<i64>,
}

impl DecisionIn {
    pub fn outcome(&self) -> Result<DisputeMove, WireError> {
        DisputeMove::decision(&self.outcome)
            .ok_or_else(|| WireError::invalid("invalid_outcome", "outcome", "outcome must be upheld or rejected"))
    }
}

/// Withdrawing a dispute (its opener or the operator).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawIn {
    /// Why (1 to 2,000 characters).
    pub reason: String,
    pub version: Option<i64>,
}

/// A move of a dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeEventOut {
    pub at: String,
    /// `opened`, `upheld`, `rejected` or `withdrawn`.
    pub event: String,
    /// `partner:<id>` of the mover.
    pub actor: String,
    pub reason: String,
}

/// The partner that opened a dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenerOut {
    pub id: String,
    pub name: String,
}

/// A dispute as its reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeOut {
    pub id: String,
    pub kind: String,
    pub value: String,
    /// `open`, `upheld`, `rejected` or `withdrawn`.
    pub state: String,
    pub reason: String,
    pub opened_by: OpenerOut,
    pub opened_at: String,
    /// When the decision is due.
    pub due_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// Open past its due date.
    pub overdue: bool,
    /// Open, and the reminder before the due date is due.
    pub due_soon: bool,
    /// The indicator's main fraud type (it decides who decides), if any report names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fraud_type: Option<String>,
    /// Grows with every move; send it with a move to make sure nobody moved it in between.
    pub version: i64,
    /// The moves this reader may make now: `upheld`, `rejected`, `withdrawn`.
    pub moves: Vec<String>,
    /// The history, oldest first (on the dispute's own resource only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<DisputeEventOut>>,
}

/// A dispute as `reader` sees it; `partners` names the opener.
pub fn dispute_out(dispute: &Dispute, partners: &[Partner], events: Option<&[DisputeEvent]>) -> DisputeOut {
    let row = &dispute.row;
    let name = partners
        .iter()
        .find(|p| p.seq == row.opener_seq)
        .map_or_else(|| row.opener_id.clone(), |p| p.name.clone());
    DisputeOut {
        id: row.id.clone(),
        kind: row.kind.as_str().to_owned(),
        value: row.value.clone(),
        state: row.state.as_str().to_owned(),
        reason: row.reason.clone(),
        opened_by: OpenerOut {
            id: row.opener_id.clone(),
            name,
        },
        opened_at: row.opened_at.to_rfc3339(),
        due_at: row.due_at.to_rfc3339(),
        decided_at: row.decided_at.map(|t| t.to_rfc3339()),
        overdue: dispute.overdue,
        due_soon: dispute.due_soon,
        fraud_type: dispute.fraud_type.map(|t| t.as_str().to_owned()),
        version: row.version,
        moves: dispute.moves.iter().map(|m| m.as_str().to_owned()).collect(),
        events: events.map(|events| {
            events
                .iter()
                .map(|e| DisputeEventOut {
                    at: e.at.to_rfc3339(),
                    event: e.event.clone(),
                    actor: vangnet_core::audit::organisation_of(&e.actor).to_owned(),
                    reason: e.reason.clone(),
                })
                .collect()
        }),
    }
}

/// The dispute figures (operator and deciders).
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputeFiguresOut {
    pub opened: u64,
    pub open: u64,
    pub overdue: u64,
    pub upheld: u64,
    pub rejected: u64,
    pub withdrawn: u64,
    /// Decisions made after their due date.
    pub decided_late: u64,
    /// Median days from opening to a decision (upheld or rejected); absent before the first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_days_to_decision: Option<f64>,
}

impl From<&DisputeFigures> for DisputeFiguresOut {
    fn from(f: &DisputeFigures) -> Self {
        DisputeFiguresOut {
            opened: f.opened,
            open: f.open,
            overdue: f.overdue,
            upheld: f.upheld,
            rejected: f.rejected,
            withdrawn: f.withdrawn,
            decided_late: f.decided_late,
            median_days_to_decision: f.median_days_to_decision.map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

/// An objection a person sent through the public form.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionOut {
    pub id: String,
    pub kind: String,
    pub value: String,
    /// The person's own words.
    pub reason: String,
    /// How to answer the person, if they gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The form's language: `nl` or `en`.
    pub language: String,
    pub received_at: String,
    /// `pending`, `accepted` or `declined`.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_reason: Option<String>,
    /// The dispute an accepted objection became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dispute_id: Option<String>,
}

impl From<&DisputeRequestRow> for ObjectionOut {
    fn from(r: &DisputeRequestRow) -> Self {
        ObjectionOut {
            id: r.id.clone(),
            kind: r.kind.as_str().to_owned(),
            value: r.value.clone(),
            reason: r.reason.clone(),
            contact: r.contact.clone(),
            language: r.language.clone(),
            received_at: r.received_at.to_rfc3339(),
            state: r.state.as_str().to_owned(),
            decided_at: r.decided_at.map(|t| t.to_rfc3339()),
            decision_reason: r.decision_reason.clone(),
            dispute_id: r.dispute_id.clone(),
        }
    }
}

/// A reviewer's decision about an objection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionDecisionIn {
    /// `accept` (opens a dispute in your partner's name, with the person's reason) or
    /// `decline`.
    #[schema(example = "accept")]
    pub decision: String,
    /// Your reason (1 to 2,000 characters); for `decline`, what the person is told.
    pub reason: String,
}

/// A review of a cleared indicator that a new report named.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClearanceReviewOut {
    pub id: i64,
    pub kind: String,
    pub value: String,
    /// The first report that named it after it was cleared.
    pub report_id: String,
    pub opened_at: String,
    /// Reports that named it while the review was open.
    pub reports: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// `kept_cleared` or `reactivated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&ClearanceReviewRow> for ClearanceReviewOut {
    fn from(r: &ClearanceReviewRow) -> Self {
        ClearanceReviewOut {
            id: r.seq,
            kind: r.kind.as_str().to_owned(),
            value: r.value.clone(),
            report_id: r.report_id.clone(),
            opened_at: r.opened_at.to_rfc3339(),
            reports: r.reports,
            closed_at: r.closed_at.map(|t| t.to_rfc3339()),
            outcome: r.outcome.map(|o| o.as_str().to_owned()),
            reason: r.reason.clone(),
        }
    }
}

/// A decision about a cleared indicator that a new report named.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClearanceDecisionIn {
    /// `kept_cleared` or `reactivated`.
    #[schema(example = "kept_cleared")]
    pub outcome: String,
    pub reason: String,
}

impl ClearanceDecisionIn {
    pub fn outcome(&self) -> Result<ClearanceOutcome, WireError> {
        ClearanceOutcome::from_key(&self.outcome)
            .ok_or_else(|| WireError::invalid("invalid_outcome", "outcome", "outcome must be kept_cleared or reactivated"))
    }
}
