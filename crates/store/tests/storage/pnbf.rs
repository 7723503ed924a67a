//! PNBF cases, versions, terms and the bank-code directory.

use crate::support::{TestDb, partner, t};
use vangnet_core::partner::PartnerKind;
use vangnet_store::{PnbfCaseRow, PnbfEventRow};

crate::storage_tests! {
    pnbf_cases_versions_and_due_terms,
}

async fn pnbf_cases_versions_and_due_terms(db: &TestDb) {
    let store = &db.store;
    let victim = partner(store, "Bank A", PartnerKind::Bank).await;
    let payee = partner(store, "Bank B", PartnerKind::Bank).await;
    let other = partner(store, "Bank C", PartnerKind::Bank).await;
    let opened = t("2026-11-01T09:00:00Z");
    let case = PnbfCaseRow {
        id: "case-1".to_owned(),
        victim_bank: victim.seq,
        payee_bank: Some(payee.seq),
        state: "requested".to_owned(),
        version: 1,
        opened_at: opened,
        updated_at: opened,
        term_ends: Some(t("2026-11-22T09:00:00Z")),
        remind_at: Some(t("2026-11-19T09:00:00Z")),
        naw_delete_at: None,
        link_digest: "digest-1".to_owned(),
        body: r#"{"amount":"125.00"}"#.to_owned(),
        naw: None,
    };
    let event = |seq: i64, name: &str, from: Option<&str>, to: &str| PnbfEventRow {
        case_id: "case-1".to_owned(),
        seq,
        at: opened,
        actor: victim.actor(),
        side: "victim_bank".to_owned(),
        event: name.to_owned(),
        from_state: from.map(str::to_owned),
        to_state: to.to_owned(),
        reason: None,
        details: "{}".to_owned(),
    };
    store.pnbf_open(&case, &event(1, "open", None, "requested")).await.expect("opened");
    assert_eq!(store.pnbf_case("case-1").await.expect("read"), Some(case.clone()));
    assert_eq!(store.pnbf_case_by_link("digest-1").await.expect("read"), Some(case.clone()));
    assert_eq!(store.pnbf_case("case-2").await.expect("read"), None);
    assert_eq!(store.pnbf_cases(Some(victim.seq)).await.expect("list").len(), 1);
    assert_eq!(store.pnbf_cases(Some(payee.seq)).await.expect("list").len(), 1);
    assert!(store.pnbf_cases(Some(other.seq)).await.expect("list").is_empty());
    assert_eq!(store.pnbf_cases(None).await.expect("list").len(), 1);

    // Terms: nothing due before the reminder; the reminder, then the term.
    assert!(store.pnbf_due(t("2026-11-18T09:00:00Z")).await.expect("due").is_empty());
    assert_eq!(store.pnbf_due(t("2026-11-19T09:00:00Z")).await.expect("due").len(), 1);

    // A change applies only to the version it was made from.
    let mut moved = case.clone();
    moved.state = "refused".to_owned();
    moved.version = 2;
    moved.term_ends = None;
    moved.remind_at = None;
    moved.naw = Some(vec![1, 2, 3]);
    moved.link_digest = "digest-2".to_owned();
    moved.naw_delete_at = Some(t("2027-05-01T00:00:00Z"));
    assert!(
        store
            .pnbf_update(&moved, 1, &event(2, "refused", Some("requested"), "refused"))
            .await
            .expect("moved")
    );
    assert!(
        !store
            .pnbf_update(&moved, 1, &event(2, "refused", Some("requested"), "refused"))
            .await
            .expect("stale")
    );
    assert_eq!(store.pnbf_case("case-1").await.expect("read"), Some(moved.clone()));
    assert_eq!(
        store.pnbf_case_by_link("digest-1").await.expect("read"),
        None,
        "the old link is gone"
    );
    assert!(store.pnbf_case_by_link("digest-2").await.expect("read").is_some());
    let events = store.pnbf_events("case-1").await.expect("events");
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[1], event(2, "refused", Some("requested"), "refused"));
    assert!(store.pnbf_due(t("2026-12-01T00:00:00Z")).await.expect("due").is_empty());
    assert_eq!(store.pnbf_due(t("2027-05-01T00:00:00Z")).await.expect("due").len(), 1);

    // The bank-code directory.
    store.pnbf_set_bank_code("ABNA", Some(victim.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("INGB", Some(other.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("INGB", Some(payee.seq), opened).await.expect("moved");
    store.pnbf_set_bank_code("RABO", Some(payee.seq), opened).await.expect("set");
    store.pnbf_set_bank_code("RABO", None, opened).await.expect("removed");
    assert_eq!(
        store.pnbf_bank_codes().await.expect("list"),
        vec![("ABNA".to_owned(), victim.seq), ("INGB".to_owned(), payee.seq)]
    );
}
