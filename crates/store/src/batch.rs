//! The parts of storing a batch of reports that do not depend on the database: deciding what
//! is new, what repeats an earlier submission and what conflicts with one; and adding up what
//! a batch does to each indicator record. Both stores use these, so they behave the same.

use std::collections::{BTreeMap, HashMap};

use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::report::{FRAUD_TYPE_COUNT, NewReport};

use crate::new_id;

/// What to do with one report of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Store it under this new id.
    New { id: String },
    /// Already stored under this id with the same content.
    Existing { id: String },
    /// Already stored under this id with different content.
    Conflict { id: String },
}

/// Decides per report whether it is new. `stored` maps the partner's earlier `external_id`s
/// (of this batch) to their report id and content digest.
pub(crate) fn plan(reports: &[NewReport], stored: &HashMap<String, (String, String)>) -> Vec<Plan> {
    let mut seen: HashMap<&str, (String, String)> = HashMap::new();
    reports
        .iter()
        .map(|report| {
            let Some(external) = report.external_id() else {
                return Plan::New { id: new_id() };
            };
            let digest = report.content_digest().to_owned();
            let earlier = stored.get(external).cloned().or_else(|| seen.get(external).cloned());
            match earlier {
                Some((id, earlier_digest)) if earlier_digest == digest => Plan::Existing { id },
                Some((id, _)) => Plan::Conflict { id },
                None => {
                    let id = new_id();
                    seen.insert(external, (id.clone(), digest));
                    Plan::New { id }
                }
            }
        })
        .collect()
}

/// What a batch adds to one indicator record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndicatorDelta {
    pub kind: IndicatorKind,
    pub value: String,
    pub reports: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub country: Option<String>,
    pub bank_code: Option<String>,
    pub mixed_script: bool,
    pub confusable: bool,
    pub fraud_types: [i64; FRAUD_TYPE_COUNT],
}

/// Adds up the reports of a batch per indicator, in a fixed order (kind, value) so that
/// concurrent writers lock indicator rows in the same order and cannot deadlock.
pub(crate) fn indicator_deltas<'a>(reports: impl Iterator<Item = &'a NewReport>) -> Vec<IndicatorDelta> {
    let mut deltas: BTreeMap<(IndicatorKind, String), IndicatorDelta> = BTreeMap::new();
    for report in reports {
        let when = report.occurred_at().millis();
        for named in report.indicators() {
            let kind = named.indicator.kind();
            let value = named.indicator.canonical();
            let delta = deltas.entry((kind, value.to_owned())).or_insert_with(|| {
                let facts = named.indicator.facts();
                IndicatorDelta {
                    kind,
                    value: value.to_owned(),
                    reports: 0,
                    first_seen: when,
                    last_seen: when,
                    country: facts.country,
                    bank_code: facts.bank_code,
                    mixed_script: facts.mixed_script,
                    confusable: facts.confusable,
                    fraud_types: [0; FRAUD_TYPE_COUNT],
                }
            });
            delta.reports += 1;
            delta.first_seen = delta.first_seen.min(when);
            delta.last_seen = delta.last_seen.max(when);
            delta.fraud_types[report.fraud_type().index()] += 1;
        }
    }
    deltas.into_values().collect()
}

/// The audit event for a stored report: what and how many, never the indicator values.
pub fn report_created_event(actor: &str, report_id: &str, report: &NewReport, now: Timestamp) -> AuditEvent {
    let mut kinds: Vec<&str> = report.indicators().iter().map(|i| i.indicator.kind().as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let details = serde_json::json!({
        "fraud_type": report.fraud_type().as_str(),
        "tlp": report.tlp().as_str(),
        "indicators": report.indicators().len(),
        "kinds": kinds,
    });
    AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: AuditAction::ReportCreate,
        subject: format!("report:{report_id}"),
        details: details.to_string(),
    }
}

/// The audit event for a retraction.
pub(crate) fn report_retracted_event(actor: &str, report_id: &str, now: Timestamp) -> AuditEvent {
    AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: AuditAction::ReportRetract,
        subject: format!("report:{report_id}"),
        details: "{}".to_owned(),
    }
}

/// The audit entry of a reviewer's decision about a citizen report (never the note: it may
/// repeat what the submitter wrote).
pub(crate) fn citizen_review_event(actor: &str, report_id: &str, review: vangnet_core::index::CitizenReview, now: Timestamp) -> AuditEvent {
    AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: AuditAction::CitizenReportReview,
        subject: format!("report:{report_id}"),
        details: serde_json::json!({ "outcome": review.as_str() }).to_string(),
    }
}

/// The audit entry of a change to a call list (how many numbers, never which).
pub(crate) fn call_list_event(actor: &str, list: &str, change: &str, count: usize, now: Timestamp) -> AuditEvent {
    AuditEvent {
        at: now,
        actor: actor.to_owned(),
        action: AuditAction::CallListChange,
        subject: format!("call_list:{list}"),
        details: serde_json::json!({ "change": change, "count": count }).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vangnet_core::Indicator;
    use vangnet_core::report::{AgeBand, FraudType, IndicatorRole, ReportDraft, Tlp};

    fn report(external: Option<&str>, iban: &str, fraud_type: FraudType, when: &str) -> NewReport {
        let draft = ReportDraft {
            external_id: external.map(str::to_owned),
            fraud_type,
            channel: None,
            occurred_at: Timestamp::parse_rfc3339(when).expect("valid"),
            amount: None,
            aangifte: false,
            victim_age_band: AgeBand::Unknown,
            tlp: Tlp::Green,
            description: None,
            indicators: vec![(Indicator::parse(None, iban).expect("valid"), IndicatorRole::Payee)],
        };
        NewReport::new(draft, Timestamp::parse_rfc3339("2027-01-01T00:00:00Z").expect("valid")).expect("valid")
    }

    #[test]
    fn plans_repeats_and_conflicts() {
        let a = report(Some("a"), "NL91ABNA0417164300", FraudType::Marketplace, "2026-11-01T00:00:00Z");
        let a_again = a.clone();
        let a_changed = report(Some("a"), "NL91ABNA0417164300", FraudType::Webshop, "2026-11-01T00:00:00Z");
        let b = report(Some("b"), "NL91ABNA0417164300", FraudType::Marketplace, "2026-11-01T00:00:00Z");
        let stored = HashMap::from([("b".to_owned(), ("report-b".to_owned(), b.content_digest().to_owned()))]);
        let plans = plan(
            &[
                a,
                a_again,
                a_changed,
                b,
                report(None, "NL91ABNA0417164300", FraudType::Other, "2026-11-01T00:00:00Z"),
            ],
            &stored,
        );
        let Plan::New { id: first } = &plans[0] else {
            panic!("first is new: {plans:?}")
        };
        assert_eq!(plans[1], Plan::Existing { id: first.clone() });
        assert_eq!(plans[2], Plan::Conflict { id: first.clone() });
        assert_eq!(plans[3], Plan::Existing { id: "report-b".into() });
        assert!(matches!(plans[4], Plan::New { .. }));
    }

    #[test]
    fn deltas_add_up_per_indicator() {
        let reports = [
            report(None, "NL91ABNA0417164300", FraudType::Marketplace, "2026-11-03T00:00:00Z"),
            report(None, "NL91ABNA0417164300", FraudType::Webshop, "2026-11-01T00:00:00Z"),
        ];
        let deltas = indicator_deltas(reports.iter());
        assert_eq!(deltas.len(), 1);
        let d = &deltas[0];
        assert_eq!(d.reports, 2);
        assert_eq!(d.bank_code.as_deref(), Some("ABNA"));
        assert!(d.first_seen < d.last_seen);
        assert_eq!(d.fraud_types[FraudType::Marketplace.index()], 1);
        assert_eq!(d.fraud_types[FraudType::Webshop.index()], 1);
    }
}
