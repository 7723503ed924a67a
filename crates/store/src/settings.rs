//! Platform settings.

use async_trait::async_trait;

use crate::StoreError;

/// Platform settings: values written once and read at start.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    /// A platform setting.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// A platform setting, stored with `value` first if it has none (the first writer wins).
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String, StoreError>;
}
