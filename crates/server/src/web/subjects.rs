//! The subject-access export as a printable page in plain Dutch (with English): served by
//! `GET /api/v1/subjects/{kind}/{value}/export?format=html` and the console's
//! `/partner/inzage`, and written to a file by `vangnet subject export --format html` (then
//! with its stylesheet inside, so the file stands alone). Every code of the JSON shape is shown
//! as words here.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::Timestamp;
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::report::FraudType;
use vangnet_core::timestamp::DAY_MILLIS;
use vangnet_wire::subjects::{ActorOut, SubjectExportOut};

use super::content::Lang;
use super::{not_found, render, see_other, server_error};
use crate::state::AppState;

/// A label in both languages.
#[derive(Debug, Clone, Copy)]
struct Label {
    nl: &'static str,
    en: &'static str,
}

const fn l(nl: &'static str, en: &'static str) -> Label {
    Label { nl, en }
}

/// The words for every key the export's JSON uses.
fn label(key: &str) -> Label {
    match key {
        // Partner kinds (the source of a report, who read it).
        "police" => l("politie", "police"),
        "helpdesk" => l("Fraudehelpdesk", "fraud helpdesk"),
        "bank" => l("bank", "bank"),
        "psp" => l("betaaldienst", "payment service provider"),
        "telecom" => l("telecomaanbieder", "telecom provider"),
        "marketplace" => l("online marktplaats", "marketplace"),
        "victim_support" => l("Slachtofferhulp", "victim support"),
        "operator" => l("beheerder van Vangnet", "Vangnet's operator"),
        "citizen" => l("burger (meldformulier)", "citizen (report form)"),
        // Roles of the value in a report.
        "payee" => l("rekening die het geld ontving", "account that received the money"),
        "payer" => l("rekening die betaalde", "account that paid"),
        "caller" => l("nummer dat belde", "number that called"),
        "sender" => l("afzender", "sender"),
        "seller" => l("verkoper", "seller"),
        "buyer" => l("koper", "buyer"),
        "website" => l("website", "website"),
        "contact" => l("contactgegeven", "contact detail"),
        "profile" => l("profiel", "profile"),
        "wallet" => l("cryptoadres", "crypto wallet"),
        "other" => l("anders", "other"),
        "mule" => l("rekening van een geldezel", "money-mule account"),
        // Statuses.
        "active" => l("gemeld", "reported"),
        "disputed" => l("in bezwaar: wordt onderzocht", "disputed: under investigation"),
        "cleared" => l("vrijgegeven: niet meer gemeld", "cleared: no longer listed"),
        "expired" => l("verlopen", "expired"),
        // Disputes and their moves.
        "open" | "opened" => l("in behandeling", "open"),
        "upheld" => l("toegekend: vrijgegeven", "upheld: cleared"),
        "rejected" => l("afgewezen", "rejected"),
        "withdrawn" => l("ingetrokken", "withdrawn"),
        // Objections from the form.
        "pending" => l("nog niet beoordeeld", "not yet reviewed"),
        "accepted" => l("aangenomen: bezwaar geopend", "accepted: a dispute was opened"),
        "declined" => l("niet aangenomen", "declined"),
        // Clearance reviews.
        "kept_cleared" => l("blijft vrijgegeven", "kept cleared"),
        "reactivated" => l("weer gemeld", "listed again"),
        // Accesses.
        "check_hit" => l("controle met treffer", "check with a hit"),
        "record_read" => l("overzicht bekeken", "record read"),
        "report_read" => l("melding bekeken", "report read"),
        "dispute_read" => l("bezwaar bekeken", "dispute read"),
        "mule_read" => l("geldezel-signalen bekeken", "money-mule flags read"),
        "network_read" => l("netwerk bekeken", "network read"),
        // Citizen reviews.
        "unverified" => l("nog niet gecontroleerd", "not yet checked"),
        "verified" => l("gecontroleerd", "checked"),
        _ => l("onbekend", "unknown"),
    }
}

/// A date and time in UTC as people write it: `3-12-2026 14:05`.
fn when(rfc3339: &str) -> String {
    match Timestamp::parse_rfc3339(rfc3339) {
        Ok(t) => {
            let (y, m, d) = t.ymd();
            let minutes = t.millis().rem_euclid(DAY_MILLIS) / 60_000;
            format!("{d}-{m}-{y} {:02}:{:02}", minutes / 60, minutes % 60)
        }
        Err(_) => rfc3339.to_owned(),
    }
}

/// A date only: `3-12-2026`.
fn day(rfc3339: &str) -> String {
    match Timestamp::parse_rfc3339(rfc3339) {
        Ok(t) => super::pnbf::date_text(t, Lang::Nl),
        Err(_) => rfc3339.to_owned(),
    }
}

fn opt_day(t: &Option<String>) -> String {
    t.as_deref().map_or_else(|| "—".to_owned(), day)
}

/// Who, in words.
fn party(p: &ActorOut) -> (String, String) {
    match (p.kind, &p.name, p.partner_kind) {
        ("partner", Some(name), Some(kind)) => {
            let k = label(kind);
            (format!("{name} ({})", k.nl), format!("{name} ({})", k.en))
        }
        ("public", ..) => (
            "iemand via de openbare controle (anoniem)".into(),
            "someone using the public check (anonymous)".into(),
        ),
        ("operator", ..) => ("de beheerder van Vangnet".into(), "Vangnet's operator".into()),
        ("system", ..) => ("Vangnet zelf (automatisch)".into(), "Vangnet itself (automatic)".into()),
        _ => (
            "een organisatie die geen partner meer is".into(),
            "an organisation that is no longer a partner".into(),
        ),
    }
}

struct Row {
    cells: Vec<Cell>,
}

/// A table cell: Dutch text, with the English beside it when it differs.
struct Cell {
    nl: String,
    en: String,
}

impl Cell {
    fn same(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            en: text.clone(),
            nl: text,
        }
    }
    fn of(label: Label) -> Cell {
        Cell {
            nl: label.nl.to_owned(),
            en: label.en.to_owned(),
        }
    }
    fn pair((nl, en): (String, String)) -> Cell {
        Cell { nl, en }
    }
    fn bilingual(&self) -> bool {
        self.nl != self.en
    }
}

struct DisputeView {
    id: String,
    state: Cell,
    opened: String,
    opened_by: Cell,
    reason: String,
    due: String,
    delete_at: String,
    events: Vec<Row>,
}

#[derive(Template)]
#[template(path = "subject_export.html")]
struct ExportPage {
    /// The stylesheet inside the page (a file on its own), or `None` for the served page.
    inline_style: Option<&'static str>,
    kind: Cell,
    value: String,
    generated: String,
    requested_by: Cell,
    status: Option<Cell>,
    status_since: String,
    first_seen: String,
    last_seen: String,
    report_count: usize,
    reports: Vec<Row>,
    withheld: usize,
    reports_truncated: bool,
    status_history: Vec<Row>,
    disputes: Vec<DisputeView>,
    objections: Vec<Row>,
    clearance_reviews: Vec<Row>,
    accesses: Vec<Row>,
    earlier_exports: Vec<Row>,
    entries_truncated: bool,
}

fn kind_cell(kind: &str) -> Cell {
    let name = |lang: Lang| {
        let k = &lang.content().kinds;
        match kind {
            "iban" => k.iban.clone(),
            "phone" => k.phone.clone(),
            "url" => k.url.clone(),
            "domain" => k.domain.clone(),
            "email" => k.email.clone(),
            "crypto" => k.crypto.clone(),
            "handle" => k.handle.clone(),
            other => other.to_owned(),
        }
    };
    Cell {
        nl: name(Lang::Nl),
        en: name(Lang::En),
    }
}

fn fraud_cell(key: &str) -> Cell {
    FraudType::from_key(key).map_or_else(
        || Cell::same(key),
        |t| Cell::pair((t.label_nl().to_owned(), t.label_en().to_owned())),
    )
}

fn tlp_text(key: &str) -> String {
    format!("TLP:{}", key.to_uppercase())
}

fn yes_no(b: bool) -> Cell {
    if b { Cell::of(l("ja", "yes")) } else { Cell::of(l("nee", "no")) }
}

fn page(out: &SubjectExportOut, inline_style: Option<&'static str>) -> ExportPage {
    let reports: Vec<Row> = out
        .reports
        .iter()
        .map(|r| {
            let text = match (&r.text, r.text_withheld) {
                (_, true) => Cell::of(l(
                    "niet getoond: de organisatie die meldde deelt de tekst niet verder (TLP); vraag het haar zelf",
                    "not shown: the reporting organisation does not share the text further (TLP); ask it directly",
                )),
                (Some(t), false) => Cell::same(t.clone()),
                (None, false) => Cell::same("—"),
            };
            let mut state = if r.retracted_at.is_some() {
                Cell::pair((
                    format!("ingetrokken op {}", opt_day(&r.retracted_at)),
                    format!("retracted on {}", opt_day(&r.retracted_at)),
                ))
            } else {
                Cell::of(l("geldt", "in force"))
            };
            if let Some(review) = r.review {
                let v = label(review);
                state = Cell::pair((format!("{}; {}", state.nl, v.nl), format!("{}; {}", state.en, v.en)));
            }
            Row {
                cells: vec![
                    Cell::same(day(&r.received_at)),
                    Cell::same(day(&r.occurred_at)),
                    fraud_cell(r.fraud_type),
                    Cell::of(label(r.source_kind)),
                    Cell::same(tlp_text(r.tlp)),
                    Cell::of(label(r.role)),
                    yes_no(r.aangifte),
                    text,
                    state,
                    Cell::same(day(&r.delete_at)),
                ],
            }
        })
        .collect();
    let status_history = out
        .status_history
        .iter()
        .map(|s| Row {
            cells: vec![Cell::same(when(&s.at)), Cell::of(label(s.status)), Cell::pair(party(&s.by))],
        })
        .collect();
    let disputes = out
        .disputes
        .iter()
        .map(|d| DisputeView {
            id: d.id.clone(),
            state: Cell::of(label(d.state)),
            opened: when(&d.opened_at),
            opened_by: Cell::pair(party(&d.opened_by)),
            reason: d.reason.clone(),
            due: day(&d.due_at),
            delete_at: d
                .delete_at
                .as_deref()
                .map_or_else(|| "zolang het bezwaar loopt (while it is open)".to_owned(), day),
            events: d
                .events
                .iter()
                .map(|e| Row {
                    cells: vec![
                        Cell::same(when(&e.at)),
                        Cell::of(label(&e.event)),
                        Cell::pair(party(&e.by)),
                        Cell::same(e.reason.clone()),
                    ],
                })
                .collect(),
        })
        .collect();
    let until_decided = "tot de beslissing (until decided)";
    let objections = out
        .objections
        .iter()
        .map(|o| Row {
            cells: vec![
                Cell::same(o.reference.clone()),
                Cell::same(when(&o.received_at)),
                Cell::same(o.reason.clone()),
                Cell::same(o.contact.clone().unwrap_or_else(|| "—".to_owned())),
                Cell::of(label(o.state)),
                Cell::same(o.decision_reason.clone().unwrap_or_else(|| "—".to_owned())),
                Cell::same(o.delete_at.as_deref().map_or_else(|| until_decided.to_owned(), day)),
            ],
        })
        .collect();
    let clearance_reviews = out
        .clearance_reviews
        .iter()
        .map(|c| Row {
            cells: vec![
                Cell::same(when(&c.opened_at)),
                Cell::same(c.reports.to_string()),
                c.outcome.map_or_else(|| Cell::of(label("pending")), |o| Cell::of(label(o))),
                Cell::same(c.reason.clone().unwrap_or_else(|| "—".to_owned())),
                Cell::same(c.delete_at.as_deref().map_or_else(|| until_decided.to_owned(), day)),
            ],
        })
        .collect();
    let accesses = out
        .accesses
        .iter()
        .map(|a| Row {
            cells: vec![
                Cell::same(when(&a.at)),
                Cell::pair(party(&a.by)),
                Cell::of(label(a.kind)),
                Cell::same(a.count.to_string()),
            ],
        })
        .collect();
    let earlier_exports = out
        .earlier_exports
        .iter()
        .map(|x| Row {
            cells: vec![Cell::same(when(&x.at)), Cell::pair(party(&x.by))],
        })
        .collect();
    let record = out.record.as_ref();
    ExportPage {
        inline_style,
        kind: kind_cell(out.kind),
        value: out.value.clone(),
        generated: when(&out.generated_at),
        requested_by: Cell::pair(party(&out.requested_by)),
        status: record.map(|r| Cell::of(label(r.status))),
        status_since: record.map_or_else(|| "—".to_owned(), |r| opt_day(&r.status_at)),
        first_seen: record.map_or_else(|| "—".to_owned(), |r| opt_day(&r.first_seen)),
        last_seen: record.map_or_else(|| "—".to_owned(), |r| opt_day(&r.last_seen)),
        report_count: out.reports.len(),
        withheld: out.reports.iter().filter(|r| r.text_withheld).count(),
        reports,
        reports_truncated: out.reports_truncated,
        status_history,
        disputes,
        objections,
        clearance_reviews,
        accesses,
        earlier_exports,
        entries_truncated: out.entries_truncated,
    }
}

/// The served page (with the site's stylesheet).
pub fn export_page(out: &SubjectExportOut) -> Response {
    render(StatusCode::OK, &page(out, None))
}

/// The page as a file of its own, its stylesheet inside.
pub fn export_document(out: &SubjectExportOut) -> Result<String, askama::Error> {
    page(out, Some(include_str!("static/vangnet.css"))).render()
}

/// The console's route: `/partner/inzage?soort=KIND&waarde=VALUE` (police and operator).
pub fn console_router() -> Router<AppState> {
    Router::new().route("/partner/inzage", get(console_export))
}

async fn console_export(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = super::console::signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    if !vangnet_services::subjects::may_export(who.partner.kind) {
        return not_found(&parts);
    }
    #[derive(Deserialize)]
    struct Query {
        soort: Option<String>,
        waarde: Option<String>,
    }
    let q: Query = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(Query { soort: None, waarde: None });
    let kind = q.soort.as_deref().and_then(IndicatorKind::from_key);
    let Some(indicator) = q.waarde.as_deref().and_then(|v| Indicator::parse(kind, v).ok()) else {
        return not_found(&parts);
    };
    match state.export_subject(&who.partner, &indicator).await {
        Ok(export) => export_page(&vangnet_wire::subjects::export_out(&export)),
        Err(_) => server_error(&parts),
    }
}
