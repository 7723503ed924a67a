//! The console's disputes: `/partner/bezwaren` is the reviewers' queue (open disputes oldest
//! first, overdue and due-soon marked) or a partner's own list, with the form to open a
//! dispute on the person's behalf and the figures; `/partner/bezwaren/{id}` one dispute with its
//! history, the reports the reader may see and a form per allowed move;
//! `/partner/bezwaren/verzoeken` the objections from the public form; and
//! `/partner/bezwaren/herbeoordeling` the cleared indicators that a new report named. Reads and
//! moves go through `vangnet_services::disputes`, so they are checked and audited as the API's.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::dispute::{ClearanceOutcome, DisputeMove, DisputePolicy, DisputeState, RequestState, may_review_requests};
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_services::dispute_requests;
use vangnet_services::disputes::{self, Dispute, DisputeServiceError};
use vangnet_store::Partner;

use super::console::{SignedIn, read_form, signed_in};
use super::content::{Content, DisputeTexts, Lang};
use super::pnbf::date_text;
use super::{Chrome, field, lang_of, render, same_token, see_other, server_error};
use crate::state::AppState;

/// Disputes and objections shown per page.
const PAGE: u32 = 50;
/// Reports shown on a dispute's page at most (the record page lists them all).
const MAX_REPORTS: usize = 10;

pub fn console_router() -> Router<AppState> {
    Router::new()
        .route("/partner/bezwaren", get(queue).post(open))
        .route("/partner/bezwaren/verzoeken", get(requests))
        .route("/partner/bezwaren/verzoeken/{id}", post(decide_request))
        .route("/partner/bezwaren/herbeoordeling", get(clearance))
        .route("/partner/bezwaren/herbeoordeling/{id}", post(close_clearance))
        .route("/partner/bezwaren/{id}", get(dispute_page).post(move_dispute))
}

/// The label of a dispute state in the page's language.
fn state_label(d: &DisputeTexts, state: DisputeState) -> &str {
    match state {
        DisputeState::Open => &d.state_open,
        DisputeState::Upheld => &d.state_upheld,
        DisputeState::Rejected => &d.state_rejected,
        DisputeState::Withdrawn => &d.state_withdrawn,
    }
}

/// A dispute in a list or on its page.
struct Row {
    id: String,
    kind: String,
    value: String,
    state: String,
    state_key: &'static str,
    opener: String,
    opened: String,
    due: String,
    overdue: bool,
    due_soon: bool,
}

fn row(content: &Content, lang: Lang, partners: &[Partner], dispute: &Dispute) -> Row {
    let r = &dispute.row;
    Row {
        id: r.id.clone(),
        kind: content.kind(r.kind).to_owned(),
        value: r.value.clone(),
        state: state_label(&content.disputes, r.state).to_owned(),
        state_key: r.state.as_str(),
        opener: partners
            .iter()
            .find(|p| p.seq == r.opener_seq)
            .map_or_else(|| r.opener_id.clone(), |p| p.name.clone()),
        opened: date_text(r.opened_at, lang),
        due: date_text(r.due_at, lang),
        overdue: dispute.overdue,
        due_soon: dispute.due_soon,
    }
}

/// Whether the signed-in partner decides disputes (or runs the platform).
#[derive(Template)]
#[template(path = "console_disputes.html")]
struct QueuePage {
    page: Chrome,
    d: &'static DisputeTexts,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    intro: String,
    rows: Vec<Row>,
    filters: Vec<(&'static str, String, bool)>,
    filter: String,
    next: Option<String>,
    may_open: bool,
    kinds: Vec<(&'static str, String)>,
    reviews_requests: bool,
    reviews_clearance: bool,
    figures: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueueQuery {
    staat: Option<String>,
    na: Option<String>,
}

async fn queue_page(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    query: QueueQuery,
    notice: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let lang = lang_of(parts);
    let content = lang.content();
    let d = &content.disputes;
    let filter = query.staat.unwrap_or_else(|| "open".to_owned());
    let wanted = if filter == "alle" {
        None
    } else {
        Some(DisputeState::from_key(&filter).unwrap_or(DisputeState::Open))
    };
    let found = match disputes::list(state, &who.partner, None, wanted, query.na.as_deref(), PAGE).await {
        Ok(found) => found,
        Err(_) => return server_error(parts),
    };
    let Ok(partners) = state.store.partners().await else {
        return server_error(parts);
    };
    let decider = vangnet_services::disputes::works_the_queue(state, who.partner.kind);
    let figures = if decider {
        match disputes::figures(state, &who.partner).await {
            Ok(f) => vec![
                (d.fig_opened.clone(), f.opened.to_string()),
                (d.fig_open.clone(), f.open.to_string()),
                (d.fig_overdue.clone(), f.overdue.to_string()),
                (d.fig_upheld.clone(), f.upheld.to_string()),
                (d.fig_rejected.clone(), f.rejected.to_string()),
                (d.fig_withdrawn.clone(), f.withdrawn.to_string()),
                (d.fig_late.clone(), f.decided_late.to_string()),
                (
                    d.fig_median.clone(),
                    f.median_days_to_decision.map_or_else(|| d.fig_none.clone(), |m| format!("{m:.1}")),
                ),
            ],
            Err(_) => return server_error(parts),
        }
    } else {
        Vec::new()
    };
    let intro = if decider {
        d.queue_intro_decider
            .replace("{days}", &state.settings.disputes.decision_days.to_string())
    } else {
        d.queue_intro_own.clone()
    };
    let mut filters: Vec<(&'static str, String, bool)> = DisputeState::ALL
        .iter()
        .map(|s| (s.as_str(), state_label(d, *s).to_owned(), filter == s.as_str()))
        .collect();
    filters.push(("alle", d.filter_all.clone(), filter == "alle"));
    let next = (found.len() == PAGE as usize)
        .then(|| found.last().map(|x| x.row.id.clone()))
        .flatten();
    let (error, status) = super::split_refusal(error);
    render(
        status,
        &QueuePage {
            page: Chrome::new(parts, &d.queue_title, "partner"),
            d,
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            intro,
            rows: found.iter().map(|x| row(content, lang, &partners, x)).collect(),
            filters,
            filter,
            next,
            may_open: DisputePolicy::may_open(who.partner.kind),
            kinds: IndicatorKind::ALL
                .iter()
                .map(|k| (k.as_str(), content.kind(*k).to_owned()))
                .collect(),
            reviews_requests: may_review_requests(who.partner.kind),
            reviews_clearance: who.partner.kind.may_set_indicator_status(),
            figures,
            notice,
            error,
        },
    )
}

async fn queue(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let query: QueueQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(QueueQuery { staat: None, na: None });
    queue_page(&state, &parts, &who, query, None, None).await
}

/// The message for a refused dispute action, in the page's language, and its status.
fn refusal(content: &Content, e: &DisputeServiceError) -> Option<(String, StatusCode)> {
    let d = &content.disputes;
    Some(match e {
        DisputeServiceError::Reason(_) => (d.error_reason.clone(), StatusCode::UNPROCESSABLE_ENTITY),
        DisputeServiceError::Forbidden(_) => (d.error_forbidden.clone(), StatusCode::FORBIDDEN),
        DisputeServiceError::NotHoldersBank => (d.error_holders_bank.clone(), StatusCode::FORBIDDEN),
        DisputeServiceError::AlreadyOpen { .. } => (d.error_already_open.clone(), StatusCode::CONFLICT),
        DisputeServiceError::Move(vangnet_core::dispute::DisputeError::NotPermitted { .. }) => {
            (d.error_not_permitted.clone(), StatusCode::FORBIDDEN)
        }
        DisputeServiceError::Move(_) => (d.error_not_allowed.clone(), StatusCode::CONFLICT),
        DisputeServiceError::Changed => (d.error_changed.clone(), StatusCode::CONFLICT),
        DisputeServiceError::RequestDecided => (d.request_already.clone(), StatusCode::CONFLICT),
        DisputeServiceError::NotFound | DisputeServiceError::Store(_) => return None,
    })
}

/// The signed-in partner and the form's fields, if the CSRF token is right; otherwise the
/// response to give.
async fn posted(state: &AppState, parts: &Parts, body: axum::body::Body) -> Result<(SignedIn, Vec<(String, String)>), Response> {
    let Some(who) = signed_in(state, parts).await else {
        return Err(see_other("/partner"));
    };
    let t = &lang_of(parts).content().ui;
    let Some(fields) = read_form(body).await else {
        let query = QueueQuery { staat: None, na: None };
        return Err(queue_page(
            state,
            parts,
            &who,
            query,
            None,
            Some((t.error_form_expired.clone(), StatusCode::PAYLOAD_TOO_LARGE)),
        )
        .await);
    };
    if !same_token(field(&fields, "csrf").unwrap_or(""), &who.session.csrf) {
        let query = QueueQuery { staat: None, na: None };
        return Err(queue_page(
            state,
            parts,
            &who,
            query,
            None,
            Some((t.error_form_expired.clone(), StatusCode::FORBIDDEN)),
        )
        .await);
    }
    Ok((who, fields))
}

async fn open(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match posted(&state, &parts, body).await {
        Ok(x) => x,
        Err(response) => return response,
    };
    let content = lang_of(&parts).content();
    let kind = IndicatorKind::from_key(field(&fields, "soort").unwrap_or(""));
    let indicator = match Indicator::parse(kind, field(&fields, "waarde").unwrap_or("")) {
        Ok(i) => i,
        Err(e) => {
            let message = super::check::invalid_message(&content.ui, &e);
            let query = QueueQuery { staat: None, na: None };
            return queue_page(&state, &parts, &who, query, None, Some((message, StatusCode::UNPROCESSABLE_ENTITY))).await;
        }
    };
    match disputes::open(&state, &who.partner, &indicator, field(&fields, "reden").unwrap_or("")).await {
        Ok(dispute) => see_other(&format!("/partner/bezwaren/{}?besluit=ingediend", dispute.row.id)),
        Err(e) => match refusal(content, &e) {
            Some(error) => {
                let query = QueueQuery { staat: None, na: None };
                queue_page(&state, &parts, &who, query, None, Some(error)).await
            }
            None => server_error(&parts),
        },
    }
}

/// A move of the history, for the page.
struct EventRow {
    at: String,
    event: String,
    actor: String,
    reason: String,
}

/// A report the reader may see, for the page.
struct ReportRow {
    partner: String,
    fraud_type: String,
    occurred: String,
    tlp: String,
    description: String,
}

#[derive(Template)]
#[template(path = "console_dispute.html")]
struct DisputePage {
    page: Chrome,
    d: &'static DisputeTexts,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    r: Row,
    reason: String,
    fraud_type: Option<String>,
    version: i64,
    events: Vec<EventRow>,
    reports: Vec<ReportRow>,
    /// The console's record page of the indicator.
    record_href: String,
    moves: Vec<(&'static str, String)>,
    notice: Option<String>,
    error: Option<String>,
}

async fn dispute_view(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    id: &str,
    notice: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let lang = lang_of(parts);
    let content = lang.content();
    let d = &content.disputes;
    let (dispute, events) = match disputes::read(state, &who.partner, id).await {
        Ok(x) => x,
        Err(DisputeServiceError::NotFound) => return super::not_found(parts),
        Err(_) => return server_error(parts),
    };
    let Ok(partners) = state.store.partners().await else {
        return server_error(parts);
    };
    let reports = match visible_reports(state, &who.partner, &dispute).await {
        Ok(r) => r,
        Err(_) => return server_error(parts),
    };
    let moves = dispute
        .moves
        .iter()
        .map(|m| {
            let label = match m {
                DisputeMove::Uphold => &d.move_uphold,
                DisputeMove::Reject => &d.move_reject,
                DisputeMove::Withdraw => &d.move_withdraw,
            };
            (m.as_str(), label.clone())
        })
        .collect();
    let partner_name = |actor: &str| {
        let organisation = vangnet_core::audit::organisation_of(actor);
        let id = organisation.strip_prefix("partner:").unwrap_or(organisation);
        partners
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| actor.to_owned(), |p| p.name.clone())
    };
    let (error, status) = super::split_refusal(error);
    render(
        status,
        &DisputePage {
            page: Chrome::new(parts, &d.dispute_title, "partner"),
            d,
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            r: row(content, lang, &partners, &dispute),
            reason: dispute.row.reason.clone(),
            fraud_type: dispute.fraud_type.map(|t| content.fraud_type(t).to_owned()),
            version: dispute.row.version,
            events: events
                .iter()
                .map(|e| EventRow {
                    at: date_text(e.at, lang),
                    event: if e.from_state.is_none() {
                        d.event_opened.clone()
                    } else {
                        state_label(d, e.to_state).to_owned()
                    },
                    actor: partner_name(&e.actor),
                    reason: e.reason.clone(),
                })
                .collect(),
            reports: reports
                .iter()
                .map(|r| ReportRow {
                    partner: r.partner_name.clone(),
                    fraud_type: content.fraud_type(r.fraud_type).to_owned(),
                    occurred: date_text(r.occurred_at, lang),
                    tlp: r.tlp.as_str().to_owned(),
                    description: r.description.clone().unwrap_or_default(),
                })
                .collect(),
            record_href: format!(
                "/partner/zoeken?{}",
                serde_urlencoded::to_string([("waarde", dispute.row.value.as_str())]).unwrap_or_default()
            ),
            moves,
            notice,
            error,
        },
    )
}

/// The reports about the disputed indicator that `partner` may see (newest first, at most
/// [`MAX_REPORTS`]), with the read in the audit log as on the record page.
async fn visible_reports(
    state: &AppState,
    partner: &Partner,
    dispute: &Dispute,
) -> Result<Vec<vangnet_store::StoredReport>, vangnet_store::StoreError> {
    let viewer = partner.viewer();
    let now = state.now();
    let seqs: Vec<i64> = {
        let index = state.index();
        let key = index.key(dispute.row.kind, &dispute.row.value);
        index
            .visible_reports(key, &viewer, now, &state.settings.scoring)
            .into_iter()
            .take(MAX_REPORTS)
            .map(i64::from)
            .collect()
    };
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let reports = state.store.reports_by_seq(&seqs).await?;
    let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    state
        .store
        .append_audit(&[AuditEvent {
            at: now,
            actor: partner.actor(),
            action: AuditAction::IndicatorRead,
            subject: state.pseudonym(dispute.row.kind, &dispute.row.value),
            details: serde_json::json!({ "reports": ids, "dispute": dispute.row.id }).to_string(),
        }])
        .await?;
    Ok(reports)
}

#[derive(Deserialize)]
struct NoticeQuery {
    besluit: Option<String>,
}

async fn dispute_page(State(state): State<AppState>, Path(id): Path<String>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let d = &lang_of(&parts).content().disputes;
    let q: NoticeQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(NoticeQuery { besluit: None });
    let notice = match q.besluit.as_deref() {
        Some("ingediend") => Some(d.opened_notice.clone()),
        Some("vastgelegd") => Some(d.moved_notice.clone()),
        _ => None,
    };
    dispute_view(&state, &parts, &who, &id, notice, None).await
}

async fn move_dispute(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match posted(&state, &parts, body).await {
        Ok(x) => x,
        Err(response) => return response,
    };
    let content = lang_of(&parts).content();
    let mv = match field(&fields, "uitkomst") {
        Some("withdrawn") => DisputeMove::Withdraw,
        Some(key) => match DisputeMove::decision(key) {
            Some(mv) => mv,
            None => {
                return dispute_view(
                    &state,
                    &parts,
                    &who,
                    &id,
                    None,
                    Some((content.disputes.error_not_allowed.clone(), StatusCode::UNPROCESSABLE_ENTITY)),
                )
                .await;
            }
        },
        None => {
            return dispute_view(
                &state,
                &parts,
                &who,
                &id,
                None,
                Some((content.disputes.error_not_allowed.clone(), StatusCode::UNPROCESSABLE_ENTITY)),
            )
            .await;
        }
    };
    let version = field(&fields, "versie").and_then(|v| v.parse().ok());
    match disputes::apply(&state, &who.partner, &id, mv, field(&fields, "reden").unwrap_or(""), version).await {
        Ok(_) => see_other(&format!("/partner/bezwaren/{id}?besluit=vastgelegd")),
        Err(DisputeServiceError::NotFound) => super::not_found(&parts),
        Err(e) => match refusal(content, &e) {
            Some(error) => dispute_view(&state, &parts, &who, &id, None, Some(error)).await,
            None => server_error(&parts),
        },
    }
}

/// An objection from the public form, for the reviewers' page.
struct RequestRow {
    id: String,
    kind: String,
    value: String,
    received: String,
    reason: String,
    contact: Option<String>,
    language: String,
}

#[derive(Template)]
#[template(path = "console_objections.html")]
struct RequestsPage {
    page: Chrome,
    d: &'static DisputeTexts,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    rows: Vec<RequestRow>,
    notice: Option<String>,
    error: Option<String>,
}

async fn requests_page(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    notice: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let lang = lang_of(parts);
    let content = lang.content();
    let d = &content.disputes;
    let rows = match dispute_requests::list(state, &who.partner, Some(RequestState::Pending), None, PAGE).await {
        Ok(rows) => rows,
        Err(DisputeServiceError::Forbidden(_)) => return super::not_found(parts),
        Err(_) => return server_error(parts),
    };
    let (error, status) = super::split_refusal(error);
    render(
        status,
        &RequestsPage {
            page: Chrome::new(parts, &d.requests_title, "partner"),
            d,
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            rows: rows
                .iter()
                .map(|r| RequestRow {
                    id: r.id.clone(),
                    kind: content.kind(r.kind).to_owned(),
                    value: r.value.clone(),
                    received: date_text(r.received_at, lang),
                    reason: r.reason.clone(),
                    contact: r.contact.clone(),
                    language: if r.language == "en" {
                        "English".to_owned()
                    } else {
                        "Nederlands".to_owned()
                    },
                })
                .collect(),
            notice,
            error,
        },
    )
}

async fn requests(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let d = &lang_of(&parts).content().disputes;
    let q: NoticeQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(NoticeQuery { besluit: None });
    let notice = match q.besluit.as_deref() {
        Some("aangenomen") => Some(d.request_accepted.clone()),
        Some("afgewezen") => Some(d.request_declined.clone()),
        _ => None,
    };
    requests_page(&state, &parts, &who, notice, None).await
}

async fn decide_request(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match posted(&state, &parts, body).await {
        Ok(x) => x,
        Err(response) => return response,
    };
    if !may_review_requests(who.partner.kind) {
        return super::not_found(&parts);
    }
    let content = lang_of(&parts).content();
    let note = field(&fields, "reden").unwrap_or("");
    let result = match field(&fields, "besluit") {
        Some("accept") => dispute_requests::accept(&state, &who.partner, &id, note)
            .await
            .map(|_| "aangenomen"),
        Some("decline") => dispute_requests::decline(&state, &who.partner, &id, note)
            .await
            .map(|()| "afgewezen"),
        _ => {
            return requests_page(
                &state,
                &parts,
                &who,
                None,
                Some((content.disputes.error_not_allowed.clone(), StatusCode::UNPROCESSABLE_ENTITY)),
            )
            .await;
        }
    };
    match result {
        Ok(word) => see_other(&format!("/partner/bezwaren/verzoeken?besluit={word}")),
        Err(DisputeServiceError::NotFound) => super::not_found(&parts),
        Err(e) => match refusal(content, &e) {
            Some(error) => requests_page(&state, &parts, &who, None, Some(error)).await,
            None => server_error(&parts),
        },
    }
}

/// A cleared indicator reported again, for the page.
struct ClearanceRow {
    id: i64,
    kind: String,
    value: String,
    opened: String,
    reports: i64,
}

#[derive(Template)]
#[template(path = "console_clearance.html")]
struct ClearancePage {
    page: Chrome,
    d: &'static DisputeTexts,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    rows: Vec<ClearanceRow>,
    notice: Option<String>,
    error: Option<String>,
}

async fn clearance_page(
    state: &AppState,
    parts: &Parts,
    who: &SignedIn,
    notice: Option<String>,
    error: Option<(String, StatusCode)>,
) -> Response {
    let lang = lang_of(parts);
    let content = lang.content();
    let d = &content.disputes;
    let rows = match dispute_requests::clearance_reviews(state, &who.partner, true, None, PAGE).await {
        Ok(rows) => rows,
        Err(DisputeServiceError::Forbidden(_)) => return super::not_found(parts),
        Err(_) => return server_error(parts),
    };
    let (error, status) = super::split_refusal(error);
    render(
        status,
        &ClearancePage {
            page: Chrome::new(parts, &d.clearance_title, "partner"),
            d,
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            rows: rows
                .iter()
                .map(|r| ClearanceRow {
                    id: r.seq,
                    kind: content.kind(r.kind).to_owned(),
                    value: r.value.clone(),
                    opened: date_text(r.opened_at, lang),
                    reports: r.reports,
                })
                .collect(),
            notice,
            error,
        },
    )
}

async fn clearance(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let d = &lang_of(&parts).content().disputes;
    let q: NoticeQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(NoticeQuery { besluit: None });
    let notice = (q.besluit.as_deref() == Some("vastgelegd")).then(|| d.clearance_done.clone());
    clearance_page(&state, &parts, &who, notice, None).await
}

async fn close_clearance(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let (who, fields) = match posted(&state, &parts, body).await {
        Ok(x) => x,
        Err(response) => return response,
    };
    if !who.partner.kind.may_set_indicator_status() {
        return super::not_found(&parts);
    }
    let content = lang_of(&parts).content();
    let (Ok(seq), Some(outcome)) = (id.parse::<i64>(), field(&fields, "uitkomst").and_then(ClearanceOutcome::from_key)) else {
        return clearance_page(
            &state,
            &parts,
            &who,
            None,
            Some((content.disputes.error_not_allowed.clone(), StatusCode::UNPROCESSABLE_ENTITY)),
        )
        .await;
    };
    match dispute_requests::close_clearance_review(&state, &who.partner, seq, outcome, field(&fields, "reden").unwrap_or("")).await {
        Ok(_) => see_other("/partner/bezwaren/herbeoordeling?besluit=vastgelegd"),
        Err(DisputeServiceError::NotFound) => super::not_found(&parts),
        Err(e) => match refusal(content, &e) {
            Some(error) => clearance_page(&state, &parts, &who, None, Some(error)).await,
            None => server_error(&parts),
        },
    }
}
