//! Payment decisions and screening state.

use crate::support::{TestDb, partner, t};
use vangnet_core::partner::PartnerKind;
use vangnet_store::{DecisionOutcome, DecisionWrite, PaymentDecisionRow, StateBlob};

crate::storage_tests! {
    payment_decisions_are_idempotent_and_keep_state,
}

async fn payment_decisions_are_idempotent_and_keep_state(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let row = |id: &str, decision: &str, at: &str| PaymentDecisionRow {
        payment_id: id.to_owned(),
        request_digest: format!("digest-{id}"),
        decided_at: t(at),
        decision: decision.to_owned(),
        score: 0.42,
        reasons: r#"[{"code":"first_payment_to_payee"}]"#.to_owned(),
        rules_version: "builtin-1+abc".to_owned(),
    };
    let blob = |key: &str, byte: u8| StateBlob {
        key: key.to_owned(),
        state: vec![byte; 10],
    };
    let write = |partner_seq: i64, id: &str, decision: &str, state: u8, at: &str| DecisionWrite {
        partner_seq,
        decision: row(id, decision, at),
        payer: Some(blob("payer-1", state)),
        accounts: vec![blob("acct-1", state), blob("acct-2", state)],
    };
    let outcomes = store
        .store_decisions(&[
            write(bank.seq, "e2e-1", "warn", 1, "2026-11-20T10:00:00Z"),
            write(bank.seq, "e2e-2", "allow", 2, "2026-11-20T10:01:00Z"),
            write(bank.seq, "e2e-1", "block", 9, "2026-11-20T10:02:00Z"),
            write(other.seq, "e2e-1", "allow", 3, "2026-11-20T10:03:00Z"),
        ])
        .await
        .expect("stored");
    assert_eq!(outcomes[0], DecisionOutcome::Stored);
    assert_eq!(outcomes[1], DecisionOutcome::Stored);
    assert_eq!(
        outcomes[2],
        DecisionOutcome::Existing(row("e2e-1", "warn", "2026-11-20T10:00:00Z")),
        "a repeated id returns the first decision"
    );
    assert_eq!(outcomes[3], DecisionOutcome::Stored, "payment ids are per partner");
    assert_eq!(
        store.payment_decision(bank.seq, "e2e-1").await.expect("query"),
        Some(row("e2e-1", "warn", "2026-11-20T10:00:00Z"))
    );
    assert_eq!(store.payment_decision(bank.seq, "nope").await.expect("query"), None);
    let mut found = store
        .payment_decisions(bank.seq, &["e2e-2".to_owned(), "e2e-1".to_owned(), "nope".to_owned()])
        .await
        .expect("query");
    found.sort_by(|a, b| a.payment_id.cmp(&b.payment_id));
    assert_eq!(
        found.iter().map(|r| r.payment_id.as_str()).collect::<Vec<_>>(),
        vec!["e2e-1", "e2e-2"],
        "only the ids that exist"
    );
    let (payers, accounts) = store.screening_state(10).await.expect("query");
    assert_eq!(
        payers,
        vec![blob("payer-1", 3)],
        "the last stored write's state, not the refused one's"
    );
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|a| a.state == vec![3; 10]));
}
