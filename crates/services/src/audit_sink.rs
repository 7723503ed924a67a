//! The background audit writer, for reads that are too frequent to wait for a database write
//! each (check hits). Events queue in a bounded channel; a request waits when the queue is
//! full, so no read goes unrecorded. On shutdown the queue is drained before the server exits.
//!
//! Check hits are counted, not written one by one: per partner, per indicator and per
//! window (`audit.check_hits_window_secs`, 60 s), one chained entry records how many hits
//! there were and the first and last time (`{"count", "first", "last", "window_secs", "via"}`).
//! A partner checking the same payee 2,000 times a second writes one entry a minute for it
//! instead of 120,000 (BENCHMARKS.md has the growth of the log under check load). A window is
//! written when it closes, when the same partner hits the same indicator in a later window, when
//! more than `MAX_OPEN` windows are open, and at shutdown; a crash loses at most the windows
//! that were open. Every other audit event is written as it is.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vangnet_core::Timestamp;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_store::Store;

use crate::metrics::Metrics;

/// Events waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Events written per transaction, at most.
const BATCH: usize = 1_000;
/// Hit windows open at once, at most; more, and all are written early.
const MAX_OPEN: usize = 100_000;

/// A check hit: who learned something about which indicator (a pseudonym), through what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct HitKey {
    actor: String,
    subject: String,
    via: &'static str,
}

#[derive(Debug)]
enum Message {
    Event(AuditEvent),
    Hit { key: HitKey, at: Timestamp },
}

/// The hits of one key in one window.
#[derive(Debug)]
struct Window {
    start_ms: i64,
    count: u64,
    first: Timestamp,
    last: Timestamp,
    opened: Instant,
}

#[derive(Debug, Clone)]
pub struct AuditSink {
    tx: mpsc::Sender<Message>,
}

impl AuditSink {
    /// Starts the writer; it ends when every sink clone is dropped and the queue is empty.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>, window: Duration) -> (AuditSink, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let handle = tokio::spawn(run(store, metrics, rx, window.max(Duration::from_millis(1))));
        (AuditSink { tx }, handle)
    }

    /// Queues an event.
    pub async fn record(&self, event: AuditEvent) {
        if self.tx.send(Message::Event(event)).await.is_err() {
            tracing::error!("the audit writer has stopped; an audit event was not recorded");
        }
    }

    /// Counts a check hit of `actor` on `subject` (an indicator's pseudonym) at `at`; `via`
    /// says which check (`check`, `payment`, `public`).
    pub async fn record_hit(&self, actor: String, subject: String, via: &'static str, at: Timestamp) {
        let message = Message::Hit {
            key: HitKey { actor, subject, via },
            at,
        };
        if self.tx.send(message).await.is_err() {
            tracing::error!("the audit writer has stopped; a check hit was not recorded");
        }
    }
}

fn hit_event(key: &HitKey, w: &Window, window: Duration) -> AuditEvent {
    AuditEvent {
        at: w.last,
        actor: key.actor.clone(),
        action: AuditAction::CheckHits,
        subject: key.subject.clone(),
        details: serde_json::json!({
            "count": w.count,
            "first": w.first.to_rfc3339(),
            "last": w.last.to_rfc3339(),
            "window_secs": window.as_secs_f64(),
            "via": key.via,
        })
        .to_string(),
    }
}

async fn run(store: Arc<dyn Store>, metrics: Arc<Metrics>, mut rx: mpsc::Receiver<Message>, window: Duration) {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1);
    let mut open: HashMap<HitKey, Window> = HashMap::new();
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    let mut tick = tokio::time::interval((window / 4).clamp(Duration::from_millis(5), Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closed = false;
    while !closed {
        tokio::select! {
            message = rx.recv() => match message {
                None => closed = true,
                Some(first) => {
                    take(first, &mut open, &mut batch, window, window_ms);
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(message) => take(message, &mut open, &mut batch, window, window_ms),
                            Err(_) => break,
                        }
                    }
                }
            },
            _ = tick.tick() => {}
        }
        if closed || open.len() > MAX_OPEN {
            batch.extend(open.drain().map(|(key, w)| hit_event(&key, &w, window)));
        } else {
            let due: Vec<HitKey> = open
                .iter()
                .filter(|(_, w)| w.opened.elapsed() >= window)
                .map(|(k, _)| k.clone())
                .collect();
            for key in due {
                if let Some(w) = open.remove(&key) {
                    batch.push(hit_event(&key, &w, window));
                }
            }
        }
        for chunk in batch.chunks(BATCH) {
            write(store.as_ref(), &metrics, chunk).await;
        }
        batch.clear();
    }
}

fn take(message: Message, open: &mut HashMap<HitKey, Window>, batch: &mut Vec<AuditEvent>, window: Duration, window_ms: i64) {
    match message {
        Message::Event(event) => batch.push(event),
        Message::Hit { key, at } => {
            let start_ms = at.millis().div_euclid(window_ms) * window_ms;
            match open.get_mut(&key) {
                Some(w) if w.start_ms == start_ms => {
                    w.count += 1;
                    w.first = w.first.min(at);
                    w.last = w.last.max(at);
                }
                _ => {
                    let fresh = Window {
                        start_ms,
                        count: 1,
                        first: at,
                        last: at,
                        opened: Instant::now(),
                    };
                    if let Some(previous) = open.insert(key.clone(), fresh) {
                        batch.push(hit_event(&key, &previous, window));
                    }
                }
            }
        }
    }
}

async fn write(store: &dyn Store, metrics: &Metrics, events: &[AuditEvent]) {
    let mut attempt = 0;
    loop {
        match store.append_audit(events).await {
            Ok(()) => {
                metrics.counters.audit_written.inc_by(events.len() as u64);
                return;
            }
            Err(e) if attempt < 5 => {
                attempt += 1;
                metrics.counters.audit_failures.inc();
                tracing::warn!(error = %e, attempt, "writing audit entries failed; retrying");
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            Err(e) => {
                metrics.counters.audit_failures.inc();
                tracing::error!(error = %e, lost = events.len(), "audit entries could not be written");
                return;
            }
        }
    }
}
