//! The demo's disputes: one or more in every state (open and overdue, open and due soon,
//! upheld, rejected, withdrawn), a cleared number that a bank reported again (waiting for a
//! review), and objections people sent through the public form (waiting for the helpdesk).
//! Told on the back-dated platform clock through the same services as the API, once per
//! database.

use anyhow::Context;
use vangnet_core::dispute::DisputeMove;
use vangnet_core::indicator::Indicator;
use vangnet_core::report::{AgeBand, FraudType, IndicatorRole, NewReport, ReportDraft, Tlp};
use vangnet_core::{PartnerKind, Timestamp};
use vangnet_services::Services;
use vangnet_services::dispute_requests::{self, ObjectionInput};
use vangnet_services::disputes;
use vangnet_store::Partner;

const DAY: i64 = 86_400_000;
/// The setting that says the demo disputes exist.
const DONE: &str = "demo_disputes_done";

/// What the demo made, for its summary.
#[derive(Debug, Default)]
pub struct DemoDisputes {
    pub disputes: usize,
    pub objections: usize,
}

fn kind(partners: &[Partner], kind: PartnerKind) -> anyhow::Result<&Partner> {
    partners
        .iter()
        .find(|p| p.kind == kind)
        .with_context(|| format!("the demo has a {kind} partner"))
}

/// Creates the demo disputes once; `mules` are the demo's mule accounts (the first stays a
/// plain hit), `phone` a reported number.
pub async fn ensure(state: &Services, partners: &[Partner], mules: &[String], phone: Option<&str>) -> anyhow::Result<DemoDisputes> {
    if state.store.setting(DONE).await?.is_some() {
        return Ok(DemoDisputes::default());
    }
    let police = kind(partners, PartnerKind::Police)?;
    let helpdesk = kind(partners, PartnerKind::Helpdesk)?;
    let support = kind(partners, PartnerKind::VictimSupport)?;
    let operator = kind(partners, PartnerKind::Operator)?;
    let bank = kind(partners, PartnerKind::Bank)?;
    let iban = |i: usize| -> anyhow::Result<Indicator> {
        let value = mules.get(i).context("the demo has enough mule accounts")?;
        Indicator::parse(None, value).context("a demo IBAN")
    };
    let clock = &state.settings.clock;
    let mut day = 0i64;
    let mut go = |to: i64| {
        clock.shift((to - day) * DAY);
        day = to;
    };
    let mut made = DemoDisputes::default();
    let result: anyhow::Result<()> = async {
        // Open for three weeks: past its decision date.
        go(-20);
        disputes::open(
            state,
            police,
            &iban(1)?,
            "De rekeninghouder deed aangifte van identiteitsfraude: de rekening is op zijn naam geopend zonder dat hij het wist.",
        )
        .await?;
        made.disputes += 1;
        // Rejected after six days.
        go(-16);
        let rejected = disputes::open(
            state,
            helpdesk,
            &iban(2)?,
            "Melder zegt dat hij de spullen wel heeft verstuurd en heeft een verzendbewijs.",
        )
        .await?;
        made.disputes += 1;
        go(-10);
        disputes::apply(
            state,
            police,
            &rejected.row.id,
            DisputeMove::Reject,
            "Het verzendbewijs hoort bij een ander pakket; zes aangiftes met betaalbewijs. Bezwaar ongegrond.",
            None,
        )
        .await?;
        // Withdrawn the next day by the operator, at the holder's request.
        go(-12);
        let withdrawn = disputes::open(state, operator, &iban(3)?, "Verzoek van de rekeninghouder via de klantenservice.").await?;
        made.disputes += 1;
        go(-11);
        disputes::apply(
            state,
            operator,
            &withdrawn.row.id,
            DisputeMove::Withdraw,
            "De rekeninghouder trekt het bezwaar in.",
            None,
        )
        .await?;
        // Open for twelve days: the reminder is due.
        go(-12);
        disputes::open(
            state,
            helpdesk,
            &iban(4)?,
            "De houder verhuurt een vakantiehuis en zegt dat de huurders de betaling ten onrechte als oplichting meldden.",
        )
        .await?;
        made.disputes += 1;
        // A spoofed number: upheld, then a bank reports it again and a review waits.
        if let Some(phone) = phone {
            let number = Indicator::parse(None, phone).context("a demo phone number")?;
            go(-15);
            let upheld = disputes::open(
                state,
                support,
                &number,
                "Het nummer is van een bakkerij; oplichters lieten het als afzender zien (spoofing).",
            )
            .await?;
            made.disputes += 1;
            go(-6);
            disputes::apply(
                state,
                police,
                &upheld.row.id,
                DisputeMove::Uphold,
                "Verkeersgegevens van de provider tonen dat het nummer werd gespoofd. Bezwaar gegrond.",
                None,
            )
            .await?;
            go(-2);
            let draft = ReportDraft {
                external_id: Some("demo-dispute-again-1".to_owned()),
                fraud_type: FraudType::Bankhelpdesk,
                channel: None,
                occurred_at: state.now().plus_millis(-DAY),
                amount: None,
                aangifte: false,
                victim_age_band: AgeBand::From65,
                tlp: Tlp::Green,
                description: Some("Klant werd gebeld door 'de bank' vanaf dit nummer.".to_owned()),
                indicators: vec![(number, IndicatorRole::Caller)],
            };
            let report = NewReport::new(draft, state.now()).map_err(|e| anyhow::anyhow!("the demo report is invalid: {e}"))?;
            state.file_reports(bank, &[report]).await?;
        }
        go(0);
        // Objections people sent themselves, waiting for a reviewer.
        let objections: [(&str, &str, Option<&str>, &str); 2] = [
            (
                "https://fietsenhandel-demo.nl/",
                "Dit is de website van mijn fietsenwinkel. Een klant heeft ons gemeld na een ruzie over een reparatie.",
                Some("eigenaar@fietsenhandel-demo.nl"),
                "nl",
            ),
            (
                "+31 6 19 28 37 46",
                "This is my own mobile number. I sold a sofa, the buyer paid and collected it.",
                None,
                "en",
            ),
        ];
        for (n, (value, reason, contact, language)) in objections.iter().enumerate() {
            let indicator = Indicator::parse(None, value).context("a demo value")?;
            dispute_requests::submit(
                state,
                ObjectionInput {
                    indicator: &indicator,
                    reason,
                    contact: *contact,
                    language,
                    submitter: format!("demo-visitor-{n}"),
                },
            )
            .await?;
            made.objections += 1;
        }
        Ok(())
    }
    .await;
    go(0);
    result?;
    let now_ok = (state.now().millis() - Timestamp::now().millis()).abs() < DAY;
    anyhow::ensure!(now_ok, "the demo left the clock wrong");
    state.store.setting_or_insert(DONE, "1").await?;
    Ok(made)
}
