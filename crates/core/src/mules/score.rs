//! The mule score of one account: how strongly the evidence says it moves fraud money, with
//! the reasons, from the patterns the detectors flagged it in and from partners' reports that
//! name it as a mule's account.
//!
//! ```text
//! strength of a flag  = flag score · (1 if the account is the pattern's centre, else member_factor)
//!                       · 2^(−age / half_life)
//! score = 1 − Π over patterns (1 − strongest flag of that pattern)
//!           · (1 − report_weight)^(mule reports, at most max_reports)
//! ```
//!
//! Patterns count once each (ten fan-ins in a week are one kind of evidence, a fan-in and a
//! cycle two); a flag older than `max_age_ms` counts no more. Only partners' reports count
//! (citizens' reports inform, never decide); the caller passes the count it may see under TLP.

use super::Pattern;

/// How the evidence is weighed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScorePolicy {
    /// A flag's strength halves over this (milliseconds).
    pub half_life_ms: i64,
    /// Flags older than this count no more (milliseconds).
    pub max_age_ms: i64,
    /// An account named in a pattern but not its centre (a payer of a fan-in may be a victim)
    /// counts this share of the flag's score.
    pub member_factor: f64,
    /// What one partner's mule report adds.
    pub report_weight: f64,
    /// Reports counted at most.
    pub max_reports: u32,
}

impl Default for ScorePolicy {
    fn default() -> Self {
        ScorePolicy {
            half_life_ms: 14 * 86_400_000,
            max_age_ms: 90 * 86_400_000,
            member_factor: 0.5,
            report_weight: 0.6,
            max_reports: 5,
        }
    }
}

/// One flag as it concerns one account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AccountFlag {
    pub pattern: Pattern,
    pub score: f64,
    /// When the pattern was completed (milliseconds).
    pub at: i64,
    /// The account is the pattern's centre.
    pub centre: bool,
}

/// Why the score is what it is: one line per pattern and one for the reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ScoreReason {
    Pattern {
        pattern: Pattern,
        /// What this pattern adds, after the centre factor and the decay.
        strength: f64,
        /// Flags of this pattern that count.
        flags: u32,
        centre: bool,
        last_at: i64,
    },
    Reports {
        reports: u32,
        strength: f64,
    },
}

impl ScoreReason {
    /// The strength this reason adds.
    pub fn strength(&self) -> f64 {
        match self {
            ScoreReason::Pattern { strength, .. } | ScoreReason::Reports { strength, .. } => *strength,
        }
    }
}

/// An account's score and its reasons, strongest first.
#[derive(Debug, Clone, PartialEq)]
pub struct MuleScore {
    pub score: f64,
    pub reasons: Vec<ScoreReason>,
}

impl ScorePolicy {
    /// Problems with these parameters, as `field: problem` lines.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if self.half_life_ms <= 0 {
            p.push("half_life: more than 0".to_owned());
        }
        if self.max_age_ms <= 0 {
            p.push("max_age: more than 0".to_owned());
        }
        if !unit(self.member_factor) {
            p.push("member_factor: between 0 and 1".to_owned());
        }
        if !unit(self.report_weight) {
            p.push("report_weight: between 0 and 1".to_owned());
        }
        p
    }

    /// The score of an account at `now` from its flags and the partners' mule reports that
    /// the reader may see.
    pub fn score(&self, flags: &[AccountFlag], mule_reports: u32, now: i64) -> MuleScore {
        let mut reasons: Vec<ScoreReason> = Vec::new();
        for pattern in Pattern::ALL {
            let mut best = 0.0f64;
            let (mut count, mut centre, mut last_at) = (0u32, false, i64::MIN);
            for f in flags.iter().filter(|f| f.pattern == pattern) {
                let age = now.saturating_sub(f.at).max(0);
                if age > self.max_age_ms {
                    continue;
                }
                let role = if f.centre { 1.0 } else { self.member_factor };
                let decay = (-(age as f64) / self.half_life_ms as f64 * std::f64::consts::LN_2).exp();
                best = best.max((f.score.clamp(0.0, 1.0) * role * decay).clamp(0.0, 1.0));
                count += 1;
                centre |= f.centre;
                last_at = last_at.max(f.at);
            }
            if count > 0 && best > 0.0 {
                reasons.push(ScoreReason::Pattern {
                    pattern,
                    strength: best,
                    flags: count,
                    centre,
                    last_at,
                });
            }
        }
        let reports = mule_reports.min(self.max_reports);
        if reports > 0 {
            let strength = 1.0 - (1.0 - self.report_weight).powi(i32::try_from(reports).unwrap_or(i32::MAX));
            reasons.push(ScoreReason::Reports {
                reports: mule_reports,
                strength,
            });
        }
        let score = 1.0 - reasons.iter().map(|r| 1.0 - r.strength()).product::<f64>();
        reasons.sort_by(|a, b| b.strength().total_cmp(&a.strength()));
        MuleScore {
            score: score.clamp(0.0, 1.0),
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn flag(pattern: Pattern, score: f64, at: i64, centre: bool) -> AccountFlag {
        AccountFlag {
            pattern,
            score,
            at,
            centre,
        }
    }

    #[test]
    fn no_evidence_scores_nothing() {
        let s = ScorePolicy::default().score(&[], 0, 10 * DAY);
        assert_eq!(
            s,
            MuleScore {
                score: 0.0,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn patterns_count_once_each_and_combine() {
        let p = ScorePolicy::default();
        let now = 100 * DAY;
        let one = p.score(&[flag(Pattern::FanIn, 0.8, now, true)], 0, now);
        assert!((one.score - 0.8).abs() < 1e-9);
        let repeated = p.score(
            &[flag(Pattern::FanIn, 0.8, now, true), flag(Pattern::FanIn, 0.6, now, true)],
            0,
            now,
        );
        assert!((repeated.score - 0.8).abs() < 1e-9, "the strongest fan-in counts, once");
        assert_eq!(repeated.reasons.len(), 1);
        let two = p.score(
            &[flag(Pattern::FanIn, 0.8, now, true), flag(Pattern::Cycle, 0.5, now, true)],
            0,
            now,
        );
        assert!((two.score - (1.0 - 0.2 * 0.5)).abs() < 1e-9);
        assert!(
            matches!(
                two.reasons[0],
                ScoreReason::Pattern {
                    pattern: Pattern::FanIn,
                    ..
                }
            ),
            "strongest first"
        );
    }

    #[test]
    fn members_count_less_than_centres_and_old_flags_fade() {
        let p = ScorePolicy::default();
        let now = 100 * DAY;
        let member = p.score(&[flag(Pattern::FanIn, 1.0, now, false)], 0, now);
        assert!((member.score - 0.5).abs() < 1e-9);
        let old = p.score(&[flag(Pattern::FanIn, 1.0, now - 14 * DAY, true)], 0, now);
        assert!((old.score - 0.5).abs() < 1e-9, "one half-life halves it");
        let expired = p.score(&[flag(Pattern::FanIn, 1.0, now - 91 * DAY, true)], 0, now);
        assert_eq!(expired.score, 0.0);
    }

    #[test]
    fn reports_add_with_a_ceiling() {
        let p = ScorePolicy::default();
        let one = p.score(&[], 1, 0);
        assert!((one.score - 0.6).abs() < 1e-9);
        let many = p.score(&[], 50, 0);
        let five = p.score(&[], 5, 0);
        assert_eq!(many.score, five.score, "at most max_reports count");
        assert!(
            matches!(many.reasons[0], ScoreReason::Reports { reports: 50, .. }),
            "the reason keeps the real count"
        );
    }
}
