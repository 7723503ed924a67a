//! The subject-access export as JSON (`GET /api/v1/subjects/{kind}/{value}/export`,
//! `vangnet subject export`): every field a key or a time stamp, for a machine; the printable
//! page says the same in plain Dutch.

use serde::Serialize;
use utoipa::ToSchema;
use vangnet_core::Timestamp;
use vangnet_services::subjects::{Party, SubjectExport};

/// Who did something.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActorOut {
    /// `partner`, `public` (the public check, anonymous), `operator` (the command line),
    /// `system` (the retention sweep, the schedulers) or `unknown` (a partner removed since).
    pub kind: &'static str,
    /// The organisation's name, for a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The organisation's kind (`bank`, `police` …), for a partner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_kind: Option<&'static str>,
}

impl ActorOut {
    pub fn of(party: &Party) -> ActorOut {
        let (kind, name, partner_kind) = match party {
            Party::Partner { name, kind } => ("partner", Some(name.clone()), Some(kind.as_str())),
            Party::Public => ("public", None, None),
            Party::Operator => ("operator", None, None),
            Party::System => ("system", None, None),
            Party::Unknown => ("unknown", None, None),
        };
        ActorOut { kind, name, partner_kind }
    }
}

/// The indicator's stored record.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectRecordOut {
    /// `active`, `disputed`, `cleared` or `expired`.
    pub status: &'static str,
    pub status_at: Option<String>,
    pub reports: i64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

/// One report naming the indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectReportOut {
    pub id: String,
    pub received_at: String,
    pub occurred_at: String,
    pub fraud_type: &'static str,
    /// The kind of organisation that filed it (`citizen`: the public form).
    pub source_kind: &'static str,
    /// `clear`, `green`, `amber`, `amber+strict` or `red` (TLP 2.0).
    pub tlp: &'static str,
    /// What the value was in the report (`payee`, `caller` …).
    pub role: &'static str,
    pub aangifte: bool,
    /// The report's own words (absent when it has none or it is withheld).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The requester may not read this report under its TLP marking: its text is withheld;
    /// the reporting organisation answers for it.
    pub text_withheld: bool,
    pub retracted_at: Option<String>,
    /// A citizen report's review: `unverified`, `verified` or `rejected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<&'static str>,
    /// When retention deletes it.
    pub delete_at: String,
}

/// A status the indicator was given.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusChangeOut {
    pub at: String,
    pub status: &'static str,
    pub by: ActorOut,
}

/// A move of a dispute.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectDisputeEventOut {
    pub at: String,
    pub event: String,
    pub by: ActorOut,
    pub reason: String,
}

/// A dispute about the indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectDisputeOut {
    pub id: String,
    /// `open`, `upheld`, `rejected` or `withdrawn`.
    pub state: &'static str,
    pub opened_at: String,
    pub opened_by: ActorOut,
    pub reason: String,
    pub due_at: String,
    pub decided_at: Option<String>,
    pub events: Vec<SubjectDisputeEventOut>,
    /// When it is deleted (absent while it is open).
    pub delete_at: Option<String>,
}

/// An objection sent through the public form.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectObjectionOut {
    /// The reference the sender got (`BZ-…`).
    pub reference: String,
    pub received_at: String,
    pub reason: String,
    pub contact: Option<String>,
    /// `pending`, `accepted` or `declined`.
    pub state: &'static str,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
    pub delete_at: Option<String>,
}

/// A review after a clearing.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectClearanceOut {
    pub opened_at: String,
    pub reports: i64,
    pub closed_at: Option<String>,
    /// `kept_cleared` or `reactivated`.
    pub outcome: Option<&'static str>,
    pub reason: Option<String>,
    pub delete_at: Option<String>,
}

/// An access to the indicator or one of its reports, from the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessOut {
    pub at: String,
    pub by: ActorOut,
    /// `check_hit` (a check answered with a hit), `record_read`, `report_read` or
    /// `dispute_read`.
    pub kind: &'static str,
    /// How many times (check hits are counted per partner and time window).
    pub count: u64,
}

/// An earlier subject-access export.
#[derive(Debug, Serialize, ToSchema)]
pub struct EarlierExportOut {
    pub at: String,
    pub by: ActorOut,
}

/// Everything Vangnet holds about one indicator (AVG article 15).
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectExportOut {
    pub kind: &'static str,
    pub value: String,
    pub generated_at: String,
    pub requested_by: ActorOut,
    /// The stored record, if there is one.
    pub record: Option<SubjectRecordOut>,
    pub reports: Vec<SubjectReportOut>,
    /// More than 10,000 reports name it; the oldest 10,000 are listed.
    pub reports_truncated: bool,
    pub status_history: Vec<StatusChangeOut>,
    pub disputes: Vec<SubjectDisputeOut>,
    pub objections: Vec<SubjectObjectionOut>,
    pub clearance_reviews: Vec<SubjectClearanceOut>,
    /// Every access recorded in the audit log, oldest first.
    pub accesses: Vec<AccessOut>,
    /// Earlier exports for the person concerned (this one appears in the next).
    pub earlier_exports: Vec<EarlierExportOut>,
    /// More than 20,000 audit entries concern it; the oldest 20,000 are listed.
    pub entries_truncated: bool,
    /// How the audit log keeps the accesses (it has no deletion date: it is a hash chain
    /// that proves every access, and names the value only by a keyed pseudonym).
    pub accesses_kept: &'static str,
}

/// The JSON shape of an export.
pub fn export_out(e: &SubjectExport) -> SubjectExportOut {
    SubjectExportOut {
        kind: e.kind.as_str(),
        value: e.value.clone(),
        generated_at: e.generated_at.to_rfc3339(),
        requested_by: ActorOut::of(&e.requested_by),
        record: e.record.as_ref().map(|r| SubjectRecordOut {
            status: r.status.as_str(),
            status_at: r.status_at.map(Timestamp::to_rfc3339),
            reports: r.reports,
            first_seen: r.first_seen.map(Timestamp::to_rfc3339),
            last_seen: r.last_seen.map(Timestamp::to_rfc3339),
        }),
        reports: e
            .reports
            .iter()
            .map(|r| SubjectReportOut {
                id: r.id.clone(),
                received_at: r.received_at.to_rfc3339(),
                occurred_at: r.occurred_at.to_rfc3339(),
                fraud_type: r.fraud_type.as_str(),
                source_kind: r.source.as_str(),
                tlp: r.tlp.as_str(),
                role: r.role.as_str(),
                aangifte: r.aangifte,
                text: r.text.clone(),
                text_withheld: r.withheld,
                retracted_at: r.retracted_at.map(Timestamp::to_rfc3339),
                review: r.review.map(|v| v.as_str()),
                delete_at: r.delete_at.to_rfc3339(),
            })
            .collect(),
        reports_truncated: e.reports_truncated,
        status_history: e
            .status_history
            .iter()
            .map(|s| StatusChangeOut {
                at: s.at.to_rfc3339(),
                status: s.status.as_str(),
                by: ActorOut::of(&s.by),
            })
            .collect(),
        disputes: e
            .disputes
            .iter()
            .map(|d| SubjectDisputeOut {
                id: d.row.id.clone(),
                state: d.row.state.as_str(),
                opened_at: d.row.opened_at.to_rfc3339(),
                opened_by: ActorOut::of(&d.opener),
                reason: d.row.reason.clone(),
                due_at: d.row.due_at.to_rfc3339(),
                decided_at: d.row.decided_at.map(Timestamp::to_rfc3339),
                events: d
                    .events
                    .iter()
                    .map(|(ev, by)| SubjectDisputeEventOut {
                        at: ev.at.to_rfc3339(),
                        event: ev.event.clone(),
                        by: ActorOut::of(by),
                        reason: ev.reason.clone(),
                    })
                    .collect(),
                delete_at: d.delete_at.map(Timestamp::to_rfc3339),
            })
            .collect(),
        objections: e
            .objections
            .iter()
            .map(|(r, delete_at)| SubjectObjectionOut {
                reference: r.id.clone(),
                received_at: r.received_at.to_rfc3339(),
                reason: r.reason.clone(),
                contact: r.contact.clone(),
                state: r.state.as_str(),
                decided_at: r.decided_at.map(Timestamp::to_rfc3339),
                decision_reason: r.decision_reason.clone(),
                delete_at: delete_at.map(Timestamp::to_rfc3339),
            })
            .collect(),
        clearance_reviews: e
            .clearance_reviews
            .iter()
            .map(|(r, delete_at)| SubjectClearanceOut {
                opened_at: r.opened_at.to_rfc3339(),
                reports: r.reports,
                closed_at: r.closed_at.map(Timestamp::to_rfc3339),
                outcome: r.outcome.map(|o| o.as_str()),
                reason: r.reason.clone(),
                delete_at: delete_at.map(Timestamp::to_rfc3339),
            })
            .collect(),
        accesses: e
            .accesses
            .iter()
            .map(|a| AccessOut {
                at: a.at.to_rfc3339(),
                by: ActorOut::of(&a.by),
                kind: a.kind.as_str(),
                count: a.count,
            })
            .collect(),
        earlier_exports: e
            .earlier_exports
            .iter()
            .map(|x| EarlierExportOut {
                at: x.at.to_rfc3339(),
                by: ActorOut::of(&x.by),
            })
            .collect(),
        entries_truncated: e.entries_truncated,
        accesses_kept: "audit_log",
    }
}
