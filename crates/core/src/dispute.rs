//! Disputes (*bezwaar*): the person concerned objects to a listing of their IBAN, phone number,
//! website or other indicator, and a reviewer decides. This module holds the rules without
//! storage: the states, the moves, who may open a dispute and who may decide it, and the term.
//! The services keep the disputes, apply the outcome to the indicator and run the reminders.
//!
//! ```text
//!        open ──decide(upheld)───▶ upheld     (the indicator becomes `cleared`)
//!          │ ──decide(rejected)──▶ rejected   (the indicator is `active` again)
//!          └───withdraw──────────▶ withdrawn  (the indicator is `active` again)
//! ```
//!
//! While a dispute is open the indicator answers `disputed` in every check. Every move has a
//! reason, an actor and a time. Only an open dispute moves; the three outcomes are final.

use std::collections::BTreeMap;
use std::fmt;

use crate::Timestamp;
use crate::index::IndicatorStatus;
use crate::partner::PartnerKind;
use crate::report::FraudType;
use crate::timestamp::DAY_MILLIS;

/// Where a dispute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DisputeState {
    Open,
    Upheld,
    Rejected,
    Withdrawn,
}

impl DisputeState {
    pub const ALL: [DisputeState; 4] = [
        DisputeState::Open,
        DisputeState::Upheld,
        DisputeState::Rejected,
        DisputeState::Withdrawn,
    ];

    /// The stable key.
    pub const fn as_str(self) -> &'static str {
        match self {
            DisputeState::Open => "open",
            DisputeState::Upheld => "upheld",
            DisputeState::Rejected => "rejected",
            DisputeState::Withdrawn => "withdrawn",
        }
    }

    /// The state for a stable key.
    pub fn from_key(key: &str) -> Option<DisputeState> {
        DisputeState::ALL.into_iter().find(|s| s.as_str() == key)
    }

    /// The indicator's review status while the dispute is in this state.
    pub const fn indicator_status(self) -> IndicatorStatus {
        match self {
            DisputeState::Open => IndicatorStatus::Disputed,
            DisputeState::Upheld => IndicatorStatus::Cleared,
            DisputeState::Rejected | DisputeState::Withdrawn => IndicatorStatus::Active,
        }
    }

    pub const fn is_final(self) -> bool {
        !matches!(self, DisputeState::Open)
    }
}

impl fmt::Display for DisputeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move on a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisputeMove {
    /// The objection is right: the listing goes.
    Uphold,
    /// The objection is not right: the listing stays.
    Reject,
    /// The opener takes the objection back.
    Withdraw,
}

impl DisputeMove {
    pub const fn as_str(self) -> &'static str {
        match self {
            DisputeMove::Uphold => "upheld",
            DisputeMove::Reject => "rejected",
            DisputeMove::Withdraw => "withdrawn",
        }
    }

    /// A decision's outcome as the API names it (`upheld`, `rejected`).
    pub fn decision(key: &str) -> Option<DisputeMove> {
        [DisputeMove::Uphold, DisputeMove::Reject].into_iter().find(|m| m.as_str() == key)
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeError {
    /// The dispute is decided or withdrawn already.
    NotAllowed { from: DisputeState, mv: DisputeMove },
    /// This partner kind may not make this move (on disputes about this fraud type).
    NotPermitted { kind: PartnerKind, mv: DisputeMove },
}

impl DisputeError {
    /// The stable error code.
    pub const fn code(self) -> &'static str {
        match self {
            DisputeError::NotAllowed { .. } => "transition_not_allowed",
            DisputeError::NotPermitted { .. } => "forbidden",
        }
    }
}

impl fmt::Display for DisputeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisputeError::NotAllowed { from, mv } => {
                write!(f, "a dispute that is `{from}` cannot become `{}`", mv.as_str())
            }
            DisputeError::NotPermitted { kind, mv } => match mv {
                DisputeMove::Withdraw => write!(f, "only the partner that opened the dispute, or an operator, withdraws it"),
                _ => write!(f, "a partner of kind `{}` does not decide disputes of this kind", kind.as_str()),
            },
        }
    }
}

/// Who may open disputes and who decides them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputePolicy {
    /// Days from opening to the due decision.
    pub decision_days: u32,
    /// Days before the due date that the deciders are reminded.
    pub remind_days_before: u32,
    /// The kinds that decide, per fraud type; a fraud type not listed uses `deciders`.
    pub deciders_by_fraud_type: BTreeMap<FraudType, Vec<PartnerKind>>,
    /// The kinds that decide by default.
    pub deciders: Vec<PartnerKind>,
}

impl Default for DisputePolicy {
    fn default() -> Self {
        DisputePolicy {
            decision_days: 14,
            remind_days_before: 3,
            deciders_by_fraud_type: BTreeMap::new(),
            deciders: vec![PartnerKind::Police, PartnerKind::Operator],
        }
    }
}

impl DisputePolicy {
    /// Whether a partner of `kind` may open a dispute: the holder's own bank or PSP (which has
    /// verified the holder), the police, the fraud helpdesk and victim support on the holder's
    /// behalf, and the operator.
    pub const fn may_open(kind: PartnerKind) -> bool {
        matches!(
            kind,
            PartnerKind::Bank
                | PartnerKind::Psp
                | PartnerKind::Police
                | PartnerKind::Helpdesk
                | PartnerKind::VictimSupport
                | PartnerKind::Operator
        )
    }

    /// The kinds that decide a dispute about an indicator reported mostly for `fraud_type`
    /// (`None`: no counted report names a fraud type; the default deciders).
    pub fn deciders(&self, fraud_type: Option<FraudType>) -> &[PartnerKind] {
        fraud_type
            .and_then(|t| self.deciders_by_fraud_type.get(&t))
            .map_or(&self.deciders[..], Vec::as_slice)
    }

    /// When a dispute opened at `opened` is due to be decided.
    pub fn due(&self, opened: Timestamp) -> Timestamp {
        opened.plus_millis(i64::from(self.decision_days) * DAY_MILLIS)
    }

    /// When the deciders are reminded of a dispute opened at `opened`.
    pub fn remind_at(&self, opened: Timestamp) -> Timestamp {
        let days = self.decision_days.saturating_sub(self.remind_days_before);
        opened.plus_millis(i64::from(days) * DAY_MILLIS)
    }

    /// The state a move leads to, if `kind` may make it from `from`. `opener` says whether the
    /// mover is the partner that opened the dispute; `fraud_type` is the indicator's main one.
    pub fn transition(
        &self,
        from: DisputeState,
        mv: DisputeMove,
        kind: PartnerKind,
        opener: bool,
        fraud_type: Option<FraudType>,
    ) -> Result<DisputeState, DisputeError> {
        let permitted = match mv {
            DisputeMove::Uphold | DisputeMove::Reject => self.deciders(fraud_type).contains(&kind),
            DisputeMove::Withdraw => opener || kind == PartnerKind::Operator,
        };
        if !permitted {
            return Err(DisputeError::NotPermitted { kind, mv });
        }
        match (from, mv) {
            (DisputeState::Open, DisputeMove::Uphold) => Ok(DisputeState::Upheld),
            (DisputeState::Open, DisputeMove::Reject) => Ok(DisputeState::Rejected),
            (DisputeState::Open, DisputeMove::Withdraw) => Ok(DisputeState::Withdrawn),
            _ => Err(DisputeError::NotAllowed { from, mv }),
        }
    }
}

/// Whether a decision is overdue at `now`.
pub fn overdue(state: DisputeState, due: Timestamp, now: Timestamp) -> bool {
    state == DisputeState::Open && now > due
}

/// The most characters a dispute's reason (or an objection's text) may have.
pub const MAX_REASON_CHARS: usize = 2_000;

/// Why a reason is refused: a stable code and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonError {
    Missing,
    TooLong,
    ControlCharacters,
}

impl ReasonError {
    pub const fn code(self) -> &'static str {
        match self {
            ReasonError::Missing => "missing_reason",
            ReasonError::TooLong => "reason_too_long",
            ReasonError::ControlCharacters => "invalid_text",
        }
    }
}

impl fmt::Display for ReasonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReasonError::Missing => f.write_str("every move of a dispute needs a reason"),
            ReasonError::TooLong => write!(f, "the reason is longer than {MAX_REASON_CHARS} characters"),
            ReasonError::ControlCharacters => f.write_str("the reason contains control characters"),
        }
    }
}

/// A reason as stored: trimmed, not empty, at most [`MAX_REASON_CHARS`], plain text (line
/// breaks allowed).
pub fn reason(text: &str) -> Result<String, ReasonError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ReasonError::Missing);
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(ReasonError::TooLong);
    }
    if !crate::report::is_plain_text(text) {
        return Err(ReasonError::ControlCharacters);
    }
    Ok(text.to_owned())
}

/// The fraud type most reports about an indicator name (`counts` in [`FraudType::ALL`]
/// order; the first of equals), or `None` when none does.
pub fn main_fraud_type(counts: &[i64]) -> Option<FraudType> {
    let mut best: Option<(FraudType, i64)> = None;
    for (t, n) in FraudType::ALL.iter().zip(counts) {
        if *n > 0 && best.is_none_or(|(_, m)| *n > m) {
            best = Some((*t, *n));
        }
    }
    best.map(|(t, _)| t)
}

/// Who reviews the objections people send through the public form (`/bezwaar`) and turns
/// them into disputes: the fraud helpdesk and victim support (on the person's behalf), the
/// police and the operator.
pub const fn may_review_requests(kind: PartnerKind) -> bool {
    matches!(
        kind,
        PartnerKind::Helpdesk | PartnerKind::VictimSupport | PartnerKind::Police | PartnerKind::Operator
    )
}

/// Where an objection from the public form stands. It changes nothing by itself: a reviewer
/// accepts it (and opens a dispute) or declines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    Pending,
    Accepted,
    Declined,
}

impl RequestState {
    pub const ALL: [RequestState; 3] = [RequestState::Pending, RequestState::Accepted, RequestState::Declined];

    pub const fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Accepted => "accepted",
            RequestState::Declined => "declined",
        }
    }

    pub fn from_key(key: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|s| s.as_str() == key)
    }
}

/// What a reviewer decides about a cleared indicator that a new report named: it stays
/// cleared (the new report is about someone else's misuse, or wrong), or it is active again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClearanceOutcome {
    KeptCleared,
    Reactivated,
}

impl ClearanceOutcome {
    pub const ALL: [ClearanceOutcome; 2] = [ClearanceOutcome::KeptCleared, ClearanceOutcome::Reactivated];

    pub const fn as_str(self) -> &'static str {
        match self {
            ClearanceOutcome::KeptCleared => "kept_cleared",
            ClearanceOutcome::Reactivated => "reactivated",
        }
    }

    pub fn from_key(key: &str) -> Option<ClearanceOutcome> {
        ClearanceOutcome::ALL.into_iter().find(|s| s.as_str() == key)
    }

    /// The indicator's status after the review.
    pub const fn indicator_status(self) -> IndicatorStatus {
        match self {
            ClearanceOutcome::KeptCleared => IndicatorStatus::Cleared,
            ClearanceOutcome::Reactivated => IndicatorStatus::Active,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds that review objections from the public form, in `PartnerKind::ALL` order.
    const REQUEST_REVIEWERS: [PartnerKind; 4] = [
        PartnerKind::Police,
        PartnerKind::Helpdesk,
        PartnerKind::VictimSupport,
        PartnerKind::Operator,
    ];

    const MOVES: [DisputeMove; 3] = [DisputeMove::Uphold, DisputeMove::Reject, DisputeMove::Withdraw];

    #[test]
    fn request_and_clearance_keys_round_trip() {
        for s in RequestState::ALL {
            assert_eq!(RequestState::from_key(s.as_str()), Some(s));
        }
        for o in ClearanceOutcome::ALL {
            assert_eq!(ClearanceOutcome::from_key(o.as_str()), Some(o));
        }
        assert_eq!(ClearanceOutcome::Reactivated.indicator_status(), IndicatorStatus::Active);
        assert_eq!(ClearanceOutcome::KeptCleared.indicator_status(), IndicatorStatus::Cleared);
        let reviewers: Vec<PartnerKind> = PartnerKind::ALL.into_iter().filter(|k| may_review_requests(*k)).collect();
        assert_eq!(reviewers, REQUEST_REVIEWERS);
    }

    #[test]
    fn reasons_are_trimmed_bounded_and_plain() {
        assert_eq!(
            reason("  mijn rekening\nik verkoop echt  "),
            Ok("mijn rekening\nik verkoop echt".to_owned())
        );
        assert_eq!(reason(" \t "), Err(ReasonError::Missing));
        assert_eq!(reason(&"a".repeat(MAX_REASON_CHARS)).map(|r| r.len()), Ok(MAX_REASON_CHARS));
        assert_eq!(reason(&"é".repeat(MAX_REASON_CHARS + 1)), Err(ReasonError::TooLong));
        assert_eq!(reason("bell\u{7}"), Err(ReasonError::ControlCharacters));
    }

    #[test]
    fn the_main_fraud_type_is_the_most_reported_one() {
        let mut counts = [0i64; crate::report::FRAUD_TYPE_COUNT];
        assert_eq!(main_fraud_type(&counts), None);
        counts[FraudType::ALL.iter().position(|t| *t == FraudType::Romance).expect("listed")] = 2;
        counts[FraudType::ALL.iter().position(|t| *t == FraudType::Phishing).expect("listed")] = 2;
        assert_eq!(
            main_fraud_type(&counts),
            Some(FraudType::Phishing),
            "the first of equals in ALL order"
        );
        counts[FraudType::ALL.iter().position(|t| *t == FraudType::Investment).expect("listed")] = 3;
        assert_eq!(main_fraud_type(&counts), Some(FraudType::Investment));
    }

    #[test]
    fn keys_round_trip() {
        for s in DisputeState::ALL {
            assert_eq!(DisputeState::from_key(s.as_str()), Some(s));
        }
        assert_eq!(DisputeState::from_key("closed"), None);
        assert_eq!(DisputeMove::decision("upheld"), Some(DisputeMove::Uphold));
        assert_eq!(DisputeMove::decision("rejected"), Some(DisputeMove::Reject));
        assert_eq!(DisputeMove::decision("withdrawn"), None, "withdrawing is not a decision");
    }

    #[test]
    fn only_an_open_dispute_moves_and_outcomes_are_final() {
        let policy = DisputePolicy::default();
        let decider = PartnerKind::Police;
        assert_eq!(
            policy.transition(DisputeState::Open, DisputeMove::Uphold, decider, false, None),
            Ok(DisputeState::Upheld)
        );
        assert_eq!(
            policy.transition(DisputeState::Open, DisputeMove::Reject, decider, false, None),
            Ok(DisputeState::Rejected)
        );
        assert_eq!(
            policy.transition(DisputeState::Open, DisputeMove::Withdraw, decider, true, None),
            Ok(DisputeState::Withdrawn)
        );
        for from in [DisputeState::Upheld, DisputeState::Rejected, DisputeState::Withdrawn] {
            for mv in MOVES {
                let refused = policy.transition(from, mv, PartnerKind::Operator, true, None);
                assert_eq!(refused, Err(DisputeError::NotAllowed { from, mv }), "{from} {mv:?}");
                assert_eq!(refused.expect_err("refused").code(), "transition_not_allowed");
            }
        }
    }

    #[test]
    fn who_opens_decides_and_withdraws_by_every_kind() {
        let policy = DisputePolicy::default();
        let openers = [
            PartnerKind::Bank,
            PartnerKind::Psp,
            PartnerKind::Police,
            PartnerKind::Helpdesk,
            PartnerKind::VictimSupport,
            PartnerKind::Operator,
        ];
        let not_openers = [PartnerKind::Telecom, PartnerKind::Marketplace, PartnerKind::Citizen];
        assert_eq!(openers.len() + not_openers.len(), PartnerKind::ALL.len(), "every kind is listed");
        for kind in PartnerKind::ALL {
            let opens = openers.contains(&kind);
            assert_ne!(opens, not_openers.contains(&kind), "{kind:?} is in one list");
            assert_eq!(DisputePolicy::may_open(kind), opens, "{kind:?} opens");
            let decides = matches!(kind, PartnerKind::Police | PartnerKind::Operator);
            for mv in [DisputeMove::Uphold, DisputeMove::Reject] {
                let outcome = policy.transition(DisputeState::Open, mv, kind, true, None);
                assert_eq!(outcome.is_ok(), decides, "{kind:?} {mv:?}");
                if !decides {
                    assert_eq!(outcome, Err(DisputeError::NotPermitted { kind, mv }));
                    assert_eq!(outcome.expect_err("not permitted").code(), "forbidden");
                }
            }
            // The opener withdraws its own dispute; of the others only an operator does.
            assert!(
                policy
                    .transition(DisputeState::Open, DisputeMove::Withdraw, kind, true, None)
                    .is_ok()
            );
            assert_eq!(
                policy
                    .transition(DisputeState::Open, DisputeMove::Withdraw, kind, false, None)
                    .is_ok(),
                kind == PartnerKind::Operator,
                "{kind:?} withdraws another's dispute"
            );
        }
    }

    #[test]
    fn deciders_are_configurable_per_fraud_type() {
        let mut policy = DisputePolicy::default();
        policy
            .deciders_by_fraud_type
            .insert(FraudType::Marketplace, vec![PartnerKind::Helpdesk, PartnerKind::Operator]);
        let decide = |kind, fraud_type| {
            policy
                .transition(DisputeState::Open, DisputeMove::Uphold, kind, false, fraud_type)
                .is_ok()
        };
        assert!(decide(PartnerKind::Helpdesk, Some(FraudType::Marketplace)));
        assert!(!decide(PartnerKind::Police, Some(FraudType::Marketplace)));
        assert!(
            decide(PartnerKind::Police, Some(FraudType::Phishing)),
            "other types use the default"
        );
        assert!(decide(PartnerKind::Police, None));
        assert!(!decide(PartnerKind::Helpdesk, None));
    }

    #[test]
    fn terms_and_the_indicator_status() {
        let policy = DisputePolicy::default();
        let opened = Timestamp::parse_rfc3339("2026-12-01T10:00:00Z").expect("valid");
        assert_eq!(policy.due(opened).to_rfc3339(), "2026-12-15T10:00:00Z");
        assert_eq!(policy.remind_at(opened).to_rfc3339(), "2026-12-12T10:00:00Z");
        let due = policy.due(opened);
        assert!(!overdue(DisputeState::Open, due, due));
        assert!(overdue(DisputeState::Open, due, due.plus_millis(1)));
        assert!(!overdue(DisputeState::Upheld, due, due.plus_millis(DAY_MILLIS)));
        assert_eq!(DisputeState::Open.indicator_status(), IndicatorStatus::Disputed);
        assert_eq!(DisputeState::Upheld.indicator_status(), IndicatorStatus::Cleared);
        assert_eq!(DisputeState::Rejected.indicator_status(), IndicatorStatus::Active);
        assert_eq!(DisputeState::Withdrawn.indicator_status(), IndicatorStatus::Active);
        assert!(DisputeState::Withdrawn.is_final() && !DisputeState::Open.is_final());
    }
}
