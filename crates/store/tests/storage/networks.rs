//! The values behind the network answers, and the index load's links.

use crate::support::{TestDb, draft, new_report, partner, t};
use vangnet_core::index::IndicatorIndex;
use vangnet_core::indicator::IndicatorKind;
use vangnet_core::partner::PartnerKind;
use vangnet_core::report::FraudType;
use vangnet_store::InsertOutcome;

crate::storage_tests! {
    report_values_name_what_reports_name_without_derived_domains,
}

async fn report_values_name_what_reports_name_without_derived_domains(db: &TestDb) {
    let store = &db.store;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    let first = new_report(draft(
        FraudType::Webshop,
        "2026-11-01T10:00:00Z",
        &["NL91ABNA0417164300", "https://nep-winkel.shop/betalen"],
    ));
    let second = new_report(draft(FraudType::Webshop, "2026-11-02T10:00:00Z", &["+31612345678"]));
    let out = store
        .insert_reports(&police, &[first, second], "test", t("2026-11-03T00:00:00Z"))
        .await
        .expect("stored");
    let seqs: Vec<i64> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Created(r) => r.seq,
            other => panic!("not created: {other:?}"),
        })
        .collect();
    let mut values = store.report_values(&seqs).await.expect("read");
    values.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    assert_eq!(
        values,
        vec![
            (seqs[0], IndicatorKind::Iban, "NL91ABNA0417164300".to_owned()),
            (seqs[0], IndicatorKind::Url, "https://nep-winkel.shop/betalen".to_owned()),
            (seqs[1], IndicatorKind::Phone, "+31612345678".to_owned()),
        ],
        "the derived domain of the URL is not among them"
    );
    assert!(store.report_values(&[]).await.expect("read").is_empty());
    // The index load links the first report's two indicators, not the domain.
    let (mut index, _) = store.load_index(IndicatorIndex::new()).await.expect("load");
    index.compact_links();
    let iban = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    assert_eq!(index.component_size(iban), 2, "the IBAN and the URL");
    assert_eq!(index.component_size(index.key(IndicatorKind::Domain, "nep-winkel.shop")), 1);
}
