//! Reports, indicator records, idempotent resubmission, retraction, the change feed and the index load.

use crate::support::{TestDb, draft, new_report, partner, t};
use std::collections::HashMap;
use vangnet_core::index::{CheckStatus, IndicatorIndex, IndicatorStatus};
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::{PartnerKind, Viewer};
use vangnet_core::report::{FraudType, Tlp};
use vangnet_core::scoring::ScoringPolicy;
use vangnet_store::{ChangeEvent, InsertOutcome, RetractOutcome, verify_audit};

crate::storage_tests! {
    reports_round_trip_with_indicator_records,
    external_ids_make_resubmission_idempotent,
    retraction_rules_and_counts,
    change_feed_follows_every_write,
    index_loads_with_tlp_and_status,
    large_batches,
}

async fn reports_round_trip_with_indicator_records(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let report = new_report(draft(
        FraudType::Marketplace,
        "2026-11-01T10:00:00Z",
        &["NL91 ABNA 0417 1643 00", "06-12345678", "https://Shop.Fake-Deals.nl/pay#x"],
    ));
    let outcomes = store
        .insert_reports(&bank, &[report], &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    let InsertOutcome::Created(stored) = &outcomes[0] else {
        panic!("created: {outcomes:?}")
    };
    let values: Vec<(IndicatorKind, &str, bool)> = stored.indicators.iter().map(|i| (i.kind, i.value.as_str(), i.derived)).collect();
    assert_eq!(
        values,
        vec![
            (IndicatorKind::Iban, "NL91ABNA0417164300", false),
            (IndicatorKind::Phone, "+31612345678", false),
            (IndicatorKind::Url, "https://shop.fake-deals.nl/pay", false),
            (IndicatorKind::Domain, "fake-deals.nl", true),
        ]
    );
    let read = store.report(&stored.id).await.expect("query").expect("found");
    assert_eq!(&read, stored);
    assert_eq!(
        store.reports_by_seq(&[stored.seq, 999_999]).await.expect("query"),
        vec![stored.clone()]
    );

    let second = new_report(draft(FraudType::Webshop, "2026-10-01T10:00:00Z", &["NL91ABNA0417164300"]));
    store
        .insert_reports(&bank, &[second], &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 2);
    assert_eq!(row.first_seen, Some(t("2026-10-01T10:00:00Z")));
    assert_eq!(row.last_seen, Some(t("2026-11-01T10:00:00Z")));
    assert_eq!((row.country.as_deref(), row.bank_code.as_deref()), (Some("NL"), Some("ABNA")));
    assert_eq!(row.fraud_types[FraudType::Marketplace.index()], 1);
    assert_eq!(row.fraud_types[FraudType::Webshop.index()], 1);
    assert_eq!(row.fraud_types.iter().sum::<i64>(), 2);
    assert_eq!(row.status, IndicatorStatus::Active);
    assert!(
        store
            .indicator(IndicatorKind::Iban, "NL02ABNA0123456789")
            .await
            .expect("query")
            .is_none()
    );
}

async fn external_ids_make_resubmission_idempotent(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let mut d = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    d.external_id = Some("case-1".into());
    let first = new_report(d.clone());
    let now = t("2026-11-02T00:00:00Z");
    let out = store
        .insert_reports(&bank, &[first.clone(), first.clone()], &bank.actor(), now)
        .await
        .expect("stored");
    let InsertOutcome::Created(created) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        out[1],
        InsertOutcome::Existing { id: created.id.clone() },
        "a repeat within one batch"
    );
    let out = store
        .insert_reports(&bank, std::slice::from_ref(&first), &bank.actor(), now)
        .await
        .expect("stored");
    assert_eq!(
        out[0],
        InsertOutcome::Existing { id: created.id.clone() },
        "a repeat in a later batch"
    );
    d.fraud_type = FraudType::Webshop;
    let out = store
        .insert_reports(&bank, &[new_report(d)], &bank.actor(), now)
        .await
        .expect("stored");
    assert_eq!(
        out[0],
        InsertOutcome::Conflict {
            existing_id: created.id.clone()
        }
    );
    let out = store.insert_reports(&other, &[first], &other.actor(), now).await.expect("stored");
    assert!(matches!(out[0], InsertOutcome::Created(_)), "external ids are per partner");
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 2, "repeats are not counted");
}

async fn retraction_rules_and_counts(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let other = partner(store, "Bank B", PartnerKind::Bank).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let now = t("2026-11-02T00:00:00Z");
    let reports = [
        new_report(draft(FraudType::Marketplace, "2026-10-01T10:00:00Z", &["NL91ABNA0417164300"])),
        new_report(draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"])),
    ];
    let out = store.insert_reports(&bank, &reports, &bank.actor(), now).await.expect("stored");
    let ids: Vec<String> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Created(r) => r.id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        store.retract_report(&ids[1], &other, None, now).await.expect("query"),
        RetractOutcome::NotAllowed
    );
    assert_eq!(
        store.retract_report("no-such-report", &bank, None, now).await.expect("query"),
        RetractOutcome::NotFound
    );
    let RetractOutcome::Retracted(retracted) = store
        .retract_report(&ids[1], &bank, Some("wrong account"), now)
        .await
        .expect("query")
    else {
        panic!("retracted")
    };
    let retraction = retracted.retraction.expect("recorded");
    assert_eq!(
        (retraction.by_partner_id.as_str(), retraction.reason.as_deref()),
        (bank.id.as_str(), Some("wrong account"))
    );
    assert!(matches!(
        store.retract_report(&ids[1], &bank, None, now).await.expect("query"),
        RetractOutcome::AlreadyRetracted(_)
    ));
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!(row.reports, 1, "the retracted report left the counts");
    assert_eq!(
        (row.first_seen, row.last_seen),
        (Some(t("2026-10-01T10:00:00Z")), Some(t("2026-11-01T10:00:00Z"))),
        "first and last seen span every report ever filed"
    );
    assert_eq!(row.fraud_types[FraudType::Marketplace.index()], 1);
    assert!(
        matches!(
            store.retract_report(&ids[0], &police, None, now).await.expect("query"),
            RetractOutcome::Retracted(_)
        ),
        "police may retract any report"
    );
    let row = store
        .indicator(IndicatorKind::Iban, "NL91ABNA0417164300")
        .await
        .expect("query")
        .expect("record");
    assert_eq!((row.reports, row.fraud_types.iter().sum::<i64>()), (0, 0));
    let stored = store.report(&ids[0]).await.expect("query").expect("kept");
    assert_eq!(stored.fraud_type, FraudType::Marketplace, "a retracted report is kept, not edited");
}

async fn change_feed_follows_every_write(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let start = store.feed_head().await.expect("head");
    let now = t("2026-11-02T00:00:00Z");
    let out = store
        .insert_reports(
            &bank,
            &[new_report(draft(FraudType::Phishing, "2026-11-01T10:00:00Z", &["phish-bank.nl"]))],
            &bank.actor(),
            now,
        )
        .await
        .expect("stored");
    let InsertOutcome::Created(report) = &out[0] else {
        panic!("{out:?}")
    };
    store
        .retract_report(&report.id, &bank, None, t("2026-11-03T00:00:00Z"))
        .await
        .expect("retracted");
    let position = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "phish-bank.nl",
            IndicatorStatus::Disputed,
            Some("owner objects"),
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    let changes = store.changes_since(start, 100).await.expect("feed");
    assert_eq!(changes.len(), 3);
    assert_eq!(position, changes[2].seq, "a status carries its feed position");
    assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(&changes[0].event, ChangeEvent::Report(r) if r.id == report.id));
    assert!(
        matches!(&changes[1].event, ChangeEvent::Retraction { report_seq, indicators } if *report_seq == report.seq && indicators.len() == 1)
    );
    assert!(matches!(&changes[2].event, ChangeEvent::Status { status: IndicatorStatus::Disputed, value, .. } if value == "phish-bank.nl"));
    assert_eq!(store.feed_head().await.expect("head"), changes[2].seq);
    assert_eq!(
        store.changes_since(changes[0].seq, 1).await.expect("feed").len(),
        1,
        "the limit holds"
    );
    assert_eq!(store.prune_changes(t("2026-11-02T12:00:00Z")).await.expect("pruned"), 2);
    assert_eq!(store.changes_since(start, 100).await.expect("feed").len(), 1);
}

async fn index_loads_with_tlp_and_status(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let now = t("2026-11-02T00:00:00Z");
    let mut amber = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    amber.tlp = Tlp::Amber;
    let mut red = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &["NL91ABNA0417164300"]);
    red.tlp = Tlp::Red;
    store
        .insert_reports(&police, &[new_report(amber), new_report(red)], &police.actor(), now)
        .await
        .expect("stored");
    store
        .insert_reports(
            &bank,
            &[new_report(draft(FraudType::Webshop, "2026-11-01T10:00:00Z", &["fake-shop.nl"]))],
            &bank.actor(),
            now,
        )
        .await
        .expect("stored");
    let disputed = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "fake-shop.nl",
            IndicatorStatus::Disputed,
            None,
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    let cleared = store
        .set_indicator_status(
            IndicatorKind::Domain,
            "fake-shop.nl",
            IndicatorStatus::Cleared,
            None,
            "partner:x",
            "domain:abc",
            now,
        )
        .await
        .expect("status");
    assert!(cleared > disputed, "later statuses have later positions");

    let (mut index, head) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    assert_eq!(head, store.feed_head().await.expect("head"));
    let policy = ScoringPolicy::default();
    let iban = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    assert_eq!(
        index.view(iban, &bank.viewer(), now, &policy).reports,
        1,
        "the bank sees the AMBER report only"
    );
    assert_eq!(
        index.view(iban, &police.viewer(), now, &policy).reports,
        2,
        "the police see their RED report too"
    );
    let operator = Viewer {
        partner: 0,
        kind: PartnerKind::Operator,
    };
    assert_eq!(index.view(iban, &operator, now, &policy).status, CheckStatus::NotReported);
    let domain = index.key(IndicatorKind::Domain, "fake-shop.nl");
    assert_eq!(
        index.view(domain, &bank.viewer(), now, &policy).status,
        CheckStatus::NotReported,
        "cleared"
    );
    assert_eq!(index.status(domain), IndicatorStatus::Cleared);
    assert!(
        !index.set_status(domain, IndicatorStatus::Disputed, disputed),
        "the loaded status keeps its position: the older `disputed` arriving late is ignored"
    );
    assert_eq!(index.status(domain), IndicatorStatus::Cleared);
}

async fn large_batches(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Bank A", PartnerKind::Bank).await;
    let mule = "NL91ABNA0417164300";
    let reports: Vec<_> = (0..1500)
        .map(|i| {
            let phone = format!("+316{:08}", 10_000_000 + i);
            let mut d = draft(FraudType::Marketplace, "2026-11-01T10:00:00Z", &[mule, &phone]);
            d.external_id = Some(format!("batch-{i}"));
            new_report(d)
        })
        .collect();
    let out = store
        .insert_reports(&bank, &reports, &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    assert_eq!(out.iter().filter(|o| matches!(o, InsertOutcome::Created(_))).count(), 1500);
    let seqs: HashMap<i64, usize> = out
        .iter()
        .enumerate()
        .map(|(i, o)| match o {
            InsertOutcome::Created(r) => (r.seq, i),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seqs.len(), 1500, "every report has its own number");
    let row = store.indicator(IndicatorKind::Iban, mule).await.expect("query").expect("record");
    assert_eq!(row.reports, 1500);
    let out = store
        .insert_reports(&bank, &reports, &bank.actor(), t("2026-11-02T00:00:00Z"))
        .await
        .expect("stored");
    assert!(
        out.iter().all(|o| matches!(o, InsertOutcome::Existing { .. })),
        "a re-run stores nothing"
    );
    let (index, _) = store.load_index(IndicatorIndex::new()).await.expect("loaded");
    assert_eq!(index.len(), 1501);
    assert_eq!(
        verify_audit(store.as_ref(), None, |_| {}).await.expect("read").map(|(n, _)| n),
        Ok(2 + 1500)
    );
}
