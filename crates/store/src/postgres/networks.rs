//! Network look-ups on PostgreSQL.

use async_trait::async_trait;
use vangnet_core::indicator::IndicatorKind;

use super::PostgresStore;
use crate::networks::{MAX_VALUE_REPORTS, NetworkStore};
use crate::{StoreError, parse_key};

#[async_trait]
impl NetworkStore for PostgresStore {
    async fn report_values(&self, reports: &[i64]) -> Result<Vec<(i64, IndicatorKind, String)>, StoreError> {
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let reports: Vec<i64> = reports.iter().take(MAX_VALUE_REPORTS).copied().collect();
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT report_seq, kind, value FROM report_indicators WHERE report_seq = ANY($1) AND derived = 0")
                .bind(&reports)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(seq, kind, value)| Ok((seq, parse_key(&kind, "indicator kind", IndicatorKind::from_key)?, value)))
            .collect()
    }
}
