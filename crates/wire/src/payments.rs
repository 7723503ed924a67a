//! The payment wire shapes: one payment as JSON (`POST /api/v1/payments/score`, the stream
//! subject `P.payments.in`), the decision as answered and published, and the answer to an
//! ISO 20022 message; with their validation into the screening service's input.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vangnet_core::indicator::Iban;
use vangnet_core::screening::payments::NameCheck;
use vangnet_core::{Currency, Timestamp};
use vangnet_services::screening::{DecisionOut, PaymentInput};

use crate::error::{ErrorDetail, WireError};
use crate::iso20022::{self, Message, MessageError, RawTransaction};
use crate::registry::MoneyJson;

/// The longest payment id (an ISO 20022 end-to-end id is at most 35 characters).
pub const MAX_PAYMENT_ID: usize = 64;

/// The paying side.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerIn {
    #[schema(example = "NL02ABNA0123456789")]
    pub iban: String,
    /// The payer's keyed phone-number reference (HMAC shared with the telecom provider), to
    /// ask whether the payer is on a call with an unverified caller right now.
    pub subscriber_ref: Option<String>,
}

/// The receiving side.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayeeIn {
    #[schema(example = "NL91ABNA0417164300")]
    pub iban: String,
    /// The name the payer entered (not stored).
    pub name: Option<String>,
    /// The bank's verification-of-payee result: `match`, `close_match`, `no_match` or
    /// `not_checked` (the default).
    pub verification: Option<String>,
}

/// One payment to score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The payment's id (end-to-end id), unique per partner: sending it again returns the
    /// stored decision.
    #[schema(example = "e2e-123")]
    pub id: String,
    pub payer: PayerIn,
    pub payee: PayeeIn,
    /// In euros.
    pub amount: MoneyJson,
    /// An instant (SCT Inst) payment.
    #[serde(default)]
    pub instant: bool,
    /// When the payer initiated it (RFC 3339); the time of receipt when left out.
    pub initiated_at: Option<String>,
}

/// Why the decision is what it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonOut {
    /// Stable rule code: `payee_reported`, `payee_reported_disputed`, `first_payment_to_payee`,
    /// `unusual_amount`, `instant_large_new_payee`, `payer_on_call_unverified`,
    /// `payee_mule_fan_in`, `payee_mule_pass_through`, `payee_mule`, `payer_mule_pattern`,
    /// `payee_name_mismatch`, `payee_name_close_match`.
    pub code: String,
    pub message: String,
}

/// The decision for one payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionJson {
    pub id: String,
    /// `allow`, `warn`, `hold` or `block`.
    pub decision: String,
    /// 0 to 1.
    pub score: f64,
    pub reasons: Vec<ReasonOut>,
    /// The rules file version that decided.
    pub rules_version: String,
    pub decided_at: String,
}

impl From<DecisionOut> for DecisionJson {
    fn from(d: DecisionOut) -> Self {
        DecisionJson {
            id: d.id,
            decision: d.decision,
            score: d.score,
            reasons: d.reasons.into_iter().map(|(code, message)| ReasonOut { code, message }).collect(),
            rules_version: d.rules_version,
            decided_at: d.decided_at.to_rfc3339(),
        }
    }
}

/// Whether `id` can be a payment id: 1 to 64 printable characters without `/`.
pub fn is_payment_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_PAYMENT_ID && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

/// Checks a JSON payment; `prefix` names its place in a larger message (empty for one payment).
pub fn validate(input: &PaymentIn, prefix: &str, now: Timestamp) -> Result<PaymentInput, WireError> {
    let field = |name: &str| format!("{prefix}{name}");
    if !is_payment_id(&input.id) {
        return Err(WireError::invalid(
            "invalid_payment_id",
            field("id"),
            format!("id must be 1 to {MAX_PAYMENT_ID} printable characters without `/`"),
        ));
    }
    let iban = |value: &str, name: &str| {
        Iban::parse(value).map_err(|e| WireError::invalid("invalid_iban", field(name), format!("not a valid IBAN: {e}")))
    };
    let payer = iban(&input.payer.iban, "payer.iban")?;
    let payee = iban(&input.payee.iban, "payee.iban")?;
    let amount = input.amount.parse(&field("amount"))?;
    if amount.currency() != Currency::EUR {
        return Err(WireError::invalid(
            "unsupported_currency",
            field("amount.currency"),
            "payments are screened in EUR",
        ));
    }
    let name_check = match input.payee.verification.as_deref() {
        None => NameCheck::NotChecked,
        Some(v) => NameCheck::from_key(v).ok_or_else(|| {
            WireError::invalid(
                "invalid_parameter",
                field("payee.verification"),
                "one of match, close_match, no_match, not_checked",
            )
        })?,
    };
    if input.payee.name.as_deref().is_some_and(|n| n.chars().count() > 140) {
        return Err(WireError::invalid(
            "invalid_parameter",
            field("payee.name"),
            "at most 140 characters",
        ));
    }
    if let Some(r) = &input.payer.subscriber_ref
        && (r.is_empty() || r.len() > 128 || !r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(WireError::invalid(
            "invalid_parameter",
            field("payer.subscriber_ref"),
            "1 to 128 letters, digits, - or _",
        ));
    }
    let initiated_at = match &input.initiated_at {
        None => now,
        Some(t) => {
            Timestamp::parse_rfc3339(t).map_err(|e| WireError::invalid("invalid_timestamp", field("initiated_at"), e.to_string()))?
        }
    };
    Ok(PaymentInput {
        id: input.id.clone(),
        payer,
        payee,
        amount,
        instant: input.instant,
        initiated_at,
        name_check,
        subscriber_ref: input.payer.subscriber_ref.clone(),
    })
}

/// One entry of a message's answer: a decision, or the error of that transaction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum MessageEntry {
    Decided(DecisionJson),
    Failed(TransactionError),
}

/// A transaction of a message that could not be decided.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionError {
    /// 0-based position in the message.
    pub index: usize,
    /// Its end-to-end id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub error: ErrorDetail,
}

/// The answer to an ISO 20022 message: one entry per transaction, in message order.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDecisions {
    /// `pacs.008.001.08`, `pain.001.001.03`, …
    pub message_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    pub decisions: Vec<MessageEntry>,
}

/// Parses an ISO 20022 message (pacs.008 or pain.001) from the body's bytes.
pub fn parse_message(body: &[u8]) -> Result<Message, WireError> {
    let text = std::str::from_utf8(body).map_err(|_| WireError::invalid("invalid_xml", "body", "the message is not UTF-8"))?;
    iso20022::parse(text).map_err(|e| match e {
        MessageError::Malformed(m) => WireError::invalid("invalid_xml", "body", m),
        MessageError::Unsupported(m) => WireError::invalid("unsupported_message", "body", m),
        MessageError::TooMany => WireError::invalid("batch_too_large", "body", e.to_string()),
    })
}

/// An ISO 20022 date-time without an offset is taken as UTC.
fn iso_time(text: &str) -> String {
    let has_offset = text.ends_with('Z') || text.get(19..).is_some_and(|rest| rest.contains(['+', '-']));
    if has_offset { text.to_owned() } else { format!("{text}Z") }
}

/// Turns one transaction of a message into a payment, or names what is missing or wrong.
pub fn transaction_input(tx: &RawTransaction, now: Timestamp) -> Result<PaymentInput, WireError> {
    let missing = |element: &str| WireError::invalid("missing_element", tx.path(element), format!("the transaction has no {element}"));
    let input = PaymentIn {
        id: tx.end_to_end_id.clone().ok_or_else(|| missing("PmtId/EndToEndId"))?,
        payer: PayerIn {
            iban: tx.debtor_iban.clone().ok_or_else(|| missing("DbtrAcct/Id/IBAN"))?,
            subscriber_ref: None,
        },
        payee: PayeeIn {
            iban: tx.creditor_iban.clone().ok_or_else(|| missing("CdtrAcct/Id/IBAN"))?,
            name: tx.creditor_name.clone(),
            verification: None,
        },
        amount: MoneyJson {
            value: tx.amount.clone().ok_or_else(|| missing("IntrBkSttlmAmt"))?,
            currency: tx.currency.clone().ok_or_else(|| missing("IntrBkSttlmAmt/@Ccy"))?,
        },
        instant: tx.instant,
        initiated_at: tx.at.as_deref().map(iso_time),
    };
    validate(&input, &format!("CdtTrfTxInf[{}].", tx.index), now)
}
