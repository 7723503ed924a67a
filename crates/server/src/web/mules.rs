//! The console's money-mule page, `/partner/geldezels`: look up one account (its mule score,
//! the reasons and its flags) and the reader's alerts, newest first, each drawn as a small
//! server-rendered SVG graph with the same data in a table beside it. For the police, banks and
//! payment service providers; reads go through `vangnet_services::mule_reads`, so they are
//! audited and follow the same visibility rule as the API. Other partner kinds get the
//! not-found page.

use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::indicator::Iban;
use vangnet_core::mules::{Pattern, ScoreReason};
use vangnet_core::partner::PartnerKind;
use vangnet_services::mule_reads::{self, FlagView};
use vangnet_services::mules::MuleError;

use super::console::signed_in;
use super::content::{Lang, MuleTexts};
use super::pnbf::{date_text, money_text};
use super::{Chrome, lang_of, render, see_other, server_error, svg_text};
use crate::state::AppState;

/// Alerts per page.
const PAGE: u32 = 20;

pub fn console_router() -> Router<AppState> {
    Router::new().route("/partner/geldezels", get(page))
}

/// One account of a flag, as a row of its table.
struct AccountRow {
    label: String,
    account: String,
    /// The IBAN, to look it up, when the reader may see it.
    link: Option<String>,
    bank: String,
    role: String,
}

/// One flag as shown.
struct Alert {
    id: i64,
    pattern: String,
    score: String,
    raised: String,
    window: String,
    amount: String,
    rows: Vec<AccountRow>,
    more: i64,
    svg: String,
}

struct Lookup {
    iban: String,
    score: String,
    mule_reports: u32,
    reasons: Vec<String>,
    alerts: Vec<Alert>,
}

#[derive(Template)]
#[template(path = "console_mules.html")]
struct MulesPage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    m: &'static MuleTexts,
    query: String,
    lookup: Option<Lookup>,
    lookup_error: Option<String>,
    alerts: Vec<Alert>,
    next: Option<i64>,
}

#[derive(Deserialize)]
struct PageQuery {
    iban: Option<String>,
    voor: Option<i64>,
}

fn may_read(kind: PartnerKind) -> bool {
    kind == PartnerKind::Police || kind.holds_accounts()
}

/// The letter of the `i`-th account (A … Z, then AA …).
fn label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if i < 26 {
        char::from(letters[i]).to_string()
    } else {
        format!("{}{}", char::from(letters[(i / 26 - 1) % 26]), char::from(letters[i % 26]))
    }
}

/// The flag as an SVG graph: the centre in the middle, the others on a circle around it, joined
/// to it (arrows into the centre for a fan-in, out of it for a fan-out). Readable up to the 32
/// accounts a flag names; `<title>` and `<desc>` say what it shows.
fn graph(f: &FlagView, m: &MuleTexts, id: &str) -> String {
    let (w, h, cx, cy) = (360.0f64, 260.0f64, 180.0f64, 130.0f64);
    let others = f.accounts.len().saturating_sub(1);
    let radius = if others > 12 { 105.0 } else { 90.0 };
    let mut s = String::with_capacity(4096);
    let title = m.pattern(f.pattern.as_str());
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" \
         aria-labelledby=\"{id}-t {id}-d\" class=\"mule-graph\"><title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        svg_text(&title),
        svg_text(&m.graph_desc)
    );
    let _ = write!(
        s,
        "<defs><marker id=\"{id}-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" \
         orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#1d3557\"/></marker></defs>"
    );
    let node_r = if others > 16 { 9.0 } else { 12.0 };
    let points: Vec<(f64, f64)> = (0..others)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / others.max(1) as f64 - std::f64::consts::FRAC_PI_2;
            (cx + radius * a.cos(), cy + radius * a.sin())
        })
        .collect();
    for &(x, y) in &points {
        // Stop the line at the node's edge so the arrow head shows.
        let (dx, dy) = (x - cx, y - cy);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let (x1, y1) = (cx + ux * 16.0, cy + uy * 16.0);
        let (x2, y2) = (x - ux * (node_r + 1.0), y - uy * (node_r + 1.0));
        let marker = match f.pattern {
            Pattern::FanIn => format!(" marker-start=\"url(#{id}-arrow)\""),
            Pattern::FanOut => format!(" marker-end=\"url(#{id}-arrow)\""),
            _ => String::new(),
        };
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#1d3557\" stroke-width=\"1.5\"{marker}/>"
        );
    }
    let _ = write!(
        s,
        "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"16\" fill=\"#b00020\"/><text x=\"{cx}\" y=\"{:.1}\" text-anchor=\"middle\" \
         font-size=\"13\" font-weight=\"bold\" fill=\"#ffffff\">A</text>",
        cy + 4.5
    );
    for (i, &(x, y)) in points.iter().enumerate() {
        let visible = f.accounts.get(i + 1).is_some_and(|a| a.visible);
        let (fill, text) = if visible { ("#1d3557", "#ffffff") } else { ("#ffffff", "#1d3557") };
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{node_r}\" fill=\"{fill}\" stroke=\"#1d3557\" stroke-width=\"1.5\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{text}\">{}</text>",
            y + 4.0,
            if node_r < 10.0 { 9 } else { 11 },
            label(i + 1)
        );
    }
    s.push_str("</svg>");
    s
}

fn alert(f: &FlagView, m: &MuleTexts, lang: Lang) -> Alert {
    let rows = f
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| AccountRow {
            label: label(i),
            account: match (&a.iban, a.visible) {
                (Some(iban), true) => iban.clone(),
                _ => m.hidden_account.clone(),
            },
            link: a.iban.clone().filter(|_| a.visible),
            bank: a.bank.clone(),
            role: if a.centre { m.role_centre.clone() } else { m.role_member.clone() },
        })
        .collect();
    Alert {
        id: f.seq,
        pattern: m.pattern(f.pattern.as_str()),
        score: format!("{:.2}", f.score),
        raised: date_text(f.raised_at, lang),
        window: format!("{} – {}", date_text(f.window_from, lang), date_text(f.window_to, lang)),
        amount: money_text(vangnet_core::Money::from_minor(f.amount_minor, vangnet_core::Currency::EUR), lang),
        rows,
        more: f.more_accounts,
        svg: graph(f, m, &format!("flag-{}", f.seq)),
    }
}

fn reason_text(r: &ScoreReason, m: &MuleTexts) -> String {
    match r {
        ScoreReason::Pattern {
            pattern, strength, flags, ..
        } => format!("{}: {} ({flags}×, +{strength:.2})", m.reason_pattern, m.pattern(pattern.as_str())),
        ScoreReason::Reports { reports, strength } => format!("{}: {reports} (+{strength:.2})", m.reason_reports),
    }
}

async fn page(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    if !may_read(who.partner.kind) {
        return super::not_found(&parts);
    }
    let q: PageQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(PageQuery { iban: None, voor: None });
    let lang = lang_of(&parts);
    let m = &lang.content().mules;
    let query = q.iban.clone().unwrap_or_default();
    let (lookup, lookup_error) = match q.iban.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => (None, None),
        Some(raw) => match Iban::parse(raw) {
            Err(_) => (None, Some(m.lookup_invalid.clone())),
            Ok(iban) => match mule_reads::account(&state, &who.partner, &iban).await {
                Ok(view) => (
                    Some(Lookup {
                        iban: view.iban.grouped(),
                        score: format!("{:.2}", view.score.score),
                        mule_reports: view.mule_reports,
                        reasons: view.score.reasons.iter().map(|r| reason_text(r, m)).collect(),
                        alerts: view.flags.iter().map(|f| alert(f, m, lang)).collect(),
                    }),
                    None,
                ),
                Err(MuleError::NotVisible) => (None, Some(m.lookup_not_visible.clone())),
                Err(_) => return server_error(&parts),
            },
        },
    };
    let listed = match mule_reads::alerts(&state, &who.partner, q.voor, PAGE).await {
        Ok(p) => p,
        Err(_) => return server_error(&parts),
    };
    render(
        StatusCode::OK,
        &MulesPage {
            page: Chrome::new(&parts, &m.title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            m,
            query,
            lookup,
            lookup_error,
            alerts: listed.alerts.iter().map(|f| alert(f, m, lang)).collect(),
            next: listed.next,
        },
    )
}
