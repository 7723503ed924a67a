//! Plain rows as both databases return them, and their conversion into domain types. Each
//! store only copies columns into these structs; parsing and checking happen here, once.

use vangnet_core::audit::AuditEntry;
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::{AgeBand, Channel, FRAUD_TYPE_COUNT, FraudType, IndicatorRole, NewReport, Tlp};
use vangnet_core::{Currency, Money, Timestamp};

use vangnet_core::index::CitizenReview;

use crate::{
    CallEntryState, CallListChange, CallListEntry, IndicatorRow, Partner, ReportReview, Retraction, StoreError, StoredIndicator,
    StoredReport, TokenInfo, parse_key, submitter_tag,
};

pub(crate) struct PartnerRecord {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub created_at: i64,
}

impl PartnerRecord {
    pub fn into_partner(self) -> Result<Partner, StoreError> {
        Ok(Partner {
            seq: self.seq,
            id: self.id,
            name: self.name,
            kind: parse_key(&self.kind, "partner kind", PartnerKind::from_key)?,
            created_at: Timestamp::from_millis(self.created_at),
            grant: crate::Grant::default(),
        })
    }
}

/// The grant of the token a partner authenticated with, from its stored columns.
pub(crate) fn grant(token: String, scopes: Option<String>, purpose: Option<String>) -> crate::Grant {
    crate::Grant {
        token: Some(token),
        // A stored key that is not known (a newer version's) grants nothing rather than all.
        scopes: scopes.map(|s| vangnet_core::scope::Scopes::parse(&s).unwrap_or(vangnet_core::scope::Scopes::NONE)),
        purpose,
    }
}

pub(crate) struct TokenRecord {
    pub id: String,
    pub partner_id: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub scopes: Option<String>,
    pub purpose: Option<String>,
}

impl TokenRecord {
    pub fn into_info(self) -> TokenInfo {
        TokenInfo {
            id: self.id,
            partner_id: self.partner_id,
            label: self.label,
            created_at: Timestamp::from_millis(self.created_at),
            revoked_at: self.revoked_at.map(Timestamp::from_millis),
            // A stored key that is not known (a newer version's) grants nothing rather than all.
            scopes: self
                .scopes
                .map(|s| vangnet_core::scope::Scopes::parse(&s).unwrap_or(vangnet_core::scope::Scopes::NONE)),
            purpose: self.purpose,
        }
    }
}

/// The columns of `REPORT_COLUMNS` in order.
pub(crate) struct ReportRecord {
    pub seq: i64,
    pub id: String,
    pub partner_seq: i64,
    pub partner_id: String,
    pub partner_name: String,
    pub partner_kind: String,
    pub external_id: Option<String>,
    pub fraud_type: String,
    pub channel: Option<String>,
    pub occurred_at: i64,
    pub received_at: i64,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub aangifte: i64,
    pub victim_age_band: String,
    pub tlp: String,
    pub description: Option<String>,
    pub retracted_at: Option<i64>,
    pub retracted_by: Option<String>,
    pub retraction_reason: Option<String>,
    pub submitter: Option<String>,
    pub review_outcome: Option<String>,
    pub reviewed_at: Option<i64>,
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
}

/// The report columns both stores select, joined with the partner, any retraction and any
/// review of a citizen report.
pub(crate) const REPORT_SELECT: &str = "SELECT r.seq, r.id, r.partner_seq, p.id, p.name, p.kind, r.external_id, r.fraud_type, \
     r.channel, r.occurred_at, r.received_at, r.amount_minor, r.currency, r.aangifte, r.victim_age_band, r.tlp, \
     r.description, x.at, xp.id, x.reason, r.submitter, cr.outcome, cr.at, crp.id, cr.note \
     FROM reports r JOIN partners p ON p.seq = r.partner_seq \
     LEFT JOIN retractions x ON x.report_seq = r.seq LEFT JOIN partners xp ON xp.seq = x.by_partner_seq \
     LEFT JOIN citizen_reviews cr ON cr.report_seq = r.seq LEFT JOIN partners crp ON crp.seq = cr.by_partner_seq";

pub(crate) struct IndicatorRecord {
    pub kind: String,
    pub value: String,
    pub role: String,
    pub derived: i64,
}

impl IndicatorRecord {
    fn into_stored(self) -> Result<StoredIndicator, StoreError> {
        Ok(StoredIndicator {
            kind: parse_key(&self.kind, "indicator kind", IndicatorKind::from_key)?,
            value: self.value,
            role: parse_key(&self.role, "indicator role", IndicatorRole::from_key)?,
            derived: self.derived != 0,
        })
    }
}

pub(crate) fn money(amount_minor: Option<i64>, currency: Option<&str>) -> Result<Option<Money>, StoreError> {
    match (amount_minor, currency) {
        (Some(minor), Some(code)) => {
            let currency = Currency::parse(code).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Some(Money::from_minor(minor, currency)))
        }
        _ => Ok(None),
    }
}

impl ReportRecord {
    pub fn into_report(self, indicators: Vec<IndicatorRecord>) -> Result<StoredReport, StoreError> {
        let retraction = match (self.retracted_at, self.retracted_by) {
            (Some(at), Some(by)) => Some(Retraction {
                at: Timestamp::from_millis(at),
                by_partner_id: by,
                reason: self.retraction_reason,
            }),
            _ => None,
        };
        let review = match (self.review_outcome.as_deref(), self.reviewed_at, self.reviewed_by) {
            (Some(outcome), Some(at), Some(by)) => Some(ReportReview {
                outcome: parse_key(outcome, "review outcome", CitizenReview::from_key)?,
                at: Timestamp::from_millis(at),
                by_partner_id: by,
                note: self.review_note,
            }),
            _ => None,
        };
        Ok(StoredReport {
            seq: self.seq,
            id: self.id,
            partner_seq: self.partner_seq,
            partner_id: self.partner_id,
            partner_name: self.partner_name,
            partner_kind: parse_key(&self.partner_kind, "partner kind", PartnerKind::from_key)?,
            external_id: self.external_id,
            fraud_type: parse_key(&self.fraud_type, "fraud type", FraudType::from_key)?,
            channel: self
                .channel
                .as_deref()
                .map(|c| parse_key(c, "channel", Channel::from_key))
                .transpose()?,
            occurred_at: Timestamp::from_millis(self.occurred_at),
            received_at: Timestamp::from_millis(self.received_at),
            amount: money(self.amount_minor, self.currency.as_deref())?,
            aangifte: self.aangifte != 0,
            victim_age_band: parse_key(&self.victim_age_band, "age band", AgeBand::from_key)?,
            tlp: parse_key(&self.tlp, "TLP", Tlp::from_key)?,
            description: self.description,
            submitter: self.submitter,
            indicators: indicators.into_iter().map(IndicatorRecord::into_stored).collect::<Result<_, _>>()?,
            retraction,
            review,
        })
    }
}

/// The stored form of a report just written, built without reading it back.
pub(crate) fn stored_from_new(partner: &Partner, seq: i64, id: &str, report: &NewReport, now: Timestamp) -> StoredReport {
    StoredReport {
        seq,
        id: id.to_owned(),
        partner_seq: partner.seq,
        partner_id: partner.id.clone(),
        partner_name: partner.name.clone(),
        partner_kind: partner.kind,
        external_id: report.external_id().map(str::to_owned),
        fraud_type: report.fraud_type(),
        channel: report.channel(),
        occurred_at: report.occurred_at(),
        received_at: now,
        amount: report.amount(),
        aangifte: report.aangifte(),
        victim_age_band: report.victim_age_band(),
        tlp: report.tlp(),
        description: report.description().map(str::to_owned),
        submitter: report.submitter().map(str::to_owned),
        indicators: report
            .indicators()
            .iter()
            .map(|i| StoredIndicator {
                kind: i.indicator.kind(),
                value: i.indicator.canonical().to_owned(),
                role: i.role,
                derived: i.derived,
            })
            .collect(),
        retraction: None,
        review: None,
    }
}

/// The `indicators` column counting reports of one fraud type.
pub(crate) fn fraud_type_column(t: FraudType) -> String {
    format!("reports_{}", t.as_str())
}

/// The fraud-type columns, comma-separated, in [`FraudType::ALL`] order.
pub(crate) fn fraud_type_columns() -> String {
    FraudType::ALL.iter().map(|t| fraud_type_column(*t)).collect::<Vec<_>>().join(", ")
}

pub(crate) struct IndicatorRowRecord {
    pub kind: String,
    pub value: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_at: Option<i64>,
    pub reports: i64,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub country: Option<String>,
    pub bank_code: Option<String>,
    pub mixed_script: i64,
    pub confusable: i64,
    pub fraud_types: [i64; FRAUD_TYPE_COUNT],
}

/// The columns of [`IndicatorRowRecord`], in order.
pub(crate) fn indicator_select() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "SELECT kind, value, status, status_reason, status_at, reports, first_seen, last_seen, country, bank_code, \
             mixed_script, confusable, {} FROM indicators",
            fraud_type_columns()
        )
    })
}

impl IndicatorRowRecord {
    pub fn into_row(self) -> Result<IndicatorRow, StoreError> {
        Ok(IndicatorRow {
            kind: parse_key(&self.kind, "indicator kind", IndicatorKind::from_key)?,
            value: self.value,
            status: parse_key(&self.status, "indicator status", IndicatorStatus::from_key)?,
            status_reason: self.status_reason,
            status_at: self.status_at.map(Timestamp::from_millis),
            reports: self.reports,
            first_seen: self.first_seen.map(Timestamp::from_millis),
            last_seen: self.last_seen.map(Timestamp::from_millis),
            country: self.country,
            bank_code: self.bank_code,
            mixed_script: self.mixed_script != 0,
            confusable: self.confusable != 0,
            fraud_types: self.fraud_types,
        })
    }
}

pub(crate) struct AuditRecord {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

pub(crate) const AUDIT_SELECT: &str = "SELECT seq, at, actor, action, subject, details, prev_hash, hash FROM audit_log";

impl AuditRecord {
    pub fn into_entry(self) -> AuditEntry {
        AuditEntry {
            seq: u64::try_from(self.seq).unwrap_or(0),
            at: Timestamp::from_millis(self.at),
            actor: self.actor,
            action: self.action,
            subject: self.subject,
            details: self.details,
            prev_hash: self.prev_hash,
            hash: self.hash,
        }
    }
}

/// One row of the index load: a report's link to an indicator.
pub(crate) struct LinkRecord {
    pub kind: String,
    pub value: String,
    pub report_seq: i64,
    pub partner_seq: i64,
    pub partner_kind: String,
    pub fraud_type: String,
    pub tlp: String,
    pub occurred_at: i64,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub aangifte: i64,
    pub submitter: Option<String>,
    pub review: Option<String>,
    pub role: String,
    pub derived: i64,
}

/// Every link of a report that is not retracted, with what the index needs.
pub(crate) const LINK_SELECT: &str = "SELECT ri.kind, ri.value, r.seq, r.partner_seq, p.kind, r.fraud_type, r.tlp, r.occurred_at, \
     r.amount_minor, r.currency, r.aangifte, r.submitter, cr.outcome, ri.role, ri.derived \
     FROM report_indicators ri JOIN reports r ON r.seq = ri.report_seq JOIN partners p ON p.seq = r.partner_seq \
     LEFT JOIN citizen_reviews cr ON cr.report_seq = r.seq \
     WHERE NOT EXISTS (SELECT 1 FROM retractions x WHERE x.report_seq = r.seq)";

impl LinkRecord {
    pub fn add_to(self, index: &mut vangnet_core::index::IndicatorIndex) -> Result<(), StoreError> {
        let kind = parse_key(&self.kind, "indicator kind", IndicatorKind::from_key)?;
        let facts = vangnet_core::index::ReportFacts {
            report: u32::try_from(self.report_seq).map_err(|_| StoreError::Corrupt("report number beyond the index's range".into()))?,
            partner: u32::try_from(self.partner_seq).map_err(|_| StoreError::Corrupt("partner number beyond the index's range".into()))?,
            source: parse_key(&self.partner_kind, "partner kind", PartnerKind::from_key)?,
            fraud_type: parse_key(&self.fraud_type, "fraud type", FraudType::from_key)?,
            tlp: parse_key(&self.tlp, "TLP", Tlp::from_key)?,
            occurred_at: Timestamp::from_millis(self.occurred_at),
            amount: money(self.amount_minor, self.currency.as_deref())?,
            aangifte: self.aangifte != 0,
            retracted: false,
            mule: self.role == IndicatorRole::Mule.as_str(),
            submitter: self.submitter.as_deref().map_or(0, submitter_tag),
            review: match self.review.as_deref() {
                None => CitizenReview::Unverified,
                Some(outcome) => parse_key(outcome, "review outcome", CitizenReview::from_key)?,
            },
        };
        let key = index.key(kind, &self.value);
        index.add(key, &facts);
        if self.derived == 0 {
            index.link(facts.report, key);
        }
        Ok(())
    }
}

/// A raw change-feed row.
pub(crate) struct ChangeRecord {
    pub seq: i64,
    pub at: i64,
    pub change: String,
    pub report_seq: Option<i64>,
    pub kind: Option<String>,
    pub value: Option<String>,
    pub status: Option<String>,
}

pub(crate) const CHANGE_SELECT: &str = "SELECT seq, at, change, report_seq, kind, value, status FROM changes";

/// The columns of `pnbf_cases`, in the order both stores read and write them.
pub(crate) const PNBF_COLUMNS: &str =
    "id, victim_bank, payee_bank, state, version, opened_at, updated_at, term_ends, remind_at, naw_delete_at, link_digest, body, naw";
/// The columns of `pnbf_events`, in the order both stores read and write them.
pub(crate) const PNBF_EVENT_COLUMNS: &str = "case_id, seq, at, actor, side, event, from_state, to_state, reason, details";

/// The columns of a call-list entry both stores select, with its owner's id.
pub(crate) const CALL_ENTRY_SELECT: &str = "SELECT c.list, c.e164, c.partner_seq, p.id, c.state, c.added_at, c.approved_at FROM call_numbers c JOIN partners p ON p.seq = c.partner_seq";

/// A raw call-list entry.
pub(crate) struct CallEntryRecord {
    pub list: String,
    pub e164: String,
    pub owner_seq: i64,
    pub owner_id: String,
    pub state: String,
    pub added_at: i64,
    pub approved_at: Option<i64>,
}

impl CallEntryRecord {
    pub fn into_entry(self) -> Result<CallListEntry, StoreError> {
        Ok(CallListEntry {
            list: self.list,
            e164: self.e164,
            owner_seq: self.owner_seq,
            owner_id: self.owner_id,
            state: parse_key(&self.state, "call-list state", CallEntryState::from_key)?,
            added_at: Timestamp::from_millis(self.added_at),
            approved_at: self.approved_at.map(Timestamp::from_millis),
        })
    }
}

/// The history of a call-list number, with each owner's id.
pub(crate) const CALL_HISTORY_SELECT: &str =
    "SELECT e.at, e.actor, e.change, p.id FROM call_number_events e JOIN partners p ON p.seq = e.owner_seq";

pub(crate) fn call_change(at: i64, actor: String, change: String, owner_id: String) -> CallListChange {
    CallListChange {
        at: Timestamp::from_millis(at),
        actor,
        change,
        owner_id,
    }
}
