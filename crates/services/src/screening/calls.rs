//! Call screening in the server: the do-not-originate list and the spoofing exceptions (kept
//! in the store, held in memory), the call state, and the keyed subscriber references that
//! banks and telecom providers share.

use std::collections::HashSet;
use std::sync::{Mutex, RwLock};

use hmac::{KeyInit, Mac};
use vangnet_core::Timestamp;
use vangnet_core::indicator::{Indicator, PhoneNumber};
use vangnet_core::screening::calls::{CallEventKind, CallFacts, CallState, CallVerdict, Ingress, screen};
use vangnet_core::screening::payments::OnCallSignal;
use vangnet_store::{Partner, Store, StoreError};

use crate::registry::Registry;
pub use crate::settings::CallSettings;

/// The two call lists.
pub const PROTECTED: &str = "protected";
pub const EXCEPTION: &str = "exception";

/// A call event as the API accepted it.
#[derive(Debug, Clone)]
pub struct CallInput {
    pub call_id: String,
    pub kind: CallEventKind,
    pub at: Timestamp,
    pub caller: PhoneNumber,
    pub callee: PhoneNumber,
    pub ingress: Ingress,
    pub verified_origin: bool,
}

/// The call-screening engine of one server.
#[derive(Debug)]
pub struct CallScreening {
    protected: RwLock<HashSet<String>>,
    exceptions: RwLock<HashSet<String>>,
    state: Mutex<CallState>,
    key: Vec<u8>,
}

impl CallScreening {
    pub async fn start(store: &dyn Store, settings: &CallSettings) -> Result<CallScreening, StoreError> {
        let key = match &settings.subscriber_key {
            Some(k) => k.clone(),
            None => {
                let fresh = hex::encode(vangnet_core::token::random_secret(32).map_err(|e| StoreError::Database(e.to_string()))?);
                store.setting_or_insert("subscriber_key", &fresh).await?.into_bytes()
            }
        };
        let timeout = i64::try_from(settings.active_timeout.as_millis()).unwrap_or(i64::MAX);
        let history = i64::from(settings.known_caller_days) * 86_400_000;
        let mut state = CallState::new(timeout, history, settings.max_subscribers);
        for r in store.opt_outs().await? {
            state.opt_out(&r);
        }
        Ok(CallScreening {
            protected: RwLock::new(store.call_numbers(PROTECTED).await?.into_iter().collect()),
            exceptions: RwLock::new(store.call_numbers(EXCEPTION).await?.into_iter().collect()),
            state: Mutex::new(state),
            key,
        })
    }

    /// The keyed reference of a subscriber's number: HMAC-SHA-256 with the shared key, hex.
    pub fn subscriber_ref(&self, e164: &str) -> String {
        subscriber_ref(&self.key, e164)
    }

    fn list(&self, list: &str) -> &RwLock<HashSet<String>> {
        if list == PROTECTED { &self.protected } else { &self.exceptions }
    }

    /// Adds numbers to a list in memory (after the store took them).
    pub fn add(&self, list: &str, numbers: &[String]) {
        let mut set = self.list(list).write().unwrap_or_else(std::sync::PoisonError::into_inner);
        set.extend(numbers.iter().cloned());
    }

    pub fn remove(&self, list: &str, number: &str) {
        self.list(list)
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(number);
    }

    fn contains(&self, list: &str, number: &str) -> bool {
        self.list(list)
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(number)
    }

    pub fn set_opt_out(&self, subscriber_ref: &str, opted_out: bool) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if opted_out {
            state.opt_out(subscriber_ref);
        } else {
            state.opt_in(subscriber_ref);
        }
    }

    /// Decides a call event and takes it into the call state.
    pub fn decide(&self, registry: &Registry, partner: &Partner, input: &CallInput) -> CallVerdict {
        let caller = input.caller.as_str();
        let registry = registry
            .view(&Indicator::Phone(input.caller.clone()), &partner.viewer(), registry.now())
            .status;
        let facts = CallFacts {
            call_id: input.call_id.clone(),
            kind: input.kind,
            at: input.at,
            caller: caller.to_owned(),
            callee_ref: self.subscriber_ref(input.callee.as_str()),
            ingress: input.ingress,
            caller_protected: self.contains(PROTECTED, caller),
            verified_origin: input.verified_origin,
            caller_exception: self.contains(EXCEPTION, caller),
            caller_registry: registry,
        };
        let verdict = screen(&facts);
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .record(&facts, &verdict);
        verdict
    }

    /// Whether the subscriber is on a call with an unverified caller right now.
    pub fn on_call(&self, subscriber_ref: &str, now: Timestamp) -> OnCallSignal {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .on_call(subscriber_ref, now)
    }

    /// Drops expired calls and forgotten callers.
    pub fn expire(&self, now: Timestamp) {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).expire(now);
    }

    pub fn active_subscribers(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .active_subscribers()
    }
}

/// The keyed reference of a number (banks compute the same with the shared key).
pub fn subscriber_ref(key: &[u8], e164: &str) -> String {
    // HMAC accepts keys of any length.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(e164.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether a value has the shape of a subscriber reference (64 lower-case hex digits).
pub fn is_subscriber_ref(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
