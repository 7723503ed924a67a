//! The detectors. [`Detector::observe`] adds one transfer to the window and reports every
//! pattern that transfer completes. Each search is bounded by [`Thresholds::search_budget`]
//! edge visits, so no transfer costs more than a fixed amount of work, whatever the graph.

use super::graph::{AccountMap, Edge, Pairs, Window};
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
    /// An account with more distinct payers, or payees, than this within the window is a
    /// business hub (a web shop, an employer's payroll), not a mule: the fan, hub and
    /// many-to-many detectors leave it out.
    pub fan_max: usize,
    /// A fan's transfers (large, from new counterparties) must be at least this share (0 to 1)
    /// of all the centre's transfers that way within the span: a mule's account receives or
    /// sends little else, a small shop takes many small payments beside a few large ones.
    pub fan_purity: f64,
    /// Fans count only transfers of at least this (minor units, and at least `min_amount`):
    /// people shopping at new web shops make fans of small sums every week.
    pub fan_min_amount: i64,
    /// A fan, hub, scatter-gather or many-to-many pattern spans at most this (milliseconds) …
    pub span_ms: i64,
    /// Transfers below this (minor units) take part in no fan, hub, cycle, scatter-gather or
    /// many-to-many pattern: shoppers paying a web shop move small sums, mules large ones.
    pub min_amount: i64,
    /// Pass-through: money out within this time of coming in …
    pub pass_through_ms: i64,
    /// … at least this share of what came in (and no more than came in).
    pub pass_through_share: f64,
    /// Pass-through: ignore sums below this (minor units), where small change moves.
    pub pass_through_min: i64,
    /// Cycles of at most this many transfers (3 to 6; two, paying back, is not one) …
    pub cycle_hops: usize,
    /// … all within this time (milliseconds).
    pub cycle_ms: i64,
    /// Scatter-gather: at least this many accounts between source and sink.
    pub scatter: usize,
    /// Gather-scatter: at least this many payers and this many payees of the hub.
    pub gather: usize,
    /// Bipartite (and each layer of a stack): at least this many payers and payees, each
    /// payee paid by at least this many of the payers.
    pub bipartite: usize,
    /// Fans and hubs count only new counterparties: payers (payees) whose relationship with the
    /// account (its first transfer of at least `min_amount`) began within the pattern's span.
    /// Relationships are remembered this long
    /// (milliseconds) …
    pub pair_ms: i64,
    /// … and at most this many.
    pub max_pairs: usize,
    /// Edge visits one transfer's searches may make.
    pub search_budget: usize,
    /// A flag counts (marks its accounts, flags its transfer) from this score on (0 to 1).
    pub min_score: f64,
    /// After a flag, further transfers of the accounts it marked are flagged for this long
    /// (milliseconds; 0: only the transfers that complete a pattern).
    pub memory_ms: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            window_ms: 7 * 24 * 3_600_000,
            edges_per_account: 64,
            max_accounts: 4_000_000,
            fan_in: 6,
            fan_out: 6,
            fan_max: 24,
            fan_purity: 0.0,
            fan_min_amount: 0,
            span_ms: 48 * 3_600_000,
            min_amount: 20_000,
            pass_through_ms: 24 * 3_600_000,
            pass_through_share: 0.9,
            pass_through_min: 10_000,
            cycle_hops: 6,
            cycle_ms: 4 * 24 * 3_600_000,
            scatter: 3,
            gather: 3,
            bipartite: 3,
            pair_ms: 90 * 24 * 3_600_000,
            max_pairs: 16_000_000,
            search_budget: 4_096,
            min_score: 0.5,
            memory_ms: 24 * 3_600_000,
        }
    }
}

/// The detectors over one window.
#[derive(Debug, Clone)]
pub struct Detector {
    thresholds: Thresholds,
    window: Window,
    pairs: Pairs,
    /// Scratch space reused by every search, so a transfer allocates nothing unless it
    /// raises a flag.
    counts: AccountMap<u32>,
    seen: AccountMap<i64>,
    edges: Vec<Edge>,
    peers: Vec<Account>,
    others: Vec<Account>,
    path: Vec<Step>,
}

/// One step of the backward cycle search: the account, the time the path leaves it, the step
/// it leads to, and the transfer out of it.
#[derive(Debug, Clone, Copy)]
struct Step {
    account: Account,
    before: i64,
    parent: usize,
    edge: Edge,
}

impl Detector {
    pub fn new(thresholds: Thresholds) -> Detector {
        let window = Window::new(thresholds.window_ms, thresholds.edges_per_account, thresholds.max_accounts);
        let pairs = Pairs::new(thresholds.pair_ms, thresholds.max_pairs);
        Detector {
            thresholds,
            window,
            pairs,
            counts: AccountMap::default(),
            seen: AccountMap::default(),
            edges: Vec::new(),
            peers: Vec::new(),
            others: Vec::new(),
            path: Vec::new(),
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
        let min = self.thresholds.min_amount;
        let large = t.amount.min(t.received) >= min;
        // Only large transfers count in the patterns that ask about relationships; the edges
        // carry when theirs began, so the searches never look it up.
        let began = if large {
            Some(self.pairs.add(t.from, t.to, t.at))
        } else if t.amount.max(t.received) >= min {
            self.pairs.began(t.from, t.to)
        } else {
            None
        };
        self.window.add(t, began);
        self.pass_through(t, began, flags);
        if !large {
            // Small change completes no other pattern.
            return;
        }
        self.fan(t, true, flags);
        self.fan(t, false, flags);
        self.gather_scatter(t, flags);
        let mut budget = self.thresholds.search_budget;
        self.cycle(t, flags, &mut budget);
        self.scatter_gather(t, flags, &mut budget);
        self.bipartite(t, flags, &mut budget);
    }

    /// A fan-in (`incoming`: at least `fan_in` new payers of the payee of `t` within the span)
    /// or a fan-out (at least `fan_out` new payees of its payer).
    fn fan(&mut self, t: &Transfer, incoming: bool, flags: &mut Vec<Flag>) {
        let th = &self.thresholds;
        let (pattern, centre, k) = if incoming {
            (Pattern::FanIn, t.to, th.fan_in)
        } else {
            (Pattern::FanOut, t.from, th.fan_out)
        };
        let since = t.at - th.span_ms;
        self.edges.clear();
        let min = th.min_amount.max(th.fan_min_amount);
        if (if incoming { t.received } else { t.amount }) < min || busy(self.window.edges(centre, incoming), since, th.fan_max) {
            return;
        }
        let mut all = 0usize;
        for e in self.window.edges(centre, incoming).filter(|e| e.at() >= since) {
            all += 1;
            if e.amount() >= min {
                self.edges.push(*e);
            }
        }
        if self.edges.len() < k {
            return;
        }
        self.edges.retain(|e| e.fresh(since));
        if self.edges.len() < k || (self.edges.len() as f64) < th.fan_purity * all as f64 {
            return;
        }
        distinct_peers(&self.edges, &mut self.peers);
        // The counterparties must not be hubs themselves (a busy shop's customers, an
        // employer's staff).
        let window = &self.window;
        self.peers.retain(|p| !busy(window.edges(*p, !incoming), since, th.fan_max));
        if (k..=th.fan_max).contains(&self.peers.len()) {
            flags.push(flag(pattern, centre, &self.peers, &self.edges, k));
        }
    }

    /// The payer of `t` passes on what it received shortly before (`began`: when the payer's
    /// relationship with the payee began, if known).
    fn pass_through(&mut self, t: &Transfer, began: Option<i64>, flags: &mut Vec<Flag>) {
        let th = &self.thresholds;
        let since = t.at - th.pass_through_ms;
        let (mut received, mut first_in) = (0i64, t.at);
        let (incoming, outgoing) = self.window.both(t.from);
        for e in incoming.filter(|e| e.at() >= since && e.at() <= t.at) {
            received += e.amount();
            first_in = first_in.min(e.at());
        }
        if received < th.pass_through_min.max(1) {
            return;
        }
        let sent: i64 = outgoing.filter(|e| e.at() >= first_in && e.at() <= t.at).map(|e| e.amount()).sum();
        let share = sent as f64 / received as f64;
        if share < th.pass_through_share || share > 1.05 {
            return;
        }
        // Only the transfer that takes the money out past the share completes the pattern;
        // the shopping after it does not.
        if (sent - t.amount) as f64 >= th.pass_through_share * received as f64 {
            return;
        }
        // Moving one's salary to one's own savings, as every month, is not passing it on: the
        // payee must be new since the money came in.
        if began.is_some_and(|b| b < first_in) && t.amount >= th.min_amount {
            return;
        }
        self.edges.clear();
        self.edges
            .extend(self.window.incoming(t.from).filter(|e| e.at() >= since && e.at() <= t.at).copied());
        distinct_peers(&self.edges, &mut self.others);
        let ins = self.edges.len();
        self.edges.extend(
            self.window
                .outgoing(t.from)
                .filter(|e| e.at() >= first_in && e.at() <= t.at)
                .copied(),
        );
        distinct_peers(&self.edges[ins..], &mut self.peers);
        self.others.extend_from_slice(&self.peers);
        let mut f = flag(Pattern::PassThrough, t.from, &self.others, &self.edges, 1);
        f.amount = sent;
        let delay = (t.at - first_in) as f64 / th.pass_through_ms.max(1) as f64;
        f.score = (1.0 - 0.5 * delay).clamp(0.5, 1.0);
        flags.push(f);
    }

    /// The payer of `t` is a hub: several paid it, and it paid several (after being paid).
    fn gather_scatter(&mut self, t: &Transfer, flags: &mut Vec<Flag>) {
        let th = &self.thresholds;
        let k = th.gather;
        let since = t.at - th.span_ms;
        self.edges.clear();
        let min = th.min_amount;
        if busy(self.window.incoming(t.from), since, th.fan_max) || busy(self.window.outgoing(t.from), since, th.fan_max) {
            return;
        }
        self.edges.extend(
            self.window
                .incoming(t.from)
                .filter(|e| e.at() >= since && e.at() <= t.at && e.amount() >= min),
        );
        if self.edges.len() < k {
            return;
        }
        self.edges.retain(|e| e.fresh(since));
        let received = sum(&self.edges);
        distinct_peers(&self.edges, &mut self.others);
        if !(k..=th.fan_max).contains(&self.others.len()) {
            return;
        }
        let first_in = self.edges.iter().map(|e| e.at()).min().unwrap_or(t.at);
        let ins = self.edges.len();
        self.edges.extend(
            self.window
                .outgoing(t.from)
                .filter(|e| e.at() >= first_in && e.amount() >= min && e.fresh(since)),
        );
        // At least half of what came in has gone on again, to new payees.
        if 2 * sum(&self.edges[ins..]) < received {
            return;
        }
        distinct_peers(&self.edges[ins..], &mut self.peers);
        if (k..=th.fan_max).contains(&self.peers.len()) {
            self.others.extend_from_slice(&self.peers);
            flags.push(flag(Pattern::GatherScatter, t.from, &self.others, &self.edges, k));
        }
    }

    /// `t` closes a cycle: its payee paid, through at most `cycle_hops - 1` transfers in time
    /// order and within `cycle_ms`, the payer of `t`.
    fn cycle(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let th = &self.thresholds;
        let hops = th.cycle_hops.clamp(3, 6);
        let earliest = t.at.saturating_sub(th.cycle_ms);
        let min_amount = th.min_amount;
        let fan_max = th.fan_max;
        // A cycle ends where it began: the payee of `t` must have paid someone large in time.
        // Its slot is in the cache after `Window::add`, so this costs little and spares most
        // transfers the search.
        if !self
            .window
            .outgoing(t.to)
            .any(|e| e.amount() >= min_amount && e.at() >= earliest && e.at() < t.at)
        {
            return;
        }
        self.path.clear();
        self.path.push(Step {
            account: t.from,
            before: t.at,
            parent: usize::MAX,
            edge: Edge::new(t.at, t.to, t.amount),
        });
        self.seen.clear();
        let mut level = 0..1;
        for _ in 1..hops {
            let next_start = self.path.len();
            for i in level.clone() {
                let Step { account, before, .. } = self.path[i];
                for e in self.window.incoming(account).filter(|e| e.amount() >= min_amount) {
                    if *budget == 0 {
                        return;
                    }
                    *budget -= 1;
                    if e.at() >= before || e.at() < earliest {
                        continue;
                    }
                    if e.peer == t.to {
                        if i == 0 {
                            // Paying back who paid you (two hops) is everyday life, not a cycle.
                            continue;
                        }
                        flags.push(self.cycle_flag(t, i, e));
                        return;
                    }
                    if e.peer == t.from || self.seen.get(&e.peer).is_some_and(|&b| b >= e.at()) {
                        continue;
                    }
                    // Hubs (shops, employers) carry everyone's money; a cycle through one
                    // says nothing.
                    if self.window.incoming_len(e.peer) > fan_max {
                        continue;
                    }
                    self.seen.insert(e.peer, e.at());
                    self.path.push(Step {
                        account: e.peer,
                        before: e.at(),
                        parent: i,
                        edge: *e,
                    });
                }
            }
            if self.path.len() == next_start {
                return;
            }
            level = next_start..self.path.len();
        }
    }

    /// The flag for the cycle found at step `i` with `closing` the transfer from the payee of
    /// `t` into the path.
    fn cycle_flag(&self, t: &Transfer, i: usize, closing: &Edge) -> Flag {
        let mut accounts = vec![t.to];
        let mut amount = t.amount + closing.amount();
        let mut from = closing.at();
        let mut j = i;
        while j != usize::MAX {
            let step = &self.path[j];
            accounts.push(step.account);
            if step.parent != usize::MAX {
                amount += step.edge.amount();
                from = from.min(step.edge.at());
            }
            j = step.parent;
        }
        let n = accounts.len();
        Flag {
            pattern: Pattern::Cycle,
            accounts,
            more_accounts: 0,
            amount,
            from,
            to: t.at,
            score: (0.6 + 0.1 * n as f64).min(1.0),
        }
    }

    /// `t` is the gathering transfer: its payer was paid by a source that also paid at least
    /// `scatter - 1` other accounts which all paid the payee of `t`.
    fn scatter_gather(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let th = &self.thresholds;
        let k = th.scatter;
        let since = t.at - th.span_ms;
        let min_amount = th.min_amount;
        // The payer must have been paid (by the source) within the span, and the payee by at
        // least `k`: cheap tests before any map is built.
        let paid = |e: &&Edge| e.at() >= since && e.amount() >= min_amount;
        if !self.window.incoming(t.from).any(|e| paid(&e) && e.at() <= t.at)
            || self.window.incoming(t.to).filter(paid).nth(k.saturating_sub(1)).is_none()
        {
            return;
        }
        // The payee's payers and when they last paid it.
        self.seen.clear();
        for e in self
            .window
            .incoming(t.to)
            .filter(|e| e.at() >= since && e.amount() >= min_amount && e.fresh(since))
        {
            let latest = self.seen.entry(e.peer).or_insert(e.at());
            *latest = (*latest).max(e.at());
        }
        if !(k..=th.fan_max).contains(&self.seen.len()) {
            return;
        }
        self.edges.clear();
        self.edges.extend(
            self.window
                .incoming(t.from)
                .filter(|e| e.at() >= since && e.at() <= t.at && e.amount() >= min_amount && e.fresh(since)),
        );
        self.edges.sort_by_key(|e| (e.peer, e.at()));
        self.edges.dedup_by_key(|e| e.peer);
        for source in &self.edges {
            self.peers.clear();
            let mut moved = 0i64;
            let mut from = source.at();
            for e in self
                .window
                .outgoing(source.peer)
                .filter(|e| e.at() >= since && e.amount() >= min_amount)
            {
                if *budget == 0 {
                    return;
                }
                *budget -= 1;
                if e.peer == t.to || self.peers.contains(&e.peer) || !e.fresh(since) {
                    continue;
                }
                if self.seen.get(&e.peer).is_some_and(|&paid| paid >= e.at()) {
                    self.peers.push(e.peer);
                    moved += e.amount();
                    from = from.min(e.at());
                }
            }
            if self.peers.len() >= k && self.peers.contains(&t.from) {
                let n = self.peers.len() + 2;
                let accounts: Vec<Account> = [t.to, source.peer]
                    .into_iter()
                    .chain(self.peers.iter().copied())
                    .take(MAX_FLAG_ACCOUNTS)
                    .collect();
                flags.push(Flag {
                    pattern: Pattern::ScatterGather,
                    accounts,
                    more_accounts: n.saturating_sub(MAX_FLAG_ACCOUNTS),
                    amount: moved,
                    from,
                    to: t.at,
                    score: (0.5 + 0.5 * (self.peers.len() - k) as f64 / k.max(1) as f64 + 0.3).min(1.0),
                });
                return;
            }
        }
    }

    /// `t` is part of a many-to-many group: at least `bipartite` payers of its payee each pay
    /// at least `bipartite` common payees, its payee among them. Then, when those payers are
    /// themselves paid by a common group in the same way, a stack.
    fn bipartite(&mut self, t: &Transfer, flags: &mut Vec<Flag>, budget: &mut usize) {
        let th = &self.thresholds;
        let k = th.bipartite;
        let fan_max = th.fan_max;
        let since = t.at - th.span_ms;
        self.edges.clear();
        let min = th.min_amount;
        if busy(self.window.incoming(t.to), since, fan_max) {
            return;
        }
        self.edges
            .extend(self.window.incoming(t.to).filter(|e| e.at() >= since && e.amount() >= min));
        if self.edges.len() < k {
            return;
        }
        self.edges.retain(|e| e.fresh(since));
        if self.edges.len() < k {
            return;
        }
        distinct_peers(&self.edges, &mut self.others);
        if !(k..=fan_max).contains(&self.others.len()) {
            return;
        }
        let payers = std::mem::take(&mut self.others);
        let found = self.bipartite_with(t, &payers, k, budget);
        self.others = payers;
        if let Some(f) = found {
            flags.push(f);
        }
    }

    fn bipartite_with(&mut self, t: &Transfer, payers: &[Account], k: usize, budget: &mut usize) -> Option<Flag> {
        let since = t.at - self.thresholds.span_ms;
        let payees = self.common(payers, true, k, since, budget)?;
        if payees.binary_search(&t.to).is_err() {
            return None;
        }
        let upstream = self.common(payers, false, k, since, budget);
        let (pattern, mut groups) = match upstream {
            Some(first) if first.len() >= k => (Pattern::Stack, first),
            _ => (Pattern::Bipartite, Vec::new()),
        };
        groups.extend(payers.iter().copied());
        groups.extend(payees.iter().copied().filter(|p| *p != t.to));
        Some(flag(pattern, t.to, &groups, &self.edges, k))
    }

    /// The accounts that at least `k` of `group` pay (`downstream`) or are paid by, with at
    /// least `k` of them; `None` when there are fewer or the budget ran out.
    fn common(&mut self, group: &[Account], downstream: bool, k: usize, since: i64, budget: &mut usize) -> Option<Vec<Account>> {
        let min = self.thresholds.min_amount;
        self.counts.clear();
        for &member in group {
            self.peers.clear();
            if downstream {
                self.peers.extend(
                    self.window
                        .outgoing(member)
                        .filter(|e| e.at() >= since && e.amount() >= min && e.fresh(since))
                        .map(|e| e.peer),
                );
            } else {
                self.peers.extend(
                    self.window
                        .incoming(member)
                        .filter(|e| e.at() >= since && e.amount() >= min && e.fresh(since))
                        .map(|e| e.peer),
                );
            }
            if self.peers.len() > self.thresholds.edges_per_account {
                continue;
            }
            self.peers.sort_unstable();
            self.peers.dedup();
            for p in &self.peers {
                if *budget == 0 {
                    return None;
                }
                *budget -= 1;
                if !group.contains(p) {
                    *self.counts.entry(*p).or_insert(0) += 1;
                }
            }
        }
        let fan_max = self.thresholds.fan_max;
        let window = &self.window;
        // A shop or a supplier everyone pays is common to any group; it joins none.
        let mut common: Vec<Account> = self
            .counts
            .iter()
            .filter(|(a, n)| **n as usize >= k && !busy(window.edges(**a, downstream), since, fan_max))
            .map(|(a, _)| *a)
            .collect();
        common.sort_unstable();
        (common.len() >= k).then_some(common)
    }
}

/// Whether more than `max` of `edges` are from `since` on: a business hub.
fn busy<'a>(edges: impl Iterator<Item = &'a Edge>, since: i64, max: usize) -> bool {
    edges.filter(|e| e.at() >= since).nth(max).is_some()
}

fn sum(edges: &[Edge]) -> i64 {
    edges.iter().map(|e| e.amount()).sum()
}

/// The distinct peers of `edges`, sorted, into `out`.
fn distinct_peers(edges: &[Edge], out: &mut Vec<Account>) {
    out.clear();
    out.extend(edges.iter().map(|e| e.peer));
    out.sort_unstable();
    out.dedup();
}

/// A flag centred on `centre` with `others` involved, from the transfers `edges`; the score
/// grows from 0.5 at the threshold `k` to 1 at twice it.
fn flag(pattern: Pattern, centre: Account, others: &[Account], edges: &[Edge], k: usize) -> Flag {
    let mut involved: Vec<Account> = others.iter().copied().filter(|a| *a != centre).collect();
    involved.sort_unstable();
    involved.dedup();
    let n = involved.len();
    let over = n.saturating_sub(k) as f64 / k.max(1) as f64;
    let accounts: Vec<Account> = std::iter::once(centre).chain(involved).take(MAX_FLAG_ACCOUNTS).collect();
    Flag {
        pattern,
        more_accounts: (n + 1).saturating_sub(accounts.len()),
        accounts,
        amount: edges.iter().map(|e| e.amount()).sum(),
        from: edges.iter().map(|e| e.at()).min().unwrap_or(0),
        to: edges.iter().map(|e| e.at()).max().unwrap_or(0),
        score: (0.5 + 0.5 * over).min(1.0),
    }
}

#[cfg(test)]
mod tests;
