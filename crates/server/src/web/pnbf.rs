//! PNBF pages: the printable dossier, the victim's case page behind the secret link, and the
//! banks' outbox, inbox, case and figures pages in the partner console.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use vangnet_core::indicator::Iban;

use super::render;
use crate::routes::pnbf::DossierOut;

#[derive(Template)]
#[template(path = "pnbf_dossier.html")]
struct DossierPage<'a> {
    d: &'a DossierOut,
}

/// The dossier as an HTML page for print.
pub fn dossier_page(d: &DossierOut) -> Response {
    render(StatusCode::OK, &DossierPage { d })
}

/// The victim's page behind the secret link.
#[derive(Template)]
#[template(path = "pnbf_victim.html")]
struct VictimPage {
    page: super::Chrome,
    c: &'static super::content::CaseTexts,
    state: String,
    now: String,
    next: String,
    term: Option<String>,
    repaid: Option<String>,
    naw: Option<crate::pnbf::Naw>,
    naw_deleted: bool,
    amount: String,
    paid_on: String,
    payee_iban: String,
    victim_bank: String,
    payee_bank: Option<String>,
    history: Vec<(String, String)>,
}

/// Money as people write it in the page's language: `€ 1.250,00` or `€1,250.00`.
pub fn money_text(m: vangnet_core::Money, lang: super::content::Lang) -> String {
    let decimal = m.decimal();
    let (whole, cents) = decimal.split_once('.').unwrap_or((&decimal, ""));
    let (neg, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let (sep, point) = match lang {
        super::content::Lang::Nl => ('.', ','),
        super::content::Lang::En => (',', '.'),
    };
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    let currency = m.currency();
    let symbol = if currency.code() == "EUR" { "€" } else { currency.code() };
    let space = if lang == super::content::Lang::Nl { " " } else { "" };
    if cents.is_empty() {
        format!("{neg}{symbol}{space}{grouped}")
    } else {
        format!("{neg}{symbol}{space}{grouped}{point}{cents}")
    }
}

/// A date as people write it: `29-11-2026` in Dutch, `29 Nov 2026` in English.
pub fn date_text(t: vangnet_core::Timestamp, lang: super::content::Lang) -> String {
    let (y, m, d) = t.ymd();
    match lang {
        super::content::Lang::Nl => format!("{d}-{m}-{y}"),
        super::content::Lang::En => {
            const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
            let name = MONTHS.get(m.saturating_sub(1) as usize).copied().unwrap_or("");
            format!("{d} {name} {y}")
        }
    }
}

pub async fn victim(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    axum::extract::Path(secret): axum::extract::Path<String>,
    parts: axum::http::request::Parts,
) -> Response {
    let case = match crate::pnbf::by_link(&state, &secret).await {
        Ok(c) => c,
        Err(crate::pnbf::PnbfError::NotFound) => return super::not_found(&parts),
        Err(_) => return super::server_error(&parts),
    };
    let lang = super::lang_of(&parts);
    let content = lang.content();
    let c = &content.case;
    let naw = match crate::pnbf::naw(&state, &case, "victim").await {
        Ok(n) => n,
        Err(_) => return super::server_error(&parts),
    };
    let events = match state.store.pnbf_events(&case.row.id).await {
        Ok(e) => e,
        Err(_) => return super::server_error(&parts),
    };
    let bank_name = |seq: Option<i64>| {
        let state = state.clone();
        async move {
            match seq {
                Some(s) => crate::pnbf::partner_by_seq(&state, s).await.ok().flatten().map(|p| p.name),
                None => None,
            }
        }
    };
    let texts = c.states.get(&case.row.state);
    let page = VictimPage {
        page: super::Chrome::new(&parts, &c.title, ""),
        c,
        state: case.row.state.clone(),
        now: texts.map(|t| t.now.clone()).unwrap_or_default(),
        next: texts.map(|t| t.next.clone()).unwrap_or_default(),
        term: case.row.term_ends.map(|t| c.term_until.replace("{date}", &date_text(t, lang))),
        repaid: case.repaid().map(|m| money_text(m, lang)),
        naw,
        naw_deleted: case.body.naw_deleted_at.is_some(),
        amount: money_text(case.amount(), lang),
        paid_on: date_text(vangnet_core::Timestamp::from_millis(case.body.paid_at), lang),
        payee_iban: Iban::parse(&case.body.payee_iban).map(|i| i.grouped()).unwrap_or_default(),
        victim_bank: bank_name(Some(case.row.victim_bank)).await.unwrap_or_default(),
        payee_bank: bank_name(case.row.payee_bank).await,
        history: events
            .iter()
            .map(|e| {
                (
                    date_text(e.at, lang),
                    c.events.get(&e.event).cloned().unwrap_or_else(|| e.event.clone()),
                )
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}
