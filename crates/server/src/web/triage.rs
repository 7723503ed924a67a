//! The console's triage queue of citizen reports, for the fraud helpdesk and the police:
//! `/partner/burgermeldingen` lists unverified reports from the public web form, oldest first,
//! with the submitter's own words, and a form per report to verify or reject it. Reads and
//! decisions go through `vangnet_services::citizen_reports`, so they are audited like the API's. Other
//! partner kinds get the not-found page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::index::CitizenReview;
use vangnet_store::StoredReport;

use super::console::{SignedIn, read_form, signed_in};
use super::pnbf::{date_text, money_text};
use super::{Chrome, field, lang_of, render, same_token, see_other, server_error};
use crate::state::AppState;
use vangnet_services::citizen_reports::{self, TriageError};

/// Reports shown per page.
const PAGE: u32 = 25;

pub fn console_router() -> Router<AppState> {
    Router::new()
        .route("/partner/burgermeldingen", get(queue))
        .route("/partner/burgermeldingen/{id}", axum::routing::post(decide))
}

/// One citizen report as the reviewer sees it.
struct Item {
    id: String,
    reference: String,
    received: String,
    occurred: String,
    fraud_type: String,
    amount: String,
    aangifte: bool,
    identifiers: Vec<(String, String)>,
    text: String,
}

#[derive(Template)]
#[template(path = "console_triage.html")]
struct TriagePage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    items: Vec<Item>,
    next: Option<i64>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueueQuery {
    na: Option<i64>,
    besluit: Option<String>,
}

fn item(parts: &Parts, r: &StoredReport) -> Item {
    let lang = lang_of(parts);
    let content = lang.content();
    Item {
        id: r.id.clone(),
        reference: r.external_id.clone().unwrap_or_default(),
        received: date_text(r.received_at, lang),
        occurred: date_text(r.occurred_at, lang),
        fraud_type: content.fraud_type(r.fraud_type).to_owned(),
        amount: r.amount.map(|m| money_text(m, lang)).unwrap_or_default(),
        aangifte: r.aangifte,
        identifiers: r
            .indicators
            .iter()
            .filter(|i| !i.derived)
            .map(|i| (content.kind(i.kind).to_owned(), i.value.clone()))
            .collect(),
        text: r.description.clone().unwrap_or_default(),
    }
}

async fn page(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    after: i64,
    notice: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let t = &lang_of(parts).content().ui;
    let listed = match citizen_reports::queue(state, &who.partner, CitizenReview::Unverified, after, PAGE).await {
        Ok(page) => page,
        Err(TriageError::NotAReviewer) => return super::not_found(parts),
        Err(_) => return server_error(parts),
    };
    let (error, status) = super::split_refusal(error);
    render(
        status,
        &TriagePage {
            page: Chrome::new(parts, &t.partner_triage_title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            items: listed.reports.iter().map(|r| item(parts, r)).collect(),
            next: listed.next,
            notice,
            error,
        },
    )
}

async fn queue(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let q: QueueQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(QueueQuery { na: None, besluit: None });
    let t = &lang_of(&parts).content().ui;
    let notice = match q.besluit.as_deref() {
        Some("bevestigd") => Some(t.partner_triage_verified.clone()),
        Some("afgewezen") => Some(t.partner_triage_rejected.clone()),
        _ => None,
    };
    page(&state, &parts, &who, q.na.unwrap_or(0).max(0), notice, None).await
}

async fn decide(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    if !who.partner.kind.may_review_citizen_reports() {
        return super::not_found(&parts);
    }
    let t = &lang_of(&parts).content().ui;
    let Some(fields) = read_form(body).await else {
        return page(
            &state,
            &parts,
            &who,
            0,
            None,
            Some((t.error_form_expired.clone(), StatusCode::PAYLOAD_TOO_LARGE)),
        )
        .await;
    };
    if !same_token(field(&fields, "csrf").unwrap_or(""), &who.session.csrf) {
        return page(
            &state,
            &parts,
            &who,
            0,
            None,
            Some((t.error_form_expired.clone(), StatusCode::FORBIDDEN)),
        )
        .await;
    }
    let (outcome, word) = match field(&fields, "outcome") {
        Some("verified") => (CitizenReview::Verified, "bevestigd"),
        Some("rejected") => (CitizenReview::Rejected, "afgewezen"),
        _ => {
            return page(
                &state,
                &parts,
                &who,
                0,
                None,
                Some((t.error_form_expired.clone(), StatusCode::UNPROCESSABLE_ENTITY)),
            )
            .await;
        }
    };
    match citizen_reports::review(&state, &who.partner, &id, outcome, field(&fields, "note")).await {
        Ok(_) => see_other(&format!("/partner/burgermeldingen?besluit={word}")),
        Err(TriageError::NotFound) => super::not_found(&parts),
        Err(TriageError::AlreadyReviewed(_)) => {
            page(
                &state,
                &parts,
                &who,
                0,
                None,
                Some((t.partner_triage_already.clone(), StatusCode::CONFLICT)),
            )
            .await
        }
        Err(e @ TriageError::InvalidNote) => {
            page(
                &state,
                &parts,
                &who,
                0,
                None,
                Some((e.to_string(), StatusCode::UNPROCESSABLE_ENTITY)),
            )
            .await
        }
        Err(_) => server_error(&parts),
    }
}
