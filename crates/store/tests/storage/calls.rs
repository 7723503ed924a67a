//! Call lists with owners, and opt-outs.

use crate::support::{TestDb, partner, t};
use vangnet_core::partner::PartnerKind;
use vangnet_store::{CallEntryState, CallListAdd, CallListRemove};

crate::storage_tests! {
    call_lists_and_opt_outs,
}

async fn call_lists_and_opt_outs(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other_bank = partner(store, "Bank B", PartnerKind::Bank).await;
    let telecom = partner(store, "Belnet", PartnerKind::Telecom).await;
    let now = t("2026-11-20T10:00:00Z");
    let numbers = vec!["+31201234567".to_owned(), "+31881234567".to_owned(), "+31201234567".to_owned()];
    let added = store
        .add_call_numbers("protected", &numbers, &bank, CallEntryState::Pending, &bank.actor(), now)
        .await
        .expect("added");
    assert!(matches!(&added[0], CallListAdd::Added(e) if e.state == CallEntryState::Pending && e.owner_id == bank.id));
    assert!(matches!(&added[1], CallListAdd::Added(_)));
    assert!(
        matches!(&added[2], CallListAdd::Existing(_)),
        "the same number twice in one request"
    );
    assert!(
        store.call_numbers("protected").await.expect("query").is_empty(),
        "pending entries are not screened"
    );
    let again = store
        .add_call_numbers(
            "protected",
            &numbers[..1],
            &other_bank,
            CallEntryState::Pending,
            &other_bank.actor(),
            now,
        )
        .await
        .expect("query");
    assert!(
        matches!(&again[0], CallListAdd::OwnedByOther(e) if e.owner_seq == bank.seq),
        "{again:?}"
    );
    let approved = store
        .approve_call_number("protected", "+31201234567", "partner:operator", now)
        .await
        .expect("approve")
        .expect("there");
    assert_eq!((approved.state, approved.approved_at), (CallEntryState::Active, Some(now)));
    assert!(
        store
            .approve_call_number("protected", "+31000000000", "x", now)
            .await
            .expect("query")
            .is_none()
    );
    store
        .add_call_numbers(
            "exception",
            &["+31612345678".to_owned()],
            &telecom,
            CallEntryState::Active,
            &telecom.actor(),
            now,
        )
        .await
        .expect("added");
    assert_eq!(store.call_numbers("protected").await.expect("query"), vec!["+31201234567"]);
    assert_eq!(store.call_list_entries("protected", Some(bank.seq)).await.expect("query").len(), 2);
    assert!(
        store
            .call_list_entries("protected", Some(other_bank.seq))
            .await
            .expect("query")
            .is_empty()
    );
    assert_eq!(store.call_list_entries("protected", None).await.expect("query").len(), 2);

    assert!(matches!(
        store
            .remove_call_number("protected", "+31201234567", Some(other_bank.seq), &other_bank.actor(), now)
            .await
            .expect("query"),
        CallListRemove::NotOwner(_)
    ));
    assert_eq!(
        store.call_numbers("protected").await.expect("query"),
        vec!["+31201234567"],
        "another bank cannot remove it"
    );
    assert!(matches!(
        store
            .remove_call_number("protected", "+31881234567", Some(bank.seq), &bank.actor(), now)
            .await
            .expect("removed"),
        CallListRemove::Removed(_)
    ));
    assert!(matches!(
        store
            .remove_call_number("protected", "+31881234567", None, "partner:operator", now)
            .await
            .expect("query"),
        CallListRemove::NotFound
    ));
    assert!(matches!(
        store
            .remove_call_number("protected", "+31201234567", None, "partner:operator", now)
            .await
            .expect("an operator removes anyone's"),
        CallListRemove::Removed(_)
    ));
    assert!(store.call_numbers("protected").await.expect("query").is_empty());
    assert_eq!(store.call_numbers("exception").await.expect("query"), vec!["+31612345678"]);
    let history = store.call_list_history("protected", "+31201234567").await.expect("history");
    let changes: Vec<(&str, &str)> = history.iter().map(|c| (c.change.as_str(), c.actor.as_str())).collect();
    let bank_actor = bank.actor();
    assert_eq!(
        changes,
        vec![
            ("requested", bank_actor.as_str()),
            ("approved", "partner:operator"),
            ("removed", "partner:operator")
        ]
    );
    assert!(history.iter().all(|c| c.owner_id == bank.id));
    assert!(store.call_list_entry("protected", "+31201234567").await.expect("query").is_none());
    let audited = store.audit_entries_of(&bank.actor(), 10).await.expect("audit");
    assert_eq!(
        audited.iter().filter(|e| e.action == "call_list.change").count(),
        2,
        "requested and removed"
    );

    store.set_opt_out("ref-1", true, now).await.expect("opt out");
    store.set_opt_out("ref-1", true, now).await.expect("twice is fine");
    store.set_opt_out("ref-2", true, now).await.expect("opt out");
    store.set_opt_out("ref-2", false, now).await.expect("opt in again");
    assert_eq!(store.opt_outs().await.expect("query"), vec!["ref-1"]);
}
