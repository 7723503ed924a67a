//! The detectors. [`Detector::observe`] adds one transfer to the window and reports every
//! pattern that transfer completes. Each search is bounded by [`Thresholds::search_budget`]
//! edge visits, so no transfer costs more than a fixed amount of work, whatever the graph.

use super::graph::{AccountMap, Edge, Window};
use super::{Account, Flag, MAX_FLAG_ACCOUNTS, Pattern, Transfer};

/// When a pattern is reported. Every count is of distinct accounts within the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// How far back a pattern may reach (milliseconds).
    pub window_ms: i64,
    /// Transfers kept per account and direction.
    pub edges_per_account: usize,
    /// Accounts kept in memory.
    pub max_accounts: usize,
    /// Fan-in: at least this many payers of one account.
    pub fan_in: usize,
    /// Fan-out: at least this many payees of one account.
    pub fan_out: usize,
    /// Pass-through: money out within this time of coming in …
    pub pass_through_ms: i64,
    /// … at least this share of what came in (and no more than came in).
    pub pass_through_share: f64,
    /// Pass-through: ignore sums below this (minor units), where small change moves.
    pub pass_through_min: i64,
    /// Cycles of at most this many transfers (3 to 6; two, paying back, is not one).
    pub cycle_hops: usize,
    /// Scatter-gather: at least this many accounts between source and sink.
    pub scatter: usize,
    /// Gather-scatter: at least this many payers and this many payees of the hub.
    pub gather: usize,
    /// Bipartite (and each layer of a stack): at least this many payers and payees, each
    /// payee paid by at least this many of the payers.
    pub bipartite: usize,
    /// Edge visits one transfer's searches may make.
    pub search_budget: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            window_ms: 7 * 24 * 3_600_000,
            edges_per_account: 64,
            max_accounts: 4_000_000,
            fan_in: 6,
            fan_out: 6,
            pass_through_ms: 24 * 3_600_000,
            pass_through_share: 0.9,
            pass_through_min: 10_000,
            cycle_hops: 6,
            scatter: 3,
            gather: 3,
            bipartite: 3,
            search_budget: 4_096,
        }
    }
}

/// The detectors over one window.
#[derive(Debug, Clone)]
pub struct Detector {
    thresholds: Thresholds,
    window: Window,
    /// Scratch space reused by every search.
    counts: AccountMap<u32>,
    seen: AccountMap<i64>,
}

impl Detector {
    pub fn new(thresholds: Thresholds) -> Detector {
        let window = Window::new(thresholds.window_ms, thresholds.edges_per_account, thresholds.max_accounts);
        Detector {
            thresholds,
            window,
            counts: AccountMap::default(),
            seen: AccountMap::default(),
        }
    }

    pub fn thresholds(&self) -> &Thresholds {
        &self.thresholds
    }

    /// The window, for its counts.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// Adds `t` and appends to `flags` every pattern it takes part in, as far as the window
    /// shows at its time (the transfers before it; never later ones).
    pub fn observe(&mut self, t: &Transfer, flags: &mut Vec<Flag>) {
        if t.from == t.to {
            return;
        }
        self.window.add(t);
        self.fan_in(t, flags);
        self.fan_out(t, flags);
        self.pass_through(t, flags);
        self.gather_scatter(t, flags);
        let mut budget = self.thresholds.search_budget;
        self.cycle(t, flags, &mut budget);
        self.scatter_gather(t, flags, &mut budget);
        self.bipartite(t, flags, &mut budget);
    }

    fn fan_in(&self, t: &Transfer, flags: &mut Vec<Flag>) {
        let edges: Vec<Edge> = self.window.incoming(t.to).copied().collect();
        let payers = distinct(edges.iter().map(|e| e.peer));
        if payers.len() >= self.thresholds.fan_in {
            flags.push(flag(Pattern::FanIn, t.to, &payers, &edges, self.thresholds.fan_in));
        }
    }

    fn fan_out(&self, t: &Transfer, flags: &mut Vec<Flag>) {
        let edges: Vec<Edge> = self.window.outgoing(t.from).copied().collect();
        let payees = distinct(edges.iter().map(|e| e.peer));
        if payees.len() >= self.thresholds.fan_out {
            flags.push(flag(Pattern::FanOut, t.from, &payees, &edges, self.thresholds.fan_out));
        }
    }

    /// The payer of `t` passes on what it received shortly before.
    fn pass_through(&self, t: &Transfer, flags: &mut Vec<Flag>) {
        let th = &self.thresholds;
        let since = t.at - th.pass_through_ms;
        let ins: Vec<Edge> = self
            .window
            .incoming(t.from)
            .filter(|e| e.at >= since && e.at <= t.at)
            .copied()
            .collect();
        let received: i64 = ins.iter().map(|e| e.amount).sum();
        if received < th.pass_through_min || ins.is_empty() {
            return;
        }
        let first_in = ins.iter().map(|e| e.at).min().unwrap_or(t.at);
        let outs: Vec<Edge> = self
            .window
            .outgoing(t.from)
            .filter(|e| e.at >= first_in && e.at <= t.at)
            .copied()
            .collect();
        let sent: i64 = outs.iter().map(|e| e.amount).sum();
        let share = sent as f64 / received as f64;
        if share >= th.pass_through_share && share <= 1.05 {
            let mut others = distinct(ins.iter().map(|e| e.peer));
            others.extend(distinct(outs.iter().map(|e| e.peer)));
            let mut all = ins;
            all.extend(outs.iter().copied());
            let mut f = flag(Pattern::PassThrough, t.from, &others, &all, 1);
            f.amount = sent;
            let delay = (t.at - first_in) as f64 / th.pass_through_ms.max(1) as f64;
            f.score = (1.0 - 0.5 * delay).clamp(0.5, 1.0);
            flags.push(f);
        }
    }

    /// The payer of `t` is a hub: many paid it, and it paid many (after being paid).
    fn gather_scatter(&self, t: &Transfer, flags: &mut Vec<Flag>) {
        let k = self.thresholds.gather;
        let ins: Vec<Edge> = self.window.incoming(t.from).filter(|e| e.at <= t.at).copied().collect();
        let payers = distinct(ins.iter().map(|e| e.peer));
        if payers.len() < k {
            return;
        }
        let first_in = ins.iter().map(|e| e.at).min().unwrap_or(t.at);
        let outs: Vec<Edge> = self.window.outgoing(t.from).filter(|e| e.at >= first_in).copied().collect();
        let payees = distinct(outs.iter().map(|e| e.peer));
        if payees.len() >= k {
            let mut others = payers;
            others.extend(payees);
            let mut all = ins;
            all.extend(outs);
            flags.push(flag(Pattern::GatherScatter, t.from, &others, &all, k));
        }
    }

    /// `t` closes a cycle: its payee paid, through at most `cycle_hops - 1` transfers in time
    /// order, the payer of `t`.
    fn cycle(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let hops = self.thresholds.cycle_hops.clamp(3, 6);
        // Backwards from the payer: (account, the time the path leaves it, parent index, edge).
        let mut path: Vec<(Account, i64, usize, Edge)> = vec![(
            t.from,
            t.at,
            usize::MAX,
            Edge {
                at: t.at,
                peer: t.to,
                amount: t.amount,
            },
        )];
        self.seen.clear();
        let mut level = 0..1;
        for _ in 1..hops {
            let next_start = path.len();
            for i in level.clone() {
                let (account, before, _, _) = path[i];
                for e in self.window.incoming(account) {
                    if *budget == 0 {
                        return;
                    }
                    *budget -= 1;
                    if e.at >= before {
                        continue;
                    }
                    if e.peer == t.to && i == 0 {
                        // Paying back who paid you (two hops) is everyday life, not a cycle.
                        continue;
                    }
                    if e.peer == t.to {
                        // Found: t.to → … → t.from → t.to.
                        let mut accounts = vec![t.to];
                        let mut amount = t.amount + e.amount;
                        let mut from = e.at;
                        let mut j = i;
                        while j != usize::MAX {
                            accounts.push(path[j].0);
                            if path[j].2 != usize::MAX {
                                amount += path[j].3.amount;
                                from = from.min(path[j].3.at);
                            }
                            j = path[j].2;
                        }
                        let n = accounts.len();
                        flags.push(Flag {
                            pattern: Pattern::Cycle,
                            accounts,
                            more_accounts: 0,
                            amount,
                            from,
                            to: t.at,
                            score: (0.6 + 0.1 * n as f64).min(1.0),
                        });
                        return;
                    }
                    if self.seen.get(&e.peer).is_some_and(|&b| b >= e.at) || e.peer == t.from {
                        continue;
                    }
                    self.seen.insert(e.peer, e.at);
                    path.push((e.peer, e.at, i, *e));
                }
            }
            if path.len() == next_start {
                return;
            }
            level = next_start..path.len();
        }
    }

    /// `t` is the gathering transfer: its payer was paid by a source that also paid at least
    /// `scatter - 1` other accounts which all paid the payee of `t`.
    fn scatter_gather(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let k = self.thresholds.scatter;
        // The payee's payers and when they last paid it.
        self.seen.clear();
        for e in self.window.incoming(t.to) {
            let latest = self.seen.entry(e.peer).or_insert(e.at);
            *latest = (*latest).max(e.at);
        }
        if self.seen.len() < k {
            return;
        }
        let sources: Vec<Edge> = self.window.incoming(t.from).filter(|e| e.at <= t.at).copied().collect();
        for source in distinct_edges(&sources) {
            let mut middle: Vec<Account> = Vec::new();
            let mut moved = 0i64;
            let mut from = source.at;
            for e in self.window.outgoing(source.peer) {
                if *budget == 0 {
                    return;
                }
                *budget -= 1;
                if e.peer == t.to || middle.contains(&e.peer) {
                    continue;
                }
                if self.seen.get(&e.peer).is_some_and(|&paid| paid >= e.at) {
                    middle.push(e.peer);
                    moved += e.amount;
                    from = from.min(e.at);
                }
            }
            if middle.len() >= k && middle.contains(&t.from) {
                let mut others = vec![source.peer];
                others.extend(middle.iter().copied());
                let n = others.len();
                flags.push(Flag {
                    pattern: Pattern::ScatterGather,
                    accounts: std::iter::once(t.to).chain(others).take(MAX_FLAG_ACCOUNTS).collect(),
                    more_accounts: (n + 1).saturating_sub(MAX_FLAG_ACCOUNTS),
                    amount: moved,
                    from,
                    to: t.at,
                    score: 0.8,
                });
                return;
            }
        }
    }

    /// `t` is part of a many-to-many group: at least `bipartite` payers of its payee each pay
    /// at least `bipartite` common payees, its payee among them. Then, when those payers are themselves paid by a
    /// common group in the same way, a stack.
    fn bipartite(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let k = self.thresholds.bipartite;
        let payers = distinct(self.window.incoming(t.to).map(|e| e.peer));
        if payers.len() < k {
            return;
        }
        let Some(payees) = self.common(&payers, true, k, budget) else {
            return;
        };
        if !payees.contains(&t.to) {
            return;
        }
        let upstream = self.common(&payers, false, k, budget);
        let (pattern, mut groups) = match upstream {
            Some(first) if first.len() >= k => (Pattern::Stack, first),
            _ => (Pattern::Bipartite, Vec::new()),
        };
        groups.extend(payers.iter().copied());
        groups.extend(payees.iter().copied().filter(|p| *p != t.to));
        let edges: Vec<Edge> = self.window.incoming(t.to).copied().collect();
        flags.push(flag(pattern, t.to, &groups, &edges, k));
    }

    /// The accounts that at least `k` of `group` pay (`downstream`) or are paid by, with at
    /// least `k` of them; `None` when the budget ran out.
    fn common(&mut self, group: &[Account], downstream: bool, k: usize, budget: &mut usize) -> Option<Vec<Account>> {
        self.counts.clear();
        for &member in group {
            let peers: Vec<Account> = if downstream {
                distinct(self.window.outgoing(member).map(|e| e.peer))
            } else {
                distinct(self.window.incoming(member).map(|e| e.peer))
            };
            for p in peers {
                if *budget == 0 {
                    return None;
                }
                *budget -= 1;
                if !group.contains(&p) {
                    *self.counts.entry(p).or_insert(0) += 1;
                }
            }
        }
        let mut common: Vec<Account> = self.counts.iter().filter(|(_, n)| **n as usize >= k).map(|(a, _)| *a).collect();
        common.sort_unstable();
        (common.len() >= k).then_some(common)
    }
}

/// The distinct accounts of `accounts`, in first-seen order.
fn distinct(accounts: impl Iterator<Item = Account>) -> Vec<Account> {
    let mut out: Vec<Account> = Vec::new();
    for a in accounts {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The first edge of each distinct peer.
fn distinct_edges(edges: &[Edge]) -> Vec<Edge> {
    let mut out: Vec<Edge> = Vec::new();
    for e in edges {
        if !out.iter().any(|o| o.peer == e.peer) {
            out.push(*e);
        }
    }
    out
}

/// A flag centred on `centre` with `others` involved, from the transfers `edges`; the score
/// grows from 0.5 at the threshold `k` to 1 at twice it.
fn flag(pattern: Pattern, centre: Account, others: &[Account], edges: &[Edge], k: usize) -> Flag {
    let accounts: Vec<Account> = std::iter::once(centre)
        .chain(others.iter().copied().filter(|a| *a != centre))
        .collect();
    let n = accounts.len() - 1;
    let over = n.saturating_sub(k) as f64 / k.max(1) as f64;
    Flag {
        pattern,
        more_accounts: accounts.len().saturating_sub(MAX_FLAG_ACCOUNTS),
        accounts: accounts.into_iter().take(MAX_FLAG_ACCOUNTS).collect(),
        amount: edges.iter().map(|e| e.amount).sum(),
        from: edges.iter().map(|e| e.at).min().unwrap_or(0),
        to: edges.iter().map(|e| e.at).max().unwrap_or(0),
        score: (0.5 + 0.5 * over).min(1.0),
    }
}

#[cfg(test)]
mod tests;
