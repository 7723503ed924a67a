//! The indicator score: how strongly the reports about one indicator say it is used for fraud.
//!
//! ```text
//! score = 1 − exp(−S),   S = Σ over visible reports of  w(source) · 2^(−age / half_life)
//! w(source) = min(1, base(partner kind) · (aangifte ? aangifte_factor : 1))
//! ```
//!
//! Every report adds evidence, weighted by how much its source has checked (a police report
//! backed by an aangifte counts most, an unverified report least) and halved every
//! `half_life_days`. The sum goes through `1 − exp(−S)` so the score stays in [0, 1) and every
//! further report adds less than the one before. Reports older than `retention_days` do not
//! count at all. ARCHITECTURE.md shows worked examples; the `reasons` of every result show the
//! inputs (reports, weights, the sum and the half-life).

use crate::partner::PartnerKind;

/// The parameters of the score; configurable, with defaults documented in ARCHITECTURE.md.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringPolicy {
    /// Days after which a report's weight has halved.
    pub half_life_days: f64,
    /// Days after which a report no longer counts at all.
    pub retention_days: u32,
    /// Factor for reports backed by an aangifte (police report by the victim).
    pub aangifte_factor: f64,
    /// Base weight per partner kind, in [`PartnerKind::ALL`] order.
    pub base_weights: [f64; 9],
}

impl Default for ScoringPolicy {
    fn default() -> Self {
        ScoringPolicy {
            half_life_days: 180.0,
            retention_days: 730,
            aangifte_factor: 1.25,
            // police, helpdesk, bank, psp, telecom, marketplace, victim_support, operator, citizen
            base_weights: [0.8, 0.5, 0.7, 0.7, 0.6, 0.6, 0.5, 0.3, 0.2],
        }
    }
}

impl ScoringPolicy {
    /// The weight of one report before decay.
    pub fn source_weight(&self, kind: PartnerKind, aangifte: bool) -> f64 {
        let base = PartnerKind::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0.0, |i| self.base_weights[i]);
        let factor = if aangifte { self.aangifte_factor } else { 1.0 };
        (base * factor).min(1.0)
    }

    /// The decay factor for a report `age_days` old (reports dated in the future count fully).
    pub fn decay(&self, age_days: f64) -> f64 {
        if self.half_life_days <= 0.0 {
            return 1.0;
        }
        (-age_days.max(0.0) / self.half_life_days).exp2()
    }

    /// Whether a report `age_days` old still counts.
    pub fn retained(&self, age_days: f64) -> bool {
        age_days <= f64::from(self.retention_days)
    }

    /// The score for a weighted, decayed evidence sum.
    pub fn score(&self, evidence: f64) -> f64 {
        1.0 - (-evidence.max(0.0)).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aangifte_backed_police_reports_count_most() {
        let p = ScoringPolicy::default();
        let police = p.source_weight(PartnerKind::Police, true);
        assert!((police - 1.0).abs() < 1e-9);
        assert!(police > p.source_weight(PartnerKind::Police, false));
        assert!(p.source_weight(PartnerKind::Police, false) > p.source_weight(PartnerKind::Helpdesk, false));
    }

    #[test]
    fn decay_halves_per_half_life_and_retention_cuts_off() {
        let p = ScoringPolicy::default();
        assert!((p.decay(0.0) - 1.0).abs() < 1e-12);
        assert!((p.decay(180.0) - 0.5).abs() < 1e-12);
        assert!((p.decay(360.0) - 0.25).abs() < 1e-12);
        assert!((p.decay(-5.0) - 1.0).abs() < 1e-12);
        assert!(p.retained(730.0) && !p.retained(730.5));
    }

    #[test]
    fn score_is_bounded_and_monotone() {
        let p = ScoringPolicy::default();
        assert_eq!(p.score(0.0), 0.0);
        assert!((p.score(1.0) - 0.632).abs() < 0.001);
        assert!(p.score(3.0) > p.score(2.0));
        assert!(p.score(1e9) <= 1.0);
    }
}
