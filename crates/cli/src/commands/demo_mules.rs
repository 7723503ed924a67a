//! The demo's money-mule networks: five days of synthetic transactions, sent in time order by
//! the demo's first bank (as one feed) through the same engine as `POST /api/v1/transactions`,
//! in which the detectors find a
//! fan-in of victims into a collector account that passes the money on within hours, a cycle,
//! and a scatter-gather, among everyday payments that raise nothing. Transaction ids are fixed,
//! so running the demo again adds nothing.

use anyhow::Context;
use vangnet_core::money::Currency;
use vangnet_core::{Money, Timestamp};
use vangnet_services::Services;
use vangnet_services::mules::TransactionInput;
use vangnet_store::{Partner, TransactionOutcome};

use crate::synth::{Rng, nl_iban, nl_iban_at};

const HOUR: i64 = 3_600_000;

/// A transaction as `POST /api/v1/transactions` takes it.
pub fn transaction_json(t: &TransactionInput) -> serde_json::Value {
    serde_json::json!({
        "id": t.id,
        "payer": t.payer.as_str(),
        "payee": t.payee.as_str(),
        "amount": {"value": t.amount.decimal(), "currency": t.amount.currency().code()},
        "at": t.at.to_rfc3339(),
    })
}

/// What the demo's networks hold.
#[derive(Debug, Clone, Default)]
pub struct MuleDemo {
    /// The collector account of the first network (the fan-in).
    pub collector: String,
    pub stored: usize,
}

fn euros(rng: &mut Rng, low: i64, high: i64) -> Money {
    let cents = (low + rng.below(u64::try_from(high - low).unwrap_or(1)) as i64) * 100;
    Money::from_minor(cents, Currency::EUR)
}

fn transfer(id: String, payer: &str, payee: &str, amount: Money, at: Timestamp) -> anyhow::Result<TransactionInput> {
    let parse = |v: &str| vangnet_core::indicator::Iban::parse(v).map_err(|e| anyhow::anyhow!("a synthetic IBAN is invalid: {e}"));
    Ok(TransactionInput {
        id,
        payer: parse(payer)?,
        payee: parse(payee)?,
        amount,
        received: amount,
        at,
    })
}

/// A fan-in: `victims` accounts (at banks with the codes given, or any Dutch bank) each pay
/// one collector within `hours`, ending at `end`; then the collector passes nearly all of it
/// on to a second account. Ids start with `prefix`. Returns the collector and the transfers.
pub fn fan_in_burst(
    rng: &mut Rng,
    prefix: &str,
    victims: usize,
    payer_banks: &[String],
    end: Timestamp,
    hours: i64,
) -> anyhow::Result<(String, Vec<TransactionInput>)> {
    let bank = *rng.pick(&["INGB", "BUNQ", "KNAB", "RABO"]);
    let collector = nl_iban_at(rng, bank);
    let onward = nl_iban(rng);
    let start = end.plus_millis(-hours * HOUR);
    let step = hours * HOUR / i64::try_from(victims.max(1)).unwrap_or(1);
    let mut out = Vec::with_capacity(victims + 2);
    let mut total = 0;
    for i in 0..victims {
        let payer = if payer_banks.is_empty() {
            nl_iban(rng)
        } else {
            let code = rng.pick(payer_banks).clone();
            nl_iban_at(rng, &code)
        };
        let amount = euros(rng, 250, 1_200);
        total += amount.minor();
        let at = start.plus_millis(step * i as i64 + i64::try_from(rng.below(600_000)).unwrap_or(0));
        out.push(transfer(format!("{prefix}in-{i}"), &payer, &collector, amount, at)?);
    }
    // Passed on in two parts within the hour after the last victim paid.
    let first = total * 55 / 100;
    for (k, part) in [first, total * 96 / 100 - first].into_iter().enumerate() {
        out.push(transfer(
            format!("{prefix}out-{k}"),
            &collector,
            &onward,
            Money::from_minor(part, Currency::EUR),
            end.plus_millis(HOUR / 4 * (k as i64 + 1)),
        )?);
    }
    Ok((collector, out))
}

/// Makes the demo's networks once (later runs repeat the same ids and store nothing).
pub async fn ensure(state: &Services, partners: &[Partner], anchor: Timestamp, seed: u64) -> anyhow::Result<MuleDemo> {
    let mut rng = Rng::new(seed ^ 0x6d75_6c65);
    let now = anchor;
    let mut all: Vec<TransactionInput> = Vec::new();
    // 1. Friend-in-need victims pay a collector within four hours, who passes it on (two days ago).
    let (collector, burst) = fan_in_burst(&mut rng, "demo-mule-1-", 11, &[], now.plus_millis(-48 * HOUR), 4)?;
    all.extend(burst);
    // 2. A cycle of four accounts, each passing 4,800 on within a day and a half.
    let ring: Vec<String> = (0..4).map(|_| nl_iban(&mut rng)).collect();
    for i in 0..4 {
        let at = now.plus_millis(-(30 - 8 * i as i64) * HOUR);
        all.push(transfer(
            format!("demo-mule-2-{i}"),
            &ring[i],
            &ring[(i + 1) % 4],
            Money::from_minor(480_000 - 2_500 * i as i64, Currency::EUR),
            at,
        )?);
    }
    // 3. One source through four accounts into one sink (scatter-gather), yesterday.
    let (source, sink) = (nl_iban(&mut rng), nl_iban(&mut rng));
    for i in 0..4 {
        let middle = nl_iban(&mut rng);
        let at = now.plus_millis(-(26 - i as i64) * HOUR);
        all.push(transfer(
            format!("demo-mule-3-s{i}"),
            &source,
            &middle,
            euros(&mut rng, 1_900, 2_100),
            at,
        )?);
        all.push(transfer(
            format!("demo-mule-3-g{i}"),
            &middle,
            &sink,
            euros(&mut rng, 1_800, 1_890),
            at.plus_millis(5 * HOUR),
        )?);
    }
    // Everyday payments over five days: 300 households at a dozen busy shops, and small sums
    // between households (a share of dinner, a present). Sums like these take part in no
    // structural pattern (below `mules.min_amount_cents`).
    let households: Vec<String> = (0..300).map(|_| nl_iban(&mut rng)).collect();
    let shops: Vec<String> = (0..12).map(|_| nl_iban(&mut rng)).collect();
    for i in 0..1_500 {
        let payer = rng.pick(&households).clone();
        let (payee, amount) = if rng.chance(0.7) {
            (rng.pick(&shops).clone(), euros(&mut rng, 3, 49))
        } else {
            (rng.pick(&households).clone(), euros(&mut rng, 5, 45))
        };
        if payee == payer {
            continue;
        }
        let at = now.plus_millis(-i64::try_from(rng.below(120 * 3_600)).unwrap_or(0) * 1_000);
        all.push(transfer(format!("demo-pay-{i}"), &payer, &payee, amount, at)?);
    }
    all.sort_by_key(|t| t.at.millis());
    let bank = partners.iter().find(|p| p.kind.holds_accounts()).context("the demo has a bank")?;
    let mut stored = 0;
    for batch in all.chunks(vangnet_services::mules::MAX_BATCH) {
        let outcomes = state.mules.ingest(bank, batch).await.context("the demo transactions")?;
        stored += outcomes.iter().filter(|o| **o == TransactionOutcome::Stored).count();
    }
    Ok(MuleDemo { collector, stored })
}
