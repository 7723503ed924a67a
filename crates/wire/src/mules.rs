//! The mule wire shapes: a batch of transactions (`POST /api/v1/transactions`, the stream
//! subject `P.transactions.in`), its answer, one account's mule information and the alerts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::Timestamp;
use vangnet_core::indicator::Iban;
use vangnet_core::mules::ScoreReason;
use vangnet_core::report::CLOCK_SKEW_MILLIS;
use vangnet_services::mule_reads::{AccountView, AlertsPage, FlagView};
use vangnet_services::mules::{MAX_BATCH, TransactionInput};
use vangnet_store::TransactionOutcome;

use crate::error::{ErrorDetail, WireError};
use crate::payments::{MAX_PAYMENT_ID, is_payment_id};
use crate::registry::MoneyJson;

/// One transaction between two accounts.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionIn {
    /// The transaction's id (end-to-end id), unique per partner: sending it again changes
    /// nothing.
    #[schema(example = "e2e-7781")]
    pub id: String,
    #[schema(example = "NL02ABNA0123456789")]
    pub payer: String,
    #[schema(example = "NL91ABNA0417164300")]
    pub payee: String,
    /// What the payer paid.
    pub amount: MoneyJson,
    /// What the payee received, when the transfer changed currency (else the amount).
    pub received: Option<MoneyJson>,
    /// When it was made (RFC 3339).
    #[schema(example = "2026-12-07T10:15:00Z")]
    pub at: String,
}

/// A batch of transactions.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionsIn {
    /// 1 to 10,000 transactions.
    pub transactions: Vec<TransactionIn>,
}

/// A transaction of a batch that was not taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionFailure {
    /// 0-based position in the batch.
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub error: ErrorDetail,
}

/// What became of a batch: counts, and each transaction that was not taken with the reason
/// (nothing is stored from those).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsOut {
    pub received: usize,
    /// Taken into the graph now.
    pub stored: usize,
    /// Sent before with the same content: nothing changed.
    pub repeats: usize,
    /// Refused: invalid, or an id sent before with other content (`id_conflict`).
    pub failed: Vec<TransactionFailure>,
}

/// Checks a batch's size.
pub fn check_batch(batch: &TransactionsIn) -> Result<(), WireError> {
    if batch.transactions.is_empty() || batch.transactions.len() > MAX_BATCH {
        return Err(WireError::invalid(
            "invalid_batch_size",
            "transactions",
            format!("send 1 to {MAX_BATCH} transactions"),
        ));
    }
    Ok(())
}

/// Checks one transaction; `prefix` names its place (`transactions[3].`). Transactions older
/// than `oldest` (the term they would be kept for) or in the future are refused.
pub fn validate_transaction(t: &TransactionIn, prefix: &str, now: Timestamp, oldest: Timestamp) -> Result<TransactionInput, WireError> {
    let field = |name: &str| format!("{prefix}{name}");
    if !is_payment_id(&t.id) {
        return Err(WireError::invalid(
            "invalid_transaction_id",
            field("id"),
            format!("id must be 1 to {MAX_PAYMENT_ID} printable characters without `/`"),
        ));
    }
    let iban = |value: &str, name: &str| {
        Iban::parse(value).map_err(|e| WireError::invalid("invalid_iban", field(name), format!("not a valid IBAN: {e}")))
    };
    let payer = iban(&t.payer, "payer")?;
    let payee = iban(&t.payee, "payee")?;
    let amount = t.amount.parse(&field("amount"))?;
    let received = match &t.received {
        None => amount,
        Some(r) => r.parse(&field("received"))?,
    };
    if amount.minor() <= 0 || received.minor() <= 0 {
        return Err(WireError::invalid(
            "invalid_amount",
            field("amount"),
            "amounts must be more than zero",
        ));
    }
    let at = Timestamp::parse_rfc3339(&t.at).map_err(|e| WireError::invalid("invalid_timestamp", field("at"), e.to_string()))?;
    if at.millis() > now.millis().saturating_add(CLOCK_SKEW_MILLIS) {
        return Err(WireError::invalid("in_future", field("at"), "the transaction lies in the future"));
    }
    if at < oldest {
        return Err(WireError::invalid(
            "too_old",
            field("at"),
            "the transaction is older than the term transactions are kept for (mules.transaction_days)",
        ));
    }
    Ok(TransactionInput {
        id: t.id.clone(),
        payer,
        payee,
        amount,
        received,
        at,
    })
}

/// The valid transactions of a batch with their indexes, and the errors of the others.
pub type Validated = (Vec<(usize, TransactionInput)>, Vec<(usize, WireError)>);

/// Checks each transaction of a batch on its own.
pub fn validate_batch(batch: &TransactionsIn, now: Timestamp, oldest: Timestamp) -> Validated {
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for (i, t) in batch.transactions.iter().enumerate() {
        match validate_transaction(t, &format!("transactions[{i}]."), now, oldest) {
            Ok(input) => valid.push((i, input)),
            Err(e) => invalid.push((i, e)),
        }
    }
    (valid, invalid)
}

/// The oldest transaction time the server keeps, `transaction_days` before `now`.
pub fn oldest_kept(now: Timestamp, transaction_days: u32) -> Timestamp {
    now.plus_millis(-i64::from(transaction_days) * 86_400_000)
}

/// The answer for a batch from the validation errors (by index) and the outcomes of the
/// valid transactions (in the order they were sent).
pub fn batch_answer(batch: &TransactionsIn, invalid: Vec<(usize, WireError)>, outcomes: &[(usize, TransactionOutcome)]) -> TransactionsOut {
    let mut failed: Vec<TransactionFailure> = invalid
        .into_iter()
        .map(|(index, e)| TransactionFailure {
            index,
            id: batch.transactions.get(index).map(|t| t.id.clone()).filter(|id| is_payment_id(id)),
            error: e.detail(),
        })
        .collect();
    let (mut stored, mut repeats) = (0, 0);
    for &(index, outcome) in outcomes {
        match outcome {
            TransactionOutcome::Stored => stored += 1,
            TransactionOutcome::Repeat => repeats += 1,
            TransactionOutcome::Conflict => failed.push(TransactionFailure {
                index,
                id: batch.transactions.get(index).map(|t| t.id.clone()),
                error: ErrorDetail {
                    code: "id_conflict".to_owned(),
                    message: "this id was sent before for a different transaction".to_owned(),
                    field: Some(format!("transactions[{index}].id")),
                },
            }),
        }
    }
    failed.sort_by_key(|f| f.index);
    TransactionsOut {
        received: batch.transactions.len(),
        stored,
        repeats,
        failed,
    }
}

/// One account in a flag, as the reader may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagAccountOut {
    /// The IBAN, only for accounts the reader holds or its customers paid (and the police).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<String>,
    /// The Dutch bank code (empty when unknown).
    pub bank: String,
    /// The account the pattern centres on.
    pub centre: bool,
    /// Whether the reader may see this account.
    pub visible: bool,
}

/// A pattern flagged, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagOut {
    pub id: i64,
    /// `fan_in`, `fan_out`, `pass_through`, `cycle`, `scatter_gather`, `gather_scatter`,
    /// `bipartite` or `stack`.
    pub pattern: String,
    /// 0 to 1: how far past its thresholds.
    pub score: f64,
    pub raised_at: String,
    /// The time span of the pattern's transfers.
    pub from: String,
    pub to: String,
    /// The money the pattern moved, in minor units (cents).
    pub amount_minor: i64,
    /// The centre first.
    pub accounts: Vec<FlagAccountOut>,
    /// Accounts involved beyond those listed.
    pub more_accounts: i64,
}

impl From<&FlagView> for FlagOut {
    fn from(f: &FlagView) -> Self {
        FlagOut {
            id: f.seq,
            pattern: f.pattern.as_str().to_owned(),
            score: f.score,
            raised_at: f.raised_at.to_rfc3339(),
            from: f.window_from.to_rfc3339(),
            to: f.window_to.to_rfc3339(),
            amount_minor: f.amount_minor,
            accounts: f
                .accounts
                .iter()
                .map(|a| FlagAccountOut {
                    iban: a.iban.clone(),
                    bank: a.bank.clone(),
                    centre: a.centre,
                    visible: a.visible,
                })
                .collect(),
            more_accounts: f.more_accounts,
        }
    }
}

/// One reason of a mule score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreReasonOut {
    /// `pattern` (flagged in a pattern) or `reports` (partners reported it in the role `mule`).
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// What it adds to the score, 0 to 1.
    pub strength: f64,
    /// Flags of that pattern, or reports.
    pub count: u32,
    /// For a pattern: whether the account was its centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_at: Option<String>,
    /// The reason in plain English.
    pub explanation: String,
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl From<&ScoreReason> for ScoreReasonOut {
    fn from(r: &ScoreReason) -> Self {
        match *r {
            ScoreReason::Pattern {
                pattern,
                strength,
                flags,
                centre,
                last_at,
            } => ScoreReasonOut {
                kind: "pattern".to_owned(),
                pattern: Some(pattern.as_str().to_owned()),
                strength: round(strength),
                count: flags,
                centre: Some(centre),
                last_at: Some(Timestamp::from_millis(last_at).to_rfc3339()),
                explanation: format!(
                    "flagged {flags} time(s) in a {} pattern{}, last on {}",
                    pattern.as_str(),
                    if centre { " as its centre" } else { " (not its centre)" },
                    Timestamp::from_millis(last_at).to_rfc3339()
                ),
            },
            ScoreReason::Reports { reports, strength } => ScoreReasonOut {
                kind: "reports".to_owned(),
                pattern: None,
                strength: round(strength),
                count: reports,
                centre: None,
                last_at: None,
                explanation: format!("named by {reports} partner report(s) as a money mule's account"),
            },
        }
    }
}

/// One account's mule information.
#[derive(Debug, Serialize, ToSchema)]
pub struct MuleAccountOut {
    pub iban: String,
    /// 0 to 1.
    pub score: f64,
    /// Strongest first.
    pub reasons: Vec<ScoreReasonOut>,
    pub mule_reports: u32,
    /// Newest first (at most 50).
    pub flags: Vec<FlagOut>,
}

impl From<&AccountView> for MuleAccountOut {
    fn from(v: &AccountView) -> Self {
        MuleAccountOut {
            iban: v.iban.as_str().to_owned(),
            score: round(v.score.score),
            reasons: v.score.reasons.iter().map(ScoreReasonOut::from).collect(),
            mule_reports: v.mule_reports,
            flags: v.flags.iter().map(FlagOut::from).collect(),
        }
    }
}

/// A page of mule alerts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MuleAlertsOut {
    pub alerts: Vec<FlagOut>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

impl From<&AlertsPage> for MuleAlertsOut {
    fn from(p: &AlertsPage) -> Self {
        MuleAlertsOut {
            alerts: p.alerts.iter().map(FlagOut::from).collect(),
            next: p.next,
        }
    }
}
