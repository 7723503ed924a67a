//! Platform settings.

use crate::support::TestDb;

crate::storage_tests! {
    settings_first_writer_wins,
}

async fn settings_first_writer_wins(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.setting("audit_key").await.expect("query"), None);
    assert_eq!(store.setting_or_insert("audit_key", "first").await.expect("stored"), "first");
    assert_eq!(store.setting_or_insert("audit_key", "second").await.expect("stored"), "first");
    assert_eq!(store.setting("audit_key").await.expect("query").as_deref(), Some("first"));
}
