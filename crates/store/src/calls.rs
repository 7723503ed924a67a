//! Call screening: call lists with owners and history, and opt-outs.

use async_trait::async_trait;
use vangnet_core::Timestamp;

use crate::{Partner, StoreError};

/// Whether an entry of a call list is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEntryState {
    /// Screened against.
    Active,
    /// Waiting for an operator's approval (a bank's do-not-originate entry).
    Pending,
}

impl CallEntryState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallEntryState::Active => "active",
            CallEntryState::Pending => "pending",
        }
    }

    pub fn from_key(key: &str) -> Option<CallEntryState> {
        match key {
            "active" => Some(CallEntryState::Active),
            "pending" => Some(CallEntryState::Pending),
            _ => None,
        }
    }
}

/// A number on a call list, with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallListEntry {
    pub list: String,
    pub e164: String,
    /// The partner that added it (`seq` and public id).
    pub owner_seq: i64,
    pub owner_id: String,
    pub state: CallEntryState,
    pub added_at: Timestamp,
    pub approved_at: Option<Timestamp>,
}

/// One change of a call-list entry, kept for its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallListChange {
    pub at: Timestamp,
    /// `partner:<id>` or `cli`.
    pub actor: String,
    /// `requested` (pending), `added`, `approved` or `removed`.
    pub change: String,
    pub owner_id: String,
}

/// What happened to one number put on a call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallListAdd {
    /// Put on the list now (active or pending).
    Added(CallListEntry),
    /// Already on the list for this owner; unchanged.
    Existing(CallListEntry),
    /// Another partner's entry; unchanged.
    OwnedByOther(CallListEntry),
}

/// What happened to a removal from a call list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallListRemove {
    Removed(CallListEntry),
    NotFound,
    /// The entry belongs to another partner.
    NotOwner(CallListEntry),
}

/// Call screening: the call lists with their owners and history, and the opt-outs of the
/// on-call signal.
#[async_trait]
pub trait CallStore: Send + Sync {
    /// Puts numbers on a call list (`protected` or `exception`) for `owner`, in `state`, with
    /// their history rows and one audit entry; one outcome per number, in order. A number
    /// another partner owns is left as it is.
    async fn add_call_numbers(
        &self,
        list: &str,
        numbers: &[String],
        owner: &Partner,
        state: CallEntryState,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<CallListAdd>, StoreError>;

    /// Makes a pending entry active (an operator's approval), audited; `None` if there is no
    /// such entry. An active entry is returned unchanged.
    async fn approve_call_number(&self, list: &str, e164: &str, actor: &str, now: Timestamp) -> Result<Option<CallListEntry>, StoreError>;

    /// Removes a number from a call list, audited. With `owner`, only that partner's entry is
    /// removed (another's is `NotOwner`); `None` removes anyone's (operators).
    async fn remove_call_number(
        &self,
        list: &str,
        e164: &str,
        owner: Option<i64>,
        actor: &str,
        now: Timestamp,
    ) -> Result<CallListRemove, StoreError>;

    /// The active numbers on a call list (what screening uses).
    async fn call_numbers(&self, list: &str) -> Result<Vec<String>, StoreError>;

    /// The entries of a call list, pending ones included; only `owner`'s with `Some`.
    async fn call_list_entries(&self, list: &str, owner: Option<i64>) -> Result<Vec<CallListEntry>, StoreError>;

    /// One entry of a call list, if it is there.
    async fn call_list_entry(&self, list: &str, e164: &str) -> Result<Option<CallListEntry>, StoreError>;

    /// The history of one number on a call list, oldest first (also after its removal).
    async fn call_list_history(&self, list: &str, e164: &str) -> Result<Vec<CallListChange>, StoreError>;

    /// Records or withdraws a subscriber's opt-out of the on-call signal.
    async fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool, now: Timestamp) -> Result<(), StoreError>;

    /// Every opted-out subscriber reference.
    async fn opt_outs(&self) -> Result<Vec<String>, StoreError>;
}
