use super::*;

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).expect("valid")
}

fn facts(report: u32, partner: u32, source: PartnerKind, tlp: Tlp, when: &str) -> ReportFacts {
    ReportFacts {
        report,
        partner,
        source,
        fraud_type: FraudType::Marketplace,
        tlp,
        occurred_at: t(when),
        amount: Some(Money::from_minor(25_000, Currency::EUR)),
        aangifte: false,
        retracted: false,
        mule: false,
        submitter: 0,
        review: CitizenReview::Unverified,
    }
}

fn citizen(report: u32, submitter: u32, when: &str) -> ReportFacts {
    ReportFacts {
        submitter,
        ..facts(report, 99, PartnerKind::Citizen, Tlp::Green, when)
    }
}

fn verified(report: u32, submitter: u32, when: &str) -> ReportFacts {
    ReportFacts {
        review: CitizenReview::Verified,
        ..citizen(report, submitter, when)
    }
}

#[test]
fn a_citizen_counts_once_per_indicator() {
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    index.add(key, &verified(1, 7, "2026-11-01T00:00:00Z"));
    index.add(key, &verified(2, 7, "2026-11-01T01:00:00Z"));
    index.add(key, &verified(3, 8, "2026-11-01T02:00:00Z"));
    let view = index.view(key, &BANK, t("2026-11-02T00:00:00Z"), &ScoringPolicy::default());
    assert_eq!(view.reports, 2, "the second report of submitter 7 does not count");
    assert_eq!(view.reporting_partners, 1, "all citizens are one source");
    assert_eq!(view.by_source[8].0, 2);
    assert_eq!(view.status, CheckStatus::Reported, "verified citizen reports count");
}

#[test]
fn unverified_citizen_reports_inform_and_never_decide() {
    let policy = ScoringPolicy::default();
    let now = t("2026-11-02T00:00:00Z");
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    for report in 1..=500 {
        index.add(key, &citizen(report, report, "2026-11-01T00:00:00Z"));
    }
    let view = index.view(key, &BANK, now, &policy);
    assert_eq!((view.status, view.reports, view.score), (CheckStatus::NotReported, 0, 0.0));
    assert_eq!(view.unverified_citizen_reports, 500, "partners see them, as a count");
    assert!(
        view.reasons()[0].starts_with("500 unverified citizen reports"),
        "{:?}",
        view.reasons()
    );
    assert!(
        index.visible_reports(key, &BANK, now, &policy).is_empty(),
        "their text stays in the triage queue"
    );

    // A partner report the reader may see names it: the citizens are counted, without weight.
    index.add(key, &facts(1000, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
    let alone = {
        let mut only_bank = IndicatorIndex::new();
        let k = only_bank.key(IndicatorKind::Iban, "NL91ABNA0417164300");
        only_bank.add(k, &facts(1000, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
        only_bank.view(k, &BANK, now, &policy)
    };
    let view = index.view(key, &BANK, now, &policy);
    assert_eq!(
        (view.status, view.reports, view.unverified_citizen_reports),
        (CheckStatus::Reported, 501, 0)
    );
    assert_eq!(view.unweighted_citizen_reports, 500);
    assert_eq!(view.score, alone.score, "500 unverified citizens do not move the score");
    assert_eq!(index.visible_reports(key, &BANK, now, &policy).len(), 501);
    assert_eq!(index.visible_reports(key, &BANK, now, &policy)[0], 1000, "newest first");

    // An operator may not see the AMBER bank report: for it nothing corroborates them.
    let operator = index.view(key, &OPERATOR, now, &policy);
    assert_eq!(
        (operator.status, operator.unverified_citizen_reports),
        (CheckStatus::NotReported, 500)
    );

    // Verified, a citizen report weighs; rejected, it counts nowhere.
    let mut other = IndicatorIndex::new();
    let k = other.key(IndicatorKind::Phone, "+31612345678");
    other.add(k, &citizen(1, 1, "2026-11-01T00:00:00Z"));
    other.add(k, &citizen(2, 2, "2026-11-01T00:00:00Z"));
    assert!(other.review(k, 1, CitizenReview::Verified));
    assert!(!other.review(k, 1, CitizenReview::Rejected), "a decision is final");
    assert!(other.review(k, 2, CitizenReview::Rejected));
    let view = other.view(k, &BANK, now, &policy);
    assert_eq!(
        (view.status, view.reports, view.unverified_citizen_reports),
        (CheckStatus::Reported, 1, 0)
    );
    assert!((view.evidence - policy.source_weight(PartnerKind::Citizen, false) * policy.decay(1.0)).abs() < 1e-9);
}

#[test]
fn a_url_is_answered_for_its_domain() {
    let policy = ScoringPolicy::default();
    let now = t("2026-11-02T00:00:00Z");
    let mut index = IndicatorIndex::new();
    let reported = Indicator::parse(None, "https://www.evilshop6.nl/").expect("valid");
    let domain = Indicator::Domain(reported.checked_domain().expect("a domain").clone());
    index.add(
        index.key_of(&reported),
        &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
    );
    index.add(
        index.key_of(&domain),
        &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
    );
    let other = Indicator::parse(None, "https://evilshop6.nl/other").expect("valid");
    assert_eq!(
        index.view(index.key_of(&other), &BANK, now, &policy).status,
        CheckStatus::NotReported
    );
    let checked = index.check(&other, &BANK, now, &policy);
    assert_eq!(
        (checked.status, checked.answered_for_domain.as_deref()),
        (CheckStatus::Reported, Some("evilshop6.nl"))
    );
    assert!(
        checked.reasons()[0].contains("its domain evilshop6.nl is"),
        "{:?}",
        checked.reasons()
    );
    let own = index.check(&reported, &BANK, now, &policy);
    assert_eq!(own.answered_for_domain, None, "a reported URL answers for itself");
    // On a shared platform one reported page says nothing about the others.
    let form = Indicator::parse(None, "https://docs.google.com/forms/d/evil/viewform").expect("valid");
    index.add(
        index.key_of(&form),
        &facts(2, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
    );
    let shared = Indicator::Domain(crate::indicator::Domain::parse("docs.google.com").expect("valid"));
    index.add(
        index.key_of(&shared),
        &facts(3, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"),
    );
    let another_form = Indicator::parse(None, "https://docs.google.com/forms/d/fine/viewform").expect("valid");
    assert_eq!(index.check(&another_form, &BANK, now, &policy).status, CheckStatus::NotReported);
}

#[test]
fn statuses_keep_the_newest_feed_position() {
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Domain, "fake-shop.nl");
    assert!(index.set_status(key, IndicatorStatus::Disputed, 5));
    assert!(index.set_status(key, IndicatorStatus::Cleared, 7));
    assert!(
        !index.set_status(key, IndicatorStatus::Disputed, 5),
        "an older status arriving late"
    );
    assert!(index.set_status(key, IndicatorStatus::Cleared, 7), "the same status twice");
    assert_eq!(index.status(key), IndicatorStatus::Cleared);
    // Out of order from the start: the newest wins whatever the order of arrival.
    let mut shuffled = IndicatorIndex::new();
    let key = shuffled.key(IndicatorKind::Domain, "fake-shop.nl");
    for (status, position) in [
        (IndicatorStatus::Cleared, 9),
        (IndicatorStatus::Disputed, 3),
        (IndicatorStatus::Active, 1),
        (IndicatorStatus::Cleared, 9),
        (IndicatorStatus::Disputed, 3),
    ] {
        shuffled.set_status(key, status, position);
    }
    assert_eq!(shuffled.status(key), IndicatorStatus::Cleared);
}

#[test]
fn public_view_needs_enough_public_partner_reports() {
    let policy = ScoringPolicy::default();
    let threshold = PublicThreshold::default();
    let now = t("2026-11-02T00:00:00Z");
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    let status = |index: &IndicatorIndex| index.public_view(key, now, &policy, &threshold).status;

    for (report, submitter) in [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4)] {
        index.add(key, &verified(report, submitter, "2026-11-01T00:00:00Z"));
    }
    for report in 20..200 {
        index.add(key, &citizen(report, report, "2026-11-01T00:00:00Z"));
    }
    assert_eq!(status(&index), CheckStatus::NotReported, "citizens alone are never enough");

    index.add(key, &facts(10, 1, PartnerKind::Bank, Tlp::Amber, "2026-11-01T00:00:00Z"));
    index.add(key, &facts(11, 2, PartnerKind::Police, Tlp::Red, "2026-11-01T00:00:00Z"));
    assert_eq!(
        index
            .public_view(
                key,
                now,
                &policy,
                &PublicThreshold {
                    min_reports: 1.0,
                    citizen_weight: 0.0
                }
            )
            .status,
        CheckStatus::NotReported,
        "AMBER and RED reports are not public"
    );

    index.add(key, &facts(12, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
    let strict = PublicThreshold {
        min_reports: 2.0,
        citizen_weight: 0.0,
    };
    assert_eq!(index.public_view(key, now, &policy, &strict).status, CheckStatus::NotReported);
    let view = index.public_view(key, now, &policy, &threshold);
    assert_eq!(
        view.status,
        CheckStatus::Reported,
        "one partner report and four distinct verified citizens"
    );
    let mut unverified_only = IndicatorIndex::new();
    let k = unverified_only.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    unverified_only.add(k, &facts(12, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
    for report in 20..200 {
        unverified_only.add(k, &citizen(report, report, "2026-11-01T00:00:00Z"));
    }
    assert_eq!(
        unverified_only.public_view(k, now, &policy, &threshold).status,
        CheckStatus::NotReported,
        "one partner report and 180 unverified citizens"
    );
    assert_eq!(view.fraud_types, vec![FraudType::Marketplace]);

    index.retract(key, 12);
    assert_eq!(status(&index), CheckStatus::NotReported, "retracted reports do not count");
    index.add(key, &facts(13, 3, PartnerKind::Helpdesk, Tlp::Clear, "2026-11-01T00:00:00Z"));
    index.add(key, &facts(14, 3, PartnerKind::Helpdesk, Tlp::Clear, "2026-11-01T00:00:00Z"));
    assert_eq!(status(&index), CheckStatus::Reported);
    index.set_status(key, IndicatorStatus::Disputed, 1);
    assert_eq!(status(&index), CheckStatus::Disputed);
    index.set_status(key, IndicatorStatus::Cleared, 2);
    assert_eq!(status(&index), CheckStatus::NotReported, "cleared is shown as not reported");
    index.set_status(key, IndicatorStatus::Active, 3);
    assert_eq!(status(&index), CheckStatus::Reported);
    assert_eq!(
        index.public_view(key, t("2029-01-01T00:00:00Z"), &policy, &threshold).status,
        CheckStatus::NotReported
    );
}

const BANK: Viewer = Viewer {
    partner: 10,
    kind: PartnerKind::Bank,
};
const POLICE: Viewer = Viewer {
    partner: 11,
    kind: PartnerKind::Police,
};
const OPERATOR: Viewer = Viewer {
    partner: 12,
    kind: PartnerKind::Operator,
};

#[test]
fn aggregates_what_the_viewer_may_see() {
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    assert!(index.add(key, &facts(1, 1, PartnerKind::Police, Tlp::Green, "2026-10-01T00:00:00Z")));
    assert!(index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Amber, "2026-10-15T00:00:00Z")));
    assert!(index.add(key, &facts(3, 3, PartnerKind::Helpdesk, Tlp::AmberStrict, "2026-11-01T00:00:00Z")));
    assert!(index.add(key, &facts(4, 3, PartnerKind::Helpdesk, Tlp::Red, "2026-11-01T00:00:00Z")));
    assert!(
        !index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Amber, "2026-10-15T00:00:00Z")),
        "same report twice"
    );
    let now = t("2026-11-02T00:00:00Z");
    let policy = ScoringPolicy::default();

    let bank = index.view(key, &BANK, now, &policy);
    assert_eq!((bank.reports, bank.reporting_partners), (2, 2));
    assert_eq!(bank.last_seen.map(Timestamp::date_string).as_deref(), Some("2026-10-15"));
    assert_eq!(bank.damage, vec![Money::from_minor(50_000, Currency::EUR)]);

    let police = index.view(key, &POLICE, now, &policy);
    assert_eq!((police.reports, police.reporting_partners), (3, 3));

    let operator = index.view(key, &OPERATOR, now, &policy);
    assert_eq!(operator.reports, 1, "operators see only CLEAR and GREEN");

    let owner = index.view(
        key,
        &Viewer {
            partner: 3,
            kind: PartnerKind::Helpdesk,
        },
        now,
        &policy,
    );
    assert_eq!(owner.reports, 4, "the reporting organisation sees its own RED report");
    assert_eq!(index.visible_reports(key, &BANK, now, &policy), vec![2, 1]);
}

#[test]
fn score_decays_and_weighs_sources() {
    let mut index = IndicatorIndex::new();
    let policy = ScoringPolicy::default();
    let key = index.key(IndicatorKind::Phone, "+31612345678");
    let mut police = facts(1, 1, PartnerKind::Police, Tlp::Green, "2026-11-01T00:00:00Z");
    police.aangifte = true;
    index.add(key, &police);
    let fresh = index.view(key, &BANK, t("2026-11-01T00:00:00Z"), &policy);
    assert!((fresh.evidence - 1.0).abs() < 1e-9);
    assert!((fresh.score - (1.0 - (-1.0f64).exp())).abs() < 1e-9);
    let later = index.view(key, &BANK, t("2027-04-30T00:00:00Z"), &policy);
    assert!((later.evidence - 0.5).abs() < 1e-9, "halved after 180 days: {}", later.evidence);
    let reasons = fresh.reasons().join(" | ");
    assert!(
        reasons.contains("1 report of marketplace fraud by 1 partner, last on 2026-11-01"),
        "{reasons}"
    );
    assert!(reasons.contains("backed by an aangifte"), "{reasons}");
    assert!(reasons.contains("1 from police (weight 1.00)"), "{reasons}");
}

#[test]
fn retraction_status_and_expiry() {
    let mut index = IndicatorIndex::new();
    let policy = ScoringPolicy::default();
    let now = t("2026-11-02T00:00:00Z");
    let key = index.key(IndicatorKind::Domain, "fake-shop.nl");
    index.add(key, &facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
    index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
    assert!(index.retract(key, 1));
    assert!(!index.retract(key, 1));
    assert_eq!(index.view(key, &BANK, now, &policy).reports, 1);

    index.set_status(key, IndicatorStatus::Disputed, 4);
    let disputed = index.view(key, &BANK, now, &policy);
    assert_eq!(disputed.status, CheckStatus::Disputed);
    assert!(disputed.reasons().iter().any(|r| r.contains("disputes")));

    index.set_status(key, IndicatorStatus::Cleared, 5);
    let cleared = index.view(key, &BANK, now, &policy);
    assert_eq!((cleared.status, cleared.reports), (CheckStatus::NotReported, 0));

    let old = index.key(IndicatorKind::Domain, "old-shop.nl");
    index.add(old, &facts(3, 1, PartnerKind::Bank, Tlp::Green, "2023-01-01T00:00:00Z"));
    let expired = index.view(old, &BANK, now, &policy);
    assert_eq!(
        (expired.status, expired.indicator_status),
        (CheckStatus::NotReported, IndicatorStatus::Expired)
    );

    let unknown = index.key(IndicatorKind::Domain, "never-reported.nl");
    assert_eq!(index.view(unknown, &BANK, now, &policy).status, CheckStatus::NotReported);
}

#[test]
fn keys_differ_per_kind_and_per_process() {
    let a = IndicatorIndex::new();
    let b = IndicatorIndex::new();
    assert_ne!(a.key(IndicatorKind::Domain, "x.nl"), a.key(IndicatorKind::Url, "x.nl"));
    assert_ne!(a.key(IndicatorKind::Domain, "x.nl"), b.key(IndicatorKind::Domain, "x.nl"));
    assert_eq!(std::mem::size_of::<Contribution>(), 32);
}

#[test]
fn mule_reports_count_from_partners_only_and_under_tlp() {
    let policy = ScoringPolicy::default();
    let now = t("2026-11-02T00:00:00Z");
    let mut index = IndicatorIndex::new();
    let key = index.key(IndicatorKind::Iban, "NL91ABNA0417164300");
    let mule = |f: ReportFacts| ReportFacts { mule: true, ..f };
    index.add(key, &mule(facts(1, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z")));
    index.add(key, &facts(2, 2, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
    index.add(key, &mule(verified(3, 7, "2026-11-01T00:00:00Z")));
    index.add(key, &mule(facts(4, 3, PartnerKind::Police, Tlp::Red, "2026-11-01T00:00:00Z")));
    let view = index.view(key, &BANK, now, &policy);
    assert_eq!(view.reports, 3, "the red report is not the bank's to see");
    assert_eq!(view.mule_reports, 1, "only the partner's mule report counts; the citizen's informs");
    assert!(index.retract(key, 1));
    assert_eq!(
        index.view(key, &BANK, now, &policy).mule_reports,
        0,
        "a retracted report counts no more"
    );
}

mod networks {
    use super::*;

    const NOW: &str = "2026-11-20T00:00:00Z";

    /// Adds report `n` of `partner` naming `values` (IBANs by number) under `tlp`.
    fn report(index: &mut IndicatorIndex, n: u32, partner: u32, tlp: Tlp, values: &[u32]) -> Vec<IndexKey> {
        let keys: Vec<IndexKey> = values
            .iter()
            .map(|v| index.key(IndicatorKind::Iban, &format!("NL{v:016}")))
            .collect();
        for &k in &keys {
            index.add(k, &facts(n, partner, PartnerKind::Bank, tlp, "2026-11-01T00:00:00Z"));
        }
        index.link_report(n, &keys);
        keys
    }

    fn key(index: &IndicatorIndex, v: u32) -> IndexKey {
        index.key(IndicatorKind::Iban, &format!("NL{v:016}"))
    }

    #[test]
    fn components_join_on_shared_reports_and_split_on_retraction() {
        let mut index = IndicatorIndex::new();
        report(&mut index, 1, 1, Tlp::Green, &[1, 2]);
        report(&mut index, 2, 1, Tlp::Green, &[2, 3]);
        report(&mut index, 3, 1, Tlp::Green, &[4, 5]);
        report(&mut index, 4, 1, Tlp::Green, &[9]);
        assert_eq!(index.component_size(key(&index, 1)), 3);
        assert_eq!(index.component_size(key(&index, 5)), 2);
        assert_eq!(index.component_size(key(&index, 9)), 1, "a report naming one value links nothing");
        assert_eq!(index.components(), (2, 3));
        // A report joining the two components.
        report(&mut index, 5, 1, Tlp::Green, &[3, 4]);
        assert_eq!(index.component_size(key(&index, 1)), 5);
        // Retracting it splits them again, and only that component is touched.
        assert!(index.retract(key(&index, 3), 5));
        assert_eq!(index.component_size(key(&index, 1)), 3);
        assert_eq!(index.component_size(key(&index, 4)), 2);
        assert!(index.retract(key(&index, 2), 1));
        assert_eq!(index.component_size(key(&index, 1)), 1, "1 was linked only by report 1");
        assert_eq!(index.component_size(key(&index, 3)), 2);
    }

    #[test]
    fn the_neighbourhood_follows_only_reports_the_reader_may_see() {
        let mut index = IndicatorIndex::new();
        let policy = ScoringPolicy::default();
        report(&mut index, 1, 1, Tlp::Green, &[1, 2]);
        report(&mut index, 2, 2, Tlp::Green, &[1, 2, 3]);
        report(&mut index, 3, 3, Tlp::Red, &[3, 4]);
        report(&mut index, 4, 3, Tlp::Green, &[4, 5]);
        let start = key(&index, 1);
        let bank = Viewer {
            partner: 1,
            kind: PartnerKind::Bank,
        };
        let n = index.neighbourhood(start, &bank, t(NOW), &policy, 4, 50);
        let values: Vec<IndexKey> = n.nodes.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            values,
            vec![start, key(&index, 2), key(&index, 3)],
            "the red report is not the bank's to see"
        );
        assert_eq!(n.nodes[2].1, 1, "3 is one step away (report 2)");
        let one_two = n.edges.iter().find(|e| (e.a, e.b) == (0, 1)).expect("an edge 1-2");
        assert_eq!(one_two.reports, 2, "two reports name 1 and 2 together");
        assert!(!n.truncated);
        // The owner of the red report sees through it, to 4 and on to 5.
        let owner = Viewer {
            partner: 3,
            kind: PartnerKind::Bank,
        };
        let n = index.neighbourhood(start, &owner, t(NOW), &policy, 4, 50);
        assert_eq!(n.nodes.len(), 5);
        assert_eq!(n.nodes[4].1, 3, "5 is three steps away");
        // Bounds: depth and node count.
        let shallow = index.neighbourhood(start, &owner, t(NOW), &policy, 1, 50);
        assert_eq!(shallow.nodes.len(), 3);
        let few = index.neighbourhood(start, &owner, t(NOW), &policy, 4, 2);
        assert_eq!(few.nodes.len(), 2);
        assert!(few.truncated, "more was in reach");
        // A retracted report links nothing for anyone.
        assert!(index.retract(key(&index, 3), 3));
        let n = index.neighbourhood(start, &owner, t(NOW), &policy, 4, 50);
        assert_eq!(n.nodes.len(), 3);
    }

    #[test]
    fn compacting_keeps_only_reports_that_link() {
        let mut index = IndicatorIndex::new();
        report(&mut index, 1, 1, Tlp::Green, &[1]);
        report(&mut index, 2, 1, Tlp::Green, &[1, 2]);
        index.compact_links();
        assert_eq!(index.component_size(key(&index, 2)), 2);
        for v in [7, 8] {
            let k = key(&index, v);
            index.add(k, &facts(3, 1, PartnerKind::Bank, Tlp::Green, "2026-11-01T00:00:00Z"));
            index.link(3, k);
        }
        index.link(4, key(&index, 99));
        assert_eq!(
            index.component_size(key(&index, 99)),
            1,
            "a value the index does not hold links nothing"
        );
        assert_eq!(index.component_size(key(&index, 8)), 2, "links arriving one by one still join");
    }
}
