//! PNBF recovery (*Procedure NAW-gegevens Begunstigde bij niet-bancaire Fraude*): the Dutch
//! interbank procedure in which the victim's bank asks the payee's bank to return money paid
//! to a fraudster and, when the payee does not repay within the term, obtains the payee's
//! name and address (NAW) for a civil claim.
//!
//! This module holds the rules without storage: the eligibility conditions, the state machine
//! and who may make which move. The server keeps the cases, runs the terms and holds the NAW.
//!
//! ```text
//!            open ──(conditions not met)──▶ ineligible
//!             │
//!             ▼
//!         requested ──(term passes)──▶ no_response ─┐
//!          │   │   └──▶ refused ───────────────────┤
//!          │   └──▶ partially_repaid ──────────────┤── request_naw ──▶ naw_requested
//!          └──▶ repaid                             │                        │
//!                                                  │                  release_naw
//!                                                  │                        ▼
//!   close (victim's bank) from repaid, partially_repaid, refused,     naw_released ──▶ closed
//!   no_response or naw_released; withdraw (victim's bank) from any
//!   state before naw_released.
//! ```

use std::fmt;

use crate::Timestamp;
use crate::indicator::Iban;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseState {
    Requested,
    Repaid,
    PartiallyRepaid,
    Refused,
    NoResponse,
    NawRequested,
    NawReleased,
    Ineligible,
    Withdrawn,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 10] = [
        CaseState::Requested,
        CaseState::Repaid,
        CaseState::PartiallyRepaid,
        CaseState::Refused,
        CaseState::NoResponse,
        CaseState::NawRequested,
        CaseState::NawReleased,
        CaseState::Ineligible,
        CaseState::Withdrawn,
        CaseState::Closed,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CaseState::Requested => "requested",
            CaseState::Repaid => "repaid",
            CaseState::PartiallyRepaid => "partially_repaid",
            CaseState::Refused => "refused",
            CaseState::NoResponse => "no_response",
            CaseState::NawRequested => "naw_requested",
            CaseState::NawReleased => "naw_released",
            CaseState::Ineligible => "ineligible",
            CaseState::Withdrawn => "withdrawn",
            CaseState::Closed => "closed",
        }
    }

    pub fn from_key(key: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.as_str() == key)
    }

    /// No move leaves this state.
    pub const fn is_final(self) -> bool {
        matches!(self, CaseState::Ineligible | CaseState::Withdrawn | CaseState::Closed)
    }

    /// The payee's bank has something to do: answer the request or release the NAW.
    pub const fn awaits_payee_bank(self) -> bool {
        matches!(self, CaseState::Requested | CaseState::NawRequested)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the victim paid. Only transfers and payment requests (*betaalverzoek*, e.g. Tikkie)
/// fall under the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    Transfer,
    PaymentRequest,
    Card,
    MoneyTransfer,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] = [
        PaymentMethod::Transfer,
        PaymentMethod::PaymentRequest,
        PaymentMethod::Card,
        PaymentMethod::MoneyTransfer,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Transfer => "transfer",
            PaymentMethod::PaymentRequest => "payment_request",
            PaymentMethod::Card => "card",
            PaymentMethod::MoneyTransfer => "money_transfer",
        }
    }

    pub fn from_key(key: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == key)
    }
}

/// The kind of fraud, as the procedure distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FraudCategory {
    /// A fake seller or web shop (*marktplaatsfraude*, *webwinkelfraude*).
    FakeSeller,
    /// A scam by message or phone (friend in need, bank-helpdesk fraud …).
    MessageOrPhone,
}

impl FraudCategory {
    pub const ALL: [FraudCategory; 2] = [FraudCategory::FakeSeller, FraudCategory::MessageOrPhone];

    pub const fn as_str(self) -> &'static str {
        match self {
            FraudCategory::FakeSeller => "fake_seller",
            FraudCategory::MessageOrPhone => "message_or_phone",
        }
    }

    pub fn from_key(key: &str) -> Option<FraudCategory> {
        FraudCategory::ALL.into_iter().find(|c| c.as_str() == key)
    }
}

/// How a closed case ended, as the victim's bank records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The money came back in full.
    Recovered,
    /// Part of the money came back.
    PartlyRecovered,
    /// The victim goes on with a civil claim with the NAW.
    CivilClaim,
    /// Nothing came back and nothing further is done.
    NotRecovered,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Recovered,
        Outcome::PartlyRecovered,
        Outcome::CivilClaim,
        Outcome::NotRecovered,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Recovered => "recovered",
            Outcome::PartlyRecovered => "partly_recovered",
            Outcome::CivilClaim => "civil_claim",
            Outcome::NotRecovered => "not_recovered",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == key)
    }
}

/// The side of a case a partner is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The victim's bank, which opened the case.
    VictimBank,
    /// The bank (or PSP) that holds the payee's account.
    PayeeBank,
    /// The platform itself: terms that pass.
    System,
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::VictimBank => "victim_bank",
            Side::PayeeBank => "payee_bank",
            Side::System => "system",
        }
    }
}

/// A move on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// The payee repaid in full (payee's bank).
    Repaid,
    /// The payee repaid part of the amount (payee's bank).
    PartiallyRepaid,
    /// The payee refused to repay (payee's bank).
    Refused,
    /// The term passed without an answer (the platform).
    TermExpired,
    /// The victim's bank asks for the payee's name and address.
    RequestNaw,
    /// The payee's bank releases the name and address.
    ReleaseNaw,
    /// The victim's bank closes the case with an outcome.
    Close,
    /// The victim's bank withdraws the case (e.g. the victim was repaid another way).
    Withdraw,
}

impl Move {
    pub const ALL: [Move; 8] = [
        Move::Repaid,
        Move::PartiallyRepaid,
        Move::Refused,
        Move::TermExpired,
        Move::RequestNaw,
        Move::ReleaseNaw,
        Move::Close,
        Move::Withdraw,
    ];

    /// The key used in the API (`POST …/events {"event": …}`) and the case history.
    pub const fn as_str(self) -> &'static str {
        match self {
            Move::Repaid => "repaid",
            Move::PartiallyRepaid => "partially_repaid",
            Move::Refused => "refused",
            Move::TermExpired => "term_expired",
            Move::RequestNaw => "request_naw",
            Move::ReleaseNaw => "release_naw",
            Move::Close => "close",
            Move::Withdraw => "withdraw",
        }
    }

    pub fn from_key(key: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.as_str() == key)
    }

    /// Who may make this move.
    pub const fn side(self) -> Side {
        match self {
            Move::Repaid | Move::PartiallyRepaid | Move::Refused | Move::ReleaseNaw => Side::PayeeBank,
            Move::TermExpired => Side::System,
            Move::RequestNaw | Move::Close | Move::Withdraw => Side::VictimBank,
        }
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveError {
    /// The case is in a state this move does not leave from.
    NotAllowed { from: CaseState, mv: Move },
    /// The move belongs to the other side of the case.
    WrongSide { mv: Move, needs: Side },
}

impl MoveError {
    /// The stable error code.
    pub const fn code(self) -> &'static str {
        match self {
            MoveError::NotAllowed { .. } => "transition_not_allowed",
            MoveError::WrongSide { .. } => "wrong_side",
        }
    }
}

impl fmt::Display for MoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveError::NotAllowed { from, mv } => {
                write!(f, "a case in state `{from}` cannot take the event `{}`", mv.as_str())
            }
            MoveError::WrongSide { mv, needs } => {
                write!(f, "only the {} may record `{}`", needs.as_str().replace('_', "'s "), mv.as_str())
            }
        }
    }
}

/// The state a move leads to from `from`, made by `side`; the one place the state machine is
/// written down.
pub fn transition(from: CaseState, mv: Move, side: Side) -> Result<CaseState, MoveError> {
    use CaseState as S;
    if mv.side() != side {
        return Err(MoveError::WrongSide { mv, needs: mv.side() });
    }
    let to = match (from, mv) {
        (S::Requested, Move::Repaid) => S::Repaid,
        (S::Requested, Move::PartiallyRepaid) => S::PartiallyRepaid,
        (S::Requested, Move::Refused) => S::Refused,
        (S::Requested, Move::TermExpired) => S::NoResponse,
        (S::Refused | S::NoResponse | S::PartiallyRepaid, Move::RequestNaw) => S::NawRequested,
        (S::NawRequested, Move::ReleaseNaw) => S::NawReleased,
        (S::Repaid | S::PartiallyRepaid | S::Refused | S::NoResponse | S::NawReleased, Move::Close) => S::Closed,
        (S::Requested | S::Repaid | S::PartiallyRepaid | S::Refused | S::NoResponse | S::NawRequested, Move::Withdraw) => S::Withdrawn,
        _ => return Err(MoveError::NotAllowed { from, mv }),
    };
    Ok(to)
}

/// A Dutch bank code as the partner directory keys it: four letters (`INGB`), upper-cased.
pub fn bank_code(code: &str) -> Option<String> {
    let c = code.trim().to_ascii_uppercase();
    (c.len() == 4 && c.bytes().all(|b| b.is_ascii_uppercase())).then_some(c)
}

/// The tunable parts of the procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Procedure {
    /// Days the payee has to repay after the request (three weeks).
    pub term_days: u32,
    /// Days before the term ends that the payee's bank is reminded.
    pub reminder_days: u32,
    /// The oldest payment the procedure takes, in calendar months.
    pub max_payment_age_months: u32,
    /// For fake-seller cases: aangifte-backed police reports against the payee IBAN needed.
    pub min_reports_fake_seller: u32,
    /// Days the NAW is kept after its release.
    pub naw_retention_days: u32,
}

impl Default for Procedure {
    fn default() -> Self {
        Procedure {
            term_days: 21,
            reminder_days: 3,
            max_payment_age_months: 13,
            min_reports_fake_seller: 3,
            naw_retention_days: 180,
        }
    }
}

const DAY_MILLIS: i64 = 86_400_000;

impl Procedure {
    /// When the payee's term ends for a request made at `at`.
    pub fn term_end(&self, at: Timestamp) -> Timestamp {
        at.plus_millis(i64::from(self.term_days) * DAY_MILLIS)
    }

    /// When the payee's bank is reminded for a request made at `at`.
    pub fn reminder_at(&self, at: Timestamp) -> Timestamp {
        at.plus_millis(i64::from(self.term_days.saturating_sub(self.reminder_days)) * DAY_MILLIS)
    }

    /// When a NAW released at `at` is deleted.
    pub fn naw_delete_at(&self, at: Timestamp) -> Timestamp {
        at.plus_millis(i64::from(self.naw_retention_days) * DAY_MILLIS)
    }
}

/// What the eligibility check looks at.
#[derive(Debug, Clone)]
pub struct CaseFacts<'a> {
    pub payer: &'a Iban,
    pub payee: &'a Iban,
    pub paid_at: Timestamp,
    pub method: PaymentMethod,
    pub category: FraudCategory,
    /// The victim's aangifte reference, when one was filed.
    pub aangifte: Option<&'a str>,
    /// Aangifte-backed police reports against the payee IBAN in the registry.
    pub police_reports_against_payee: u32,
}

/// One condition of the procedure and whether the case meets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Stable key: `payment_age`, `dutch_accounts`, `payment_method`, `aangifte`,
    /// `reports_against_payee`.
    pub code: &'static str,
    pub met: bool,
    /// Why, in a sentence for the banks' staff (the victim's page explains it in Dutch).
    pub explanation: String,
}

/// Checks every condition of the procedure, in a fixed order; the case is eligible when all
/// are met.
pub fn eligibility(facts: &CaseFacts<'_>, procedure: &Procedure, today: Timestamp) -> Vec<Condition> {
    let age_ok = facts.paid_at <= today && today.ymd() <= add_months(facts.paid_at.ymd(), procedure.max_payment_age_months);
    let age = Condition {
        code: "payment_age",
        met: age_ok,
        explanation: if facts.paid_at > today {
            format!("the payment date {} lies in the future", facts.paid_at.date_string())
        } else if age_ok {
            format!(
                "paid on {}, at most {} months ago",
                facts.paid_at.date_string(),
                procedure.max_payment_age_months
            )
        } else {
            format!(
                "paid on {}, more than {} months ago",
                facts.paid_at.date_string(),
                procedure.max_payment_age_months
            )
        },
    };
    let dutch = facts.payer.country() == "NL" && facts.payee.country() == "NL";
    let accounts = Condition {
        code: "dutch_accounts",
        met: dutch,
        explanation: if dutch {
            "both accounts are Dutch (NL) IBANs".to_owned()
        } else {
            format!(
                "the procedure covers Dutch accounts only; payer {} and payee {}",
                facts.payer.country(),
                facts.payee.country()
            )
        },
    };
    let method_ok = matches!(facts.method, PaymentMethod::Transfer | PaymentMethod::PaymentRequest);
    let method = Condition {
        code: "payment_method",
        met: method_ok,
        explanation: if method_ok {
            format!("paid by {}", facts.method.as_str().replace('_', " "))
        } else {
            format!(
                "paid by {}: only transfers and payment requests are covered",
                facts.method.as_str().replace('_', " ")
            )
        },
    };
    let aangifte_ok = facts.aangifte.is_some_and(|a| !a.trim().is_empty());
    let aangifte = Condition {
        code: "aangifte",
        met: aangifte_ok,
        explanation: if aangifte_ok {
            "the victim filed an aangifte with the police".to_owned()
        } else {
            "no aangifte reference: the victim must file an aangifte first".to_owned()
        },
    };
    let needed = procedure.min_reports_fake_seller;
    let reports = match facts.category {
        // The number itself is not shown: it counts reports the reader may not be allowed to see.
        FraudCategory::FakeSeller if facts.police_reports_against_payee >= needed => Condition {
            code: "reports_against_payee",
            met: true,
            explanation: format!("at least {needed} aangifte-backed police reports against the payee account in the registry"),
        },
        FraudCategory::FakeSeller => Condition {
            code: "reports_against_payee",
            met: false,
            explanation: format!(
                "fewer than {needed} aangifte-backed police reports against the payee account in the registry; fake-seller cases need {needed}"
            ),
        },
        FraudCategory::MessageOrPhone => Condition {
            code: "reports_against_payee",
            met: true,
            explanation: "not required for scams by message or phone".to_owned(),
        },
    };
    vec![age, accounts, method, aangifte, reports]
}

/// A calendar date `months` later, the day clamped to the end of a shorter month
/// (31 January + 1 month = 28 or 29 February).
fn add_months((y, m, d): (i64, u32, u32), months: u32) -> (i64, u32, u32) {
    let index = y * 12 + i64::from(m - 1) + i64::from(months);
    let (year, month) = (index.div_euclid(12), u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let last = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (year, month, d.min(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    #[test]
    fn every_allowed_move_and_every_refused_one() {
        use CaseState as S;
        let allowed: &[(S, Move, S)] = &[
            (S::Requested, Move::Repaid, S::Repaid),
            (S::Requested, Move::PartiallyRepaid, S::PartiallyRepaid),
            (S::Requested, Move::Refused, S::Refused),
            (S::Requested, Move::TermExpired, S::NoResponse),
            (S::Refused, Move::RequestNaw, S::NawRequested),
            (S::NoResponse, Move::RequestNaw, S::NawRequested),
            (S::PartiallyRepaid, Move::RequestNaw, S::NawRequested),
            (S::NawRequested, Move::ReleaseNaw, S::NawReleased),
            (S::Repaid, Move::Close, S::Closed),
            (S::PartiallyRepaid, Move::Close, S::Closed),
            (S::Refused, Move::Close, S::Closed),
            (S::NoResponse, Move::Close, S::Closed),
            (S::NawReleased, Move::Close, S::Closed),
            (S::Requested, Move::Withdraw, S::Withdrawn),
            (S::Repaid, Move::Withdraw, S::Withdrawn),
            (S::PartiallyRepaid, Move::Withdraw, S::Withdrawn),
            (S::Refused, Move::Withdraw, S::Withdrawn),
            (S::NoResponse, Move::Withdraw, S::Withdrawn),
            (S::NawRequested, Move::Withdraw, S::Withdrawn),
        ];
        for from in S::ALL {
            for mv in Move::ALL {
                let expected = allowed.iter().find(|(f, m, _)| *f == from && *m == mv).map(|(_, _, to)| *to);
                match (transition(from, mv, mv.side()), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from} + {}", mv.as_str()),
                    (Err(MoveError::NotAllowed { .. }), None) => {}
                    (got, want) => panic!("{from} + {}: got {got:?}, want {want:?}", mv.as_str()),
                }
            }
        }
        for s in [S::Ineligible, S::Withdrawn, S::Closed] {
            assert!(s.is_final());
            assert!(Move::ALL.iter().all(|m| transition(s, *m, m.side()).is_err()));
        }
    }

    #[test]
    fn a_move_by_the_wrong_side_is_refused_whatever_the_state() {
        let err = transition(CaseState::Requested, Move::Repaid, Side::VictimBank).expect_err("the victim bank may not repay");
        assert_eq!(err.code(), "wrong_side");
        assert!(err.to_string().contains("payee's bank"), "{err}");
        let err = transition(CaseState::Refused, Move::RequestNaw, Side::PayeeBank).expect_err("the payee bank may not ask for the NAW");
        assert_eq!(err.code(), "wrong_side");
        assert!(transition(CaseState::Requested, Move::TermExpired, Side::VictimBank).is_err());
    }

    #[test]
    fn keys_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::from_key(s.as_str()), Some(s));
        }
        for m in Move::ALL {
            assert_eq!(Move::from_key(m.as_str()), Some(m));
        }
        for m in PaymentMethod::ALL {
            assert_eq!(PaymentMethod::from_key(m.as_str()), Some(m));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_key(o.as_str()), Some(o));
        }
        assert_eq!(CaseState::from_key("open"), None);
    }

    fn facts<'a>(payer: &'a Iban, payee: &'a Iban, paid: &str) -> CaseFacts<'a> {
        CaseFacts {
            payer,
            payee,
            paid_at: at(paid),
            method: PaymentMethod::Transfer,
            category: FraudCategory::FakeSeller,
            aangifte: Some("2026-123456"),
            police_reports_against_payee: 3,
        }
    }

    #[test]
    fn eligibility_names_each_condition() {
        let nl1 = Iban::parse("NL91ABNA0417164300").expect("valid");
        let nl2 = Iban::parse("NL20INGB0001234567").expect("valid");
        let de = Iban::parse("DE89370400440532013000").expect("valid");
        let p = Procedure::default();
        let today = at("2026-11-29T10:00:00Z");
        let all = eligibility(&facts(&nl1, &nl2, "2026-10-01T12:00:00Z"), &p, today);
        assert!(all.iter().all(|c| c.met), "{all:?}");
        assert_eq!(
            all.iter().map(|c| c.code).collect::<Vec<_>>(),
            [
                "payment_age",
                "dutch_accounts",
                "payment_method",
                "aangifte",
                "reports_against_payee"
            ]
        );

        // 13 months to the day is still in; a day more is out.
        let edge = eligibility(&facts(&nl1, &nl2, "2025-10-29T12:00:00Z"), &p, today);
        assert!(edge[0].met, "{:?}", edge[0]);
        let old = eligibility(&facts(&nl1, &nl2, "2025-10-28T12:00:00Z"), &p, today);
        assert!(!old[0].met);
        let future = eligibility(&facts(&nl1, &nl2, "2026-12-05T12:00:00Z"), &p, today);
        assert!(!future[0].met && future[0].explanation.contains("future"));

        let foreign = eligibility(&facts(&nl1, &de, "2026-10-01T12:00:00Z"), &p, today);
        assert!(!foreign[1].met && foreign[1].explanation.contains("DE"));

        let mut card = facts(&nl1, &nl2, "2026-10-01T12:00:00Z");
        card.method = PaymentMethod::Card;
        assert!(!eligibility(&card, &p, today)[2].met);
        card.method = PaymentMethod::PaymentRequest;
        assert!(eligibility(&card, &p, today)[2].met);

        let mut none = facts(&nl1, &nl2, "2026-10-01T12:00:00Z");
        none.aangifte = Some("  ");
        assert!(!eligibility(&none, &p, today)[3].met);

        let mut few = facts(&nl1, &nl2, "2026-10-01T12:00:00Z");
        few.police_reports_against_payee = 2;
        let short = &eligibility(&few, &p, today)[4];
        assert!(!short.met);
        assert!(
            !short.explanation.contains('2'),
            "the number of reports is not shown: {}",
            short.explanation
        );
        few.category = FraudCategory::MessageOrPhone;
        assert!(eligibility(&few, &p, today)[4].met);
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months((2025, 10, 29), 13), (2026, 11, 29));
        assert_eq!(add_months((2025, 12, 31), 2), (2026, 2, 28));
        assert_eq!(add_months((2023, 1, 31), 13), (2024, 2, 29));
    }

    #[test]
    fn terms_follow_the_procedure() {
        let p = Procedure::default();
        let t = at("2026-11-01T09:00:00Z");
        assert_eq!(p.term_end(t), at("2026-11-22T09:00:00Z"));
        assert_eq!(p.reminder_at(t), at("2026-11-19T09:00:00Z"));
        assert_eq!(p.naw_delete_at(t), at("2027-04-30T09:00:00Z"));
    }
}
