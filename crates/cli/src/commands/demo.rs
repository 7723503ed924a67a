//! `vangnet demo`: demo partners and thousands of realistic synthetic reports, then serve.
//!
//! Running it again on the same database adds nothing: partners are found by name, reports
//! carry external ids (`demo-N`) and are generated from a time anchor kept in the database,
//! so they come out identical. The demo tokens are derived from a secret kept in the
//! database, so every run prints the same ones.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use vangnet_core::Timestamp;
use vangnet_core::report::NewReport;
use vangnet_core::token::{ApiToken, random_secret};
use vangnet_server::{Application, shutdown_signal};
use vangnet_store::{InsertOutcome, Partner, Store};
use vangnet_wire::registry::ReportIn;

use crate::config::Config;
use crate::synth::{DEMO_PARTNERS, Generator};
use crate::{DbArgs, ListenArgs};

/// The demo's do-not-originate request that waits for the operator.
const PENDING_PROTECTED: &str = "+31302345678";

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub listen: ListenArgs,
    /// How many synthetic reports to create.
    #[arg(long, default_value_t = 5_000)]
    reports: u64,
    /// Seed of the synthetic data.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Fill the database, print the tokens, and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo token of a partner: derived from the database's demo secret and its name.
fn demo_token(secret: &str, name: &str) -> anyhow::Result<ApiToken> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).context("the demo secret is not a valid key")?;
    mac.update(name.as_bytes());
    let digest = mac.finalize().into_bytes();
    ApiToken::parse(&format!("vn_{}", hex(&digest[..24]))).context("a derived token has the wrong shape")
}

pub(crate) async fn ensure_partners(store: &dyn Store) -> anyhow::Result<Vec<(Partner, ApiToken)>> {
    let secret = store.setting_or_insert("demo_token_secret", &hex(&random_secret(32)?)).await?;
    let mut out = Vec::with_capacity(DEMO_PARTNERS.len());
    for (name, kind) in DEMO_PARTNERS {
        let token = demo_token(&secret, name)?;
        let partner = match store.partner(name).await? {
            Some(existing) => {
                if store.authenticate(&token.digest()).await?.is_none() {
                    store
                        .add_token(&existing.id, &token.digest(), "demo", "cli:demo", Timestamp::now())
                        .await?;
                }
                existing
            }
            None => {
                store
                    .create_partner(name, *kind, &token.digest(), "demo", "cli:demo", Timestamp::now())
                    .await?
                    .0
            }
        };
        out.push((partner, token));
    }
    Ok(out)
}

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let partners = ensure_partners(store.as_ref()).await?;
    // The anchor keeps the generated dates, and so the reports, the same on every run.
    let anchor = store
        .setting_or_insert("demo_time_anchor", &Timestamp::now().millis().to_string())
        .await?;
    let anchor = Timestamp::from_millis(anchor.parse().context("the demo time anchor is not a number")?);
    let mut generator = Generator::new(args.seed, anchor);
    let bar = super::progress(Some(args.reports), "creating demo reports");
    let (mut created, mut existing) = (0u64, 0u64);
    let mut next = 0u64;
    while next < args.reports {
        let chunk_end = (next + 1_000).min(args.reports);
        let mut by_reporter: BTreeMap<usize, Vec<NewReport>> = BTreeMap::new();
        for n in next..chunk_end {
            let synthetic = generator.report(n, &format!("demo-{}-", args.seed));
            let input: ReportIn = serde_json::from_value(synthetic.to_json()).context("a synthetic report does not match the API")?;
            let report = input
                .into_new("", Timestamp::now())
                .map_err(|e| anyhow::anyhow!("synthetic report {n} is invalid: {}", e.message))?;
            by_reporter.entry(synthetic.reporter).or_default().push(report);
        }
        for (reporter, reports) in by_reporter {
            let (partner, _) = &partners[reporter];
            for outcome in store.insert_reports(partner, &reports, "cli:demo", Timestamp::now()).await? {
                match outcome {
                    InsertOutcome::Created(_) => created += 1,
                    _ => existing += 1,
                }
            }
        }
        bar.set_position(chunk_end);
        next = chunk_end;
    }
    bar.finish_and_clear();
    let citizens = super::demo_citizens::ensure(store.as_ref(), generator.mule_ibans(), anchor).await?;
    // The demo banks' helpdesk numbers never call out: a call presenting them is spoofed.
    let bank = partners
        .iter()
        .find(|(p, _)| p.kind == vangnet_core::PartnerKind::Bank)
        .map(|(p, _)| p.clone())
        .context("the demo has a bank")?;
    let helpdesks: Vec<String> = crate::synth::DEMO_HELPDESK_NUMBERS.iter().map(|n| (*n).to_owned()).collect();
    store
        .add_call_numbers(
            "protected",
            &helpdesks,
            &bank,
            vangnet_store::CallEntryState::Active,
            "cli:demo",
            Timestamp::now(),
        )
        .await?;
    // Another bank asks for its fraud line to be protected: a bank's entry waits for an
    // operator's approval (GET /api/v1/protected-numbers?state=pending).
    if let Some((second_bank, _)) = partners.iter().filter(|(p, _)| p.kind == vangnet_core::PartnerKind::Bank).nth(1) {
        store
            .add_call_numbers(
                "protected",
                &[PENDING_PROTECTED.to_owned()],
                second_bank,
                vangnet_store::CallEntryState::Pending,
                &second_bank.actor(),
                Timestamp::now(),
            )
            .await?;
    }
    let listen = config.listen_addr()?;
    config.ensure_naw_key()?;
    let mut settings = config.settings()?;
    if args.no_serve {
        settings.http.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    }
    let app = Application::build(settings, Arc::clone(&store))
        .await
        .context("the server could not start")?;
    let all_partners: Vec<Partner> = partners.iter().map(|(p, _)| p.clone()).collect();
    let links = super::demo_pnbf::ensure(app.services(), &all_partners, generator.mule_ibans(), args.seed)
        .await
        .context("the demo PNBF cases")?;
    let mules = super::demo_mules::ensure(app.services(), &all_partners, anchor, args.seed)
        .await
        .context("the demo money-mule networks")?;
    let phone = generator.network_phones(1).first().cloned();
    let made = super::demo_disputes::ensure(app.services(), &all_partners, generator.mule_ibans(), phone.as_deref())
        .await
        .context("the demo disputes")?;
    println!(
        "Vangnet demo: {created} new synthetic reports ({existing} were there already) from {} partners.",
        partners.len() - 1
    );
    println!();
    println!("Demo partner tokens (synthetic data only; a token lets anyone act as that partner):");
    for (partner, token) in &partners {
        println!("  {:<26} {:<15} {}", partner.name, partner.kind.as_str(), token.expose());
    }
    let mule = generator.mule_ibans().first().cloned().unwrap_or_default();
    let phone = generator.network_phones(0).first().cloned().unwrap_or_default();
    let police = partners
        .iter()
        .find(|(p, _)| p.kind == vangnet_core::PartnerKind::Police)
        .map(|(_, t)| t.expose().to_owned())
        .unwrap_or_default();
    let base = format!("http://{listen}");
    println!();
    println!("Open in a browser:");
    println!("  {base}/                    for citizens: check, report, help after fraud (English: {base}/?lang=en)");
    println!("  {base}/controleren?waarde={mule}");
    println!("  {base}/partner             the partner console: sign in with a token above");
    println!("For programs:");
    println!("  {base}/api/public/check?value={mule}");
    println!("  {base}/api/openapi.json    {base}/healthz");
    println!();
    println!("Check a mule account that many victims reported, and a phone number shared by one network:");
    println!(
        "  curl -s -H 'Authorization: Bearer {police}' -H 'Content-Type: application/json' \\\n       -d '{{\"indicators\": [{{\"value\": \"{mule}\"}}, {{\"value\": \"{phone}\"}}]}}' {base}/api/v1/checks"
    );
    println!("  vangnet check {mule} {phone} --as 'Politie (demo)'");
    println!();
    println!("PNBF recovery cases: sign in at {base}/partner as Noorderbank (outbox) or Zuiderbank / Betaalpunt (inbox).");
    println!("What the victim sees, one case per state (secret links; only the demo keeps them):");
    for (state, link) in &links {
        println!("  {state:<17} {base}{link}");
    }
    println!();
    println!(
        "Citizen reports from the web form ({citizens} new): unverified, they never decide. Review them at {base}/partner/burgermeldingen"
    );
    println!("as the Fraudehelpdesk or the Politie; a partner's check shows them as `unverified_citizen_reports` until then.");
    println!(
        "Disputes (bezwaar){}: one in every state at {base}/partner/bezwaren; the Politie and Beheer decide them.",
        if made.disputes > 0 {
            format!(", {} new", made.disputes)
        } else {
            String::new()
        }
    );
    println!("  Objections people sent through {base}/bezwaar wait at {base}/partner/bezwaren/verzoeken (Fraudehelpdesk);");
    println!("  a cleared number that a bank reported again waits at {base}/partner/bezwaren/herbeoordeling (Politie).");
    println!("  API: GET {base}/api/v1/disputes?state=open and {base}/api/v1/disputes/figures");
    println!(
        "Subject access (inzage, AVG art. 15): as the Politie or Beheer, open a record in the console and follow its export link, or\n  \
         GET {base}/api/v1/subjects/iban/{mule}/export?format=html, or: vangnet subject export iban {mule} --out inzage.html --db {}",
        config.db
    );
    println!(
        "Money mules ({} new transactions): five days of payments in which the detectors flagged {}, which eleven victims",
        mules.stored, mules.collector
    );
    println!(
        "  paid within four hours and which passed it on at once, a cycle and a scatter-gather. As a bank or the Politie, open {base}/partner/geldezels,"
    );
    println!(
        "  or GET {base}/api/v1/mules/alerts and {base}/api/v1/mules/accounts/{}; `vangnet replay` adds a live fan-in and a payment to it.",
        mules.collector
    );
    println!(
        "Zuiderbank asked for {PENDING_PROTECTED} on the do-not-originate list; it waits for the operator (Beheer):\n  \
         GET {base}/api/v1/protected-numbers?state=pending, then POST {base}/api/v1/protected-numbers/%2B{}/approve",
        &PENDING_PROTECTED[1..]
    );
    match config.metrics_addr().ok().flatten() {
        Some(addr) => println!("Metrics for Prometheus: http://{addr}/metrics (loopback), or {base}/metrics with the operator's token"),
        None => println!("Metrics for Prometheus: {base}/metrics with the operator's token"),
    }
    println!();
    println!("Watch payment and call screening (in another terminal, while this serves):");
    println!("  vangnet replay --db {}              over HTTP", config.db);
    println!("  vangnet worker  …  and  vangnet replay --via nats   over NATS JetStream");
    if args.no_serve {
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    println!("Serving on {base} (Ctrl-C to stop)");
    app.run_until_stopped(shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    Ok(ExitCode::SUCCESS)
}
