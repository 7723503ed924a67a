//! The network around one indicator, as one partner may see it: the indicators that reports
//! the partner may see name together with it, and theirs, up to a depth and a node count. The
//! structure comes from the in-memory index (kept current by the change feed on every node);
//! the values of the nodes shown come from the reports in the store. Each read is audited: an
//! entry for the indicator asked about, and a counted sight of every other indicator shown.

use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::{IndexKey, MAX_DEPTH, MAX_NODES, RecordView};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_store::{Partner, StoreError};

use crate::state::Services;

/// The depth and node count when the reader names none.
pub const DEFAULT_DEPTH: u8 = 2;
pub const DEFAULT_NODES: usize = 50;

/// One indicator of the network, with its record as the reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkNode {
    pub kind: IndicatorKind,
    pub value: String,
    /// Links from the indicator asked about.
    pub depth: u8,
    pub view: RecordView,
}

/// One link: nodes by position, the reports naming both that the reader may see, the latest date.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkLink {
    pub a: usize,
    pub b: usize,
    pub reports: u32,
    pub last_seen: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NetworkAnswer {
    /// The indicator asked about first.
    pub nodes: Vec<NetworkNode>,
    pub links: Vec<NetworkLink>,
    /// More was in reach than the node count allowed.
    pub truncated: bool,
}

/// Why a network cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("depth must be 1 to {MAX_DEPTH}")]
    Depth,
    #[error("max_nodes must be 1 to {MAX_NODES}")]
    Nodes,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The network around `indicator` for `reader`.
pub async fn network(
    app: &Services,
    reader: &Partner,
    indicator: &Indicator,
    depth: u8,
    max_nodes: usize,
) -> Result<NetworkAnswer, NetworkError> {
    if !(1..=MAX_DEPTH).contains(&depth) {
        return Err(NetworkError::Depth);
    }
    if !(1..=MAX_NODES).contains(&max_nodes) {
        return Err(NetworkError::Nodes);
    }
    let now = app.now();
    let viewer = reader.viewer();
    let policy = app.registry.scoring().clone();
    let (found, views, start) = {
        let index = app.index();
        let start = index.key_of(indicator);
        let found = index.neighbourhood(start, &viewer, now, &policy, depth, max_nodes);
        let views: Vec<RecordView> = found.nodes.iter().map(|(k, _)| index.view(*k, &viewer, now, &policy)).collect();
        (found, views, start)
    };
    // The values: from the reports that reached each node (one per node at most).
    let seqs: Vec<i64> = found.reports.iter().map(|r| i64::from(*r)).collect();
    let values = app.store.report_values(&seqs).await?;
    let named: Vec<(IndexKey, IndicatorKind, String)> = {
        let index = app.index();
        values
            .into_iter()
            .map(|(_, kind, value)| (index.key(kind, &value), kind, value))
            .collect()
    };
    let mut nodes = Vec::with_capacity(found.nodes.len());
    let mut kept: Vec<Option<usize>> = Vec::with_capacity(found.nodes.len());
    for ((key, d), view) in found.nodes.iter().zip(views) {
        let value = if *key == start {
            Some((indicator.kind(), indicator.canonical().to_owned()))
        } else {
            named.iter().find(|(k, _, _)| k == key).map(|(_, kind, v)| (*kind, v.clone()))
        };
        // A node whose report is gone since the index was read is left out.
        match value {
            Some((kind, value)) => {
                kept.push(Some(nodes.len()));
                nodes.push(NetworkNode {
                    kind,
                    value,
                    depth: *d,
                    view,
                });
            }
            None => kept.push(None),
        }
    }
    let links = found
        .edges
        .iter()
        .filter_map(|e| {
            Some(NetworkLink {
                a: kept.get(e.a).copied().flatten()?,
                b: kept.get(e.b).copied().flatten()?,
                reports: e.reports,
                last_seen: e.last_seen,
            })
        })
        .collect();
    // One entry for the read itself; the other indicators shown are counted per partner,
    // indicator and window, as check hits are (`via: network`), so a busy analyst's screen
    // does not flood the log and every sight is still on it.
    let actor = reader.actor();
    let audit = app.audit();
    if let Some(first) = nodes.first() {
        audit
            .record(AuditEvent {
                at: now,
                actor: actor.clone(),
                action: AuditAction::NetworkRead,
                subject: app.pseudonym(first.kind, &first.value),
                details: format!("{{\"nodes\":{},\"depth\":{depth}}}", nodes.len()),
            })
            .await;
    }
    for n in nodes.iter().skip(1) {
        audit
            .record_hit(actor.clone(), app.pseudonym(n.kind, &n.value), "network", now)
            .await;
    }
    Ok(NetworkAnswer {
        nodes,
        links,
        truncated: found.truncated,
    })
}
