//! The network wire shape: `GET /api/v1/networks/{kind}/{value}`.

use serde::Serialize;
use utoipa::ToSchema;
use vangnet_core::indicator::Indicator;
use vangnet_services::networks::NetworkAnswer;

use crate::registry::CheckResult;

/// One indicator of the network, with its check result as the reader sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkNodeOut {
    /// The node's position, as edges name it.
    pub id: usize,
    /// Links from the indicator asked about (0 for itself).
    pub depth: u8,
    #[serde(flatten)]
    pub check: CheckResult,
}

/// Two indicators that reports the reader may see name together.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkEdgeOut {
    pub from: usize,
    pub to: usize,
    /// Reports the reader may see that name both.
    pub reports: u32,
    /// The latest of those reports' dates.
    pub last_seen: String,
}

/// The network around one indicator.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkOut {
    /// The indicator asked about first (`id` 0), then the others nearest first.
    pub nodes: Vec<NetworkNodeOut>,
    pub edges: Vec<NetworkEdgeOut>,
    /// More indicators were in reach than `max_nodes` allowed.
    pub truncated: bool,
}

impl From<&NetworkAnswer> for NetworkOut {
    fn from(a: &NetworkAnswer) -> Self {
        NetworkOut {
            nodes: a
                .nodes
                .iter()
                .enumerate()
                .filter_map(|(id, n)| {
                    // Stored values are canonical: they parse as themselves.
                    let indicator = Indicator::parse(Some(n.kind), &n.value).ok()?;
                    Some(NetworkNodeOut {
                        id,
                        depth: n.depth,
                        check: CheckResult::from_view(&indicator, &n.view),
                    })
                })
                .collect(),
            edges: a
                .links
                .iter()
                .map(|l| NetworkEdgeOut {
                    from: l.a,
                    to: l.b,
                    reports: l.reports,
                    last_seen: l.last_seen.to_rfc3339(),
                })
                .collect(),
            truncated: a.truncated,
        }
    }
}
