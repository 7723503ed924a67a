//! How long a report is kept before it is deleted: a term per source kind and per fraud type
//! (the shortest that applies), a shorter term for reports about a cleared indicator, and a
//! hard ceiling of eight years, which the banks' incident register and the courts treat as a
//! maximum, not a default. The services' sweep deletes what this says is due.

use std::collections::BTreeMap;

use crate::Timestamp;
use crate::partner::PartnerKind;
use crate::report::FraudType;
use crate::timestamp::DAY_MILLIS;

/// Eight years, in days: no term may be longer.
pub const CEILING_DAYS: u32 = 8 * 365 + 2;

/// The terms of a report's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Days a report is kept when no shorter term applies.
    pub default_days: u32,
    /// Shorter (or longer, up to the ceiling) terms per fraud type.
    pub by_fraud_type: BTreeMap<FraudType, u32>,
    /// Terms per source kind (citizens' unverified reports, for instance).
    pub by_source: BTreeMap<PartnerKind, u32>,
    /// Days after an indicator was cleared that the reports naming it are deleted.
    pub cleared_days: u32,
    /// Days a decided dispute, a decided objection (with the sender's contact details) and a
    /// closed clearance review are kept after the decision.
    pub decided_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            // Two years: the same as the score's counting term, so nothing is kept that no
            // longer counts.
            default_days: 730,
            by_fraud_type: BTreeMap::new(),
            by_source: BTreeMap::from([(PartnerKind::Citizen, 365)]),
            cleared_days: 30,
            // A year: long enough to answer a complaint about the decision, to the supervisory
            // authority or a court, and no longer.
            decided_days: 365,
        }
    }
}

/// Why a policy is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("{0} must be at least one day")]
    Zero(String),
    #[error("{name} is {days} days; the ceiling is {CEILING_DAYS} days (eight years)")]
    AboveCeiling { name: String, days: u32 },
}

impl RetentionPolicy {
    /// Checks every term: at least a day, at most the ceiling.
    pub fn check(&self) -> Result<(), RetentionError> {
        let mut terms: Vec<(String, u32)> = vec![
            ("retention.default_days".to_owned(), self.default_days),
            ("retention.cleared_days".to_owned(), self.cleared_days),
            ("retention.decided_days".to_owned(), self.decided_days),
        ];
        terms.extend(
            self.by_fraud_type
                .iter()
                .map(|(t, d)| (format!("retention.by_fraud_type.{}", t.as_str()), *d)),
        );
        terms.extend(
            self.by_source
                .iter()
                .map(|(k, d)| (format!("retention.by_source.{}", k.as_str()), *d)),
        );
        for (name, days) in terms {
            if days == 0 {
                return Err(RetentionError::Zero(name));
            }
            if days > CEILING_DAYS {
                return Err(RetentionError::AboveCeiling { name, days });
            }
        }
        Ok(())
    }

    /// The days a report of `fraud_type` from a source of `kind` is kept: the shortest term
    /// that applies, never above the ceiling.
    pub fn term_days(&self, fraud_type: FraudType, kind: PartnerKind) -> u32 {
        let by_type = self.by_fraud_type.get(&fraud_type).copied();
        let by_source = self.by_source.get(&kind).copied();
        [by_type, by_source]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.default_days)
            .min(CEILING_DAYS)
    }

    /// When a report received at `received` is deleted. `cleared_at`: when an indicator it
    /// names was cleared (its reports then go after [`RetentionPolicy::cleared_days`]).
    pub fn delete_at(&self, fraud_type: FraudType, kind: PartnerKind, received: Timestamp, cleared_at: Option<Timestamp>) -> Timestamp {
        let term = received.plus_millis(i64::from(self.term_days(fraud_type, kind)) * DAY_MILLIS);
        match cleared_at {
            Some(cleared) => term.min(cleared.plus_millis(i64::from(self.cleared_days) * DAY_MILLIS)),
            None => term,
        }
    }

    /// When a dispute, objection or clearance review decided at `decided` is deleted (`None`
    /// while it is undecided: it is kept until a reviewer decides).
    pub fn decided_delete_at(&self, decided: Option<Timestamp>) -> Option<Timestamp> {
        decided.map(|at| at.plus_millis(i64::from(self.decided_days) * DAY_MILLIS))
    }

    /// The shortest term of all: no report received later than `now` minus this can be due.
    pub fn shortest_days(&self) -> u32 {
        self.by_fraud_type
            .values()
            .chain(self.by_source.values())
            .copied()
            .chain([self.default_days, self.cleared_days])
            .min()
            .unwrap_or(self.default_days)
            .min(CEILING_DAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    #[test]
    fn the_shortest_term_applies_and_nothing_exceeds_eight_years() {
        let mut policy = RetentionPolicy::default();
        assert_eq!(policy.term_days(FraudType::Marketplace, PartnerKind::Bank), 730);
        assert_eq!(policy.term_days(FraudType::Marketplace, PartnerKind::Citizen), 365);
        policy.by_fraud_type.insert(FraudType::Investment, 2_000);
        policy.by_fraud_type.insert(FraudType::Phishing, 180);
        assert_eq!(
            policy.term_days(FraudType::Investment, PartnerKind::Police),
            2_000,
            "longer than the default when set"
        );
        assert_eq!(
            policy.term_days(FraudType::Phishing, PartnerKind::Citizen),
            180,
            "the shorter of type and source"
        );
        assert_eq!(policy.shortest_days(), 30);
        policy.by_fraud_type.insert(FraudType::Romance, CEILING_DAYS + 1);
        assert_eq!(
            policy.check(),
            Err(RetentionError::AboveCeiling {
                name: "retention.by_fraud_type.romance".to_owned(),
                days: CEILING_DAYS + 1
            })
        );
        assert_eq!(
            policy.term_days(FraudType::Romance, PartnerKind::Police),
            CEILING_DAYS,
            "clamped even unchecked"
        );
        policy.by_fraud_type.remove(&FraudType::Romance);
        assert_eq!(policy.check(), Ok(()));
        policy.cleared_days = 0;
        assert_eq!(policy.check(), Err(RetentionError::Zero("retention.cleared_days".to_owned())));
    }

    #[test]
    fn reports_about_a_cleared_indicator_go_sooner() {
        let policy = RetentionPolicy::default();
        let received = t("2026-01-01T00:00:00Z");
        assert_eq!(
            policy.delete_at(FraudType::Webshop, PartnerKind::Bank, received, None),
            t("2028-01-01T00:00:00Z")
        );
        let cleared = t("2026-03-01T00:00:00Z");
        assert_eq!(
            policy.delete_at(FraudType::Webshop, PartnerKind::Bank, received, Some(cleared)),
            t("2026-03-31T00:00:00Z")
        );
        let late = t("2027-12-20T00:00:00Z");
        assert_eq!(
            policy.delete_at(FraudType::Webshop, PartnerKind::Bank, received, Some(late)),
            t("2028-01-01T00:00:00Z"),
            "never later than the report's own term"
        );
    }
}
