//! Retention that deletes: reports past their term (`vangnet_core::retention`) are deleted in
//! batches, with everything only they held; the indicator records, counts and every node's
//! index follow through the change feed. The sweep runs on every node on a timer (safe at
//! once on several: a report another node deleted is skipped), resumes where it stopped
//! (each batch is its own transaction) and does nothing twice. `vangnet retention run`
//! runs the same sweep from the command line, or shows it with `--dry-run`.

use vangnet_core::Timestamp;
use vangnet_core::retention::RetentionPolicy;
use vangnet_core::timestamp::DAY_MILLIS;
use vangnet_store::{DecidedCases, DeletedReport, Deletion, RetentionCandidate, Store, StoreError};

use crate::state::Services;

/// Reports looked at, and deleted, per transaction.
pub const BATCH: u32 = 1_000;

/// What one batch of the sweep found (and, unless a dry run, deleted).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Candidates looked at in this batch.
    pub examined: usize,
    /// Their term has passed.
    pub due: Vec<RetentionCandidate>,
    /// Deleted (empty in a dry run; fewer than `due` when another node was quicker).
    pub deleted: Vec<DeletedReport>,
}

/// What a whole sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepTotals {
    pub examined: u64,
    pub due: u64,
    pub deleted: u64,
    /// Decided disputes, objections and clearance reviews past their term: deleted, or in a
    /// dry run, due.
    pub cases: DecidedCases,
}

/// The shortest term of a report that names no cleared indicator.
fn shortest_report_days(policy: &RetentionPolicy) -> u32 {
    policy
        .by_fraud_type
        .values()
        .chain(policy.by_source.values())
        .copied()
        .chain([policy.default_days])
        .min()
        .unwrap_or(policy.default_days)
        .min(vangnet_core::retention::CEILING_DAYS)
}

/// Sweeps the store once at `now`: finds the reports whose term has passed and, unless
/// `dry_run`, deletes them (then the decided cases past theirs), calling `on_batch` after every batch (for a progress bar, or to
/// apply the deletions to an index).
pub async fn sweep(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: Timestamp,
    dry_run: bool,
    actor: &str,
    mut on_batch: impl FnMut(&Batch),
) -> Result<SweepTotals, StoreError> {
    let received_before = now.plus_millis(-i64::from(shortest_report_days(policy)) * DAY_MILLIS);
    let cleared_before = now.plus_millis(-i64::from(policy.cleared_days) * DAY_MILLIS);
    let mut totals = SweepTotals::default();
    let mut after = 0;
    loop {
        let candidates = store.retention_candidates(after, received_before, cleared_before, BATCH).await?;
        let Some(last) = candidates.last() else { break };
        after = last.seq;
        let examined = candidates.len();
        let due: Vec<RetentionCandidate> = candidates
            .into_iter()
            .filter(|c| policy.delete_at(c.fraud_type, c.source, c.received_at, c.cleared_at) <= now)
            .collect();
        let deleted = if dry_run || due.is_empty() {
            Vec::new()
        } else {
            let seqs: Vec<i64> = due.iter().map(|c| c.seq).collect();
            store.delete_reports(&seqs, Deletion::Retention, actor, now).await?
        };
        totals.examined += examined as u64;
        totals.due += due.len() as u64;
        totals.deleted += deleted.len() as u64;
        on_batch(&Batch { examined, due, deleted });
        if examined < BATCH as usize {
            break;
        }
    }
    let decided_before = now.plus_millis(-i64::from(policy.decided_days) * DAY_MILLIS);
    totals.cases = if dry_run {
        store.decided_cases_before(decided_before).await?
    } else {
        store.delete_decided_cases(decided_before, actor, now).await?
    };
    Ok(totals)
}

impl Services {
    /// Takes deleted reports out of this node's index at once (other nodes follow the feed).
    pub fn forget_reports(&self, deleted: &[DeletedReport]) {
        if deleted.is_empty() {
            return;
        }
        {
            let mut index = self.index_mut();
            for report in deleted {
                let seq = u32::try_from(report.seq).unwrap_or(u32::MAX);
                for (kind, value) in &report.indicators {
                    let key = index.key(*kind, value);
                    index.retract(key, seq);
                }
            }
        }
        self.update_index_gauges();
    }

    /// One sweep of this node (see [`sweep`]).
    pub async fn sweep_retention(&self) -> Result<SweepTotals, StoreError> {
        let policy = &self.settings.retention;
        sweep(self.store.as_ref(), policy, self.now(), false, "system:retention", |batch| {
            self.forget_reports(&batch.deleted);
        })
        .await
    }

    /// Erases one report at once (an operator, with a reason); `None` when there is no such
    /// report. The effect reaches every node within one feed cycle.
    pub async fn erase_report(&self, id: &str, reason: &str, actor: &str) -> Result<Option<DeletedReport>, StoreError> {
        if !crate::reports::is_report_id(id) {
            return Ok(None);
        }
        let Some(report) = self.store.report(id).await? else {
            return Ok(None);
        };
        let deleted = self
            .store
            .delete_reports(&[report.seq], Deletion::Erasure { reason }, actor, self.now())
            .await?;
        self.forget_reports(&deleted);
        Ok(deleted.into_iter().next())
    }
}

/// Runs the sweep every `retention.interval` until `stop`.
pub async fn scheduler(app: Services, stop: tokio_util::sync::CancellationToken) {
    let interval = app.settings.retention_interval;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
        match app.sweep_retention().await {
            Ok(t) if t.deleted > 0 => tracing::info!(
                examined = t.examined,
                deleted = t.deleted,
                "retention: reports past their term deleted"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention sweep failed; trying again at the next interval"),
        }
    }
}
