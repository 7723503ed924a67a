//! The networks behind the reports: the in-memory index holds which reports link which
//! indicators (by key); the store gives the values of the few an answer shows.

use async_trait::async_trait;
use vangnet_core::indicator::IndicatorKind;

use crate::StoreError;

/// The most reports one look-up takes.
pub const MAX_VALUE_REPORTS: usize = 1_000;

/// What the network answers read from the store.
#[async_trait]
pub trait NetworkStore: Send + Sync {
    /// The indicators (not derived ones) that the reports with these sequence numbers name, as
    /// (report, kind, canonical value); at most [`MAX_VALUE_REPORTS`] reports are read.
    async fn report_values(&self, reports: &[i64]) -> Result<Vec<(i64, IndicatorKind, String)>, StoreError>;
}
