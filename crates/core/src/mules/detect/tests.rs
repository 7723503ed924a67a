//! Every detector on small hand-built graphs: the pattern found (with the accounts it names),
//! and the near miss that is not.

use super::*;

const H: i64 = 3_600_000;

fn tr(at_hours: i64, from: Account, to: Account, euros: i64) -> Transfer {
    Transfer {
        at: at_hours * H,
        from,
        to,
        amount: euros * 100,
        received: euros * 100,
    }
}

/// Runs the transfers through a detector; returns the patterns each one raised.
fn run(thresholds: Thresholds, transfers: &[Transfer]) -> Vec<Vec<Flag>> {
    let mut d = Detector::new(thresholds);
    transfers
        .iter()
        .map(|t| {
            let mut flags = Vec::new();
            d.observe(t, &mut flags);
            flags
        })
        .collect()
}

fn patterns(flags: &[Flag]) -> Vec<Pattern> {
    let mut p: Vec<Pattern> = flags.iter().map(|f| f.pattern).collect();
    p.sort();
    p.dedup();
    p
}

fn only(thresholds: Thresholds, transfers: &[Transfer], pattern: Pattern) -> Vec<Option<Flag>> {
    run(thresholds, transfers)
        .into_iter()
        .map(|flags| flags.into_iter().find(|f| f.pattern == pattern))
        .collect()
}

#[test]
fn fan_in_needs_enough_distinct_payers() {
    let mut ts: Vec<Transfer> = (0..6).map(|i| tr(i, 10 + i as u64, 1, 200)).collect();
    let flags = only(Thresholds::default(), &ts, Pattern::FanIn);
    assert!(flags[..5].iter().all(Option::is_none), "five payers are not enough");
    let f = flags[5].as_ref().expect("the sixth payer makes it");
    assert_eq!(f.centre(), 1);
    assert_eq!(f.accounts.len(), 7);
    assert_eq!((f.amount, f.from, f.to), (6 * 20_000, 0, 5 * H));
    // The same payer six times is not a fan-in.
    ts = (0..6).map(|i| tr(i, 10, 2, 200)).collect();
    assert!(only(Thresholds::default(), &ts, Pattern::FanIn).iter().all(Option::is_none));
    // Spread over more than the window: not either.
    ts = (0..6).map(|i| tr(i * 48, 10 + i as u64, 3, 200)).collect();
    assert!(only(Thresholds::default(), &ts, Pattern::FanIn).iter().all(Option::is_none));
}

#[test]
fn fan_out_needs_enough_distinct_payees() {
    let ts: Vec<Transfer> = (0..6).map(|i| tr(i, 1, 20 + i as u64, 200)).collect();
    let flags = only(Thresholds::default(), &ts, Pattern::FanOut);
    assert!(flags[4].is_none());
    assert_eq!(flags[5].as_ref().map(Flag::centre), Some(1));
}

#[test]
fn pass_through_is_most_of_the_money_out_soon_after_it_came_in() {
    let ts = [tr(0, 5, 1, 1_000), tr(3, 1, 6, 500), tr(4, 1, 7, 450)];
    let flags = only(Thresholds::default(), &ts, Pattern::PassThrough);
    assert!(flags[1].is_none(), "half is not enough");
    let f = flags[2].as_ref().expect("95% out within four hours");
    assert_eq!(f.centre(), 1);
    assert_eq!(f.amount, 95_000);
    assert!(f.accounts.contains(&5) && f.accounts.contains(&7));
    // A salary that mostly stays: no.
    let ts = [tr(0, 5, 2, 3_000), tr(3, 2, 6, 900)];
    assert!(only(Thresholds::default(), &ts, Pattern::PassThrough).iter().all(Option::is_none));
    // Out a week later: no.
    let ts = [tr(0, 5, 3, 1_000), tr(30, 3, 6, 990)];
    assert!(only(Thresholds::default(), &ts, Pattern::PassThrough)[1].is_none());
    // Small change: no.
    let ts = [tr(0, 5, 4, 20), tr(1, 4, 6, 20)];
    assert!(only(Thresholds::default(), &ts, Pattern::PassThrough)[1].is_none());
    // The transfer that passes the money on completes it; shopping after it does not.
    let ts = [tr(0, 5, 8, 1_000), tr(2, 8, 9, 960), tr(3, 8, 10, 30)];
    let flags = only(Thresholds::default(), &ts, Pattern::PassThrough);
    assert!(flags[1].is_some() && flags[2].is_none(), "{flags:?}");
}

#[test]
fn cycles_of_up_to_six_hops_in_time_order() {
    let ts = [tr(0, 1, 2, 900), tr(1, 2, 3, 880), tr(2, 3, 4, 860), tr(3, 4, 1, 840)];
    let flags = only(Thresholds::default(), &ts, Pattern::Cycle);
    let f = flags[3].as_ref().expect("1 → 2 → 3 → 4 → 1");
    assert_eq!(f.accounts, [1, 2, 3, 4]);
    assert_eq!((f.amount, f.from, f.to), ((900 + 880 + 860 + 840) * 100, 0, 3 * H));
    // The same accounts out of time order are not a flow of money round.
    let ts = [tr(2, 1, 2, 900), tr(1, 2, 3, 880), tr(0, 3, 4, 860), tr(3, 4, 1, 840)];
    assert!(only(Thresholds::default(), &ts, Pattern::Cycle)[3].is_none());
    // Seven hops is beyond the bound; six is not.
    let seven: Vec<Transfer> = (0..7).map(|i| tr(i, 1 + i as u64, 1 + ((i as u64 + 1) % 7), 500)).collect();
    assert!(only(Thresholds::default(), &seven, Pattern::Cycle)[6].is_none());
    let six: Vec<Transfer> = (0..6).map(|i| tr(i, 1 + i as u64, 1 + ((i as u64 + 1) % 6), 500)).collect();
    assert_eq!(
        only(Thresholds::default(), &six, Pattern::Cycle)[5]
            .as_ref()
            .map(|f| f.accounts.len()),
        Some(6)
    );
}

#[test]
fn scatter_gather_is_one_source_through_several_to_one_sink() {
    let ts = [
        tr(0, 1, 11, 400),
        tr(0, 1, 12, 400),
        tr(0, 1, 13, 400),
        tr(2, 11, 9, 390),
        tr(3, 12, 9, 390),
        tr(4, 13, 9, 390),
    ];
    let flags = only(Thresholds::default(), &ts, Pattern::ScatterGather);
    assert!(flags[4].is_none(), "two in the middle are not enough");
    let f = flags[5].as_ref().expect("three are");
    assert_eq!(f.centre(), 9);
    assert_eq!(f.accounts[1], 1, "the source");
    // Three payers of the sink without a common source: no.
    let ts = [
        tr(0, 1, 11, 300),
        tr(0, 2, 12, 300),
        tr(0, 3, 13, 300),
        tr(2, 11, 9, 290),
        tr(3, 12, 9, 290),
        tr(4, 13, 9, 290),
    ];
    assert!(only(Thresholds::default(), &ts, Pattern::ScatterGather).iter().all(Option::is_none));
}

#[test]
fn gather_scatter_is_a_hub_paid_by_several_that_pays_several() {
    let ts = [
        tr(0, 1, 5, 400),
        tr(1, 2, 5, 400),
        tr(2, 3, 5, 400),
        tr(3, 5, 21, 390),
        tr(4, 5, 22, 390),
        tr(5, 5, 23, 390),
    ];
    let flags = only(Thresholds::default(), &ts, Pattern::GatherScatter);
    assert!(flags[4].is_none());
    let f = flags[5].as_ref().expect("three in, three out");
    assert_eq!(f.centre(), 5);
    assert_eq!(f.accounts.len(), 7);
    // Paying several before being paid is not it.
    let ts = [
        tr(0, 5, 21, 390),
        tr(1, 5, 22, 390),
        tr(2, 5, 23, 390),
        tr(3, 1, 5, 400),
        tr(4, 2, 5, 400),
        tr(5, 3, 5, 400),
    ];
    assert!(only(Thresholds::default(), &ts, Pattern::GatherScatter).iter().all(Option::is_none));
}

/// Three payers each paying the same three payees, in time order.
fn many_to_many(payers: [Account; 3], payees: [Account; 3], start: i64) -> Vec<Transfer> {
    let mut ts = Vec::new();
    let mut hour = start;
    for p in payees {
        for q in payers {
            ts.push(tr(hour, q, p, 250));
            hour += 1;
        }
    }
    ts
}

#[test]
fn bipartite_is_many_to_many() {
    let ts = many_to_many([1, 2, 3], [11, 12, 13], 0);
    let flags = run(Thresholds::default(), &ts);
    assert!(!patterns(flags.last().expect("flags")).is_empty());
    let f = flags
        .last()
        .and_then(|f| f.iter().find(|f| f.pattern == Pattern::Bipartite))
        .expect("bipartite");
    assert_eq!(f.centre(), 13);
    for a in [1, 2, 3, 11, 12] {
        assert!(f.accounts.contains(&a), "{a} in {:?}", f.accounts);
    }
    assert!(
        flags[..6].iter().all(|f| f.iter().all(|f| f.pattern != Pattern::Bipartite)),
        "not before the third payee"
    );
    // Three payers of three payees, but each payee by one payer only: no.
    let ts = [
        tr(0, 1, 11, 250),
        tr(1, 2, 12, 250),
        tr(2, 3, 13, 250),
        tr(3, 4, 13, 250),
        tr(4, 5, 13, 250),
    ];
    assert!(
        run(Thresholds::default(), &ts)
            .iter()
            .flatten()
            .all(|f| f.pattern != Pattern::Bipartite)
    );
}

#[test]
fn a_stack_is_two_bipartite_layers() {
    let mut ts = many_to_many([1, 2, 3], [11, 12, 13], 0);
    ts.extend(many_to_many([11, 12, 13], [21, 22, 23], 10));
    let flags = run(Thresholds::default(), &ts);
    let f = flags
        .last()
        .and_then(|f| f.iter().find(|f| f.pattern == Pattern::Stack))
        .expect("stack");
    assert_eq!(f.centre(), 23);
    for a in [1, 2, 3, 11, 12, 13, 21, 22] {
        assert!(f.accounts.contains(&a), "{a} in {:?}", f.accounts);
    }
    // One layer alone is bipartite, not a stack.
    let one = many_to_many([1, 2, 3], [11, 12, 13], 0);
    assert!(
        run(Thresholds::default(), &one)
            .iter()
            .flatten()
            .all(|f| f.pattern != Pattern::Stack)
    );
}

#[test]
fn ordinary_payments_raise_nothing() {
    // A household: salary in, rent, shops and a transfer to savings over a week.
    let ts = [
        tr(0, 100, 1, 2_800),
        tr(2, 1, 200, 1_150),
        tr(5, 1, 201, 64),
        tr(30, 1, 202, 23),
        tr(50, 1, 203, 120),
        tr(80, 1, 2, 400),
        tr(90, 2, 1, 50),
    ];
    assert!(run(Thresholds::default(), &ts).iter().all(Vec::is_empty));
}

#[test]
fn a_search_stays_within_its_budget() {
    // A dense web of payments: every account pays every other; no transfer's searches may
    // visit more edges than the budget, so this finishes at once whatever it finds.
    let th = Thresholds {
        search_budget: 200,
        ..Thresholds::default()
    };
    let mut d = Detector::new(th);
    let mut flags = Vec::new();
    let mut hour = 0;
    for a in 0..40u64 {
        for b in 0..40u64 {
            if a != b {
                d.observe(&tr(hour / 50, a, b, 10), &mut flags);
                hour += 1;
            }
        }
    }
    assert!(d.window().accounts() <= 40);
    assert!(!flags.is_empty());
}

#[test]
fn patterns_have_stable_keys() {
    for p in Pattern::ALL {
        assert_eq!(Pattern::from_key(p.as_str()), Some(p));
    }
    assert_eq!(Pattern::from_key("random"), None);
}

#[test]
fn small_change_and_slow_fans_are_not_patterns() {
    // Six shops in a day, forty euros each: shopping, not a fan-out.
    let ts: Vec<Transfer> = (0..6).map(|i| tr(i, 1, 20 + i as u64, 40)).collect();
    assert!(only(Thresholds::default(), &ts, Pattern::FanOut).iter().all(Option::is_none));
    // Six payees over six days: more than a fan's span.
    let ts: Vec<Transfer> = (0..6).map(|i| tr(i * 24, 1, 20 + i as u64, 400)).collect();
    assert!(only(Thresholds::default(), &ts, Pattern::FanOut).iter().all(Option::is_none));
    // A hub paid by three that keeps most of it is not a gather-scatter.
    let ts = [
        tr(0, 1, 5, 400),
        tr(1, 2, 5, 400),
        tr(2, 3, 5, 400),
        tr(3, 5, 21, 100),
        tr(4, 5, 22, 100),
        tr(5, 5, 23, 100),
    ];
    assert!(only(Thresholds::default(), &ts, Pattern::GatherScatter).iter().all(Option::is_none));
}

#[test]
fn established_relationships_are_not_new_counterparties() {
    // A firm pays six regular suppliers one week, and again the next: the second week is
    // business as usual.
    let mut ts: Vec<Transfer> = (0..6).map(|i| tr(i, 1, 20 + i as u64, 900)).collect();
    ts.extend((0..6).map(|i| tr(24 * 7 + i, 1, 20 + i as u64, 900)));
    let flags = only(Thresholds::default(), &ts, Pattern::FanOut);
    assert!(flags[5].is_some(), "six new payees");
    assert!(flags[6..].iter().all(Option::is_none), "the same six again");
    // Salary to savings every month: the second time is not a pass-through.
    let ts = [
        tr(0, 5, 1, 3_000),
        tr(3, 1, 6, 2_900),
        tr(24 * 30, 5, 1, 3_000),
        tr(24 * 30 + 3, 1, 6, 2_900),
    ];
    let flags = only(Thresholds::default(), &ts, Pattern::PassThrough);
    assert!(flags[1].is_some() && flags[3].is_none(), "{flags:?}");
}

#[test]
fn business_hubs_are_not_fans() {
    // A shop paid by 30 customers in a day: more payers than any mule takes.
    let ts: Vec<Transfer> = (0..30).map(|i| tr(i / 2, 100 + i as u64, 1, 400)).collect();
    let flags = only(Thresholds::default(), &ts, Pattern::FanIn);
    assert!(flags[5..24].iter().all(Option::is_some), "six to 24 payers: a fan-in");
    assert!(flags[24..].iter().all(Option::is_none), "past 24: a business");
    // Payroll to 40 employees in one hour: not a fan-out.
    let ts: Vec<Transfer> = (0..40).map(|i| tr(0, 2, 200 + i as u64, 2_500)).collect();
    assert!(only(Thresholds::default(), &ts, Pattern::FanOut)[30..].iter().all(Option::is_none));
}

#[test]
fn a_cycle_must_close_within_its_time() {
    let ts = [tr(0, 1, 2, 900), tr(40, 2, 3, 880), tr(80, 3, 4, 860), tr(120, 4, 1, 840)];
    let th = Thresholds {
        window_ms: 30 * 24 * H,
        ..Thresholds::default()
    };
    assert!(only(th.clone(), &ts, Pattern::Cycle)[3].is_none(), "five days round");
    let th = Thresholds {
        cycle_ms: 6 * 24 * H,
        ..th
    };
    assert!(only(th, &ts, Pattern::Cycle)[3].is_some());
}

#[test]
fn small_change_takes_part_in_no_structure() {
    // The cycle of the first test, with coffee money.
    let ts = [tr(0, 1, 2, 9), tr(1, 2, 3, 8), tr(2, 3, 4, 8), tr(3, 4, 1, 8)];
    assert!(only(Thresholds::default(), &ts, Pattern::Cycle)[3].is_none());
    // A busy shop with a few large new payments among many small ones is a shop.
    let mut ts: Vec<Transfer> = (0..40).map(|i| tr(i / 4, 100 + i as u64, 1, 30)).collect();
    ts.extend((0..8).map(|i| tr(10, 500 + i as u64, 1, 900)));
    assert!(only(Thresholds::default(), &ts, Pattern::FanIn).iter().all(Option::is_none));
}

#[test]
fn a_fan_must_be_most_of_the_centre_s_traffic() {
    // A small shop: six large payments from new customers among twelve small ones.
    let mut ts: Vec<Transfer> = (0..12).map(|i| tr(i, 100 + i as u64, 1, 30)).collect();
    ts.extend((0..6).map(|i| tr(12 + i, 500 + i as u64, 1, 900)));
    let loose = Thresholds::default();
    assert!(
        only(loose.clone(), &ts, Pattern::FanIn).last().is_some_and(Option::is_some),
        "without the purity test"
    );
    let strict = Thresholds { fan_purity: 0.75, ..loose };
    assert!(
        only(strict.clone(), &ts, Pattern::FanIn).iter().all(Option::is_none),
        "six of 18 transfers"
    );
    // A mule's account: six large payments and one small one.
    let mut ts: Vec<Transfer> = vec![tr(0, 99, 2, 30)];
    ts.extend((0..6).map(|i| tr(1 + i, 600 + i as u64, 2, 900)));
    assert!(only(strict, &ts, Pattern::FanIn)[6].is_some(), "six of seven");
}

#[test]
fn fans_count_only_sums_of_their_own_minimum() {
    // Someone shopping at six new web shops in two days, 300 euros each.
    let ts: Vec<Transfer> = (0..6).map(|i| tr(i * 6, 1, 20 + i as u64, 300)).collect();
    let th = Thresholds {
        fan_min_amount: 50_000,
        ..Thresholds::default()
    };
    assert!(
        only(Thresholds::default(), &ts, Pattern::FanOut)[5].is_some(),
        "without the fan minimum"
    );
    assert!(only(th.clone(), &ts, Pattern::FanOut).iter().all(Option::is_none));
    let ts: Vec<Transfer> = (0..6).map(|i| tr(i * 6, 1, 20 + i as u64, 900)).collect();
    assert!(only(th, &ts, Pattern::FanOut)[5].is_some(), "900 euros each");
}

#[test]
fn a_fan_does_not_count_hubs_among_its_counterparties() {
    // Six payees, each a shop that 30 others paid the same day: a customer, not a fan-out.
    let mut ts = Vec::new();
    for shop in 0..6u64 {
        ts.extend((0..30).map(|i| tr(0, 1_000 + shop * 100 + i, 20 + shop, 40)));
    }
    let start = ts.len();
    ts.extend((0..6).map(|i| tr(1 + i, 1, 20 + i as u64, 900)));
    let flags = only(Thresholds::default(), &ts, Pattern::FanOut);
    assert!(flags[start..].iter().all(Option::is_none));
}

#[test]
fn many_to_many_groups_are_of_new_relationships_and_not_through_hubs() {
    // The same three firms pay the same three suppliers two weeks running: the second week is
    // business as usual.
    let mut ts = many_to_many([1, 2, 3], [11, 12, 13], 0);
    let first = ts.len();
    ts.extend(many_to_many([1, 2, 3], [11, 12, 13], 24 * 14));
    let th = Thresholds {
        window_ms: 30 * 24 * H,
        ..Thresholds::default()
    };
    let flags = only(th, &ts, Pattern::Bipartite);
    assert!(flags[..first].iter().any(Option::is_some), "new the first week");
    assert!(flags[first..].iter().all(Option::is_none), "established the second");
    // Three people each buying at the same three busy shops: not a group.
    let mut ts = Vec::new();
    for shop in [11u64, 12, 13] {
        ts.extend((0..30).map(|i| tr(0, 1_000 + shop * 100 + i, shop, 40)));
    }
    let start = ts.len();
    ts.extend(many_to_many([1, 2, 3], [11, 12, 13], 1));
    assert!(
        only(Thresholds::default(), &ts, Pattern::Bipartite)[start..]
            .iter()
            .all(Option::is_none)
    );
}

#[test]
fn scatter_gather_is_of_new_relationships() {
    // A firm pays two suppliers, who each pay the same wholesaler, two weeks running.
    let week = |w: i64| vec![tr(w, 1, 2, 900), tr(w + 1, 1, 3, 900), tr(w + 2, 2, 9, 850), tr(w + 3, 3, 9, 850)];
    let th = Thresholds {
        scatter: 2,
        window_ms: 30 * 24 * H,
        ..Thresholds::default()
    };
    let mut ts = week(0);
    ts.extend(week(24 * 14));
    let flags = only(th, &ts, Pattern::ScatterGather);
    assert!(flags[3].is_some(), "new the first week");
    assert!(flags[4..].iter().all(Option::is_none), "established the second");
}
