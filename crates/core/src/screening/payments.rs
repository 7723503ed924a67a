//! Payment screening: a decision (`allow`, `warn`, `hold`, `block`) for one payment, from rules
//! that are data ([`PaymentRules`], loaded from a rules file by the server) and from what the
//! platform knows: the payee in the registry, the payer's own history, the payee account's
//! recent activity, the telecom on-call signal and the bank's verification-of-payee result.
//!
//! ```text
//! score = 1 − Π over fired rules (1 − weight · strength)      strength in [0, 1]
//! decision = block if score ≥ thresholds.block, hold if ≥ hold, warn if ≥ warn, else allow
//! ```
//!
//! Every rule that fires adds a reason with a stable code and the facts that made it fire.
//! Evaluation is pure: [`evaluate`] reads the state, [`ScreeningState::record`] updates it
//! afterwards, so the same payment evaluated twice gives the same answer.

use std::collections::HashMap;

use crate::Timestamp;
use crate::index::CheckStatus;

/// The answer for one payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Allow,
    Warn,
    Hold,
    Block,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Hold => "hold",
            Decision::Block => "block",
        }
    }

    pub fn from_key(key: &str) -> Option<Decision> {
        [Decision::Allow, Decision::Warn, Decision::Hold, Decision::Block]
            .into_iter()
            .find(|d| d.as_str() == key)
    }
}

/// Score thresholds of the decisions, each in [0, 1] and rising.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub warn: f64,
    pub hold: f64,
    pub block: f64,
}

/// The payment rules and their parameters: a rules file's content, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRules {
    /// Recorded in every decision.
    pub version: String,
    pub thresholds: Thresholds,
    /// The payee IBAN is in the registry: strength is the registry score as this bank sees it;
    /// a `disputed` listing counts `disputed_factor` of that; `cleared` never counts.
    pub payee_reported_weight: f64,
    pub payee_disputed_factor: f64,
    /// The payer never paid this payee before.
    pub first_payment_weight: f64,
    /// The amount is far above the payer's usual: robust z-score (median and MAD over the
    /// payer's recent amounts) at least `unusual_z`, the amount at least `unusual_min_ratio`
    /// times the median, and at least `unusual_min_history` earlier payments to judge by.
    pub unusual_amount_weight: f64,
    pub unusual_z: f64,
    pub unusual_min_ratio: f64,
    pub unusual_min_history: usize,
    /// An instant payment of at least `instant_min_minor` (euro cents) to a new payee.
    pub instant_new_payee_weight: f64,
    pub instant_min_minor: i64,
    /// The payer is on a call with an unverified caller right now (the telecom signal).
    pub payer_on_call_weight: f64,
    /// The payee received from at least `fan_in_payers` distinct payers within
    /// `mule_window_minutes` (this payment included).
    pub mule_fan_in_weight: f64,
    pub fan_in_payers: usize,
    /// The payee passed on at least `pass_through_share` of what it received within
    /// `mule_window_minutes`.
    pub mule_pass_through_weight: f64,
    pub pass_through_share: f64,
    pub mule_window_minutes: u32,
    /// The bank's verification of payee says the name does not match (`close_match` counts
    /// `close_match_factor`).
    pub name_mismatch_weight: f64,
    pub close_match_factor: f64,
    /// The payee account has a mule score (patterns it was flagged in, partners' mule reports):
    /// strength is that score.
    pub payee_mule_weight: f64,
    /// The payer's own account was flagged in a mule pattern (it may be passing money on):
    /// strength is its mule score.
    pub payer_mule_weight: f64,
}

impl PaymentRules {
    /// The built-in rule set (the same as the documented example rules file).
    pub fn builtin() -> PaymentRules {
        PaymentRules {
            version: "builtin-1".to_owned(),
            thresholds: Thresholds {
                warn: 0.30,
                hold: 0.60,
                block: 0.85,
            },
            payee_reported_weight: 0.95,
            payee_disputed_factor: 0.3,
            first_payment_weight: 0.10,
            unusual_amount_weight: 0.35,
            unusual_z: 6.0,
            unusual_min_ratio: 3.0,
            unusual_min_history: 5,
            instant_new_payee_weight: 0.30,
            instant_min_minor: 100_000,
            payer_on_call_weight: 0.65,
            mule_fan_in_weight: 0.45,
            fan_in_payers: 5,
            mule_pass_through_weight: 0.40,
            pass_through_share: 0.8,
            mule_window_minutes: 24 * 60,
            name_mismatch_weight: 0.50,
            close_match_factor: 0.4,
            payee_mule_weight: 0.75,
            payer_mule_weight: 0.35,
        }
    }

    /// Everything wrong with these rules, as `field: problem` lines.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.version.trim().is_empty() || self.version.len() > 64 {
            p.push("version: 1 to 64 characters".to_owned());
        }
        let t = &self.thresholds;
        let unit = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        if !(unit(t.warn) && unit(t.hold) && unit(t.block) && t.warn <= t.hold && t.hold <= t.block) {
            p.push("thresholds: warn <= hold <= block, each between 0 and 1".to_owned());
        }
        for (name, w) in [
            ("payee_reported.weight", self.payee_reported_weight),
            ("payee_reported.disputed_factor", self.payee_disputed_factor),
            ("first_payment.weight", self.first_payment_weight),
            ("unusual_amount.weight", self.unusual_amount_weight),
            ("instant_new_payee.weight", self.instant_new_payee_weight),
            ("payer_on_call.weight", self.payer_on_call_weight),
            ("mule_fan_in.weight", self.mule_fan_in_weight),
            ("mule_pass_through.weight", self.mule_pass_through_weight),
            ("mule_pass_through.share", self.pass_through_share),
            ("name_mismatch.weight", self.name_mismatch_weight),
            ("name_mismatch.close_match_factor", self.close_match_factor),
            ("payee_mule.weight", self.payee_mule_weight),
            ("payer_mule.weight", self.payer_mule_weight),
        ] {
            if !unit(w) {
                p.push(format!("{name}: between 0 and 1"));
            }
        }
        if !(self.unusual_z.is_finite() && self.unusual_z > 0.0 && self.unusual_min_ratio.is_finite() && self.unusual_min_ratio >= 1.0) {
            p.push("unusual_amount: robust_z > 0 and min_ratio >= 1".to_owned());
        }
        if !(2..=HISTORY).contains(&self.unusual_min_history) {
            p.push(format!("unusual_amount.min_history: 2 to {HISTORY}"));
        }
        if self.instant_min_minor < 0 {
            p.push("instant_new_payee.min_amount: not negative".to_owned());
        }
        if !(2..=ACTIVITY).contains(&self.fan_in_payers) {
            p.push(format!("mule_fan_in.distinct_payers: 2 to {ACTIVITY}"));
        }
        if self.mule_window_minutes == 0 || self.mule_window_minutes > 7 * 24 * 60 {
            p.push("mule window: 1 minute to 7 days".to_owned());
        }
        p
    }
}

/// The bank's verification-of-payee answer for the payee name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameCheck {
    Match,
    CloseMatch,
    NoMatch,
    NotChecked,
}

impl NameCheck {
    pub fn from_key(key: &str) -> Option<NameCheck> {
        match key {
            "match" => Some(NameCheck::Match),
            "close_match" => Some(NameCheck::CloseMatch),
            "no_match" => Some(NameCheck::NoMatch),
            "not_checked" => Some(NameCheck::NotChecked),
            _ => None,
        }
    }
}

/// What the registry says about the payee, as the screening bank may see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegistrySignal {
    pub status: CheckStatus,
    pub score: f64,
    pub reports: u32,
}

/// The telecom signal about the payer at the moment of payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnCallSignal {
    pub on_call: bool,
    pub unverified_caller: bool,
}

/// What the mule detectors and the partners' mule reports say about the two accounts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MuleSignal {
    /// The payee account's mule score (0: nothing known).
    pub payee_score: f64,
    /// The pattern that weighs most in it, if any.
    pub payee_pattern: Option<crate::mules::Pattern>,
    /// Partners' reports naming the payee as a mule's account, as the bank may see them.
    pub payee_reports: u32,
    /// The payer account's mule score.
    pub payer_score: f64,
    pub payer_pattern: Option<crate::mules::Pattern>,
}

/// One payment, reduced to what the rules need. Parties are keyed pseudonyms of their IBANs.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentFacts {
    pub payer: u64,
    pub payee: u64,
    /// Euro cents (other currencies are converted by the caller or not screened by amount).
    pub amount_minor: i64,
    pub instant: bool,
    pub at: Timestamp,
    pub name_check: NameCheck,
    pub registry: RegistrySignal,
    pub on_call: Option<OnCallSignal>,
    pub mules: MuleSignal,
}

/// Why a rule fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
    /// What the rule added: weight · strength.
    pub contribution: f64,
}

/// The decision for one payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub decision: Decision,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// Earlier payments kept per payer (payees and amounts).
pub const HISTORY: usize = 16;
/// Recent movements kept per account for the mule rules.
pub const ACTIVITY: usize = 32;

/// A payer's recent payments: the payees it paid (most recent last) and the amounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayerProfile {
    payees: Vec<u64>,
    amounts: Vec<i64>,
    /// Payments recorded in all.
    pub payments: u64,
}

impl PayerProfile {
    pub fn knows(&self, payee: u64) -> bool {
        self.payees.contains(&payee)
    }

    fn add(&mut self, payee: u64, amount: i64) {
        if let Some(i) = self.payees.iter().position(|p| *p == payee) {
            self.payees.remove(i);
        } else if self.payees.len() >= HISTORY {
            self.payees.remove(0);
        }
        self.payees.push(payee);
        if self.amounts.len() >= HISTORY {
            self.amounts.remove(0);
        }
        self.amounts.push(amount);
        self.payments += 1;
    }

    /// Median and scaled median absolute deviation of the recent amounts.
    fn median_mad(&self) -> Option<(f64, f64)> {
        let n = self.amounts.len();
        if n == 0 {
            return None;
        }
        // On the stack: at most HISTORY amounts.
        let mut a = [0f64; HISTORY];
        for (slot, x) in a.iter_mut().zip(&self.amounts) {
            *slot = *x as f64;
        }
        let med = median(&mut a[..n]);
        let mut dev = [0f64; HISTORY];
        for (slot, x) in dev.iter_mut().zip(&a[..n]) {
            *slot = (x - med).abs();
        }
        Some((med, 1.4826 * median(&mut dev[..n])))
    }

    /// A compact byte form for storage: counts, then little-endian numbers.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + 16 * (self.payees.len() + self.amounts.len()));
        out.push(self.payees.len() as u8);
        out.push(self.amounts.len() as u8);
        out.extend_from_slice(&self.payments.to_le_bytes());
        for p in &self.payees {
            out.extend_from_slice(&p.to_le_bytes());
        }
        for a in &self.amounts {
            out.extend_from_slice(&a.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<PayerProfile> {
        let (&np, rest) = bytes.split_first()?;
        let (&na, rest) = rest.split_first()?;
        let (np, na) = (usize::from(np), usize::from(na));
        if np > HISTORY || na > HISTORY || rest.len() != 8 + 8 * (np + na) {
            return None;
        }
        let word = |i: usize| -> Option<[u8; 8]> { rest.get(i * 8..i * 8 + 8)?.try_into().ok() };
        Some(PayerProfile {
            payments: u64::from_le_bytes(word(0)?),
            payees: (1..=np).map(|i| word(i).map(u64::from_le_bytes)).collect::<Option<_>>()?,
            amounts: (np + 1..=np + na).map(|i| word(i).map(i64::from_le_bytes)).collect::<Option<_>>()?,
        })
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// An account's recent movements seen by the platform: money in (from which payer) and out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountActivity {
    /// (payer, minute, amount) of recent incoming payments, oldest first.
    incoming: Vec<(u64, u32, i64)>,
    /// (minute, amount) of recent outgoing payments, oldest first.
    outgoing: Vec<(u32, i64)>,
}

impl AccountActivity {
    fn push_in(&mut self, payer: u64, minute: u32, amount: i64) {
        if self.incoming.len() >= ACTIVITY {
            self.incoming.remove(0);
        }
        self.incoming.push((payer, minute, amount));
    }

    fn push_out(&mut self, minute: u32, amount: i64) {
        if self.outgoing.len() >= ACTIVITY {
            self.outgoing.remove(0);
        }
        self.outgoing.push((minute, amount));
    }

    /// Distinct payers within the window ending at `now`, counting `extra` as one more.
    fn distinct_payers(&self, now: u32, window: u32, extra: u64) -> usize {
        let mut seen: Vec<u64> = vec![extra];
        for (payer, minute, _) in &self.incoming {
            if now.saturating_sub(*minute) <= window && !seen.contains(payer) {
                seen.push(*payer);
            }
        }
        seen.len()
    }

    /// Money in and out within the window ending at `now`.
    fn in_out(&self, now: u32, window: u32) -> (i64, i64) {
        let within = |m: u32| now.saturating_sub(m) <= window;
        let incoming = self.incoming.iter().filter(|(_, m, _)| within(*m)).map(|(_, _, a)| *a).sum();
        let outgoing = self.outgoing.iter().filter(|(m, _)| within(*m)).map(|(_, a)| *a).sum();
        (incoming, outgoing)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + 20 * self.incoming.len() + 12 * self.outgoing.len());
        out.push(self.incoming.len() as u8);
        out.push(self.outgoing.len() as u8);
        for (p, m, a) in &self.incoming {
            out.extend_from_slice(&p.to_le_bytes());
            out.extend_from_slice(&m.to_le_bytes());
            out.extend_from_slice(&a.to_le_bytes());
        }
        for (m, a) in &self.outgoing {
            out.extend_from_slice(&m.to_le_bytes());
            out.extend_from_slice(&a.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<AccountActivity> {
        let (&ni, rest) = bytes.split_first()?;
        let (&no, rest) = rest.split_first()?;
        let (ni, no) = (usize::from(ni), usize::from(no));
        if ni > ACTIVITY || no > ACTIVITY || rest.len() != 20 * ni + 12 * no {
            return None;
        }
        let u64_at = |o: usize| rest.get(o..o + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
        let i64_at = |o: usize| rest.get(o..o + 8).and_then(|b| b.try_into().ok()).map(i64::from_le_bytes);
        let u32_at = |o: usize| rest.get(o..o + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
        let incoming = (0..ni)
            .map(|i| {
                let o = i * 20;
                Some((u64_at(o)?, u32_at(o + 8)?, i64_at(o + 12)?))
            })
            .collect::<Option<Vec<_>>>()?;
        let base = 20 * ni;
        let outgoing = (0..no)
            .map(|i| {
                let o = base + i * 12;
                Some((u32_at(o)?, i64_at(o + 4)?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(AccountActivity { incoming, outgoing })
    }
}

fn euros(minor: i64) -> String {
    format!("EUR {}.{:02}", minor / 100, (minor % 100).abs())
}

/// Evaluates one payment against the rules and the state (which it does not change).
pub fn evaluate(rules: &PaymentRules, facts: &PaymentFacts, payer: Option<&PayerProfile>, payee: Option<&AccountActivity>) -> Verdict {
    let mut reasons: Vec<Reason> = Vec::new();
    let mut fire = |code: &'static str, weight: f64, strength: f64, message: String| {
        let contribution = (weight * strength.clamp(0.0, 1.0)).clamp(0.0, 1.0);
        if contribution > 0.0 {
            reasons.push(Reason {
                code,
                message,
                contribution,
            });
        }
    };
    let r = &facts.registry;
    match r.status {
        CheckStatus::Reported => fire(
            "payee_reported",
            rules.payee_reported_weight,
            r.score,
            format!(
                "the payee account is in the fraud registry: {} report(s), registry score {:.2}",
                r.reports, r.score
            ),
        ),
        CheckStatus::Disputed => fire(
            "payee_reported_disputed",
            rules.payee_reported_weight,
            r.score * rules.payee_disputed_factor,
            format!(
                "the payee account is in the fraud registry ({} report(s), score {:.2}) but the listing is disputed",
                r.reports, r.score
            ),
        ),
        CheckStatus::NotReported => {}
    }
    let new_payee = !payer.is_some_and(|p| p.knows(facts.payee));
    if new_payee {
        fire(
            "first_payment_to_payee",
            rules.first_payment_weight,
            1.0,
            "the payer has not paid this account before".to_owned(),
        );
    }
    if let Some(profile) = payer
        && profile.amounts.len() >= rules.unusual_min_history
        && let Some((med, mad)) = profile.median_mad()
    {
        // A floor on the spread: a payer who always pays the same amount is not flagged for
        // a few euros more.
        let spread = mad.max(med * 0.05).max(100.0);
        let z = (facts.amount_minor as f64 - med) / spread;
        if z >= rules.unusual_z && facts.amount_minor as f64 >= rules.unusual_min_ratio * med {
            fire(
                "unusual_amount",
                rules.unusual_amount_weight,
                1.0,
                format!(
                    "{} is far above this payer's usual (median {} over the last {} payments, robust z {:.1})",
                    euros(facts.amount_minor),
                    euros(med.round() as i64),
                    profile.amounts.len(),
                    z
                ),
            );
        }
    }
    if facts.instant && new_payee && facts.amount_minor >= rules.instant_min_minor {
        fire(
            "instant_large_new_payee",
            rules.instant_new_payee_weight,
            1.0,
            format!(
                "an instant payment of {} to an account the payer never paid before",
                euros(facts.amount_minor)
            ),
        );
    }
    if let Some(signal) = facts.on_call
        && signal.on_call
        && signal.unverified_caller
    {
        fire(
            "payer_on_call_unverified",
            rules.payer_on_call_weight,
            1.0,
            "the payer is on a phone call with an unverified caller right now".to_owned(),
        );
    }
    let now = facts.at.minutes();
    if let Some(activity) = payee {
        let distinct = activity.distinct_payers(now, rules.mule_window_minutes, facts.payer);
        if distinct >= rules.fan_in_payers {
            fire(
                "payee_mule_fan_in",
                rules.mule_fan_in_weight,
                1.0,
                format!(
                    "the payee account received money from {distinct} different payers within {} hours",
                    rules.mule_window_minutes / 60
                ),
            );
        }
        let (incoming, outgoing) = activity.in_out(now, rules.mule_window_minutes);
        if incoming > 0 && outgoing as f64 >= rules.pass_through_share * incoming as f64 {
            fire(
                "payee_mule_pass_through",
                rules.mule_pass_through_weight,
                1.0,
                format!(
                    "the payee account passed on {} of the {} it received within {} hours",
                    euros(outgoing),
                    euros(incoming),
                    rules.mule_window_minutes / 60
                ),
            );
        }
    }
    let m = &facts.mules;
    if m.payee_score > 0.0 {
        let why = match (m.payee_pattern, m.payee_reports) {
            (Some(p), 0) => format!("flagged in a {} pattern", p.as_str()),
            (Some(p), n) => format!(
                "flagged in a {} pattern and named by {n} partner report(s) as a mule's account",
                p.as_str()
            ),
            (None, n) => format!("named by {n} partner report(s) as a mule's account"),
        };
        fire(
            "payee_mule",
            rules.payee_mule_weight,
            m.payee_score,
            format!(
                "the payee account looks like a money mule's: {why} (mule score {:.2})",
                m.payee_score
            ),
        );
    }
    if m.payer_score > 0.0 {
        let why = m.payer_pattern.map_or_else(
            || "named by partner reports".to_owned(),
            |p| format!("flagged in a {} pattern", p.as_str()),
        );
        fire(
            "payer_mule_pattern",
            rules.payer_mule_weight,
            m.payer_score,
            format!(
                "the paying account itself looks like a money mule's: {why} (mule score {:.2})",
                m.payer_score
            ),
        );
    }
    match facts.name_check {
        NameCheck::NoMatch => fire(
            "payee_name_mismatch",
            rules.name_mismatch_weight,
            1.0,
            "the payee name does not match the account holder (verification of payee)".to_owned(),
        ),
        NameCheck::CloseMatch => fire(
            "payee_name_close_match",
            rules.name_mismatch_weight,
            rules.close_match_factor,
            "the payee name only resembles the account holder's (verification of payee)".to_owned(),
        ),
        NameCheck::Match | NameCheck::NotChecked => {}
    }
    let score = 1.0 - reasons.iter().map(|r| 1.0 - r.contribution).product::<f64>();
    let t = &rules.thresholds;
    let decision = if score >= t.block {
        Decision::Block
    } else if score >= t.hold {
        Decision::Hold
    } else if score >= t.warn {
        Decision::Warn
    } else {
        Decision::Allow
    };
    reasons.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    Verdict { decision, score, reasons }
}

/// Payer profiles and account activity, bounded in number: when full, the least recently
/// updated entries are dropped (their persisted copies remain in the store).
#[derive(Debug)]
pub struct ScreeningState {
    pub payers: HashMap<u64, PayerProfile>,
    pub accounts: HashMap<u64, AccountActivity>,
    max_entries: usize,
}

impl ScreeningState {
    pub fn new(max_entries: usize) -> Self {
        ScreeningState {
            payers: HashMap::new(),
            accounts: HashMap::new(),
            max_entries: max_entries.max(1),
        }
    }

    /// Evaluates a payment against the current state.
    pub fn evaluate(&self, rules: &PaymentRules, facts: &PaymentFacts) -> Verdict {
        evaluate(rules, facts, self.payers.get(&facts.payer), self.accounts.get(&facts.payee))
    }

    /// Takes a decided payment into the state. A blocked or held payment does not make the
    /// payee known to the payer nor count as money out of the payer; every attempt does count
    /// as money into the payee (many victims trying to pay one account is itself the signal).
    pub fn record(&mut self, facts: &PaymentFacts, decision: Decision) {
        let minute = facts.at.minutes();
        if matches!(decision, Decision::Allow | Decision::Warn) {
            self.bound(true);
            self.payers.entry(facts.payer).or_default().add(facts.payee, facts.amount_minor);
            self.accounts.entry(facts.payer).or_default().push_out(minute, facts.amount_minor);
        }
        self.bound(false);
        self.accounts
            .entry(facts.payee)
            .or_default()
            .push_in(facts.payer, minute, facts.amount_minor);
    }

    fn bound(&mut self, payers: bool) {
        let cap = self.max_entries;
        if payers && self.payers.len() >= cap {
            let drop: Vec<u64> = self.payers.keys().take(cap / 10 + 1).copied().collect();
            for k in drop {
                self.payers.remove(&k);
            }
        }
        if !payers && self.accounts.len() >= cap {
            let drop: Vec<u64> = self.accounts.keys().take(cap / 10 + 1).copied().collect();
            for k in drop {
                self.accounts.remove(&k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    fn facts(payer: u64, payee: u64, euros: i64) -> PaymentFacts {
        PaymentFacts {
            payer,
            payee,
            amount_minor: euros * 100,
            instant: false,
            at: t("2026-11-20T10:00:00Z"),
            name_check: NameCheck::NotChecked,
            registry: RegistrySignal {
                status: CheckStatus::NotReported,
                score: 0.0,
                reports: 0,
            },
            on_call: None,
            mules: MuleSignal::default(),
        }
    }

    fn codes(v: &Verdict) -> Vec<&'static str> {
        let mut c: Vec<&'static str> = v.reasons.iter().map(|r| r.code).collect();
        c.sort_unstable();
        c
    }

    #[test]
    fn builtin_rules_are_valid() {
        assert!(PaymentRules::builtin().problems().is_empty());
        let mut bad = PaymentRules::builtin();
        bad.thresholds.warn = 0.9;
        bad.first_payment_weight = 2.0;
        bad.fan_in_payers = 1;
        assert_eq!(bad.problems().len(), 3, "{:?}", bad.problems());
    }

    #[test]
    fn a_payee_flagged_as_mule_is_held_and_a_mule_payer_warned() {
        let rules = PaymentRules::builtin();
        let state = ScreeningState::new(100);
        let mut f = facts(1, 2, 500);
        f.mules = MuleSignal {
            payee_score: 0.9,
            payee_pattern: Some(crate::mules::Pattern::FanIn),
            payee_reports: 1,
            ..MuleSignal::default()
        };
        let v = state.evaluate(&rules, &f);
        assert_eq!(v.decision, Decision::Hold, "{v:?}");
        assert_eq!(v.reasons[0].code, "payee_mule");
        assert!(v.reasons[0].message.contains("fan_in"), "{}", v.reasons[0].message);
        let mut f = facts(1, 2, 500);
        f.mules.payer_score = 1.0;
        let v = state.evaluate(&rules, &f);
        assert_eq!(codes(&v), vec!["first_payment_to_payee", "payer_mule_pattern"]);
        assert_eq!(v.decision, Decision::Warn);
        let v = state.evaluate(&rules, &facts(1, 2, 500));
        assert_eq!(codes(&v), vec!["first_payment_to_payee"], "no mule signal, no mule reason");
    }

    #[test]
    fn a_known_payee_with_a_usual_amount_is_allowed() {
        let rules = PaymentRules::builtin();
        let mut state = ScreeningState::new(100);
        let first = state.evaluate(&rules, &facts(1, 2, 50));
        assert_eq!(codes(&first), vec!["first_payment_to_payee"]);
        assert_eq!(first.decision, Decision::Allow);
        state.record(&facts(1, 2, 50), first.decision);
        let again = state.evaluate(&rules, &facts(1, 2, 55));
        assert!(again.reasons.is_empty());
        assert_eq!((again.decision, again.score), (Decision::Allow, 0.0));
    }

    #[test]
    fn a_reported_payee_is_blocked_and_a_disputed_one_softened() {
        let rules = PaymentRules::builtin();
        let mut f = facts(1, 2, 250);
        f.registry = RegistrySignal {
            status: CheckStatus::Reported,
            score: 0.95,
            reports: 6,
        };
        let v = evaluate(&rules, &f, None, None);
        assert_eq!(v.decision, Decision::Block, "{v:?}");
        assert_eq!(v.reasons[0].code, "payee_reported");
        f.registry.status = CheckStatus::Disputed;
        let v = evaluate(&rules, &f, None, None);
        assert_eq!(v.decision, Decision::Warn, "a disputed listing warns, it does not block: {v:?}");
        assert!(codes(&v).contains(&"payee_reported_disputed"));
    }

    #[test]
    fn unusual_amounts_need_history_and_a_real_jump() {
        let rules = PaymentRules::builtin();
        let mut state = ScreeningState::new(100);
        for (i, amount) in [40, 55, 60, 45, 50, 52].into_iter().enumerate() {
            let f = facts(1, 10 + i as u64 % 2, amount);
            let d = state.evaluate(&rules, &f).decision;
            state.record(&f, d);
        }
        let usual = state.evaluate(&rules, &facts(1, 10, 70));
        assert!(!codes(&usual).contains(&"unusual_amount"), "{usual:?}");
        let big = state.evaluate(&rules, &facts(1, 10, 4_000));
        assert!(codes(&big).contains(&"unusual_amount"), "{big:?}");
        assert!(big.reasons[0].message.contains("median EUR 51.00"), "{}", big.reasons[0].message);
        let fresh = evaluate(&rules, &facts(9, 10, 4_000), None, None);
        assert!(!codes(&fresh).contains(&"unusual_amount"), "no history, no judgement");
    }

    #[test]
    fn bank_helpdesk_pattern_holds_the_payment() {
        let rules = PaymentRules::builtin();
        let mut f = facts(1, 2, 4_500);
        f.instant = true;
        f.on_call = Some(OnCallSignal {
            on_call: true,
            unverified_caller: true,
        });
        let v = evaluate(&rules, &f, None, None);
        assert_eq!(
            codes(&v),
            vec!["first_payment_to_payee", "instant_large_new_payee", "payer_on_call_unverified"]
        );
        assert_eq!(v.decision, Decision::Hold, "{v:?}");
        f.on_call = Some(OnCallSignal {
            on_call: true,
            unverified_caller: false,
        });
        assert_eq!(
            evaluate(&rules, &f, None, None).decision,
            Decision::Warn,
            "a verified caller does not count"
        );
    }

    #[test]
    fn mule_accounts_show_fan_in_and_pass_through() {
        let rules = PaymentRules::builtin();
        let mut state = ScreeningState::new(1_000);
        let mule = 500;
        for payer in 1..=4 {
            let f = facts(payer, mule, 300);
            let d = state.evaluate(&rules, &f).decision;
            state.record(&f, d);
        }
        let fifth = state.evaluate(&rules, &facts(5, mule, 300));
        assert!(codes(&fifth).contains(&"payee_mule_fan_in"), "{fifth:?}");
        assert!(!codes(&fifth).contains(&"payee_mule_pass_through"));
        let out = facts(mule, 900, 1_100);
        let d = state.evaluate(&rules, &out).decision;
        state.record(&out, d);
        let sixth = state.evaluate(&rules, &facts(6, mule, 300));
        assert!(codes(&sixth).contains(&"payee_mule_pass_through"), "{sixth:?}");
        let mut late = facts(7, mule, 300);
        late.at = t("2026-11-23T10:00:00Z");
        assert!(
            state
                .evaluate(&rules, &late)
                .reasons
                .iter()
                .all(|r| !r.code.starts_with("payee_mule")),
            "outside the window"
        );
    }

    #[test]
    fn name_checks_and_decision_order() {
        let rules = PaymentRules::builtin();
        let mut f = facts(1, 2, 20);
        f.name_check = NameCheck::NoMatch;
        let v = evaluate(&rules, &f, None, None);
        assert!(codes(&v).contains(&"payee_name_mismatch"));
        assert_eq!(v.decision, Decision::Warn);
        f.name_check = NameCheck::CloseMatch;
        let v = evaluate(&rules, &f, None, None);
        assert!(codes(&v).contains(&"payee_name_close_match"));
        assert!(Decision::Block > Decision::Hold && Decision::Hold > Decision::Warn);
        assert_eq!(Decision::from_key("hold"), Some(Decision::Hold));
    }

    #[test]
    fn state_round_trips_and_stays_bounded() {
        let mut p = PayerProfile::default();
        for i in 0..40 {
            p.add(i % 20, i64::from(i as i32) * 100);
        }
        assert_eq!(PayerProfile::from_bytes(&p.to_bytes()), Some(p.clone()));
        assert!(PayerProfile::from_bytes(&p.to_bytes()[1..]).is_none());
        let mut a = AccountActivity::default();
        for i in 0..40u32 {
            a.push_in(u64::from(i), i, 100);
            a.push_out(i, 50);
        }
        assert_eq!(AccountActivity::from_bytes(&a.to_bytes()), Some(a.clone()));
        assert!(AccountActivity::from_bytes(&[]).is_none());
        let rules = PaymentRules::builtin();
        let mut state = ScreeningState::new(50);
        for payer in 0..500 {
            let f = facts(payer, payer + 10_000, 10);
            let d = state.evaluate(&rules, &f).decision;
            state.record(&f, d);
        }
        assert!(state.payers.len() <= 50 && state.accounts.len() <= 50);
    }
}
