//! Keeping the in-memory index current.
//!
//! The server applies its own writes to the index at once. Writes made elsewhere (another
//! node on the same PostgreSQL, `vangnet import` on the command line) reach it through the
//! store's change feed, which a background task polls. Applying a change twice does nothing,
//! and a review status older than the one the index holds is ignored (statuses carry their
//! feed position), so the two paths may overlap and arrive in any order.
//!
//! PostgreSQL hands out sequence numbers when a transaction inserts, not when it commits, so
//! a change can become visible after a later one. The [`FeedCursor`] therefore does not move
//! past a missing number until it shows up, or until it has been missing for `GAP_TIMEOUT`
//! (then its transaction was rolled back).

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use vangnet_core::Timestamp;
use vangnet_core::index::IndicatorIndex;
use vangnet_store::{Change, ChangeEvent, StoredReport};

use crate::state::Services;

/// How long a missing sequence number may hold the cursor back.
pub const GAP_TIMEOUT: Duration = Duration::from_secs(30);
/// Changes fetched per poll.
const PAGE: u32 = 1_000;
/// How long change-feed rows are kept for nodes that follow them.
const FEED_RETENTION: i64 = 24 * 3_600_000;
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Adds a stored report to the index, and the links between the indicators it names (not
/// derived ones) to the network.
pub fn apply_report(index: &mut IndicatorIndex, report: &StoredReport) {
    for (kind, value, facts) in report.index_links() {
        let key = index.key(kind, value);
        index.add(key, &facts);
    }
    if report.retraction.is_some() {
        return;
    }
    let number = u32::try_from(report.seq).unwrap_or(u32::MAX);
    for i in report.indicators.iter().filter(|i| !i.derived) {
        let key = index.key(i.kind, &i.value);
        index.link(number, key);
    }
}

/// Applies one change.
pub fn apply(index: &mut IndicatorIndex, change: &Change) {
    match &change.event {
        ChangeEvent::Report(report) => apply_report(index, report),
        ChangeEvent::Retraction { report_seq, indicators } => {
            let report = u32::try_from(*report_seq).unwrap_or(u32::MAX);
            for (kind, value) in indicators {
                let key = index.key(*kind, value);
                index.retract(key, report);
            }
        }
        ChangeEvent::Status { kind, value, status } => {
            let key = index.key(*kind, value);
            index.set_status(key, *status, change.seq);
        }
        // A deleted report leaves every count as a retracted one does.
        ChangeEvent::Deletion { report_seq, kind, value } => {
            let key = index.key(*kind, value);
            index.retract(key, u32::try_from(*report_seq).unwrap_or(u32::MAX));
        }
        ChangeEvent::Review {
            report_seq,
            review,
            indicators,
        } => {
            let report = u32::try_from(*report_seq).unwrap_or(u32::MAX);
            for (kind, value) in indicators {
                let key = index.key(*kind, value);
                index.review(key, report, *review);
            }
        }
    }
}

/// The position in the change feed up to which everything has been applied.
#[derive(Debug, Clone)]
pub struct FeedCursor {
    position: i64,
    gap_since: Option<(i64, Instant)>,
}

impl FeedCursor {
    pub fn new(position: i64) -> Self {
        FeedCursor { position, gap_since: None }
    }

    pub fn position(&self) -> i64 {
        self.position
    }

    /// Moves the cursor over the sequence numbers just seen (ascending, all after the
    /// position), stopping at a gap that is younger than `GAP_TIMEOUT`.
    pub fn advance(&mut self, seen: &[i64], now: Instant) {
        for &seq in seen {
            if seq <= self.position {
                continue;
            }
            if seq > self.position + 1 {
                let first_missing = self.position + 1;
                let since = match self.gap_since {
                    Some((missing, at)) if missing == first_missing => at,
                    _ => {
                        self.gap_since = Some((first_missing, now));
                        now
                    }
                };
                if now.duration_since(since) < GAP_TIMEOUT {
                    return;
                }
            }
            self.position = seq;
            self.gap_since = None;
        }
    }
}

/// Loads the index from the store.
pub async fn load(state: &Services) -> Result<FeedCursor, vangnet_store::StoreError> {
    let started = Instant::now();
    let (mut index, position) = state.store.load_index(IndicatorIndex::new()).await?;
    index.compact_links();
    tracing::info!(
        indicators = index.len(),
        links = index.links(),
        seconds = started.elapsed().as_secs_f64(),
        "index loaded"
    );
    *state.index_mut() = index;
    state.update_index_gauges();
    Ok(FeedCursor::new(position))
}

/// Follows the change feed until cancelled.
pub async fn follow(state: Services, mut cursor: FeedCursor, cancel: CancellationToken) {
    let mut last_prune: Option<Instant> = None;
    loop {
        let changes = match state.store.changes_since(cursor.position(), PAGE).await {
            Ok(changes) => changes,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the change feed; retrying");
                Vec::new()
            }
        };
        if !changes.is_empty() {
            {
                let mut index = state.index_mut();
                for change in &changes {
                    apply(&mut index, change);
                }
            }
            state.metrics.counters.feed_changes.inc_by(changes.len() as u64);
            let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
            cursor.advance(&seqs, Instant::now());
            state.metrics.gauges.feed_position.set(cursor.position());
            state.update_index_gauges();
        }
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(Instant::now());
            if let Err(e) = state.store.prune_changes(Timestamp::now().plus_millis(-FEED_RETENTION)).await {
                tracing::warn!(error = %e, "could not prune the change feed");
            }
        }
        // A full page means more is waiting: read on without pausing.
        if changes.len() as u32 == PAGE {
            continue;
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(state.settings.feed_interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_waits_at_gaps_then_gives_up() {
        let start = Instant::now();
        let mut cursor = FeedCursor::new(10);
        cursor.advance(&[11, 12], start);
        assert_eq!(cursor.position(), 12);
        cursor.advance(&[14, 15], start);
        assert_eq!(cursor.position(), 12, "13 may still commit");
        cursor.advance(&[13, 14, 15], start + Duration::from_secs(1));
        assert_eq!(cursor.position(), 15, "13 arrived");
        cursor.advance(&[17], start + Duration::from_secs(2));
        assert_eq!(cursor.position(), 15);
        cursor.advance(&[17], start + Duration::from_secs(2) + GAP_TIMEOUT);
        assert_eq!(cursor.position(), 17, "16 was rolled back");
        cursor.advance(&[5, 18], start + Duration::from_secs(100));
        assert_eq!(cursor.position(), 18);
    }
}
