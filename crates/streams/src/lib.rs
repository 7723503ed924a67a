//! Stream workers: payment and call events from NATS JetStream, decided by the same engine as
//! the HTTP API, with the decisions published back.
//!
//! Subjects (`P` is the configured prefix, `vangnet` by default):
//!
//! | subject | what |
//! |---|---|
//! | `P.payments.in` | payment events, JSON as `POST /api/v1/payments/score` takes it |
//! | `P.calls.in` | call events, JSON as `POST /api/v1/calls/events` takes it |
//! | `P.transactions.in` | batches of transactions for the mule detectors, JSON as `POST /api/v1/transactions` takes them |
//! | `P.decisions.payments`, `P.decisions.calls` | the decisions, JSON as the API answers |
//! | `P.decisions.transactions` | what became of each batch, JSON as the API answers |
//! | `P.dead.payments`, `P.dead.calls`, `P.dead.transactions` | events that cannot be decided, with the reason; for a batch, each invalid transaction on its own (header `Vangnet-Transaction-Index`) |
//!
//! Every event carries a `Vangnet-Partner` header naming the partner (id or exact name) it
//! comes from; the broker's subject permissions decide who may publish as whom. Delivery is at
//! least once: a worker acknowledges an event only after its decision is stored (payments) and
//! published, and publishes each decision with a `Nats-Msg-Id` made of the partner and the
//! event's id, so a redelivered event yields the same decision and JetStream's duplicate
//! window keeps it to one message. An event that cannot be parsed or is invalid goes to the
//! dead-letter subject with `Vangnet-Error-Code`, `Vangnet-Error-Field` and
//! `Vangnet-Error-Message` headers and is acknowledged: it never blocks the stream. Several
//! workers share one durable consumer per input stream and so share the load. On shutdown a
//! worker stops fetching, finishes the events in flight and then stops.

pub use async_nats;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::Digest;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use vangnet_core::PartnerKind;
use vangnet_services::Services;
use vangnet_services::mules::MuleError;
use vangnet_services::screening::ScreeningError;
use vangnet_store::Partner;
use vangnet_wire::json::parse_json;
use vangnet_wire::{WireError, calls, mules, payments};

/// Where the workers connect and what they are called.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// `nats://host:port`.
    pub url: String,
    /// The first part of every subject and (upper-cased) of every stream name.
    pub prefix: String,
    /// Events decided at once per worker.
    pub concurrency: usize,
    /// How long JetStream waits for an acknowledgement before it redelivers.
    pub ack_wait: Duration,
    /// Deliveries of one event before JetStream gives up on it.
    pub max_deliver: i64,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            url: "nats://127.0.0.1:4222".to_owned(),
            prefix: "vangnet".to_owned(),
            concurrency: 256,
            ack_wait: Duration::from_secs(30),
            max_deliver: 20,
        }
    }
}

impl StreamSettings {
    pub fn subject(&self, rest: &str) -> String {
        format!("{}.{rest}", self.prefix)
    }

    /// A stream's name: the prefix upper-cased (other characters than letters and digits as
    /// `_`), then `_` and `rest` (`PAYMENTS_IN`, `CALLS_IN`, `DECISIONS`, `DEAD`).
    pub fn stream_name(&self, rest: &str) -> String {
        let prefix: String = self
            .prefix
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
            .collect();
        format!("{prefix}_{rest}")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot connect to NATS at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("JetStream: {0}")]
    JetStream(String),
}

fn js_error(e: impl std::fmt::Display) -> StreamError {
    StreamError::JetStream(e.to_string())
}

/// Which input a worker loop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Payments,
    Calls,
    Transactions,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Payments => "payments",
            Kind::Calls => "calls",
            Kind::Transactions => "transactions",
        }
    }

    fn stream(self) -> &'static str {
        match self {
            Kind::Payments => "PAYMENTS_IN",
            Kind::Calls => "CALLS_IN",
            Kind::Transactions => "TRANSACTIONS_IN",
        }
    }
}

/// Creates the streams (idempotent) and returns the JetStream context.
pub async fn prepare(settings: &StreamSettings) -> Result<jetstream::Context, StreamError> {
    let client = async_nats::connect(&settings.url).await.map_err(|e| StreamError::Connect {
        url: settings.url.clone(),
        message: e.to_string(),
    })?;
    let js = jetstream::new(client);
    for (name, subjects, window) in [
        ("PAYMENTS_IN", vec![settings.subject("payments.in")], Duration::from_secs(120)),
        ("CALLS_IN", vec![settings.subject("calls.in")], Duration::from_secs(120)),
        (
            "TRANSACTIONS_IN",
            vec![settings.subject("transactions.in")],
            Duration::from_secs(120),
        ),
        ("DECISIONS", vec![settings.subject("decisions.>")], Duration::from_secs(600)),
        ("DEAD", vec![settings.subject("dead.>")], Duration::from_secs(120)),
    ] {
        js.get_or_create_stream(stream::Config {
            name: settings.stream_name(name),
            subjects,
            duplicate_window: window,
            max_age: Duration::from_secs(7 * 86_400),
            ..Default::default()
        })
        .await
        .map_err(js_error)?;
    }
    Ok(js)
}

/// Runs the payment, call and transaction workers until `cancel`, then finishes what is in
/// flight.
pub async fn run(state: Services, settings: StreamSettings, cancel: CancellationToken) -> Result<(), StreamError> {
    let js = prepare(&settings).await?;
    let partners = Arc::new(Mutex::new(HashMap::new()));
    let payments = tokio::spawn(work(
        Kind::Payments,
        js.clone(),
        state.clone(),
        settings.clone(),
        Arc::clone(&partners),
        cancel.clone(),
    ));
    let calls = tokio::spawn(work(
        Kind::Calls,
        js.clone(),
        state.clone(),
        settings.clone(),
        Arc::clone(&partners),
        cancel.clone(),
    ));
    let transactions = tokio::spawn(work(Kind::Transactions, js, state, settings, partners, cancel));
    let (p, c, t) = (payments.await, calls.await, transactions.await);
    p.map_err(js_error)??;
    c.map_err(js_error)??;
    t.map_err(js_error)??;
    Ok(())
}

type PartnerCache = Arc<Mutex<HashMap<String, Partner>>>;

async fn work(
    kind: Kind,
    js: jetstream::Context,
    state: Services,
    settings: StreamSettings,
    partners: PartnerCache,
    cancel: CancellationToken,
) -> Result<(), StreamError> {
    let consumer = input_consumer(&js, &settings, kind, "workers").await?;
    let mut messages = consumer.messages().await.map_err(js_error)?;
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    tracing::info!(stream = kind.name(), "stream worker started");
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => break,
            next = messages.next() => next,
        };
        let Some(message) = next else { break };
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, stream = kind.name(), "receiving from JetStream failed; continuing");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let (js, state, settings, partners) = (js.clone(), state.clone(), settings.clone(), Arc::clone(&partners));
        tasks.spawn(async move {
            handle(kind, &js, &state, &settings, &partners, message).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    // Finish what is in flight; unacknowledged events are redelivered to another worker.
    while tasks.join_next().await.is_some() {}
    tracing::info!(stream = kind.name(), "stream worker stopped");
    Ok(())
}

/// The durable pull consumer `durable` on an input stream, with the workers' settings
/// (explicit acks, `ack_wait`, `max_deliver`, at most four times `concurrency` unacknowledged).
async fn input_consumer(
    js: &jetstream::Context,
    settings: &StreamSettings,
    kind: Kind,
    durable: &str,
) -> Result<consumer::PullConsumer, StreamError> {
    let stream = js.get_stream(settings.stream_name(kind.stream())).await.map_err(js_error)?;
    stream
        .get_or_create_consumer(
            durable,
            consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: settings.ack_wait,
                max_deliver: settings.max_deliver,
                max_ack_pending: i64::try_from(settings.concurrency * 4).unwrap_or(1024),
                ..Default::default()
            },
        )
        .await
        .map_err(js_error)
}

/// A durable pull consumer on `P.payments.in` configured exactly as the workers' (for
/// benchmarks that compare against the workers' path).
pub async fn payments_consumer(
    js: &jetstream::Context,
    settings: &StreamSettings,
    durable: &str,
) -> Result<consumer::PullConsumer, StreamError> {
    input_consumer(js, settings, Kind::Payments, durable).await
}

/// Why an event goes to the dead-letter subject.
struct Dead {
    code: String,
    field: Option<String>,
    message: String,
}

impl From<WireError> for Dead {
    fn from(e: WireError) -> Dead {
        Dead {
            code: e.code.to_owned(),
            field: e.field,
            message: e.message,
        }
    }
}

async fn partner_of(state: &Services, partners: &PartnerCache, headers: Option<&HeaderMap>, kind: Kind) -> Result<Partner, Dead> {
    let name = headers
        .and_then(|h| h.get("Vangnet-Partner"))
        .map(|v| v.as_str().to_owned())
        .ok_or_else(|| Dead {
            code: "unknown_partner".to_owned(),
            field: Some("Vangnet-Partner".to_owned()),
            message: "the event has no Vangnet-Partner header".to_owned(),
        })?;
    let cached = partners
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&name)
        .cloned();
    let partner = match cached {
        Some(p) => p,
        None => {
            let found = state.store.partner(&name).await.map_err(|e| Dead {
                code: "unavailable".to_owned(),
                field: None,
                message: e.to_string(),
            })?;
            let p = found.filter(|p| p.kind != PartnerKind::Citizen).ok_or_else(|| Dead {
                code: "unknown_partner".to_owned(),
                field: Some("Vangnet-Partner".to_owned()),
                message: format!("no partner `{name}`"),
            })?;
            partners
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(name, p.clone());
            p
        }
    };
    let allowed = match kind {
        Kind::Payments | Kind::Transactions => partner.kind.holds_accounts(),
        Kind::Calls => partner.kind == PartnerKind::Telecom,
    };
    if !allowed {
        return Err(Dead {
            code: "forbidden".to_owned(),
            field: Some("Vangnet-Partner".to_owned()),
            message: format!("partners of kind {} do not send {} events", partner.kind, kind.name()),
        });
    }
    Ok(partner)
}

/// The outcome of one event: a decision to publish (with its dedup id), an event to
/// dead-letter, or a passing failure to retry.
enum Outcome {
    /// `dead`: parts of the event that go to the dead-letter subject on their own (the
    /// invalid transactions of a batch), with their reason and index.
    Decided {
        msg_id: String,
        body: Vec<u8>,
        dead: Vec<(usize, Dead, Vec<u8>)>,
    },
    Dead(Dead),
    Retry(String),
}

async fn decide(kind: Kind, state: &Services, partner: &Partner, payload: &[u8]) -> Outcome {
    match kind {
        Kind::Payments => {
            let input: payments::PaymentIn = match parse_json(payload) {
                Ok(i) => i,
                Err(e) => return Outcome::Dead(e.into()),
            };
            let payment = match payments::validate(&input, "", state.now()) {
                Ok(p) => p,
                Err(e) => return Outcome::Dead(e.into()),
            };
            match state.decide_payment(partner, &payment).await {
                Ok(decided) => {
                    let body = serde_json::to_vec(&payments::DecisionJson::from(decided)).unwrap_or_default();
                    Outcome::Decided {
                        msg_id: format!("payment:{}:{}", partner.id, payment.id),
                        body,
                        dead: Vec::new(),
                    }
                }
                Err(ScreeningError::Conflict) => Outcome::Dead(Dead {
                    code: "payment_id_conflict".to_owned(),
                    field: Some("id".to_owned()),
                    message: ScreeningError::Conflict.to_string(),
                }),
                // The store or the decision writer is away for now: JetStream redelivers.
                Err(e @ (ScreeningError::Store(_) | ScreeningError::Stopped)) => Outcome::Retry(e.to_string()),
            }
        }
        Kind::Calls => {
            let input: calls::CallEventIn = match parse_json(payload) {
                Ok(i) => i,
                Err(e) => return Outcome::Dead(e.into()),
            };
            let call = match calls::validate(&input, "", state.now()) {
                Ok(c) => c,
                Err(e) => return Outcome::Dead(e.into()),
            };
            let verdict = state.decide_call(partner, &call);
            let out = calls::CallDecisionOut::from_verdict(&call.call_id, verdict);
            Outcome::Decided {
                msg_id: format!("call:{}:{}:{}", partner.id, call.call_id, input.event),
                body: serde_json::to_vec(&out).unwrap_or_default(),
                dead: Vec::new(),
            }
        }
        Kind::Transactions => transactions(state, partner, payload).await,
    }
}

/// A batch of transactions: stored and detected as `POST /api/v1/transactions` does; the
/// answer is published, each invalid transaction dead-lettered on its own.
async fn transactions(state: &Services, partner: &Partner, payload: &[u8]) -> Outcome {
    let batch: mules::TransactionsIn = match parse_json(payload) {
        Ok(b) => b,
        Err(e) => return Outcome::Dead(e.into()),
    };
    if let Err(e) = mules::check_batch(&batch) {
        return Outcome::Dead(e.into());
    }
    let now = state.now();
    let oldest = mules::oldest_kept(now, state.mules.settings().transaction_days);
    let (valid, invalid) = mules::validate_batch(&batch, now, oldest);
    let inputs: Vec<_> = valid.iter().map(|(_, t)| t.clone()).collect();
    let outcomes = if inputs.is_empty() {
        Vec::new()
    } else {
        match state.mules.ingest(partner, &inputs).await {
            Ok(o) => o,
            Err(e @ MuleError::Forbidden(_)) => {
                return Outcome::Dead(Dead {
                    code: "forbidden".to_owned(),
                    field: Some("Vangnet-Partner".to_owned()),
                    message: e.to_string(),
                });
            }
            Err(e) => return Outcome::Retry(e.to_string()),
        }
    };
    let indexed: Vec<_> = valid.iter().map(|(i, _)| *i).zip(outcomes).collect();
    let answer = mules::batch_answer(&batch, invalid, &indexed);
    let dead = answer
        .failed
        .iter()
        .map(|f| {
            let body = batch
                .transactions
                .get(f.index)
                .and_then(|t| serde_json::to_vec(t).ok())
                .unwrap_or_default();
            (
                f.index,
                Dead {
                    code: f.error.code.clone(),
                    field: f.error.field.clone(),
                    message: f.error.message.clone(),
                },
                body,
            )
        })
        .collect();
    let digest = hex::encode(&sha2::Sha256::digest(payload)[..16]);
    Outcome::Decided {
        msg_id: format!("transactions:{}:{digest}", partner.id),
        body: serde_json::to_vec(&answer).unwrap_or_default(),
        dead,
    }
}

fn dead_headers(dead: &Dead, partner: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Vangnet-Error-Code", dead.code.as_str());
    headers.insert("Vangnet-Error-Message", dead.message.replace(['\r', '\n'], " ").as_str());
    if let Some(field) = &dead.field {
        headers.insert("Vangnet-Error-Field", field.as_str());
    }
    if let Some(p) = partner {
        headers.insert("Vangnet-Partner", p);
    }
    headers
}

async fn handle(
    kind: Kind,
    js: &jetstream::Context,
    state: &Services,
    settings: &StreamSettings,
    partners: &PartnerCache,
    message: jetstream::Message,
) {
    let outcome = match partner_of(state, partners, message.headers.as_ref(), kind).await {
        Ok(partner) => decide(kind, state, &partner, &message.payload).await,
        Err(dead) if dead.code == "unavailable" => Outcome::Retry(dead.message),
        Err(dead) => Outcome::Dead(dead),
    };
    let published = match outcome {
        Outcome::Decided { msg_id, body, dead } => {
            let partner = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Vangnet-Partner"))
                .map(|v| v.as_str().to_owned());
            for (index, d, part) in dead {
                let mut headers = dead_headers(&d, partner.as_deref());
                headers.insert("Vangnet-Transaction-Index", index.to_string().as_str());
                headers.insert("Nats-Msg-Id", format!("{msg_id}:dead:{index}").as_str());
                if let Err(e) = publish(js, settings.subject(&format!("dead.{}", kind.name())), headers, Bytes::from(part)).await {
                    tracing::warn!(error = %e, "dead-lettering a transaction failed; the batch will be redelivered");
                    let _ = message.ack_with(AckKind::Nak(Some(Duration::from_millis(500)))).await;
                    return;
                }
            }
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", msg_id.as_str());
            publish(
                js,
                settings.subject(&format!("decisions.{}", kind.name())),
                headers,
                Bytes::from(body),
            )
            .await
        }
        Outcome::Dead(dead) => {
            let partner = message
                .headers
                .as_ref()
                .and_then(|h| h.get("Vangnet-Partner"))
                .map(|v| v.as_str().to_owned());
            let headers = dead_headers(&dead, partner.as_deref());
            tracing::info!(stream = kind.name(), code = %dead.code, "event sent to the dead-letter subject");
            publish(
                js,
                settings.subject(&format!("dead.{}", kind.name())),
                headers,
                message.payload.clone(),
            )
            .await
        }
        Outcome::Retry(reason) => {
            tracing::warn!(stream = kind.name(), %reason, "event not decided now; it will be redelivered");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            return;
        }
    };
    match published {
        Ok(()) => {
            if let Err(e) = message.ack().await {
                tracing::warn!(error = %e, "acknowledging an event failed; it will be redelivered and deduplicated");
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "publishing a decision failed; the event will be redelivered");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_millis(500)))).await;
        }
    }
}

async fn publish(js: &jetstream::Context, subject: String, headers: HeaderMap, body: Bytes) -> Result<(), StreamError> {
    js.publish_with_headers(subject, headers, body)
        .await
        .map_err(js_error)?
        .await
        .map_err(js_error)?;
    Ok(())
}
