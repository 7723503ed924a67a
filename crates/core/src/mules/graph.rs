//! The recent transfer graph with bounded memory: per account, the transfers in and out within
//! the window, newest last.
//!
//! Bounds: at most `edges_per_account` transfers each way per account (the oldest dropped
//! first), only transfers within `window_ms` of the newest time seen (older ones are dropped
//! when their account is next touched and skipped when read), and at most `max_accounts`
//! accounts: past that, accounts with nothing left in the window go first, then the accounts
//! touched longest ago, until a quarter of the room is free again (so the cost of a sweep is
//! spread over many transfers).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use super::{Account, Transfer};

/// One transfer as one of its accounts keeps it, in 24 bytes: the time in whole seconds
/// (from 1952 to 2088), the amount in minor units up to 4,294,967,295 (larger amounts count
/// as that), and when the payer's relationship with the payee began as of this transfer (its
/// first large transfer, [`Pairs`]), so that the searches ask the edge, not a look-up in a
/// table of millions, whether a counterparty is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The other account: the payer of an incoming transfer, the payee of an outgoing one.
    pub peer: Account,
    at: i32,
    amount: u32,
    /// Seconds as `at`; `i32::MAX`: not known (no large transfer between the two before).
    began: i32,
}

/// 2020-01-01T00:00Z, in milliseconds: edge times count seconds from it.
const EDGE_EPOCH_MS: i64 = 1_577_836_800_000;

fn edge_secs(at_ms: i64) -> i32 {
    let secs = at_ms.saturating_sub(EDGE_EPOCH_MS).div_euclid(1_000);
    secs.clamp(i64::from(i32::MIN), i64::from(i32::MAX - 1)) as i32
}

impl Edge {
    /// A transfer whose relationship is not known.
    pub fn new(at_ms: i64, peer: Account, amount: i64) -> Edge {
        Edge {
            peer,
            at: edge_secs(at_ms),
            amount: amount.clamp(0, i64::from(u32::MAX)) as u32,
            began: i32::MAX,
        }
    }

    /// The same with the start of the relationship (milliseconds; whole seconds kept).
    pub fn began_at(mut self, began_ms: Option<i64>) -> Edge {
        self.began = began_ms.map_or(i32::MAX, edge_secs);
        self
    }

    /// Whether the relationship began from `since` on, or is not known: a new counterparty.
    pub fn fresh(&self, since: i64) -> bool {
        self.began == i32::MAX || EDGE_EPOCH_MS + i64::from(self.began) * 1_000 >= since
    }

    /// When the relationship began (milliseconds), if known.
    pub fn began(&self) -> Option<i64> {
        (self.began != i32::MAX).then(|| EDGE_EPOCH_MS + i64::from(self.began) * 1_000)
    }

    /// When, in milliseconds (whole seconds).
    pub fn at(&self) -> i64 {
        EDGE_EPOCH_MS + i64::from(self.at) * 1_000
    }

    /// How much, in minor units.
    pub fn amount(&self) -> i64 {
        i64::from(self.amount)
    }
}

/// Edges kept inline before an account's list moves to the heap: most accounts make a few
/// transfers a week, and an allocation per account and direction was the largest single cost
/// of keeping the window (BENCHMARKS.md 11).
const INLINE: usize = 2;

/// One direction's transfers of an account, oldest first: inline while few, then a ring buffer.
#[derive(Debug, Clone)]
enum Edges {
    Inline { len: u8, buf: [Edge; INLINE] },
    Heap(VecDeque<Edge>),
}

const NO_EDGE: Edge = Edge {
    peer: 0,
    at: 0,
    amount: 0,
    began: i32::MAX,
};

impl Default for Edges {
    fn default() -> Self {
        Edges::Inline {
            len: 0,
            buf: [NO_EDGE; INLINE],
        }
    }
}

impl Edges {
    fn len(&self) -> usize {
        match self {
            Edges::Inline { len, .. } => usize::from(*len),
            Edges::Heap(v) => v.len(),
        }
    }

    fn iter(&self) -> std::iter::Chain<std::slice::Iter<'_, Edge>, std::slice::Iter<'_, Edge>> {
        match self {
            Edges::Inline { len, buf } => buf[..usize::from(*len)].iter().chain([].iter()),
            Edges::Heap(v) => {
                let (a, b) = v.as_slices();
                a.iter().chain(b.iter())
            }
        }
    }

    /// Adds `edge` in time order, first dropping what is older than `cutoff` and, when full,
    /// the oldest.
    fn push(&mut self, edge: Edge, cutoff: i64, cap: usize) {
        if let Edges::Inline { len, buf } = self {
            let n = usize::from(*len);
            let keep = buf[..n].iter().position(|e| e.at() >= cutoff).unwrap_or(n);
            if keep > 0 {
                buf.copy_within(keep..n, 0);
                *len = (n - keep) as u8;
            }
            let n = usize::from(*len);
            if n < INLINE && n < cap {
                let at = buf[..n].iter().rposition(|e| e.at() <= edge.at()).map_or(0, |i| i + 1);
                buf.copy_within(at..n, at + 1);
                buf[at] = edge;
                *len += 1;
                return;
            }
            let mut heap = VecDeque::with_capacity((INLINE * 4).min(cap.max(1)));
            heap.extend(buf[..n].iter().copied());
            *self = Edges::Heap(heap);
        }
        if let Edges::Heap(edges) = self {
            push(edges, edge, cutoff, cap);
        }
    }
}

/// 128 bytes, on two cache lines of its own.
#[derive(Debug, Default, Clone)]
#[repr(align(64))]
struct Node {
    incoming: Edges,
    outgoing: Edges,
    /// The last time a transfer touched it.
    last: i64,
}

/// A hasher for account numbers (already pseudonymous and evenly spread, or small counters):
/// one multiply and shift instead of SipHash.
#[derive(Debug, Default, Clone, Copy)]
pub struct AccountHasher(u64);

impl Hasher for AccountHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = x ^ (x >> 29);
    }
}

/// A map keyed by account.
pub type AccountMap<V> = HashMap<Account, V, BuildHasherDefault<AccountHasher>>;

/// The recent graph: a compact table from account to slot (16 bytes a slot, so that it
/// mostly stays in the processor's cache) and the accounts' transfers in one array of slots;
/// a look-up of an account costs one miss of the cache, not the two or three of a table of
/// 128-byte slots (BENCHMARKS.md 11).
#[derive(Debug, Clone)]
pub struct Window {
    index: AccountMap<u32>,
    nodes: Vec<Node>,
    /// Slots of evicted accounts, for reuse.
    free: Vec<u32>,
    window_ms: i64,
    edges_per_account: usize,
    max_accounts: usize,
    /// The newest transfer time seen.
    now: i64,
    evicted: u64,
}

impl Window {
    pub fn new(window_ms: i64, edges_per_account: usize, max_accounts: usize) -> Window {
        let max_accounts = max_accounts.max(16);
        Window {
            // Not pre-sized to the bound: measured slower and 650 MiB more at its peak, as
            // accounts spread over the whole table touch every page (BENCHMARKS.md 11).
            index: AccountMap::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            window_ms: window_ms.max(1),
            edges_per_account: edges_per_account.max(1),
            max_accounts,
            now: i64::MIN,
            evicted: 0,
        }
    }

    /// The oldest time still in the window.
    pub fn cutoff(&self) -> i64 {
        self.now.saturating_sub(self.window_ms)
    }

    /// Accounts kept now.
    pub fn accounts(&self) -> usize {
        self.index.len()
    }

    fn node(&self, account: Account) -> Option<&Node> {
        self.index.get(&account).map(|&i| &self.nodes[i as usize])
    }

    fn slot(&mut self, account: Account) -> &mut Node {
        let (nodes, free) = (&mut self.nodes, &mut self.free);
        let i = *self.index.entry(account).or_insert_with(|| match free.pop() {
            Some(i) => i,
            None => {
                nodes.push(Node::default());
                (nodes.len() - 1) as u32
            }
        });
        &mut self.nodes[i as usize]
    }

    /// Accounts dropped to keep within `max_accounts` so far.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Adds a transfer, with when its relationship began if known (time stamps may arrive
    /// slightly out of order; the window follows the newest).
    pub fn add(&mut self, t: &Transfer, began: Option<i64>) {
        self.now = self.now.max(t.at);
        let cutoff = self.cutoff();
        let cap = self.edges_per_account;
        // A transfer adds at most two accounts.
        if self.index.len() + 2 > self.max_accounts {
            self.make_room();
        }
        let from = self.slot(t.from);
        from.outgoing.push(Edge::new(t.at, t.to, t.amount).began_at(began), cutoff, cap);
        from.last = from.last.max(t.at);
        let to = self.slot(t.to);
        to.incoming.push(Edge::new(t.at, t.from, t.received).began_at(began), cutoff, cap);
        to.last = to.last.max(t.at);
    }

    /// The transfers into (`incoming`) or out of `account` within the window, oldest first.
    pub fn edges(&self, account: Account, incoming: bool) -> impl Iterator<Item = &Edge> + '_ {
        let cutoff = self.cutoff();
        self.node(account)
            .into_iter()
            .flat_map(move |n| if incoming { n.incoming.iter() } else { n.outgoing.iter() })
            .filter(move |e| e.at() >= cutoff)
    }

    /// The transfers into `account` within the window, oldest first.
    pub fn incoming(&self, account: Account) -> impl Iterator<Item = &Edge> + '_ {
        self.edges(account, true)
    }

    /// The transfers into and out of `account` within the window, oldest first (one look-up
    /// for both).
    #[allow(clippy::type_complexity)]
    pub fn both(&self, account: Account) -> (impl Iterator<Item = &Edge> + Clone + '_, impl Iterator<Item = &Edge> + Clone + '_) {
        let cutoff = self.cutoff();
        let node = self.node(account);
        (
            node.into_iter().flat_map(|n| n.incoming.iter()).filter(move |e| e.at() >= cutoff),
            node.into_iter().flat_map(|n| n.outgoing.iter()).filter(move |e| e.at() >= cutoff),
        )
    }

    /// The transfers out of `account` within the window, oldest first.
    pub fn outgoing(&self, account: Account) -> impl Iterator<Item = &Edge> + '_ {
        self.edges(account, false)
    }

    /// The transfers into `account` kept now (some may be past the window until the account
    /// is next touched): a cheap upper bound of its recent payers.
    pub fn incoming_len(&self, account: Account) -> usize {
        self.node(account).map_or(0, |n| n.incoming.len())
    }

    fn make_room(&mut self) {
        let target = self.max_accounts - self.max_accounts / 4;
        let before = self.index.len();
        let cutoff = self.cutoff();
        let mut gone: Vec<u32> = Vec::new();
        let nodes = &self.nodes;
        evict_with(
            &mut self.index,
            cutoff,
            target,
            target,
            |i| nodes[*i as usize].last,
            |i| gone.push(*i),
        );
        for i in gone {
            self.nodes[i as usize] = Node::default();
            self.free.push(i);
        }
        self.evicted += (before - self.index.len()) as u64;
    }
}

/// Bounds `map`: drops the entries whose time is before `cutoff`, then, while more than
/// `over` are left, the oldest until `target` (`target` ≤ `over`) are.
pub fn evict<V>(map: &mut AccountMap<V>, cutoff: i64, over: usize, target: usize, time: impl Fn(&V) -> i64) {
    evict_with(map, cutoff, over, target, time, |_| {});
}

/// [`evict`], telling `gone` of each value dropped.
fn evict_with<V>(map: &mut AccountMap<V>, cutoff: i64, over: usize, target: usize, time: impl Fn(&V) -> i64, mut gone: impl FnMut(&V)) {
    map.retain(|_, v| {
        let keep = time(v) >= cutoff;
        if !keep {
            gone(v);
        }
        keep
    });
    if map.len() <= over {
        return;
    }
    let mut times: Vec<i64> = map.values().map(&time).collect();
    let drop = map.len() - target;
    let (_, nth, _) = times.select_nth_unstable(drop - 1);
    let newest_dropped = *nth;
    let mut left = drop;
    map.retain(|_, v| {
        if left > 0 && time(v) <= newest_dropped {
            left -= 1;
            gone(v);
            false
        } else {
            true
        }
    });
}

/// When each payer–payee relationship began (its first transfer), remembered for `keep_ms`
/// and for at most `max` pairs (past that, those that began longest ago are forgotten first,
/// a quarter at a time): a payee paid before is an established relationship, not a new
/// counterparty.
#[derive(Debug, Clone)]
pub struct Pairs {
    first: AccountMap<i64>,
    keep_ms: i64,
    max: usize,
    now: i64,
}

impl Pairs {
    pub fn new(keep_ms: i64, max: usize) -> Pairs {
        Pairs {
            first: AccountMap::default(),
            keep_ms: keep_ms.max(1),
            max: max.max(16),
            now: i64::MIN,
        }
    }

    fn key(from: Account, to: Account) -> u64 {
        from.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ to.rotate_left(29).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
    }

    /// Records a transfer from `from` to `to` at `at`; returns when their relationship began.
    pub fn add(&mut self, from: Account, to: Account, at: i64) -> i64 {
        self.now = self.now.max(at);
        let cutoff = self.now.saturating_sub(self.keep_ms);
        let first = self.first.entry(Pairs::key(from, to)).or_insert(at);
        if *first < cutoff {
            // Forgotten: it begins again.
            *first = at;
        }
        let began = *first;
        if self.first.len() > self.max {
            self.sweep();
        }
        began
    }

    /// When the relationship from `from` to `to` began, if remembered.
    pub fn began(&self, from: Account, to: Account) -> Option<i64> {
        let cutoff = self.now.saturating_sub(self.keep_ms);
        self.first.get(&Pairs::key(from, to)).copied().filter(|f| *f >= cutoff)
    }

    pub fn len(&self) -> usize {
        self.first.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    fn sweep(&mut self) {
        let cutoff = self.now.saturating_sub(self.keep_ms);
        evict(&mut self.first, cutoff, self.max, self.max - self.max / 4, |f| *f);
    }
}

fn push(edges: &mut VecDeque<Edge>, edge: Edge, cutoff: i64, cap: usize) {
    while edges.front().is_some_and(|e| e.at() < cutoff) {
        edges.pop_front();
    }
    if edges.len() >= cap {
        edges.pop_front();
    }
    if edges.back().is_none_or(|e| e.at() <= edge.at()) {
        edges.push_back(edge);
    } else {
        // Keep time order when a transfer arrives a little late.
        let at = edges.iter().rposition(|e| e.at() <= edge.at()).map_or(0, |i| i + 1);
        edges.insert(at, edge);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(at: i64, from: Account, to: Account) -> Transfer {
        Transfer {
            at,
            from,
            to,
            amount: 100,
            received: 100,
        }
    }

    #[test]
    fn the_window_forgets_old_transfers_and_keeps_its_bounds() {
        const S: i64 = 1_000;
        let mut w = Window::new(1_000 * S, 3, 16);
        w.add(&t(0, 1, 2), None);
        w.add(&t(10 * S, 1, 3), None);
        assert_eq!(w.outgoing(1).count(), 2);
        w.add(&t(2_000 * S, 4, 5), None);
        assert_eq!(w.outgoing(1).count(), 0, "outside the window");
        for i in 0..5 {
            w.add(&t((2_001 + i) * S, 6, 10 + i as u64), None);
        }
        assert_eq!(w.outgoing(6).count(), 3, "at most three per account");
        assert_eq!(w.outgoing(6).next().map(|e| e.peer), Some(12), "the oldest went first");
        w.add(&t(2_003 * S, 7, 6), None);
        w.add(&t(2_002 * S, 8, 6), None);
        let times: Vec<i64> = w.incoming(6).map(|e| e.at()).collect();
        assert_eq!(times, [2_002 * S, 2_003 * S], "kept in time order");
        for i in 0..100u64 {
            w.add(&t((3_000 + i as i64) * S, 100 + i, 1_000 + i), None);
        }
        assert!(w.accounts() <= 16, "{}", w.accounts());
        assert!(w.evicted() > 0);
        assert_eq!(w.incoming(1_099).count(), 1, "the newest stay");
        assert!(w.nodes.len() <= 16, "evicted slots are reused: {}", w.nodes.len());
        assert_eq!(w.incoming(1_000).count(), 0, "an evicted account reads empty");
        w.add(&t(3_200 * S, 100, 1_000), None);
        assert_eq!(w.incoming(1_000).count(), 1, "and starts afresh in a reused slot");
    }

    #[test]
    fn few_edges_stay_inline_in_order_and_move_to_the_heap_intact() {
        let e = |s: i64, peer: u64| Edge::new(EDGE_EPOCH_MS + s * 1_000, peer, 1);
        let mut list = Edges::default();
        list.push(e(20, 2), i64::MIN, 64);
        list.push(e(10, 1), i64::MIN, 64);
        assert!(matches!(list, Edges::Inline { len: 2, .. }));
        assert_eq!(list.iter().map(|x| x.peer).collect::<Vec<_>>(), [1, 2], "time order inline");
        list.push(e(30, 3), i64::MIN, 64);
        assert!(matches!(list, Edges::Heap(_)));
        assert_eq!(list.iter().map(|x| x.peer).collect::<Vec<_>>(), [1, 2, 3], "nothing lost moving");
        let mut old = Edges::default();
        old.push(e(10, 1), i64::MIN, 64);
        old.push(e(20, 2), i64::MIN, 64);
        old.push(e(100, 3), EDGE_EPOCH_MS + 15 * 1_000, 64);
        assert!(matches!(old, Edges::Inline { len: 2, .. }), "the expired one made room inline");
        assert_eq!(old.iter().map(|x| x.peer).collect::<Vec<_>>(), [2, 3]);
        let mut one = Edges::default();
        one.push(e(10, 1), i64::MIN, 1);
        one.push(e(20, 2), i64::MIN, 1);
        assert_eq!(
            one.iter().map(|x| x.peer).collect::<Vec<_>>(),
            [2],
            "the cap holds below the inline size"
        );
    }

    #[test]
    fn edges_keep_seconds_and_bounded_amounts() {
        let e = Edge::new(1_700_000_000_123, 9, 12_345);
        assert_eq!((e.at(), e.peer, e.amount()), (1_700_000_000_000, 9, 12_345));
        assert_eq!(Edge::new(0, 1, -5).amount(), 0);
        assert_eq!(Edge::new(0, 1, i64::MAX).amount(), i64::from(u32::MAX));
        assert_eq!(Edge::new(-3_600_000, 1, 1).at(), -3_600_000, "before 1970 too");
        assert_eq!(std::mem::size_of::<Edge>(), 24);
        assert_eq!(std::mem::size_of::<Node>(), 128, "two cache lines");
        let known = e.began_at(Some(1_699_999_000_500));
        assert_eq!(known.began(), Some(1_699_999_000_000));
        assert!(known.fresh(1_699_999_000_000) && !known.fresh(1_699_999_000_001));
        assert!(e.fresh(i64::MAX) && e.began().is_none(), "not known: new");
    }

    #[test]
    fn pairs_remember_when_a_relationship_began_within_their_bounds() {
        let mut p = Pairs::new(1_000, 16);
        p.add(1, 2, 10);
        p.add(1, 2, 500);
        assert_eq!(p.began(1, 2), Some(10));
        assert_eq!(p.began(2, 1), None, "a direction each");
        p.add(3, 4, 1_200);
        assert_eq!(p.began(1, 2), None, "forgotten after keep_ms");
        p.add(1, 2, 1_300);
        assert_eq!(p.began(1, 2), Some(1_300), "and begun again");
        for i in 0..100 {
            p.add(100 + i, 7, 1_400 + i as i64);
        }
        assert!(p.len() <= 17, "{}", p.len());
        assert_eq!(p.began(199, 7), Some(1_499), "the newest stay");
    }
}
