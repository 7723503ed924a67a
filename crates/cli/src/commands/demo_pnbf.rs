//! The demo's PNBF recovery cases: one or more in every state, with a history spread over
//! the last weeks, made once per database through the same code as the API.

use anyhow::Context;
use vangnet_core::money::Currency;
use vangnet_core::nl_banks::NL_BANKS;
use vangnet_core::pnbf::{CaseState, FraudCategory, Move, Outcome, PaymentMethod};
use vangnet_core::{Money, Timestamp};
use vangnet_services::Services as AppState;
use vangnet_services::pnbf::{self, Naw, NewCase, NewMove};
use vangnet_store::Partner;

use crate::synth::{Rng, nl_iban};

const DAY: i64 = 86_400_000;
/// The setting that says the demo cases exist, with their victims' links.
const DONE: &str = "demo_pnbf_links";

/// Points every Dutch bank code at one of the demo banks or the demo PSP.
async fn directory(state: &AppState, banks: &[Partner]) -> anyhow::Result<()> {
    let now = state.now();
    for (i, bank) in NL_BANKS.iter().enumerate() {
        let partner = &banks[i % banks.len()];
        state.store.pnbf_set_bank_code(bank.code, Some(partner.seq), now).await?;
    }
    Ok(())
}

fn mv(m: Move) -> NewMove {
    NewMove {
        mv: m,
        reason: None,
        amount: None,
        naw: None,
        outcome: None,
    }
}

/// Creates the demo cases once and returns (state, victim link) for each (also on later runs).
pub async fn ensure(state: &AppState, partners: &[Partner], mule_ibans: &[String], seed: u64) -> anyhow::Result<Vec<(String, String)>> {
    if let Some(done) = state.store.setting(DONE).await? {
        return Ok(serde_json::from_str(&done).unwrap_or_default());
    }
    let banks: Vec<Partner> = partners.iter().filter(|p| p.kind.holds_accounts()).cloned().collect();
    let victim_bank = banks.first().cloned().context("the demo has a bank")?;
    directory(state, &banks).await?;
    let codes = state.store.pnbf_bank_codes().await?;
    let elsewhere = |iban: &str| {
        let code = iban.get(4..8).unwrap_or("");
        codes.iter().any(|(c, seq)| c == code && *seq != victim_bank.seq)
    };
    // A bank opens cases only for its own customers' accounts.
    let at_victim_bank = |iban: &str| {
        let code = iban.get(4..8).unwrap_or("");
        codes.iter().any(|(c, seq)| c == code && *seq == victim_bank.seq)
    };
    let mut rng = Rng::new(seed ^ 0x706e_6266);
    let mut payer_rng = Rng::new(seed ^ 0x7061_7965);
    let mut payee = || loop {
        let iban = nl_iban(&mut rng);
        if elsewhere(&iban) {
            return iban;
        }
    };
    let mut payer = || loop {
        let iban = nl_iban(&mut payer_rng);
        if at_victim_bank(&iban) {
            return iban;
        }
    };
    // Fake-seller cases go to mule accounts with enough aangifte-backed police reports (a
    // small demo may have none: then the stories are scams by phone instead).
    let needed = state.settings.pnbf.procedure.min_reports_fake_seller;
    let mules: Vec<String> = mule_ibans
        .iter()
        .filter(|i| elsewhere(i))
        .filter(|i| {
            vangnet_core::indicator::Iban::parse(i).is_ok_and(|iban| {
                let index = state.index();
                let key = index.key_of(&vangnet_core::Indicator::Iban(iban));
                index.police_aangifte_reports(key, &victim_bank.viewer(), state.now(), &state.settings.scoring) >= needed
            })
        })
        .cloned()
        .collect();
    // The story is told on the platform clock, back-dated: `go(-42)` puts it six weeks before
    // today, `go(0)` back to today.
    let clock = &state.settings.clock;
    let mut day = 0i64;
    let mut go = |to: i64| {
        clock.shift((to - day) * DAY);
        day = to;
    };
    go(-42);
    let mut links = Vec::new();
    let mut opened = Vec::new();
    let stories: [(CaseState, &str, FraudCategory); 9] = [
        (CaseState::Closed, "249.00", FraudCategory::FakeSeller),
        (CaseState::Repaid, "85.00", FraudCategory::FakeSeller),
        (CaseState::PartiallyRepaid, "1450.00", FraudCategory::MessageOrPhone),
        (CaseState::Refused, "620.00", FraudCategory::MessageOrPhone),
        (CaseState::Withdrawn, "35.00", FraudCategory::FakeSeller),
        (CaseState::NoResponse, "310.00", FraudCategory::MessageOrPhone),
        (CaseState::NawRequested, "2750.00", FraudCategory::MessageOrPhone),
        (CaseState::NawReleased, "499.00", FraudCategory::FakeSeller),
        (CaseState::Ineligible, "120.00", FraudCategory::FakeSeller),
    ];
    let mut mule = mules.iter().cycle();
    for (i, (goal, amount, category)) in stories.iter().enumerate() {
        let (payee_iban, category) = match (goal, category) {
            // Too few police reports against a fresh account: ineligible.
            (CaseState::Ineligible, _) => (payee(), FraudCategory::FakeSeller),
            (_, FraudCategory::FakeSeller) => match mule.next() {
                Some(m) => (m.clone(), FraudCategory::FakeSeller),
                None => (payee(), FraudCategory::MessageOrPhone),
            },
            _ => (payee(), *category),
        };
        let new = NewCase {
            payer: vangnet_core::indicator::Iban::parse(&payer()).context("a demo IBAN")?,
            payee: vangnet_core::indicator::Iban::parse(&payee_iban).context("a demo IBAN")?,
            amount: Money::parse(amount, Currency::EUR).context("a demo amount")?,
            paid_at: state.now().plus_millis(-((i as i64 % 4) + 2) * DAY),
            method: if i % 3 == 0 {
                PaymentMethod::PaymentRequest
            } else {
                PaymentMethod::Transfer
            },
            category,
            aangifte: Some(format!("2026-DEMO-{:04}", 1000 + i)),
            reference: Some(format!("NB-{:05}", 40_000 + i)),
        };
        let (case, secret) = pnbf::open(state, &victim_bank, new).await.context("a demo case")?;
        links.push((goal.as_str().to_owned(), format!("/zaak/{secret}")));
        opened.push((case, *goal));
    }
    let payee_of = |case: &pnbf::Case| partners.iter().find(|p| Some(p.seq) == case.row.payee_bank).cloned();
    // Two days later the payee's banks answer some requests.
    go(-40);
    for (case, goal) in &opened {
        let Some(payee_bank) = payee_of(case) else { continue };
        let answer = match goal {
            CaseState::Closed | CaseState::Repaid => Some(mv(Move::Repaid)),
            CaseState::PartiallyRepaid => Some(NewMove {
                amount: Some(Money::parse("400.00", Currency::EUR).context("amount")?),
                ..mv(Move::PartiallyRepaid)
            }),
            CaseState::Refused => Some(NewMove {
                reason: Some("the account holder disputes the fraud".to_owned()),
                ..mv(Move::Refused)
            }),
            _ => None,
        };
        if let Some(answer) = answer {
            pnbf::apply(state, &payee_bank, &case.row.id, answer).await?;
        }
    }
    go(-38);
    for (case, goal) in &opened {
        let step = match goal {
            CaseState::Closed => NewMove {
                outcome: Some(Outcome::Recovered),
                ..mv(Move::Close)
            },
            CaseState::Withdrawn => NewMove {
                reason: Some("the seller sent the goods after all".to_owned()),
                ..mv(Move::Withdraw)
            },
            _ => continue,
        };
        pnbf::apply(state, &victim_bank, &case.row.id, step).await?;
    }
    // The term of the unanswered requests passes (reminder first).
    go(-22);
    pnbf::sweep(state).await?;
    go(-20);
    pnbf::sweep(state).await?;
    go(-18);
    for (case, goal) in &opened {
        if matches!(goal, CaseState::NawRequested | CaseState::NawReleased) {
            pnbf::apply(state, &victim_bank, &case.row.id, mv(Move::RequestNaw)).await?;
        }
    }
    go(-15);
    for (case, goal) in &opened {
        if *goal == CaseState::NawReleased
            && let Some(payee_bank) = payee_of(case)
        {
            let naw = Naw {
                name: "K. de Vries (demo)".to_owned(),
                address: "Voorbeeldstraat 12, 1234 AB".to_owned(),
                town: "Demodorp".to_owned(),
            };
            pnbf::apply(
                state,
                &payee_bank,
                &case.row.id,
                NewMove {
                    naw: Some(naw),
                    ..mv(Move::ReleaseNaw)
                },
            )
            .await?;
        }
    }
    // Two recent requests: one whose term ends in two days (reminded), one fresh.
    for (days_back, amount) in [(19i64, "64.50"), (0, "175.00")] {
        go(-days_back);
        let new = NewCase {
            payer: vangnet_core::indicator::Iban::parse(&payer()).context("a demo IBAN")?,
            payee: vangnet_core::indicator::Iban::parse(&payee()).context("a demo IBAN")?,
            amount: Money::parse(amount, Currency::EUR).context("a demo amount")?,
            paid_at: state.now().plus_millis(-DAY),
            method: PaymentMethod::Transfer,
            category: FraudCategory::MessageOrPhone,
            aangifte: Some(format!("2026-DEMO-{:04}", 2000 + days_back)),
            reference: Some(format!("NB-{:05}", 50_000 + days_back)),
        };
        let (_, secret) = pnbf::open(state, &victim_bank, new).await?;
        links.push(("requested".to_owned(), format!("/zaak/{secret}")));
    }
    go(0);
    pnbf::sweep(state).await?;
    let now_ok = (state.now().millis() - Timestamp::now().millis()).abs() < DAY;
    anyhow::ensure!(now_ok, "the demo left the clock wrong");
    state
        .store
        .setting_or_insert(DONE, &serde_json::to_string(&links).unwrap_or_default())
        .await?;
    Ok(links)
}
