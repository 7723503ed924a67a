//! Call screening for telecom providers, and the on-call signal for banks.
//!
//! A call event names caller and callee (E.164) and where the call entered the network. The
//! decision, in order: a caller on the do-not-originate list of protected numbers (bank
//! helpdesk numbers that never call out) is `block`ed, unless the provider vouches that the
//! call came from the number's owner; a Dutch caller number on a call that arrives from abroad
//! is `block`ed as spoofed (the rule Belgium and the UK apply), except numbers listed as
//! exceptions (own subscribers roaming abroad); a caller in the fraud registry is `flag`ged.
//!
//! Calls that are let through are kept as active per callee until their `end` event or a
//! time-out, so a bank can ask whether its customer is on a call with an *unverified* caller
//! right now: a caller that is flagged, or not a vouched protected number and not among the
//! callers this subscriber completed calls with before. Subscribers are known only by a keyed
//! reference (HMAC of the number, a key banks and telecom providers share); those who opted out
//! are never reported as on a call. Nothing about a call is kept beyond what this needs.

use std::collections::{HashMap, HashSet};

use super::payments::OnCallSignal;
use crate::Timestamp;
use crate::index::CheckStatus;

/// The answer for one call event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CallDecision {
    Allow,
    Flag,
    Block,
}

impl CallDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            CallDecision::Allow => "allow",
            CallDecision::Flag => "flag",
            CallDecision::Block => "block",
        }
    }
}

/// Where a call entered the provider's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    Domestic,
    International,
}

/// What a call event says has happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEventKind {
    Start,
    End,
}

/// One call event, reduced to what the rules need.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFacts {
    pub call_id: String,
    pub kind: CallEventKind,
    pub at: Timestamp,
    /// The caller number as presented (E.164).
    pub caller: String,
    /// The callee's keyed reference.
    pub callee_ref: String,
    pub ingress: Ingress,
    /// The caller is on the do-not-originate list.
    pub caller_protected: bool,
    /// The provider vouches that the call came from the protected number's owner.
    pub verified_origin: bool,
    /// The caller is a listed exception to the spoofing rule (an own subscriber abroad).
    pub caller_exception: bool,
    pub caller_registry: CheckStatus,
}

/// Why a call got its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReason {
    pub code: &'static str,
    pub message: String,
}

/// The decision for one call event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallVerdict {
    pub decision: CallDecision,
    pub reasons: Vec<CallReason>,
}

/// Decides a call event (an `end` event is always allowed: it only closes the call).
pub fn screen(facts: &CallFacts) -> CallVerdict {
    let mut reasons = Vec::new();
    if facts.kind == CallEventKind::End {
        return CallVerdict {
            decision: CallDecision::Allow,
            reasons,
        };
    }
    let mut decision = CallDecision::Allow;
    if facts.caller_protected && !facts.verified_origin {
        decision = CallDecision::Block;
        reasons.push(CallReason {
            code: "caller_protected_number",
            message: "the caller presents a protected number that never calls out (do-not-originate list)".to_owned(),
        });
    }
    if facts.caller.starts_with("+31") && facts.ingress == Ingress::International && !facts.caller_exception && !facts.verified_origin {
        decision = CallDecision::Block;
        reasons.push(CallReason {
            code: "spoofed_domestic_number",
            message: "a Dutch caller number on a call that arrives from abroad".to_owned(),
        });
    }
    match facts.caller_registry {
        CheckStatus::Reported => {
            decision = decision.max(CallDecision::Flag);
            reasons.push(CallReason {
                code: "caller_reported",
                message: "the caller number is in the fraud registry".to_owned(),
            });
        }
        CheckStatus::Disputed => {
            decision = decision.max(CallDecision::Flag);
            reasons.push(CallReason {
                code: "caller_reported_disputed",
                message: "the caller number is in the fraud registry, but the listing is disputed".to_owned(),
            });
        }
        CheckStatus::NotReported => {}
    }
    CallVerdict { decision, reasons }
}

/// Known callers kept per subscriber.
pub const KNOWN_CALLERS: usize = 32;
/// Calls kept active at once per subscriber.
const ACTIVE_PER_SUBSCRIBER: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
struct ActiveCall {
    call_id: String,
    caller: String,
    started: Timestamp,
    unverified: bool,
}

/// Active calls, known callers and opt-outs, bounded.
#[derive(Debug)]
pub struct CallState {
    active: HashMap<String, Vec<ActiveCall>>,
    /// (caller, last completed call) per subscriber.
    known: HashMap<String, Vec<(String, Timestamp)>>,
    opted_out: HashSet<String>,
    /// A call without an `end` event counts as over after this long.
    pub active_timeout_millis: i64,
    /// Known callers are forgotten after this long.
    pub history_millis: i64,
    max_subscribers: usize,
}

impl CallState {
    pub fn new(active_timeout_millis: i64, history_millis: i64, max_subscribers: usize) -> Self {
        CallState {
            active: HashMap::new(),
            known: HashMap::new(),
            opted_out: HashSet::new(),
            active_timeout_millis,
            history_millis,
            max_subscribers: max_subscribers.max(1),
        }
    }

    pub fn opt_out(&mut self, subscriber_ref: &str) {
        self.opted_out.insert(subscriber_ref.to_owned());
        self.active.remove(subscriber_ref);
        self.known.remove(subscriber_ref);
    }

    pub fn opt_in(&mut self, subscriber_ref: &str) {
        self.opted_out.remove(subscriber_ref);
    }

    pub fn is_opted_out(&self, subscriber_ref: &str) -> bool {
        self.opted_out.contains(subscriber_ref)
    }

    fn knows(&self, subscriber: &str, caller: &str, now: Timestamp) -> bool {
        self.known.get(subscriber).is_some_and(|callers| {
            callers
                .iter()
                .any(|(c, at)| c == caller && now.millis() - at.millis() <= self.history_millis)
        })
    }

    /// Takes a decided event into the state.
    pub fn record(&mut self, facts: &CallFacts, verdict: &CallVerdict) {
        let subscriber = facts.callee_ref.as_str();
        if self.opted_out.contains(subscriber) {
            return;
        }
        match facts.kind {
            CallEventKind::Start => {
                if verdict.decision == CallDecision::Block {
                    return;
                }
                let vouched = facts.caller_protected && facts.verified_origin;
                let unverified = verdict.decision == CallDecision::Flag || (!vouched && !self.knows(subscriber, &facts.caller, facts.at));
                if !self.active.contains_key(subscriber) && self.active.len() >= self.max_subscribers {
                    self.expire(facts.at);
                    if self.active.len() >= self.max_subscribers {
                        return;
                    }
                }
                let calls = self.active.entry(subscriber.to_owned()).or_default();
                calls.retain(|c| c.call_id != facts.call_id);
                if calls.len() >= ACTIVE_PER_SUBSCRIBER {
                    calls.remove(0);
                }
                calls.push(ActiveCall {
                    call_id: facts.call_id.clone(),
                    caller: facts.caller.clone(),
                    started: facts.at,
                    unverified,
                });
            }
            CallEventKind::End => {
                let Some(calls) = self.active.get_mut(subscriber) else { return };
                let Some(i) = calls.iter().position(|c| c.call_id == facts.call_id) else {
                    return;
                };
                let call = calls.remove(i);
                if calls.is_empty() {
                    self.active.remove(subscriber);
                }
                // A completed call with a caller nobody reported: the caller is known from now on.
                if facts.caller_registry == CheckStatus::NotReported {
                    if !self.known.contains_key(subscriber) && self.known.len() >= self.max_subscribers {
                        return;
                    }
                    let known = self.known.entry(subscriber.to_owned()).or_default();
                    known.retain(|(c, _)| c != &call.caller);
                    if known.len() >= KNOWN_CALLERS {
                        known.remove(0);
                    }
                    known.push((call.caller, facts.at));
                }
            }
        }
    }

    /// Whether a subscriber is on a call right now, and whether any of its calls is with an
    /// unverified caller. Opted-out subscribers are never on a call.
    pub fn on_call(&self, subscriber_ref: &str, now: Timestamp) -> OnCallSignal {
        if self.opted_out.contains(subscriber_ref) {
            return OnCallSignal {
                on_call: false,
                unverified_caller: false,
            };
        }
        let live: Vec<&ActiveCall> = self
            .active
            .get(subscriber_ref)
            .map(|calls| {
                calls
                    .iter()
                    .filter(|c| now.millis() - c.started.millis() <= self.active_timeout_millis)
                    .collect()
            })
            .unwrap_or_default();
        OnCallSignal {
            on_call: !live.is_empty(),
            unverified_caller: live.iter().any(|c| c.unverified),
        }
    }

    /// Drops calls past the time-out and known callers past the history period.
    pub fn expire(&mut self, now: Timestamp) {
        let (timeout, history) = (self.active_timeout_millis, self.history_millis);
        self.active.retain(|_, calls| {
            calls.retain(|c| now.millis() - c.started.millis() <= timeout);
            !calls.is_empty()
        });
        self.known.retain(|_, callers| {
            callers.retain(|(_, at)| now.millis() - at.millis() <= history);
            !callers.is_empty()
        });
    }

    /// Subscribers with an active call (for metrics).
    pub fn active_subscribers(&self) -> usize {
        self.active.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).expect("valid")
    }

    fn start(id: &str, caller: &str, callee: &str, at: &str) -> CallFacts {
        CallFacts {
            call_id: id.to_owned(),
            kind: CallEventKind::Start,
            at: t(at),
            caller: caller.to_owned(),
            callee_ref: callee.to_owned(),
            ingress: Ingress::Domestic,
            caller_protected: false,
            verified_origin: false,
            caller_exception: false,
            caller_registry: CheckStatus::NotReported,
        }
    }

    fn end(mut f: CallFacts, at: &str) -> CallFacts {
        f.kind = CallEventKind::End;
        f.at = t(at);
        f
    }

    fn codes(v: &CallVerdict) -> Vec<&'static str> {
        v.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn protected_numbers_and_spoofed_domestic_numbers_are_blocked() {
        let mut f = start("c1", "+31201234567", "sub-a", "2026-11-20T10:00:00Z");
        f.caller_protected = true;
        let v = screen(&f);
        assert_eq!((v.decision, codes(&v)), (CallDecision::Block, vec!["caller_protected_number"]));
        f.verified_origin = true;
        assert_eq!(screen(&f).decision, CallDecision::Allow, "the owner's own call goes through");

        let mut f = start("c2", "+31612345678", "sub-a", "2026-11-20T10:00:00Z");
        f.ingress = Ingress::International;
        let v = screen(&f);
        assert_eq!((v.decision, codes(&v)), (CallDecision::Block, vec!["spoofed_domestic_number"]));
        f.caller_exception = true;
        assert_eq!(screen(&f).decision, CallDecision::Allow, "a roaming subscriber's own number");
        let mut foreign = start("c3", "+4915112345678", "sub-a", "2026-11-20T10:00:00Z");
        foreign.ingress = Ingress::International;
        assert_eq!(screen(&foreign).decision, CallDecision::Allow);
    }

    #[test]
    fn reported_callers_are_flagged() {
        let mut f = start("c1", "+31612345678", "sub-a", "2026-11-20T10:00:00Z");
        f.caller_registry = CheckStatus::Reported;
        assert_eq!(screen(&f).decision, CallDecision::Flag);
        f.caller_registry = CheckStatus::Disputed;
        assert_eq!(codes(&screen(&f)), vec!["caller_reported_disputed"]);
        f.ingress = Ingress::International;
        f.caller_registry = CheckStatus::Reported;
        assert_eq!(screen(&f).decision, CallDecision::Block, "block wins over flag");
        assert_eq!(screen(&end(f, "2026-11-20T10:05:00Z")).decision, CallDecision::Allow);
    }

    #[test]
    fn the_on_call_signal_knows_callers_and_time_outs() {
        let mut state = CallState::new(2 * 3600 * 1000, 90 * 86_400_000, 100);
        let grandchild = start("c1", "+31687654321", "sub-a", "2026-11-20T09:00:00Z");
        let v = screen(&grandchild);
        state.record(&grandchild, &v);
        let during = state.on_call("sub-a", t("2026-11-20T09:10:00Z"));
        assert!(during.on_call && during.unverified_caller, "a first call is unverified");
        state.record(&end(grandchild.clone(), "2026-11-20T09:20:00Z"), &v);
        assert!(!state.on_call("sub-a", t("2026-11-20T09:21:00Z")).on_call, "the call ended");

        let again = start("c2", "+31687654321", "sub-a", "2026-11-21T09:00:00Z");
        state.record(&again, &screen(&again));
        let known = state.on_call("sub-a", t("2026-11-21T09:01:00Z"));
        assert!(
            known.on_call && !known.unverified_caller,
            "a caller from an earlier completed call is known"
        );

        let mut fake_bank = start("c3", "+31201234567", "sub-b", "2026-11-21T10:00:00Z");
        fake_bank.caller_registry = CheckStatus::Reported;
        state.record(&fake_bank, &screen(&fake_bank));
        assert!(state.on_call("sub-b", t("2026-11-21T10:05:00Z")).unverified_caller);
        assert!(
            !state.on_call("sub-b", t("2026-11-21T13:00:00Z")).on_call,
            "a call without an end event times out"
        );

        let mut blocked = start("c4", "+31201234567", "sub-c", "2026-11-21T10:00:00Z");
        blocked.caller_protected = true;
        state.record(&blocked, &screen(&blocked));
        assert!(
            !state.on_call("sub-c", t("2026-11-21T10:01:00Z")).on_call,
            "a blocked call never connects"
        );

        state.opt_out("sub-a");
        assert!(
            !state.on_call("sub-a", t("2026-11-21T09:01:00Z")).on_call,
            "opted out: never reported"
        );
        let later = start("c5", "+31600000000", "sub-a", "2026-11-21T09:02:00Z");
        state.record(&later, &screen(&later));
        assert!(!state.on_call("sub-a", t("2026-11-21T09:03:00Z")).on_call);
        state.expire(t("2026-11-22T00:00:00Z"));
        assert_eq!(state.active_subscribers(), 0);
    }
}
