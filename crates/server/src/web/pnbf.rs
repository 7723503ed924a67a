//! PNBF pages: the printable dossier, the victim's case page behind the secret link, and the
//! banks' outbox, inbox, case and figures pages in the partner console.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use vangnet_core::indicator::Iban;

use super::render;
use vangnet_wire::pnbf::DossierOut;

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
    naw: Option<vangnet_services::pnbf::Naw>,
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
    let case = match vangnet_services::pnbf::by_link(&state, &secret).await {
        Ok(c) => c,
        Err(vangnet_services::pnbf::PnbfError::NotFound) => return super::not_found(&parts),
        Err(_) => return super::server_error(&parts),
    };
    let lang = super::lang_of(&parts);
    let content = lang.content();
    let c = &content.case;
    let naw = match vangnet_wire::pnbf::readable_naw(&state, &case, "victim").await {
        Ok(n) => n,
        Err(_) => return super::server_error(&parts),
    };
    let events = match state.store.pnbf_events(&case.row.id).await {
        Ok(e) => e,
        Err(_) => return super::server_error(&parts),
    };
    let Ok(parties) = vangnet_services::pnbf::Parties::load(&state).await else {
        return super::server_error(&parts);
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
        victim_bank: parties.name(Some(case.row.victim_bank)).unwrap_or_default(),
        payee_bank: parties.name(case.row.payee_bank),
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

// ---- The partner console: outbox, inbox, a case, figures. ----

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::get;
use vangnet_core::pnbf::Side;

use super::console::{SignedIn, read_form, signed_in};
use super::{Chrome, field, lang_of, same_token, see_other, server_error};
use crate::error::ApiError;
use crate::state::AppState;
use vangnet_wire::pnbf::{CaseIn, CaseOut, CaseSummary, EventIn, NawJson, case_out, new_case, new_move, summary};
use vangnet_wire::registry::MoneyJson;

pub fn console_router() -> Router<AppState> {
    Router::new()
        .route("/partner/zaken", get(cases).post(open_case))
        .route("/partner/zaken/cijfers", get(figures))
        .route("/partner/zaken/cijfers.csv", get(figures_csv))
        .route("/partner/zaken/{id}", get(case).post(move_case))
        .route("/partner/zaken/{id}/dossier", get(dossier))
}

#[derive(Template)]
#[template(path = "console_cases.html")]
struct CasesPage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    boxes: Vec<(String, &'static str, Vec<CaseSummary>)>,
    may_open: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console_case.html")]
struct CasePage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    c: CaseOut,
    is_victim_bank: bool,
    victim_link: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "console_figures.html")]
struct FiguresPage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    rows: Vec<vangnet_services::pnbf::FigureRow>,
    months: Vec<(String, u32)>,
    reasons: Vec<(String, u32)>,
}

fn is_bank(who: &SignedIn) -> bool {
    who.partner.kind.holds_accounts()
}

fn error_text(e: &ApiError) -> String {
    match &e.field {
        Some(f) => format!("{f}: {}", e.message),
        None => e.message.clone(),
    }
}

async fn cases_page(state: &AppState, parts: &Parts, who: &SignedIn, error: Option<String>, status: StatusCode) -> Response {
    let t = &lang_of(parts).content().ui;
    let mut boxes = Vec::new();
    if is_bank(who) {
        let Ok(parties) = vangnet_services::pnbf::Parties::load(state).await else {
            return server_error(parts);
        };
        let now = state.now();
        for (side, heading, id) in [
            (Side::VictimBank, &t.partner_cases_outbox, "outbox"),
            (Side::PayeeBank, &t.partner_cases_inbox, "inbox"),
        ] {
            let Ok(list) = vangnet_services::pnbf::cases_of(state, &who.partner, side).await else {
                return server_error(parts);
            };
            let rows = list.iter().map(|c| summary(&parties, now, c, side)).collect();
            boxes.push((heading.clone(), id, rows));
        }
    }
    render(
        status,
        &CasesPage {
            page: Chrome::new(parts, &t.partner_cases_title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            boxes,
            may_open: is_bank(who),
            error,
        },
    )
}

async fn cases(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    cases_page(&state, &parts, &who, None, StatusCode::OK).await
}

async fn case_page(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    id: &str,
    link: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let t = &lang_of(parts).content().ui;
    let (found, side) = match vangnet_services::pnbf::read(state, &who.partner, id).await {
        Ok(f) => f,
        Err(vangnet_services::pnbf::PnbfError::NotFound) => return super::not_found(parts),
        Err(_) => return server_error(parts),
    };
    let Ok(c) = case_out(state, &found, side, &who.partner).await else {
        return server_error(parts);
    };
    let (error, status) = match error {
        Some((e, s)) => (Some(e), s),
        None => (None, StatusCode::OK),
    };
    render(
        status,
        &CasePage {
            page: Chrome::new(parts, &t.partner_case_title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            is_victim_bank: side == Side::VictimBank,
            c,
            victim_link: link,
            error,
        },
    )
}

async fn case(State(state): State<AppState>, Path(id): Path<String>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    if !is_bank(&who) {
        return super::not_found(&parts);
    }
    case_page(&state, &parts, &who, &id, None, None).await
}

/// Why a console form was not taken.
enum Refused {
    /// Not signed in: to the sign-in page.
    SignIn,
    /// Not a bank or PSP: the pages do not exist for it.
    NotBank,
    /// Too large or without the session's CSRF token: the form's page again, with this status.
    Page(SignedIn, StatusCode),
}

impl Refused {
    fn answer(self, parts: &Parts) -> Response {
        match self {
            Refused::SignIn => see_other("/partner"),
            Refused::NotBank | Refused::Page(..) => super::not_found(parts),
        }
    }
}

/// A form posted to the PNBF console pages: the signed-in bank and the form's fields, once
/// the session, the partner kind, the size and the CSRF token are checked.
async fn bank_form(state: &AppState, parts: &Parts, body: axum::body::Body) -> Result<(SignedIn, Vec<(String, String)>), Refused> {
    let who = signed_in(state, parts).await.ok_or(Refused::SignIn)?;
    if !is_bank(&who) {
        return Err(Refused::NotBank);
    }
    let Some(fields) = read_form(body).await else {
        return Err(Refused::Page(who, StatusCode::PAYLOAD_TOO_LARGE));
    };
    if !same_token(field(&fields, "csrf").unwrap_or(""), &who.session.csrf) {
        return Err(Refused::Page(who, StatusCode::FORBIDDEN));
    }
    Ok((who, fields))
}

fn expired(parts: &Parts) -> String {
    lang_of(parts).content().ui.error_form_expired.clone()
}

fn text_field(fields: &[(String, String)], name: &str) -> Option<String> {
    field(fields, name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

async fn open_case(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match bank_form(&state, &parts, body).await {
        Ok(taken) => taken,
        Err(Refused::Page(who, status)) => return cases_page(&state, &parts, &who, Some(expired(&parts)), status).await,
        Err(refused) => return refused.answer(&parts),
    };
    let input = CaseIn {
        payer_iban: text_field(&fields, "payer_iban").unwrap_or_default(),
        payee_iban: text_field(&fields, "payee_iban").unwrap_or_default(),
        amount: MoneyJson {
            value: text_field(&fields, "amount").unwrap_or_default().replace(',', "."),
            currency: "EUR".to_owned(),
        },
        paid_at: text_field(&fields, "paid_at").unwrap_or_default(),
        method: text_field(&fields, "method").unwrap_or_default(),
        category: text_field(&fields, "category").unwrap_or_default(),
        aangifte: text_field(&fields, "aangifte"),
        reference: text_field(&fields, "reference"),
    };
    let opened = match new_case(&input) {
        Ok(new) => vangnet_services::pnbf::open(&state, &who.partner, new)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match opened {
        Ok((c, secret)) => case_page(&state, &parts, &who, &c.row.id, Some(format!("/zaak/{secret}")), None).await,
        Err(e) if e.status.is_client_error() => cases_page(&state, &parts, &who, Some(error_text(&e)), e.status).await,
        Err(_) => server_error(&parts),
    }
}

async fn move_case(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match bank_form(&state, &parts, body).await {
        Ok(taken) => taken,
        Err(Refused::Page(who, status)) => return case_page(&state, &parts, &who, &id, None, Some((expired(&parts), status))).await,
        Err(refused) => return refused.answer(&parts),
    };
    if field(&fields, "event") == Some("new_link") {
        return match vangnet_services::pnbf::new_link(&state, &who.partner, &id).await {
            Ok(secret) => case_page(&state, &parts, &who, &id, Some(format!("/zaak/{secret}")), None).await,
            Err(vangnet_services::pnbf::PnbfError::NotFound) => super::not_found(&parts),
            Err(_) => server_error(&parts),
        };
    }
    let naw = text_field(&fields, "naw_name").map(|name| NawJson {
        name,
        address: text_field(&fields, "naw_address").unwrap_or_default(),
        town: text_field(&fields, "naw_town").unwrap_or_default(),
    });
    let input = EventIn {
        event: text_field(&fields, "event").unwrap_or_default(),
        reason: text_field(&fields, "reason"),
        amount: text_field(&fields, "amount").map(|v| MoneyJson {
            value: v.replace(',', "."),
            currency: "EUR".to_owned(),
        }),
        naw,
        outcome: text_field(&fields, "outcome"),
    };
    let moved = match new_move(&input) {
        Ok(mv) => vangnet_services::pnbf::apply(&state, &who.partner, &id, mv)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::from(e)),
    };
    match moved {
        Ok(_) => see_other(&format!("/partner/zaken/{id}")),
        Err(e) if e.status == StatusCode::NOT_FOUND => super::not_found(&parts),
        Err(e) if e.status.is_client_error() => case_page(&state, &parts, &who, &id, None, Some((error_text(&e), e.status))).await,
        Err(_) => server_error(&parts),
    }
}

async fn dossier(State(state): State<AppState>, Path(id): Path<String>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let found = match vangnet_services::pnbf::read_as_victim_bank(&state, &who.partner, &id).await {
        Ok(c) => c,
        Err(vangnet_services::pnbf::PnbfError::NotFound) => return super::not_found(&parts),
        Err(_) => return server_error(&parts),
    };
    match vangnet_wire::pnbf::dossier_out(&state, &found, &who.partner).await {
        Ok(d) => dossier_page(&d),
        Err(_) => server_error(&parts),
    }
}

async fn figures(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let Ok(rows) = vangnet_services::pnbf::figure_rows_for(&state, &who.partner).await else {
        return server_error(&parts);
    };
    let total = rows.last().map(|r| r.figures.clone()).unwrap_or_default();
    let t = &lang_of(&parts).content().ui;
    render(
        StatusCode::OK,
        &FiguresPage {
            page: Chrome::new(&parts, &t.partner_figures_title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            rows,
            months: total.opened_per_month.into_iter().collect(),
            reasons: total.ineligible_by_reason.into_iter().collect(),
        },
    )
}

async fn figures_csv(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    match vangnet_services::pnbf::figure_rows_for(&state, &who.partner).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"pnbf-figures.csv\""),
            ],
            vangnet_wire::pnbf::figures_csv(&rows),
        )
            .into_response(),
        Err(_) => server_error(&parts),
    }
}
