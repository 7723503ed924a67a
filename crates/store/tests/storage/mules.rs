//! Transactions and mule flags.

use crate::support::{TestDb, partner, t};
use vangnet_core::partner::PartnerKind;
use vangnet_store::{AlertScope, FlagAccount, FlagWrite, TransactionOutcome, TransactionRow};

crate::storage_tests! {
    transactions_are_idempotent_per_partner_and_replay_in_time_order,
    flags_keep_their_accounts_and_banks_see_their_own,
    old_transactions_and_flags_are_pruned,
}

fn tx(id: &str, at: &str, payer: i64, payee: i64, payer_bank: &str, payee_bank: &str) -> TransactionRow {
    TransactionRow {
        id: id.to_owned(),
        digest: format!("d-{id}-{payer}-{payee}"),
        at: t(at),
        payer,
        payee,
        payer_bank: payer_bank.to_owned(),
        payee_bank: payee_bank.to_owned(),
        amount_minor: 50_000,
        received_minor: 50_000,
    }
}

fn account(account: i64, bank: &str, iban: Option<&str>, centre: bool) -> FlagAccount {
    FlagAccount {
        account,
        bank: bank.to_owned(),
        iban: iban.map(str::to_owned),
        centre,
    }
}

fn flag(pattern: &str, at: &str, accounts: Vec<FlagAccount>) -> FlagWrite {
    FlagWrite {
        raised_at: t(at),
        pattern: pattern.to_owned(),
        score: 0.8,
        window_from: t("2026-11-20T08:00:00Z"),
        window_to: t(at),
        amount_minor: 250_000,
        more_accounts: 3,
        accounts,
    }
}

async fn transactions_are_idempotent_per_partner_and_replay_in_time_order(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let out = store
        .store_transactions(
            bank.seq,
            &[
                tx("t1", "2026-11-20T10:00:00Z", 1, 2, "ABNA", "INGB"),
                tx("t2", "2026-11-20T09:00:00Z", -5, 2, "RABO", "INGB"),
            ],
        )
        .await
        .expect("stored");
    assert_eq!(out, vec![TransactionOutcome::Stored, TransactionOutcome::Stored]);
    let again = store
        .store_transactions(
            bank.seq,
            &[
                tx("t1", "2026-11-20T10:00:00Z", 1, 2, "ABNA", "INGB"),
                tx("t2", "2026-11-20T09:00:00Z", 7, 2, "RABO", "INGB"),
                tx("t3", "2026-11-20T10:00:00Z", 3, 4, "ABNA", "ABNA"),
            ],
        )
        .await
        .expect("stored");
    assert_eq!(
        again,
        vec![TransactionOutcome::Repeat, TransactionOutcome::Conflict, TransactionOutcome::Stored]
    );
    let theirs = store
        .store_transactions(other.seq, &[tx("t1", "2026-11-20T11:00:00Z", 8, 9, "", "")])
        .await
        .expect("stored");
    assert_eq!(theirs, vec![TransactionOutcome::Stored], "ids are per partner");
    let first = store.transactions_after((0, 0), 2).await.expect("read");
    let ids: Vec<&str> = first.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, vec!["t2", "t1"], "time order, the earlier first");
    assert_eq!(first[0].1.payer, -5, "pseudonyms keep all 64 bits");
    let last = &first[1];
    let rest = store.transactions_after((last.1.at.millis(), last.0), 10).await.expect("read");
    let ids: Vec<&str> = rest.iter().map(|(_, r)| r.id.as_str()).collect();
    assert_eq!(ids, vec!["t3", "t1"], "the next page continues after the last row");
    assert_eq!(rest[0].1, tx("t3", "2026-11-20T10:00:00Z", 3, 4, "ABNA", "ABNA"));
}

async fn flags_keep_their_accounts_and_banks_see_their_own(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    // A RABO customer paid account 20 (held at INGB).
    store
        .store_transactions(bank.seq, &[tx("p1", "2026-11-20T10:00:00Z", 10, 20, "RABO", "INGB")])
        .await
        .expect("stored");
    let seqs = store
        .store_flags(&[
            flag(
                "fan_in",
                "2026-11-20T12:00:00Z",
                vec![
                    account(20, "INGB", Some("NL69INGB0123456789"), true),
                    account(10, "RABO", None, false),
                ],
            ),
            flag("cycle", "2026-11-20T13:00:00Z", vec![account(30, "ABNA", None, true)]),
        ])
        .await
        .expect("stored");
    assert_eq!(seqs.len(), 2);
    assert!(seqs[0] < seqs[1]);
    let of_20 = store.flags_of_account(20, t("2026-11-01T00:00:00Z"), 10).await.expect("read");
    assert_eq!(of_20.len(), 1);
    assert_eq!(of_20[0].seq, seqs[0]);
    assert_eq!(
        of_20[0].flag,
        flag("fan_in", "2026-11-20T12:00:00Z", of_20[0].flag.accounts.clone())
    );
    assert_eq!(
        of_20[0].flag.accounts,
        vec![
            account(20, "INGB", Some("NL69INGB0123456789"), true),
            account(10, "RABO", None, false)
        ],
        "accounts in order, the centre first"
    );
    assert!(
        store
            .flags_of_account(20, t("2026-11-21T00:00:00Z"), 10)
            .await
            .expect("read")
            .is_empty()
    );
    let all = store.mule_alerts(&AlertScope::All, None, 10).await.expect("read");
    assert_eq!(
        all.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![seqs[1], seqs[0]],
        "newest first"
    );
    let page = store.mule_alerts(&AlertScope::All, Some(seqs[1]), 10).await.expect("read");
    assert_eq!(page.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![seqs[0]]);
    let scope = |codes: &[&str]| AlertScope::Banks(codes.iter().map(|c| (*c).to_owned()).collect());
    let ing = store.mule_alerts(&scope(&["INGB"]), None, 10).await.expect("read");
    assert_eq!(
        ing.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![seqs[0]],
        "the bank holding the account"
    );
    let abn = store.mule_alerts(&scope(&["ABNA", "SNSB"]), None, 10).await.expect("read");
    assert_eq!(abn.iter().map(|f| f.seq).collect::<Vec<_>>(), vec![seqs[1]]);
    let knab = store.mule_alerts(&scope(&["KNAB"]), None, 10).await.expect("read");
    assert!(knab.is_empty(), "a bank with no account in it sees nothing");
    assert!(store.mule_alerts(&scope(&[]), None, 10).await.expect("read").is_empty());
    let paid = store.paid_by_banks(&["RABO".to_owned()], &[20, 30, 10]).await.expect("read");
    assert_eq!(paid, vec![20], "RABO's customer paid 20, nobody at RABO paid 30");
}

async fn old_transactions_and_flags_are_pruned(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    store
        .store_transactions(
            bank.seq,
            &[
                tx("old", "2026-10-01T10:00:00Z", 1, 2, "ABNA", "INGB"),
                tx("new", "2026-11-20T10:00:00Z", 1, 2, "ABNA", "INGB"),
            ],
        )
        .await
        .expect("stored");
    store
        .store_flags(&[
            flag("fan_in", "2026-08-01T12:00:00Z", vec![account(2, "INGB", None, true)]),
            flag("fan_in", "2026-11-20T12:00:00Z", vec![account(2, "INGB", None, true)]),
        ])
        .await
        .expect("stored");
    let (transactions, flags) = store
        .prune_mules(t("2026-11-01T00:00:00Z"), t("2026-09-01T00:00:00Z"))
        .await
        .expect("pruned");
    assert_eq!((transactions, flags), (1, 1));
    let left = store.transactions_after((0, 0), 10).await.expect("read");
    assert_eq!(left.iter().map(|(_, r)| r.id.as_str()).collect::<Vec<_>>(), vec!["new"]);
    let flags = store.flags_since(t("2026-01-01T00:00:00Z"), 0, 10).await.expect("read");
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].flag.accounts.len(), 1, "the remaining flag keeps its accounts");
    let after = store.flags_since(t("2026-01-01T00:00:00Z"), flags[0].seq, 10).await.expect("read");
    assert!(after.is_empty());
}
