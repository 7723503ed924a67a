//! The background audit writer, for reads that are too frequent to wait for a database write
//! each (check hits). Events queue in a bounded channel; a request waits when the queue is
//! full, so no read goes unrecorded. On shutdown the queue is drained before the server exits.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vangnet_core::audit::AuditEvent;
use vangnet_store::Store;

use crate::metrics::Metrics;

/// Events waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Events written per transaction, at most.
const BATCH: usize = 1_000;

#[derive(Debug, Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<AuditEvent>,
}

impl AuditSink {
    /// Starts the writer; it ends when every sink clone is dropped and the queue is empty.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> (AuditSink, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = tokio::spawn(run(store, metrics, rx));
        (AuditSink { tx }, handle)
    }

    /// Queues an event.
    pub async fn record(&self, event: AuditEvent) {
        if self.tx.send(event).await.is_err() {
            tracing::error!("the audit writer has stopped; an audit event was not recorded");
        }
    }
}

async fn run(store: Arc<dyn Store>, metrics: Arc<Metrics>, mut rx: mpsc::Receiver<AuditEvent>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let mut attempt = 0;
        loop {
            match store.append_audit(&batch).await {
                Ok(()) => {
                    metrics.counters.audit_written.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    break;
                }
                Err(e) if attempt < 5 => {
                    attempt += 1;
                    metrics.counters.audit_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(error = %e, attempt, "writing audit entries failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
                Err(e) => {
                    metrics.counters.audit_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(error = %e, lost = batch.len(), "audit entries could not be written");
                    break;
                }
            }
        }
        batch.clear();
    }
}
