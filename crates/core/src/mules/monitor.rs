//! The verdict on each transfer, as `mules detect` writes it and the server keeps it: the
//! detectors' flags from [`Thresholds::min_score`] on, and a memory of the accounts they marked
//! so that the marked accounts' next transfers are flagged too for [`Thresholds::memory_ms`].
//!
//! Which accounts a flag marks: for the patterns whose every account moves the money (cycle,
//! scatter-gather, bipartite, stack) all of them; for the rest only the centre (the payers of a
//! fan-in may be its victims, the payees of a fan-out its customers). Memory is bounded like the
//! window: at most [`Thresholds::max_accounts`] marks, the expired dropped first, then the
//! oldest.

use super::graph::{AccountMap, evict};
use super::{Account, Flag, Pattern, Thresholds, Transfer, detect::Detector};

/// Why one transfer is flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub pattern: Pattern,
    pub score: f64,
    /// Whether the transfer completed the pattern itself (`false`: it moved money of an
    /// account a recent flag marked).
    pub direct: bool,
}

/// The last flag that marked an account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mark {
    pub pattern: Pattern,
    pub score: f64,
    /// When (the time of the transfer that raised it).
    pub at: i64,
}

/// The detectors and the marks.
#[derive(Debug, Clone)]
pub struct Monitor {
    detector: Detector,
    marks: AccountMap<Mark>,
    newest: i64,
}

impl Monitor {
    pub fn new(thresholds: Thresholds) -> Monitor {
        Monitor {
            detector: Detector::new(thresholds),
            marks: AccountMap::default(),
            newest: i64::MIN,
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        self.detector.thresholds()
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The mark on `account` still within the memory.
    pub fn mark(&self, account: Account) -> Option<Mark> {
        let memory = self.thresholds().memory_ms;
        self.marks
            .get(&account)
            .copied()
            .filter(|m| m.at >= self.newest.saturating_sub(memory))
    }

    /// Accounts marked now (some may have expired until the next sweep).
    pub fn marked(&self) -> usize {
        self.marks.len()
    }

    /// Adds `t`; appends the flags it raised (from the minimum score on) to `flags`, and
    /// returns the verdict on `t` itself.
    pub fn observe(&mut self, t: &Transfer, flags: &mut Vec<Flag>) -> Option<Verdict> {
        self.newest = self.newest.max(t.at);
        let start = flags.len();
        self.detector.observe(t, flags);
        let min_score = self.thresholds().min_score;
        let mut kept = start;
        for i in start..flags.len() {
            if flags[i].score >= min_score {
                flags.swap(kept, i);
                kept += 1;
            }
        }
        flags.truncate(kept);
        let mut best: Option<Verdict> = None;
        for f in &flags[start..] {
            if best.is_none_or(|b| f.score > b.score) {
                best = Some(Verdict {
                    pattern: f.pattern,
                    score: f.score,
                    direct: true,
                });
            }
        }
        let memory = self.thresholds().memory_ms;
        if memory > 0 {
            for f in &flags[start..] {
                let mark = Mark {
                    pattern: f.pattern,
                    score: f.score,
                    at: t.at,
                };
                let all = matches!(
                    f.pattern,
                    Pattern::Cycle | Pattern::ScatterGather | Pattern::Bipartite | Pattern::Stack
                );
                let marked = if all { &f.accounts[..] } else { &f.accounts[..1] };
                for &a in marked {
                    self.marks.insert(a, mark);
                }
            }
            if best.is_none() {
                best = [t.from, t.to]
                    .into_iter()
                    .filter_map(|a| self.mark(a))
                    .max_by(|a, b| a.score.total_cmp(&b.score))
                    .map(|m| Verdict {
                        pattern: m.pattern,
                        score: m.score,
                        direct: false,
                    });
            }
            if self.marks.len() > self.thresholds().max_accounts {
                self.sweep();
            }
        }
        best
    }

    fn sweep(&mut self) {
        let cutoff = self.newest.saturating_sub(self.thresholds().memory_ms);
        let max = self.thresholds().max_accounts;
        evict(&mut self.marks, cutoff, max, max - max / 4, |m| m.at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn tr(hours: i64, from: Account, to: Account) -> Transfer {
        Transfer {
            at: hours * H,
            from,
            to,
            amount: 50_000,
            received: 50_000,
        }
    }

    #[test]
    fn a_marked_account_s_next_transfers_are_flagged_until_the_memory_ends() {
        let mut m = Monitor::new(Thresholds::default());
        let mut flags = Vec::new();
        let verdicts: Vec<Option<Verdict>> = (0..6).map(|i| m.observe(&tr(i, 10 + i as u64, 1), &mut flags)).collect();
        assert!(verdicts[..5].iter().all(Option::is_none));
        let v = verdicts[5].expect("the sixth payer completes the fan-in");
        assert_eq!((v.pattern, v.direct), (Pattern::FanIn, true));
        assert_eq!(flags.len(), 1);
        // The fan-in's centre pays on: flagged, not directly.
        let v = m.observe(&tr(7, 1, 99), &mut flags).expect("remembered");
        assert_eq!((v.pattern, v.direct), (Pattern::FanIn, false));
        // A payer (perhaps a victim) is not marked.
        assert!(m.observe(&tr(8, 10, 98), &mut flags).is_none());
        // A day and more later the memory has ended.
        assert!(m.observe(&tr(40, 1, 97), &mut flags).is_none());
        assert_eq!(m.mark(1), None);
    }

    #[test]
    fn flags_below_the_minimum_score_do_not_count() {
        let th = Thresholds {
            min_score: 0.9,
            ..Thresholds::default()
        };
        let mut m = Monitor::new(th);
        let mut flags = Vec::new();
        for i in 0..7 {
            assert!(m.observe(&tr(i, 10 + i as u64, 1), &mut flags).is_none(), "seven payers score 0.58");
        }
        assert!(flags.is_empty());
        assert_eq!(m.marked(), 0);
    }

    #[test]
    fn marks_stay_within_their_bound() {
        let th = Thresholds {
            fan_in: 3,
            max_accounts: 16,
            ..Thresholds::default()
        };
        let mut m = Monitor::new(th);
        let mut flags = Vec::new();
        for hub in 0..40u64 {
            for p in 0..3u64 {
                m.observe(&tr(hub as i64, 1_000 + hub * 10 + p, hub), &mut flags);
            }
        }
        assert!(m.marked() <= 16, "{}", m.marked());
        assert!(m.mark(39).is_some(), "the newest stay");
    }
}
