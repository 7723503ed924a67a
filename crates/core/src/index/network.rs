//! The networks behind the reports: indicators are linked when one report names them together
//! (an IBAN and a phone number of the same fake seller). A URL and the domain the platform
//! derived from it are not a link by themselves, so derived indicators take no part.
//!
//! Kept incrementally beside the index, by node numbers kept in the index's entries (no
//! values: the services fetch the values of the few nodes an answer shows):
//! - per report that links at least two indicators, the nodes it links (a span of one arena);
//! - connected components by union–find (union by size, path halving) over the indicators that
//!   some such report names. A retraction, erasure or retention deletion recomputes only the
//!   component it touched: every indicator of that component is still reachable from one of the
//!   removed report's indicators, so a search from those finds each piece whole.
//!
//! [`IndicatorIndex::neighbourhood`] answers the network around one indicator as one reader may
//! see it: an edge exists for the reader only through reports it may see (TLP, retention,
//! retraction, citizen review, as for a check), bounded by depth and node count.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{FLAG_RETRACTED, IndexKey, IndicatorIndex, IndicatorStatus, NONE};
use crate::partner::Viewer;
use crate::scoring::ScoringPolicy;
use crate::timestamp::Timestamp;

/// The deepest neighbourhood one question may ask for.
pub const MAX_DEPTH: u8 = 4;
/// The most nodes one answer holds.
pub const MAX_NODES: usize = 200;

/// Reports and components, in flat arrays: nodes are numbered (the number lives in the index
/// entry), a report's nodes are a span of one arena.
#[derive(Debug, Default)]
pub(super) struct Network {
    /// Report → its span in `arena` (start, length). After loading, only reports that link two
    /// or more indicators are kept.
    reports: HashMap<u32, (u32, u32)>,
    arena: Vec<u32>,
    /// Node → the indicator's key.
    keys: Vec<IndexKey>,
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl Network {
    /// Approximate heap bytes: the report spans, the arena and the node arrays.
    pub(super) fn heap_bytes(&self) -> usize {
        self.reports.capacity() * (std::mem::size_of::<(u32, (u32, u32))>() + 1)
            + self.arena.capacity() * 4
            + self.keys.capacity() * std::mem::size_of::<IndexKey>()
            + (self.parent.capacity() + self.size.capacity()) * 4
    }

    fn members(&self, report: u32) -> &[u32] {
        match self.reports.get(&report) {
            Some(&(start, len)) => &self.arena[start as usize..(start + len) as usize],
            None => &[],
        }
    }

    fn find(&mut self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            let grand = self.parent[self.parent[n as usize] as usize];
            self.parent[n as usize] = grand;
            n = grand;
        }
        n
    }

    fn root(&self, mut n: u32) -> u32 {
        while self.parent[n as usize] != n {
            n = self.parent[n as usize];
        }
        n
    }

    fn union(&mut self, a: u32, b: u32) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
    }

    /// Appends `node` to the report's span (moving the span to the arena's end when it is not
    /// there; the hole left is not reused). Returns false when it was there already.
    fn push(&mut self, report: u32, node: u32) -> bool {
        let end = u32::try_from(self.arena.len()).unwrap_or(u32::MAX);
        match self.reports.get(&report).copied() {
            None => {
                self.arena.push(node);
                self.reports.insert(report, (end, 1));
            }
            Some((start, len)) => {
                if self.arena[start as usize..(start + len) as usize].contains(&node) {
                    return false;
                }
                if start + len == end {
                    self.arena.push(node);
                } else {
                    let moved: Vec<u32> = self.arena[start as usize..(start + len) as usize].to_vec();
                    self.arena.extend_from_slice(&moved);
                    self.arena.push(node);
                    self.reports.insert(report, (end, len + 1));
                    return true;
                }
                self.reports.insert(report, (start, len + 1));
            }
        }
        true
    }
}

/// One edge of an answer: two nodes (positions in [`Neighbourhood::nodes`]), the reports the
/// reader may see that name both, and the latest of their dates.
#[derive(Debug, Clone, PartialEq)]
pub struct NetEdge {
    pub a: usize,
    pub b: usize,
    pub reports: u32,
    pub last_seen: Timestamp,
}

/// The network around one indicator as one reader may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbourhood {
    /// The indicator asked about first, then the others in breadth-first order, with their
    /// distance from it.
    pub nodes: Vec<(IndexKey, u8)>,
    pub edges: Vec<NetEdge>,
    /// The reports the answer rests on (to fetch the nodes' values), at most one per node.
    pub reports: Vec<u32>,
    /// More nodes were in reach than `max_nodes`.
    pub truncated: bool,
}

impl IndicatorIndex {
    /// Records that `report` names `key` (not a derived indicator; the indicator must have been
    /// added). Idempotent.
    pub fn link(&mut self, report: u32, key: IndexKey) {
        let Some(node) = self.node_of(key) else { return };
        if !self.network.push(report, node) {
            return;
        }
        let first = self.network.members(report)[0];
        if first != node {
            self.network.union(first, node);
        }
    }

    /// The node of `key`, made when it has none.
    fn node_of(&mut self, key: IndexKey) -> Option<u32> {
        let entry = self.entries.get_mut(&key)?;
        if entry.node == NONE {
            let n = u32::try_from(self.network.keys.len()).ok().filter(|n| *n != NONE)?;
            entry.node = n;
            self.network.keys.push(key);
            self.network.parent.push(n);
            self.network.size.push(1);
        }
        Some(entry.node)
    }

    /// The node of `key`, if it has one.
    fn node(&self, key: IndexKey) -> Option<u32> {
        self.entries.get(&key).map(|e| e.node).filter(|n| *n != NONE)
    }

    /// Records every link of a report at once.
    pub fn link_report(&mut self, report: u32, keys: &[IndexKey]) {
        for &k in keys {
            self.link(report, k);
        }
    }

    /// Drops the reports that link fewer than two indicators and packs the arena (after a bulk
    /// load, when no more links of them will come).
    pub fn compact_links(&mut self) {
        let net = &mut self.network;
        let mut arena = Vec::with_capacity(net.arena.len());
        net.reports.retain(|_, span| {
            if span.1 < 2 {
                return false;
            }
            let start = u32::try_from(arena.len()).unwrap_or(u32::MAX);
            arena.extend_from_slice(&net.arena[span.0 as usize..(span.0 + span.1) as usize]);
            span.0 = start;
            true
        });
        arena.shrink_to_fit();
        net.arena = arena;
        net.reports.shrink_to_fit();
    }

    /// Takes a report out of the network (retracted, erased, deleted) and recomputes the
    /// component it was in; returns whether it linked anything.
    pub(super) fn unlink(&mut self, report: u32) -> bool {
        let members = self.network.members(report).to_vec();
        self.network.reports.remove(&report);
        if members.len() < 2 {
            return false;
        }
        // Every indicator of the old component is reachable from one of `members` without this
        // report: search from each, and make each piece its own component.
        let mut seen: HashSet<u32> = HashSet::new();
        for &start in &members {
            if !seen.insert(start) {
                continue;
            }
            let mut piece = vec![start];
            let mut queue = VecDeque::from([start]);
            while let Some(n) = queue.pop_front() {
                for r in self.linking_reports(self.network.keys[n as usize]) {
                    for &o in self.network.members(r) {
                        if seen.insert(o) {
                            piece.push(o);
                            queue.push_back(o);
                        }
                    }
                }
            }
            for &n in &piece {
                self.network.parent[n as usize] = start;
                self.network.size[n as usize] = 1;
            }
            self.network.size[start as usize] = u32::try_from(piece.len()).unwrap_or(u32::MAX);
        }
        true
    }

    /// The reports naming `key` that are in the network and not retracted.
    fn linking_reports(&self, key: IndexKey) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = self.entries.get(&key).map_or(NONE, |e| e.head);
        while at != NONE {
            let c = &self.contributions[at as usize];
            at = c.next;
            if c.flags & FLAG_RETRACTED == 0 && self.network.members(c.report).len() >= 2 {
                out.push(c.report);
            }
        }
        out
    }

    /// How many indicators the component of `key` holds (1 when no report links it).
    pub fn component_size(&self, key: IndexKey) -> u32 {
        self.node(key).map_or(1, |n| self.network.size[self.network.root(n) as usize])
    }

    /// Components of two or more indicators, and the largest.
    pub fn components(&self) -> (usize, u32) {
        let mut count = 0;
        let mut largest = 0;
        for (n, &p) in self.network.parent.iter().enumerate() {
            if p as usize == n && self.network.size[n] >= 2 {
                count += 1;
                largest = largest.max(self.network.size[n]);
            }
        }
        (count, largest)
    }

    /// The reports naming `key` that count for `viewer`, with their dates (minutes).
    fn visible_dated(&self, key: IndexKey, viewer: &Viewer, now: Timestamp, policy: &ScoringPolicy) -> Vec<(u32, u32)> {
        if self.status(key) == IndicatorStatus::Cleared {
            return Vec::new();
        }
        self.counted(key, viewer, now, policy)
            .0
            .into_iter()
            .map(|(c, _)| (c.report, c.occurred_minute))
            .collect()
    }

    /// The network around `start` as `viewer` may see it: breadth first up to `max_depth`
    /// links away (at most [`MAX_DEPTH`]) and `max_nodes` nodes (at most [`MAX_NODES`]). Two
    /// indicators are joined when a report that counts for the reader about both names them.
    pub fn neighbourhood(
        &self,
        start: IndexKey,
        viewer: &Viewer,
        now: Timestamp,
        policy: &ScoringPolicy,
        max_depth: u8,
        max_nodes: usize,
    ) -> Neighbourhood {
        let max_depth = max_depth.min(MAX_DEPTH);
        let max_nodes = max_nodes.clamp(1, MAX_NODES);
        let mut visible: HashMap<IndexKey, Vec<(u32, u32)>> = HashMap::new();
        let mut position: HashMap<IndexKey, usize> = HashMap::new();
        let mut out = Neighbourhood {
            nodes: vec![(start, 0)],
            edges: Vec::new(),
            reports: Vec::new(),
            truncated: false,
        };
        position.insert(start, 0);
        let mut edges: HashMap<(usize, usize), (u32, u32)> = HashMap::new();
        let mut counted: HashSet<((usize, usize), u32)> = HashSet::new();
        let mut via: Vec<Option<u32>> = vec![None];
        let mut next = 0;
        while next < out.nodes.len() {
            let (key, depth) = out.nodes[next];
            let here = next;
            next += 1;
            let own = visible
                .entry(key)
                .or_insert_with(|| self.visible_dated(key, viewer, now, policy))
                .clone();
            for (report, minute) in own {
                let members = self.network.members(report);
                if members.len() < 2 {
                    continue;
                }
                if via[here].is_none() {
                    via[here] = Some(report);
                }
                for other in members.iter().map(|&n| self.network.keys[n as usize]) {
                    if other == key {
                        continue;
                    }
                    // The report must count for the reader about the other indicator too.
                    let theirs = visible
                        .entry(other)
                        .or_insert_with(|| self.visible_dated(other, viewer, now, policy));
                    if !theirs.iter().any(|(r, _)| *r == report) {
                        continue;
                    }
                    let there = match position.get(&other) {
                        Some(&p) => p,
                        None if depth < max_depth && out.nodes.len() < max_nodes => {
                            out.nodes.push((other, depth + 1));
                            via.push(Some(report));
                            position.insert(other, out.nodes.len() - 1);
                            out.nodes.len() - 1
                        }
                        None => {
                            if depth < max_depth {
                                out.truncated = true;
                            }
                            continue;
                        }
                    };
                    if there == here {
                        continue;
                    }
                    let pair = (here.min(there), here.max(there));
                    // Each report once per pair: it is met from both ends.
                    if counted.insert((pair, report)) {
                        let e = edges.entry(pair).or_insert((0, 0));
                        e.0 += 1;
                        e.1 = e.1.max(minute);
                    }
                }
            }
        }
        let mut list: Vec<NetEdge> = edges
            .into_iter()
            .map(|((a, b), (reports, minute))| NetEdge {
                a,
                b,
                reports,
                last_seen: Timestamp::from_minutes(minute),
            })
            .collect();
        list.sort_by_key(|e| (e.a, e.b));
        out.edges = list;
        let mut reports: Vec<u32> = via.into_iter().flatten().collect();
        reports.sort_unstable();
        reports.dedup();
        out.reports = reports;
        out
    }
}
