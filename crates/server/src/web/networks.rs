//! The console's network page, `/partner/netwerk?waarde=…`: the network around one indicator
//! as the signed-in partner may see it, drawn as a server-rendered SVG graph (readable at 50
//! nodes: rings by distance, numbered nodes, status by colour and in the table) with the same
//! data in accessible tables beside it and links to each node's record. The read goes through
//! `vangnet_services::networks`, so it is audited like the API's.

use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::index::{CheckStatus, MAX_DEPTH};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_services::networks::{self, DEFAULT_DEPTH, NetworkAnswer};

use super::console::signed_in;
use super::content::{Content, NetworkTexts};
use super::pnbf::date_text;
use super::{Chrome, lang_of, render, see_other, server_error, svg_text};
use crate::state::AppState;

/// Nodes on the page (the API allows more).
const PAGE_NODES: usize = 50;

pub fn console_router() -> Router<AppState> {
    Router::new().route("/partner/netwerk", get(page))
}

struct NodeRow {
    number: usize,
    kind: String,
    value: String,
    record: String,
    status: String,
    reports: u32,
    depth: u8,
}

struct LinkRow {
    a: usize,
    b: usize,
    reports: u32,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "console_network.html")]
struct NetworkPage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    n: &'static NetworkTexts,
    query: String,
    depth: u8,
    depths: Vec<u8>,
    error: Option<String>,
    svg: String,
    nodes: Vec<NodeRow>,
    links: Vec<LinkRow>,
    truncated: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    waarde: Option<String>,
    soort: Option<String>,
    diepte: Option<u8>,
}

fn status_text(status: CheckStatus, n: &NetworkTexts) -> String {
    match status {
        CheckStatus::Reported => n.status_reported.clone(),
        CheckStatus::Disputed => n.status_disputed.clone(),
        CheckStatus::NotReported => n.status_not_reported.clone(),
    }
}

/// The graph: the indicator asked about in the middle, each further distance on a ring around
/// it, nodes numbered as in the table; links as lines.
fn graph(a: &NetworkAnswer, n: &NetworkTexts) -> String {
    let size = 560.0f64;
    let c = size / 2.0;
    let deepest = a.nodes.iter().map(|x| x.depth).max().unwrap_or(0).max(1);
    let ring = (c - 30.0) / f64::from(deepest);
    let mut at: Vec<(f64, f64)> = vec![(c, c); a.nodes.len()];
    for d in 1..=deepest {
        let members: Vec<usize> = (0..a.nodes.len()).filter(|&i| a.nodes[i].depth == d).collect();
        let count = members.len().max(1) as f64;
        // Alternate rings start half a step apart, so that lines cross fewer nodes.
        let offset = if d % 2 == 0 { std::f64::consts::PI / count } else { 0.0 };
        for (k, &i) in members.iter().enumerate() {
            let angle = std::f64::consts::TAU * k as f64 / count + offset - std::f64::consts::FRAC_PI_2;
            at[i] = (c + ring * f64::from(d) * angle.cos(), c + ring * f64::from(d) * angle.sin());
        }
    }
    let mut s = String::with_capacity(8192);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"{size}\" height=\"{size}\" role=\"img\" \
         aria-labelledby=\"network-t network-d\" class=\"network-graph\"><title id=\"network-t\">{}</title><desc id=\"network-d\">{}</desc>",
        svg_text(&n.title),
        svg_text(&n.graph_desc)
    );
    for l in &a.links {
        let ((x1, y1), (x2, y2)) = (at[l.a], at[l.b]);
        let width = 1.0 + f64::from(l.reports.min(5)) * 0.5;
        let _ = write!(
            s,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#5a6270\" stroke-width=\"{width:.1}\"/>"
        );
    }
    let r = if a.nodes.len() > 30 { 10.0 } else { 13.0 };
    for (i, node) in a.nodes.iter().enumerate() {
        let (x, y) = at[i];
        let (fill, text) = match node.view.status {
            CheckStatus::Reported => ("#b00020", "#ffffff"),
            CheckStatus::Disputed => ("#8a4b00", "#ffffff"),
            CheckStatus::NotReported => ("#ffffff", "#1d3557"),
        };
        let radius = if i == 0 { r + 5.0 } else { r };
        let _ = write!(
            s,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius}\" fill=\"{fill}\" stroke=\"#1d3557\" stroke-width=\"{}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"{}\" fill=\"{text}\">{}</text>",
            if i == 0 { 3 } else { 1 },
            y + 4.0,
            if r < 12.0 { 10 } else { 12 },
            i + 1
        );
    }
    s.push_str("</svg>");
    s
}

fn record_link(kind: IndicatorKind, value: &str) -> String {
    let query = serde_urlencoded::to_string([("soort", kind.as_str()), ("waarde", value)]).unwrap_or_default();
    format!("/partner/zoeken?{query}")
}

fn rows(a: &NetworkAnswer, content: &Content, lang: super::content::Lang) -> (Vec<NodeRow>, Vec<LinkRow>) {
    let n = &content.networks;
    let nodes = a
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| NodeRow {
            number: i + 1,
            kind: content.kind(node.kind).to_owned(),
            value: node.value.clone(),
            record: record_link(node.kind, &node.value),
            status: status_text(node.view.status, n),
            reports: node.view.reports,
            depth: node.depth,
        })
        .collect();
    let links = a
        .links
        .iter()
        .map(|l| LinkRow {
            a: l.a + 1,
            b: l.b + 1,
            reports: l.reports,
            last_seen: date_text(l.last_seen, lang),
        })
        .collect();
    (nodes, links)
}

async fn page(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let q: PageQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(PageQuery {
        waarde: None,
        soort: None,
        diepte: None,
    });
    let lang = lang_of(&parts);
    let content = lang.content();
    let n = &content.networks;
    let depth = q.diepte.unwrap_or(DEFAULT_DEPTH).clamp(1, MAX_DEPTH);
    let query = q.waarde.clone().unwrap_or_default();
    let mut page = NetworkPage {
        page: Chrome::new(&parts, &n.title, "partner"),
        partner_name: who.partner.name.clone(),
        partner_kind: who.partner.kind.as_str().to_owned(),
        csrf: who.session.csrf.clone(),
        n,
        query: query.clone(),
        depth,
        depths: (1..=MAX_DEPTH).collect(),
        error: None,
        svg: String::new(),
        nodes: Vec::new(),
        links: Vec::new(),
        truncated: false,
    };
    if let Some(raw) = q.waarde.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        let kind = q.soort.as_deref().and_then(IndicatorKind::from_key);
        match Indicator::parse(kind, raw) {
            Err(_) => page.error = Some(n.invalid.clone()),
            Ok(indicator) => match networks::network(&state, &who.partner, &indicator, depth, PAGE_NODES).await {
                Ok(answer) => {
                    page.svg = graph(&answer, n);
                    let (nodes, links) = rows(&answer, content, lang);
                    page.nodes = nodes;
                    page.links = links;
                    page.truncated = answer.truncated;
                    page.query = indicator.canonical().to_owned();
                }
                Err(_) => return server_error(&parts),
            },
        }
    }
    render(StatusCode::OK, &page)
}
