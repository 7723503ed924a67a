//! Registry reads: the in-memory index of every indicator (kept current by the change feed),
//! read under the reader's TLP and partner kind, and the audit pseudonyms of what was read.
//! Payment screening, call screening, PNBF evidence and every adapter's check go through it.

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use vangnet_core::Timestamp;
use vangnet_core::audit::subject_pseudonym;
use vangnet_core::index::{IndicatorIndex, RecordView};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::partner::Viewer;
use vangnet_core::scoring::ScoringPolicy;

use crate::audit_sink::AuditSink;
use crate::settings::Settings;

/// The index with what reading it needs: the scoring policy, the clock and the audit sink.
#[derive(Debug, Clone)]
pub struct Registry {
    index: Arc<RwLock<IndicatorIndex>>,
    audit: AuditSink,
    audit_key: Arc<Vec<u8>>,
    settings: Arc<Settings>,
}

impl Registry {
    pub fn new(audit: AuditSink, audit_key: Vec<u8>, settings: Arc<Settings>) -> Registry {
        Registry {
            index: Arc::new(RwLock::new(IndicatorIndex::new())),
            audit,
            audit_key: Arc::new(audit_key),
            settings,
        }
    }

    pub fn index(&self) -> RwLockReadGuard<'_, IndicatorIndex> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn index_mut(&self) -> RwLockWriteGuard<'_, IndicatorIndex> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The audit log's writer.
    pub fn audit(&self) -> &AuditSink {
        &self.audit
    }

    pub fn scoring(&self) -> &ScoringPolicy {
        &self.settings.scoring
    }

    pub fn now(&self) -> Timestamp {
        self.settings.clock.now()
    }

    /// The record of one indicator as `viewer` may see it at `now`.
    pub fn view(&self, indicator: &Indicator, viewer: &Viewer, now: Timestamp) -> RecordView {
        let index = self.index();
        index.view(index.key_of(indicator), viewer, now, &self.settings.scoring)
    }

    /// The audit-log name of an indicator: a keyed hash, never the value.
    pub fn pseudonym(&self, kind: IndicatorKind, value: &str) -> String {
        format!("indicator:{}", subject_pseudonym(&self.audit_key, kind, value))
    }

    /// The key of the audit pseudonyms (also the key of the web side's keyed hashes).
    pub(crate) fn key(&self) -> &[u8] {
        &self.audit_key
    }
}
