//! `vangnet bench screening`: the real-time intervention paths, in-process on one core, each
//! beside a plain baseline from the same run:
//!
//! - JSON payment events decided against a registry of N indicators and N payer profiles
//!   (parse, validate, keyed account pseudonyms, registry look-up, rules, state update);
//!   baseline: parsing the same JSON into a generic value;
//! - pacs.008 transactions read from 1,000-transaction messages; baseline: quick-xml's bare
//!   event loop over the same bytes;
//! - call events (start and end) screened and taken into the call state, with the keyed
//!   subscriber reference; baseline: inserting and removing the same call ids in a hash map.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use vangnet_core::index::{IndicatorIndex, ReportFacts};
use vangnet_core::indicator::{Indicator, PhoneNumber};
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_core::screening::calls::{CallEventKind, CallFacts, CallState, Ingress, screen};
use vangnet_core::screening::payments::{MuleSignal, NameCheck, PaymentFacts, PaymentRules, RegistrySignal, ScreeningState};
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_services::screening::AccountKeyer;
use vangnet_services::screening::calls::subscriber_ref;
use vangnet_wire::iso20022;
use vangnet_wire::payments::{PaymentIn, validate};

use crate::synth::{Rng, nl_iban, nl_mobile};

/// One timed stage: a name and the work, which returns a count.
type Stage<'a> = (&'a str, Box<dyn FnMut() -> usize + 'a>);

/// Runs `stages` in interleaved rounds; each stage's median rate (items per second).
fn measure(items: usize, runs: usize, stages: &mut [Stage<'_>]) -> Vec<(String, f64, usize)> {
    let mut rates = vec![Vec::new(); stages.len()];
    let mut found = vec![0; stages.len()];
    for _ in 0..runs.max(1) {
        for (i, (_, stage)) in stages.iter_mut().enumerate() {
            let started = Instant::now();
            found[i] = stage();
            rates[i].push(items as f64 / started.elapsed().as_secs_f64());
        }
    }
    stages
        .iter()
        .zip(rates)
        .zip(found)
        .map(|(((name, _), r), f)| ((*name).to_owned(), super::median(r), f))
        .collect()
}

pub fn run(indicators: u64, events: usize, runs: usize) -> anyhow::Result<()> {
    let key = b"bench-key-bench-key-bench-key-32".to_vec();
    let now = Timestamp::now();
    let keyer = AccountKeyer::new(&key);
    let mut rng = Rng::new(11);
    eprintln!("building a registry of {indicators} IBANs and {indicators} payer profiles …");
    let mut index = IndicatorIndex::with_capacity(indicators as usize);
    let mut ibans: Vec<String> = Vec::with_capacity(indicators as usize);
    for n in 0..indicators {
        let iban = nl_iban(&mut rng);
        let facts = ReportFacts {
            report: n as u32,
            partner: 1 + (n % 5) as u32,
            source: PartnerKind::Police,
            fraud_type: FraudType::Marketplace,
            tlp: Tlp::Amber,
            occurred_at: now.plus_millis(-((n % 300) as i64) * 86_400_000),
            amount: Some(Money::from_minor(25_000, Currency::EUR)),
            aangifte: n % 2 == 0,
            retracted: false,
            mule: false,
            submitter: 0,
            review: vangnet_core::index::CitizenReview::Unverified,
        };
        index.add(index.key(vangnet_core::IndicatorKind::Iban, &iban), &facts);
        ibans.push(iban);
    }
    // Payers: as many as indicators, each with a few earlier payments.
    let rules = PaymentRules::builtin();
    let mut state = ScreeningState::new(indicators as usize * 2 + 10);
    let mut payers: Vec<String> = Vec::with_capacity(indicators as usize);
    for n in 0..indicators as usize {
        let payer = nl_iban(&mut rng);
        let payer_key = keyer.key(&payer);
        for k in 0..4 {
            let payee_key = (n as u64).wrapping_mul(31).wrapping_add(k);
            let facts = PaymentFacts {
                payer: payer_key,
                payee: payee_key,
                amount_minor: 2_000 + (k as i64) * 500,
                instant: false,
                at: now,
                name_check: NameCheck::NotChecked,
                registry: RegistrySignal {
                    status: vangnet_core::index::CheckStatus::NotReported,
                    score: 0.0,
                    reports: 0,
                },
                on_call: None,
                mules: MuleSignal::default(),
            };
            state.record(&facts, vangnet_core::screening::payments::Decision::Allow);
        }
        payers.push(payer);
    }
    let bodies: Vec<Vec<u8>> = (0..events)
        .map(|i| {
            let payee = if i % 10 == 0 {
                ibans[i % ibans.len()].clone()
            } else {
                nl_iban(&mut rng)
            };
            serde_json::json!({
                "id": format!("e2e-{i}"),
                "payer": {"iban": payers[i % payers.len()]},
                "payee": {"iban": payee, "name": "J. Jansen"},
                "amount": {"value": format!("{}.{:02}", 10 + i % 500, i % 100), "currency": "EUR"},
                "instant": i % 3 == 0,
                "initiated_at": "2026-11-20T10:00:00Z",
            })
            .to_string()
            .into_bytes()
        })
        .collect();
    let viewer = Viewer {
        partner: 99,
        kind: PartnerKind::Bank,
    };
    let policy = ScoringPolicy::default();
    let mut stages: Vec<Stage<'_>> = vec![
        (
            "baseline: JSON into a generic value",
            Box::new(|| {
                bodies
                    .iter()
                    .filter(|b| black_box(serde_json::from_slice::<serde_json::Value>(b)).is_ok())
                    .count()
            }),
        ),
        (
            "payment decision (parse, validate, keys, registry, rules, state)",
            Box::new(|| {
                let mut blocked = 0;
                for body in &bodies {
                    let Ok(input) = serde_json::from_slice::<PaymentIn>(body) else {
                        continue;
                    };
                    let Ok(payment) = validate(&input, "", now) else { continue };
                    let payee = Indicator::Iban(payment.payee.clone());
                    let view = index.view(index.key_of(&payee), &viewer, now, &policy);
                    let facts = PaymentFacts {
                        payer: keyer.key(payment.payer.as_str()),
                        payee: keyer.key(payment.payee.as_str()),
                        amount_minor: payment.amount.minor(),
                        instant: payment.instant,
                        at: payment.initiated_at,
                        name_check: payment.name_check,
                        registry: RegistrySignal {
                            status: view.status,
                            score: view.score,
                            reports: view.reports,
                        },
                        on_call: None,
                        mules: MuleSignal::default(),
                    };
                    let verdict = state.evaluate(&rules, &facts);
                    state.record(&facts, verdict.decision);
                    blocked += usize::from(verdict.decision >= vangnet_core::screening::payments::Decision::Hold);
                }
                blocked
            }),
        ),
    ];
    let payments = measure(events, runs, &mut stages);
    drop(stages);

    // pacs.008: messages of 1,000 transactions.
    let per_message = 1_000;
    let messages: Vec<String> = (0..(events / per_message).max(1))
        .map(|m| pacs008(&payers, &ibans, m, per_message))
        .collect();
    let transactions = messages.len() * per_message;
    let mut stages: Vec<Stage<'_>> = vec![
        (
            "baseline: quick-xml event loop, no extraction",
            Box::new(|| {
                let mut n = 0;
                for m in &messages {
                    let mut reader = quick_xml::Reader::from_str(m);
                    while let Ok(e) = reader.read_event() {
                        if matches!(e, quick_xml::events::Event::Eof) {
                            break;
                        }
                        n += 1;
                    }
                }
                black_box(n);
                transactions
            }),
        ),
        (
            "pacs.008 transactions read (iso20022::parse)",
            Box::new(|| {
                messages
                    .iter()
                    .filter_map(|m| iso20022::parse(m).ok())
                    .map(|m| m.transactions.len())
                    .sum()
            }),
        ),
    ];
    let pacs = measure(transactions, runs, &mut stages);
    drop(stages);

    // Calls: start and end events for many subscribers.
    let mut calls_state = CallState::new(2 * 3_600_000, 90 * 86_400_000, events + 10);
    let numbers: Vec<(PhoneNumber, PhoneNumber)> = (0..events / 2)
        .filter_map(|_| {
            Some((
                PhoneNumber::parse(&nl_mobile(&mut rng)).ok()?,
                PhoneNumber::parse(&nl_mobile(&mut rng)).ok()?,
            ))
        })
        .collect();
    let call_events = numbers.len() * 2;
    let mut stages: Vec<Stage<'_>> = vec![
        (
            "baseline: insert and remove call ids in a hash map",
            Box::new(|| {
                let mut map: HashMap<usize, &str> = HashMap::with_capacity(numbers.len());
                for (i, (caller, _)) in numbers.iter().enumerate() {
                    map.insert(i, caller.as_str());
                }
                for i in 0..numbers.len() {
                    map.remove(&i);
                }
                call_events
            }),
        ),
        (
            "call events screened (subscriber ref, lists, registry, state)",
            Box::new(|| {
                let mut flagged = 0;
                for (round, kind) in [CallEventKind::Start, CallEventKind::End].into_iter().enumerate() {
                    for (i, (caller, callee)) in numbers.iter().enumerate() {
                        let view = index.view(index.key_of(&Indicator::Phone(caller.clone())), &viewer, now, &policy);
                        let facts = CallFacts {
                            call_id: format!("c{i}"),
                            kind,
                            at: now.plus_millis(round as i64 * 60_000),
                            caller: caller.as_str().to_owned(),
                            callee_ref: subscriber_ref(&key, callee.as_str()),
                            ingress: if i % 20 == 0 { Ingress::International } else { Ingress::Domestic },
                            caller_protected: false,
                            verified_origin: false,
                            caller_exception: false,
                            caller_registry: view.status,
                        };
                        let verdict = screen(&facts);
                        calls_state.record(&facts, &verdict);
                        flagged += usize::from(verdict.decision != vangnet_core::screening::calls::CallDecision::Allow);
                    }
                }
                flagged
            }),
        ),
    ];
    let calls = measure(call_events, runs, &mut stages);
    drop(stages);

    println!(
        "registry: {} indicators; payer profiles: {}; one core, median of {runs} interleaved rounds",
        index.len(),
        state.payers.len()
    );
    println!("{:<66} {:>12}", "stage", "items/s");
    for (name, rate, _) in payments.iter().chain(&pacs).chain(&calls) {
        println!("{name:<66} {rate:>12.0}");
    }
    println!(
        "({} payment events, {} held or blocked; {} pacs.008 transactions; {} call events)",
        events, payments[1].2, transactions, call_events
    );
    Ok(())
}

fn pacs008(payers: &[String], payees: &[String], m: usize, n: usize) -> String {
    let mut xml = String::with_capacity(n * 700);
    xml.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>\
         <GrpHdr><MsgId>BENCH-{m}</MsgId><CreDtTm>2026-11-20T10:00:00Z</CreDtTm><NbOfTxs>{n}</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>"
    ));
    for i in 0..n {
        let k = m * n + i;
        xml.push_str(&format!(
            "<CdtTrfTxInf><PmtId><InstrId>I{k}</InstrId><EndToEndId>E2E-{k}</EndToEndId><TxId>T{k}</TxId></PmtId>\
             <PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>INST</Cd></LclInstrm></PmtTpInf>\
             <IntrBkSttlmAmt Ccy=\"EUR\">{}.{:02}</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-20</IntrBkSttlmDt><ChrgBr>SLEV</ChrgBr>\
             <Dbtr><Nm>Payer {k}</Nm></Dbtr><DbtrAcct><Id><IBAN>{}</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>ABNANL2A</BICFI></FinInstnId></DbtrAgt>\
             <CdtrAgt><FinInstnId><BICFI>INGBNL2A</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>Payee {k}</Nm></Cdtr>\
             <CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct><RmtInf><Ustrd>Order {k}</Ustrd></RmtInf></CdtTrfTxInf>",
            10 + k % 900,
            k % 100,
            payers[k % payers.len()],
            payees[k % payees.len()]
        ));
    }
    xml.push_str("</FIToFICstmrCdtTrf></Document>");
    xml
}

/// `vangnet bench stream`: end to end over NATS JetStream on this machine. Starts the server
/// state and one stream worker in this process over a fresh SQLite file, publishes payment
/// events to `P.payments.in` at `rate` per second, and times each decision's arrival on
/// `P.decisions.payments` from the moment its event was published. With `baseline` the worker
/// is replaced by a plain relay that copies each event to the decisions subject through the
/// same JetStream path (durable pull consumer, publish with `Nats-Msg-Id` and wait for the
/// store, explicit ack) without deciding anything: what the broker alone costs on this machine.
pub async fn stream(config: &crate::config::Config, events: usize, rate: f64, baseline: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    use futures_util::StreamExt;
    use vangnet_streams::async_nats;

    let dir = std::env::temp_dir().join(format!("vangnet-bench-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("bench.db");
    let store = vangnet_store::open(&db.display().to_string()).await?;
    let token = vangnet_core::token::ApiToken::generate()?;
    let (bank, _) = store
        .create_partner(
            "Bench bank",
            PartnerKind::Bank,
            &token.digest(),
            "bench",
            "cli:bench",
            Timestamp::now(),
        )
        .await?;
    let mut settings = config.settings()?;
    settings.http.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let app = vangnet_server::Application::build(settings, store)
        .await
        .context("the server state")?;
    let mut streams = config.stream_settings();
    streams.prefix = format!("bench{}", std::process::id());
    let js = vangnet_streams::prepare(&streams).await?;
    let stop = tokio_util::sync::CancellationToken::new();
    let worker = if baseline {
        tokio::spawn(relay(js.clone(), streams.clone(), stop.clone()))
    } else {
        tokio::spawn(vangnet_streams::run(app.services().clone(), streams.clone(), stop.clone()))
    };
    let client = async_nats::connect(&streams.url).await.context("cannot connect to NATS")?;
    let mut decisions = client.subscribe(streams.subject("decisions.payments")).await?;
    let mut rng = Rng::new(5);
    let payers: Vec<String> = (0..5_000).map(|_| nl_iban(&mut rng)).collect();
    let payees: Vec<String> = (0..5_000).map(|_| nl_iban(&mut rng)).collect();
    let sent_at = std::sync::Arc::new(std::sync::Mutex::new(vec![None::<Instant>; events]));
    let receiver = {
        let sent_at = std::sync::Arc::clone(&sent_at);
        tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(events);
            let mut last = Instant::now();
            while latencies.len() < events {
                let Ok(Some(m)) = tokio::time::timeout(std::time::Duration::from_secs(30), decisions.next()).await else {
                    break;
                };
                let now = Instant::now();
                let v: serde_json::Value = serde_json::from_slice(&m.payload).unwrap_or_default();
                let Some(i) = v["id"]
                    .as_str()
                    .and_then(|id| id.strip_prefix("s-"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                if let Some(Some(t)) = sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(i) {
                    latencies.push(now.duration_since(*t).as_secs_f64() * 1000.0);
                    last = now;
                }
            }
            (latencies, last)
        })
    };
    let started = Instant::now();
    let gap = std::time::Duration::from_secs_f64(1.0 / rate.max(1.0));
    let mut pending = Vec::with_capacity(1024);
    for i in 0..events {
        let body = serde_json::json!({
            "id": format!("s-{i}"),
            "payer": {"iban": payers[i % payers.len()]},
            "payee": {"iban": payees[(i * 7) % payees.len()]},
            "amount": {"value": format!("{}.00", 10 + i % 300), "currency": "EUR"},
            "instant": i % 4 == 0,
        });
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Vangnet-Partner", bank.id.as_str());
        sent_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(Instant::now());
        pending.push(
            js.publish_with_headers(streams.subject("payments.in"), headers, serde_json::to_vec(&body)?.into())
                .await?,
        );
        if pending.len() >= 512 {
            for ack in pending.drain(..) {
                ack.await?;
            }
        }
        let due = started + gap * u32::try_from(i + 1).unwrap_or(u32::MAX);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }
    for ack in pending.drain(..) {
        ack.await?;
    }
    let published = started.elapsed().as_secs_f64();
    let (mut latencies, last) = receiver.await?;
    stop.cancel();
    let _ = worker.await;
    for name in ["PAYMENTS_IN", "CALLS_IN", "DECISIONS", "DEAD"] {
        let _ = js.delete_stream(streams.stream_name(name)).await;
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    let total = last.duration_since(started).as_secs_f64();
    let what = if baseline {
        "relayed (baseline, nothing decided)"
    } else {
        "decided"
    };
    println!("NATS JetStream end to end: {events} payment events offered at {rate:.0}/s, {what} (published in {published:.1} s)");
    println!("decisions received:  {} of {events}", latencies.len());
    println!(
        "sustained:           {:.0} events/s (first publish to last decision)",
        latencies.len() as f64 / total
    );
    println!(
        "latency publish → decision: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

/// The baseline of `bench stream`: a relay over the same JetStream path as the worker.
async fn relay(
    js: vangnet_streams::async_nats::jetstream::Context,
    streams: vangnet_streams::StreamSettings,
    stop: tokio_util::sync::CancellationToken,
) -> Result<(), vangnet_streams::StreamError> {
    use futures_util::StreamExt;
    let consumer = vangnet_streams::payments_consumer(&js, &streams, "relay").await?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| vangnet_streams::StreamError::JetStream(e.to_string()))?;
    let subject = streams.subject("decisions.payments");
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => break,
            next = messages.next() => next,
        };
        let Some(Ok(message)) = next else { break };
        let (js, subject) = (js.clone(), subject.clone());
        tasks.spawn(async move {
            let mut headers = vangnet_streams::async_nats::HeaderMap::new();
            let id = format!("relay:{}", message.info().map(|i| i.stream_sequence).unwrap_or(0));
            headers.insert("Nats-Msg-Id", id.as_str());
            if let Ok(ack) = js.publish_with_headers(subject, headers, message.payload.clone()).await
                && ack.await.is_ok()
            {
                let _ = message.ack().await;
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
