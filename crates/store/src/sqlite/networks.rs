//! Network look-ups on SQLite.

use async_trait::async_trait;
use rusqlite::{params_from_iter, types::Value};
use vangnet_core::indicator::IndicatorKind;

use super::SqliteStore;
use crate::networks::{MAX_VALUE_REPORTS, NetworkStore};
use crate::{StoreError, parse_key};

#[async_trait]
impl NetworkStore for SqliteStore {
    async fn report_values(&self, reports: &[i64]) -> Result<Vec<(i64, IndicatorKind, String)>, StoreError> {
        if reports.is_empty() {
            return Ok(Vec::new());
        }
        let reports: Vec<i64> = reports.iter().take(MAX_VALUE_REPORTS).copied().collect();
        self.read(move |conn| {
            let marks = (1..=reports.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
            let mut stmt = conn.prepare(&format!(
                "SELECT report_seq, kind, value FROM report_indicators WHERE report_seq IN ({marks}) AND derived = 0"
            ))?;
            let rows = stmt.query_map(params_from_iter(reports.into_iter().map(Value::from)), |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            rows.map(|row| {
                let (seq, kind, value) = row?;
                Ok((seq, parse_key(&kind, "indicator kind", IndicatorKind::from_key)?, value))
            })
            .collect()
        })
        .await
    }
}
