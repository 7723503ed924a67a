//! The call lists, as partners keep them: the do-not-originate list (numbers that never call
//! out, such as a bank's helpdesk number) and the spoofing exceptions (own subscribers roaming
//! abroad), with owners, a pending state for banks' entries and a history; and subscribers'
//! opt-outs of the on-call signal. Every change is stored (and audited) first and then applied
//! to this node's call state, so the next call is screened against it.

use vangnet_core::PartnerKind;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_store::{CallEntryState, CallListAdd, CallListChange, CallListEntry, CallListRemove, Partner, StoreError};

use super::calls::PROTECTED;
use crate::state::Services;

/// One number on a list with its history, as a partner may read it.
#[derive(Debug, Clone)]
pub struct ListedNumber {
    /// `None` when the number was removed (the history is still there).
    pub entry: Option<CallListEntry>,
    /// The public id of the partner that keeps (or kept) it.
    pub owner_id: String,
    pub history: Vec<CallListChange>,
}

/// The state a partner's new entries get: a bank's do-not-originate entries wait for an operator.
fn state_for(partner: &Partner, list: &str) -> CallEntryState {
    if list == PROTECTED && partner.kind.holds_accounts() {
        CallEntryState::Pending
    } else {
        CallEntryState::Active
    }
}

/// The owner a partner's list operations are limited to: its own entries, or anyone's for an
/// operator.
fn scope(partner: &Partner) -> Option<i64> {
    (partner.kind != PartnerKind::Operator).then_some(partner.seq)
}

impl Services {
    /// Puts canonical E.164 numbers on `list` for `partner`; the active ones are screened
    /// against at once.
    pub async fn add_call_numbers(&self, partner: &Partner, list: &str, numbers: &[String]) -> Result<Vec<CallListAdd>, StoreError> {
        let outcomes = self
            .store
            .add_call_numbers(list, numbers, partner, state_for(partner, list), &partner.actor(), self.now())
            .await?;
        let active: Vec<String> = outcomes
            .iter()
            .filter_map(|o| match o {
                CallListAdd::Added(e) if e.state == CallEntryState::Active => Some(e.e164.clone()),
                _ => None,
            })
            .collect();
        self.calls.add(list, &active);
        Ok(outcomes)
    }

    /// Takes a number off `list`: the partner's own entry, or anyone's for an operator.
    pub async fn remove_call_number(&self, partner: &Partner, list: &str, e164: &str) -> Result<CallListRemove, StoreError> {
        let outcome = self
            .store
            .remove_call_number(list, e164, scope(partner), &partner.actor(), self.now())
            .await?;
        if let CallListRemove::Removed(_) = outcome {
            self.calls.remove(list, e164);
        }
        Ok(outcome)
    }

    /// Approves a pending do-not-originate entry (the caller has checked it is an operator).
    pub async fn approve_protected_number(&self, partner: &Partner, e164: &str) -> Result<Option<CallListEntry>, StoreError> {
        let entry = self
            .store
            .approve_call_number(PROTECTED, e164, &partner.actor(), self.now())
            .await?;
        if let Some(entry) = &entry {
            self.calls.add(PROTECTED, std::slice::from_ref(&entry.e164));
        }
        Ok(entry)
    }

    /// The entries of `list` that `partner` keeps (every entry for an operator).
    pub async fn call_list_entries(&self, partner: &Partner, list: &str) -> Result<Vec<CallListEntry>, StoreError> {
        self.store.call_list_entries(list, scope(partner)).await
    }

    /// One number on `list` with its history, if it is (or was) there and `partner` keeps it
    /// (or is an operator); another partner's entry is `None`, as if there were none.
    pub async fn call_list_number(&self, partner: &Partner, list: &str, e164: &str) -> Result<Option<ListedNumber>, StoreError> {
        let entry = self.store.call_list_entry(list, e164).await?;
        let history = self.store.call_list_history(list, e164).await?;
        let owner_id = match (&entry, history.last()) {
            (Some(e), _) => e.owner_id.clone(),
            (None, Some(last)) => last.owner_id.clone(),
            (None, None) => return Ok(None),
        };
        if partner.kind != PartnerKind::Operator && owner_id != partner.id {
            return Ok(None);
        }
        Ok(Some(ListedNumber { entry, owner_id, history }))
    }

    /// Records or withdraws a subscriber's opt-out of the on-call signal (a keyed subscriber
    /// reference), audited with the first 16 characters of the reference only.
    pub async fn set_opt_out(&self, partner: &Partner, reference: &str, opted_out: bool) -> Result<(), StoreError> {
        let now = self.now();
        self.store.set_opt_out(reference, opted_out, now).await?;
        self.calls.set_opt_out(reference, opted_out);
        self.store
            .append_audit(&[AuditEvent {
                at: now,
                actor: partner.actor(),
                action: AuditAction::SignalOptOut,
                subject: format!("subscriber:{}", reference.get(..16).unwrap_or(reference)),
                details: format!("{{\"opted_out\":{opted_out}}}"),
            }])
            .await
    }
}
