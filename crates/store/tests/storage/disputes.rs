//! Disputes: opening marks the indicator disputed through the change feed, one open dispute per
//! indicator, moves at the version read, and the history and audit entries they leave.

use vangnet_core::PartnerKind;
use vangnet_core::dispute::DisputeState;
use vangnet_core::index::IndicatorStatus;
use vangnet_core::indicator::IndicatorKind;
use vangnet_store::{ChangeEvent, DisputeChange, NewDispute, OpenOutcome};

use crate::support::{TestDb, partner, t};

crate::storage_tests! {
    opening_marks_the_indicator_disputed_once,
    moves_happen_at_the_version_read_and_set_the_status,
    disputes_are_listed_by_state_and_opener,
}

const IBAN: &str = "NL91ABNA0417164300";

fn new_dispute(id: &str) -> NewDispute {
    NewDispute {
        id: id.to_owned(),
        kind: IndicatorKind::Iban,
        value: IBAN.to_owned(),
        reason: "the account holder sold a bicycle and delivered it".to_owned(),
        due_at: t("2026-12-15T10:00:00Z"),
        remind_at: Some(t("2026-12-12T10:00:00Z")),
        audit_subject: "pseudonym-of-the-iban".to_owned(),
    }
}

fn status_changes(changes: &[vangnet_store::Change]) -> Vec<IndicatorStatus> {
    changes
        .iter()
        .filter_map(|c| match &c.event {
            ChangeEvent::Status { kind, value, status } if *kind == IndicatorKind::Iban && value == IBAN => Some(*status),
            _ => None,
        })
        .collect()
}

async fn opening_marks_the_indicator_disputed_once(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let head = store.feed_head().await.expect("head");
    let now = t("2026-12-01T10:00:00Z");
    let OpenOutcome::Opened { dispute, position } = store.open_dispute(&new_dispute("d-1"), &bank, now).await.expect("opened") else {
        panic!("not opened");
    };
    assert_eq!(dispute.state, DisputeState::Open);
    assert_eq!(dispute.opener_id, bank.id);
    assert_eq!(dispute.version, 1);
    assert_eq!(dispute.opened_at, now);
    assert!(position > head);
    let changes = store.changes_since(head, 100).await.expect("changes");
    assert_eq!(status_changes(&changes), [IndicatorStatus::Disputed]);
    let row = store.indicator(IndicatorKind::Iban, IBAN).await.expect("read").expect("record");
    assert_eq!(row.status, IndicatorStatus::Disputed);
    let again = store.open_dispute(&new_dispute("d-2"), &bank, now).await.expect("answered");
    assert_eq!(again, OpenOutcome::AlreadyOpen { id: "d-1".to_owned() });
    assert_eq!(store.dispute("d-2").await.expect("read"), None, "nothing stored the second time");
    let events = store.dispute_events("d-1").await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].event.as_str(), events[0].from_state, events[0].to_state),
        ("opened", None, DisputeState::Open)
    );
    let audit = store.audit_entries(0, 1000).await.expect("audit");
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.contains(&"dispute.open") && actions.contains(&"indicator.status"),
        "{actions:?}"
    );
    assert!(
        audit.iter().all(|e| !e.details.contains(IBAN) && !e.subject.contains(IBAN)),
        "no indicator value in the audit log"
    );
}

async fn moves_happen_at_the_version_read_and_set_the_status(db: &TestDb) {
    let store = &db.store;
    let helpdesk = partner(store, "Fraudehelpdesk", PartnerKind::Helpdesk).await;
    let police = partner(store, "Politie", PartnerKind::Police).await;
    store
        .open_dispute(&new_dispute("d-1"), &helpdesk, t("2026-12-01T10:00:00Z"))
        .await
        .expect("opened");
    let head = store.feed_head().await.expect("head");
    let change = |to, expected_version| DisputeChange {
        to,
        expected_version,
        reason: "the seller's bank confirmed the delivery".to_owned(),
        audit_subject: "pseudonym-of-the-iban".to_owned(),
    };
    let decided_at = t("2026-12-05T09:00:00Z");
    assert_eq!(
        store
            .move_dispute("d-1", &change(DisputeState::Upheld, 7), &police.actor(), decided_at)
            .await
            .expect("answered"),
        None,
        "a move decided on another version is not made"
    );
    assert_eq!(
        store
            .move_dispute("nope", &change(DisputeState::Upheld, 1), &police.actor(), decided_at)
            .await
            .expect("answered"),
        None
    );
    let (moved, _) = store
        .move_dispute("d-1", &change(DisputeState::Upheld, 1), &police.actor(), decided_at)
        .await
        .expect("moved")
        .expect("at version 1");
    assert_eq!(
        (moved.state, moved.version, moved.decided_at),
        (DisputeState::Upheld, 2, Some(decided_at))
    );
    let changes = store.changes_since(head, 100).await.expect("changes");
    assert_eq!(status_changes(&changes), [IndicatorStatus::Cleared]);
    let row = store.indicator(IndicatorKind::Iban, IBAN).await.expect("read").expect("record");
    assert_eq!(row.status, IndicatorStatus::Cleared);
    let events = store.dispute_events("d-1").await.expect("events");
    let moves: Vec<(&str, Option<DisputeState>, DisputeState)> =
        events.iter().map(|e| (e.event.as_str(), e.from_state, e.to_state)).collect();
    assert_eq!(
        moves,
        [
            ("opened", None, DisputeState::Open),
            ("upheld", Some(DisputeState::Open), DisputeState::Upheld)
        ]
    );
    assert_eq!(events[1].actor, police.actor());
    // After the outcome, a new dispute about the same indicator can be opened.
    let reopened = store
        .open_dispute(&new_dispute("d-3"), &helpdesk, t("2026-12-20T10:00:00Z"))
        .await
        .expect("answered");
    assert!(matches!(reopened, OpenOutcome::Opened { .. }), "{reopened:?}");
}

async fn disputes_are_listed_by_state_and_opener(db: &TestDb) {
    let store = &db.store;
    let bank = partner(store, "Noorderbank", PartnerKind::Bank).await;
    let support = partner(store, "Slachtofferhulp", PartnerKind::VictimSupport).await;
    let values = ["NL91ABNA0417164300", "NL02ABNA0123456789", "NL44RABO0123456789"];
    for (i, value) in values.iter().enumerate() {
        let opener = if i == 1 { &support } else { &bank };
        let mut new = new_dispute(&format!("d-{i}"));
        new.value = (*value).to_owned();
        store.open_dispute(&new, opener, t("2026-12-01T10:00:00Z")).await.expect("opened");
    }
    let change = DisputeChange {
        to: DisputeState::Withdrawn,
        expected_version: 1,
        reason: "the customer withdrew the objection".to_owned(),
        audit_subject: "p".to_owned(),
    };
    store
        .move_dispute("d-2", &change, &bank.actor(), t("2026-12-02T10:00:00Z"))
        .await
        .expect("moved")
        .expect("moved");
    let ids = |rows: Vec<vangnet_store::DisputeRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(store.disputes(None, None, None, 10).await.expect("all")), ["d-0", "d-1", "d-2"]);
    assert_eq!(
        ids(store.disputes(Some(DisputeState::Open), None, None, 10).await.expect("open")),
        ["d-0", "d-1"]
    );
    assert_eq!(
        ids(store.disputes(None, Some(bank.seq), None, 10).await.expect("bank's")),
        ["d-0", "d-2"]
    );
    assert_eq!(ids(store.disputes(None, None, Some("d-0"), 1).await.expect("page")), ["d-1"]);
    assert_eq!(
        ids(store.disputes_of(IndicatorKind::Iban, values[1]).await.expect("of one")),
        ["d-1"]
    );
    let withdrawn = store.dispute("d-2").await.expect("read").expect("there");
    assert_eq!(withdrawn.state, DisputeState::Withdrawn);
    let row = store
        .indicator(IndicatorKind::Iban, values[2])
        .await
        .expect("read")
        .expect("record");
    assert_eq!(row.status, IndicatorStatus::Active, "withdrawn: active again");
}
