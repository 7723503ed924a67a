//! The partner console, first version: sign in with the organisation's API token, look up an
//! indicator (its record and the reports this partner may see under TLP, audited like the API),
//! file a report, read the organisation's own audit entries, sign out.
//!
//! The session cookie is HttpOnly, Secure, SameSite=Strict and scoped to `/partner`; every form
//! carries a CSRF token (bound to the visitor cookie before sign-in, to the session after).

use std::time::Instant;

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use vangnet_core::audit::{AuditAction, AuditEvent};
use vangnet_core::index::CheckStatus;
use vangnet_core::indicator::Indicator;
use vangnet_core::report::{FraudType, NewReport, ReportDraft, Tlp};
use vangnet_core::token::ApiToken;
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_store::{InsertOutcome, Partner, StoredReport};

use super::check::invalid_message;
use vangnet_services::sessions::ActiveSession;

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "vangnet_session";
use super::{
    Chrome, MAX_FORM_BYTES, cookie, field, form_fields, lang_of, render, same_token, see_other, server_error, visitor, visitor_csrf,
};
use crate::state::AppState;

/// Audit entries shown at once.
const AUDIT_PAGE: u32 = 200;
/// Reports listed with a record.
const RECORD_REPORTS: usize = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/partner", get(home))
        .route("/partner/inloggen", post(sign_in))
        .route("/partner/uitloggen", post(sign_out))
        .route("/partner/zoeken", get(search))
        .route("/partner/melden", post(file_report))
        .route("/partner/logboek", get(audit))
}

/// A signed-in partner.
pub(super) struct SignedIn {
    pub(super) partner: Partner,
    pub(super) session: ActiveSession,
}

pub(super) async fn signed_in(state: &AppState, parts: &Parts) -> Option<SignedIn> {
    let id = cookie(&parts.headers, SESSION_COOKIE)?;
    let session = state.sessions.get(id, Instant::now())?;
    match state.auth.authenticate_digest(&session.token).await {
        // A page the session's token was not issued for is not shown (the sign-in page is).
        Ok(Some(partner))
            if crate::scopes::required_in_console(parts.uri.path())
                .is_some_and(|scope| partner.grant.scopes.is_some_and(|granted| !granted.contains(scope))) =>
        {
            None
        }
        Ok(Some(partner)) => Some(SignedIn { partner, session }),
        Ok(None) => {
            // The token was revoked: the session ends with it.
            state.sessions.end(id);
            None
        }
        Err(_) => None,
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if state.http().secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/partner; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage {
    page: Chrome,
    csrf: String,
    error: Option<String>,
}

/// One row of a record's report list.
struct ReportRow {
    id: String,
    partner: String,
    fraud_type: String,
    occurred: String,
    amount: String,
    tlp: String,
    aangifte: bool,
    description: String,
}

impl ReportRow {
    fn from(r: &StoredReport) -> ReportRow {
        ReportRow {
            id: r.id.clone(),
            partner: format!("{} ({})", r.partner_name, r.partner_kind),
            fraud_type: r.fraud_type.as_str().to_owned(),
            occurred: r.occurred_at.date_string(),
            amount: r.amount.map(|m| m.to_string()).unwrap_or_default(),
            tlp: r.tlp.as_str().to_owned(),
            aangifte: r.aangifte,
            description: r.description.clone().unwrap_or_default(),
        }
    }
}

/// The record of one indicator as this partner may see it.
struct RecordView {
    kind: String,
    value: String,
    status: String,
    score: String,
    reports: u32,
    partners: u32,
    /// Distinct citizens with unverified reports that are not counted.
    unverified: u32,
    first_seen: String,
    last_seen: String,
    reasons: Vec<String>,
    rows: Vec<ReportRow>,
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    query: String,
    error: Option<String>,
    record: Option<RecordView>,
    notice: Option<String>,
    /// What is wrong with a report the partner tried to file.
    report_error: Option<String>,
    fraud_types: Vec<(&'static str, String)>,
    tlps: Vec<&'static str>,
    may_report: bool,
    /// The link to the subject-access export of the record shown (police and operator).
    export_link: Option<String>,
    network_link: Option<String>,
}

fn home_page(parts: &Parts, who: &SignedIn) -> HomePage {
    let content = lang_of(parts).content();
    HomePage {
        page: Chrome::new(parts, &content.ui.partner_title, "partner"),
        partner_name: who.partner.name.clone(),
        partner_kind: who.partner.kind.as_str().to_owned(),
        csrf: who.session.csrf.clone(),
        query: String::new(),
        error: None,
        record: None,
        notice: None,
        report_error: None,
        fraud_types: FraudType::ALL
            .iter()
            .map(|f| (f.as_str(), content.fraud_type(*f).to_owned()))
            .collect(),
        tlps: Tlp::keys(),
        may_report: who.partner.kind.may_submit_reports(),
        export_link: None,
        network_link: None,
    }
}

async fn home(State(state): State<AppState>, parts: Parts) -> Response {
    if let Some(who) = signed_in(&state, &parts).await {
        #[derive(Deserialize)]
        struct Notice {
            gemeld: Option<String>,
        }
        let notice: Notice = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(Notice { gemeld: None });
        let mut page = home_page(&parts, &who);
        let t = page.page.t;
        page.notice = notice
            .gemeld
            .filter(|id| id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
            .map(|id| format!("{} {id}", t.partner_report_created));
        return render(StatusCode::OK, &page);
    }
    login_page(&state, &parts, None, StatusCode::OK)
}

fn login_page(state: &AppState, parts: &Parts, error: Option<String>, status: StatusCode) -> Response {
    let Ok((visitor_id, set_cookie)) = visitor(parts, state) else {
        return server_error(parts);
    };
    let content = lang_of(parts).content();
    let mut response = render(
        status,
        &LoginPage {
            page: Chrome::new(parts, &content.ui.partner_login_title, "partner"),
            csrf: visitor_csrf(state, &visitor_id),
            error,
        },
    );
    if let Some(c) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

pub(super) async fn read_form(body: axum::body::Body) -> Option<Vec<(String, String)>> {
    axum::body::to_bytes(body, MAX_FORM_BYTES).await.ok().map(|b| form_fields(&b))
}

async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let t = &lang_of(&parts).content().ui;
    let Some(fields) = read_form(body).await else {
        return login_page(&state, &parts, Some(t.partner_login_failed.clone()), StatusCode::PAYLOAD_TOO_LARGE);
    };
    let visitor_ok = cookie(&parts.headers, super::VISITOR_COOKIE)
        .is_some_and(|v| same_token(field(&fields, "csrf").unwrap_or(""), &visitor_csrf(&state, v)));
    if !visitor_ok {
        return login_page(&state, &parts, Some(t.error_form_expired.clone()), StatusCode::FORBIDDEN);
    }
    // Wrong tokens are limited like public checks, so the form cannot be used to guess tokens.
    if let Err(retry_after) = state.public_limits.checks.take(&super::client_key(&parts, &state)) {
        return super::too_many(&parts, retry_after);
    }
    let presented = field(&fields, "token").unwrap_or("").trim();
    let Some(token) = ApiToken::parse(presented) else {
        return login_page(&state, &parts, Some(t.partner_login_failed.clone()), StatusCode::UNAUTHORIZED);
    };
    let digest = token.digest();
    match state.auth.authenticate_digest(&digest).await {
        Ok(Some(partner)) => {
            let Ok(id) = state.sessions.start(digest, Instant::now()) else {
                return server_error(&parts);
            };
            tracing::info!(partner = %partner.id, "console sign-in");
            let max_age = i64::try_from(state.settings.console.session_ttl.as_secs()).unwrap_or(28_800);
            let mut response = see_other("/partner");
            if let Some(c) = session_cookie(&state, &id, max_age) {
                response.headers_mut().append(header::SET_COOKIE, c);
            }
            response
        }
        Ok(None) => login_page(&state, &parts, Some(t.partner_login_failed.clone()), StatusCode::UNAUTHORIZED),
        Err(_) => server_error(&parts),
    }
}

/// Signing out always ends the session the cookie names, with or without the form's CSRF
/// token: the worst a forged sign-out can do is sign someone out (and the SameSite=Strict
/// cookie is not sent from other sites anyway), while a sign-out that left the session valid
/// behind a cleared cookie would keep it usable to whoever copied the cookie.
async fn sign_out(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    if let Some(id) = cookie(&parts.headers, SESSION_COOKIE) {
        state.sessions.end(id);
    }
    let mut response = see_other("/partner");
    if let Some(c) = session_cookie(&state, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

async fn search(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    #[derive(Deserialize)]
    struct Query {
        waarde: Option<String>,
        /// The kind, when a link names it (a value that could be read as two kinds).
        soort: Option<String>,
    }
    let q: Query = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(Query { waarde: None, soort: None });
    let kind = q.soort.as_deref().and_then(vangnet_core::indicator::IndicatorKind::from_key);
    let mut page = home_page(&parts, &who);
    let value = q.waarde.unwrap_or_default();
    page.query = value.clone();
    if value.trim().is_empty() {
        return render(StatusCode::OK, &page);
    }
    let indicator = match Indicator::parse(kind, &value) {
        Ok(i) => i,
        Err(e) => {
            page.error = Some(invalid_message(page.page.t, &e));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let viewer = who.partner.viewer();
    let now = state.now();
    let (view, seqs) = {
        let index = state.index();
        let key = index.key_of(&indicator);
        (
            index.view(key, &viewer, now, &state.settings.scoring),
            index.visible_reports(key, &viewer, now, &state.settings.scoring),
        )
    };
    let wanted: Vec<i64> = seqs.iter().take(RECORD_REPORTS).map(|s| i64::from(*s)).collect();
    let reports = if wanted.is_empty() {
        Vec::new()
    } else {
        match state.store.reports_by_seq(&wanted).await {
            Ok(r) => r,
            Err(_) => return server_error(&parts),
        }
    };
    let report_ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    let audited = state
        .store
        .append_audit(&[AuditEvent {
            at: now,
            actor: who.partner.actor(),
            action: AuditAction::IndicatorRead,
            subject: state.pseudonym(indicator.kind(), indicator.canonical()),
            details: serde_json::json!({ "reports": report_ids, "via": "console" }).to_string(),
        }])
        .await;
    if audited.is_err() {
        // No audit entry, no personal data.
        return server_error(&parts);
    }
    let status = match view.status {
        CheckStatus::Reported => "reported",
        CheckStatus::Disputed => "disputed",
        CheckStatus::NotReported => "not_reported",
    };
    page.record = Some(RecordView {
        kind: indicator.kind().as_str().to_owned(),
        value: indicator.canonical().to_owned(),
        status: format!("{status} ({})", view.indicator_status.as_str()),
        score: format!("{:.2}", view.score),
        reports: view.reports,
        partners: view.reporting_partners,
        unverified: view.unverified_citizen_reports,
        first_seen: view.first_seen.map(Timestamp::date_string).unwrap_or_default(),
        last_seen: view.last_seen.map(Timestamp::date_string).unwrap_or_default(),
        reasons: view.reasons(),
        rows: reports.iter().map(ReportRow::from).collect(),
    });
    page.network_link = Some(format!(
        "/partner/netwerk?{}",
        serde_urlencoded::to_string([("soort", indicator.kind().as_str()), ("waarde", indicator.canonical())]).unwrap_or_default()
    ));
    if vangnet_services::subjects::may_export(who.partner.kind) {
        // The subject-access page (`web/subjects.rs`) of this value.
        let query =
            serde_urlencoded::to_string([("soort", indicator.kind().as_str()), ("waarde", indicator.canonical())]).unwrap_or_default();
        page.export_link = Some(format!("/partner/inzage?{query}"));
    }
    render(StatusCode::OK, &page)
}

async fn file_report(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let mut page = home_page(&parts, &who);
    let t = page.page.t;
    let Some(fields) = read_form(body).await else {
        page.report_error = Some(t.error_description.clone());
        return render(StatusCode::PAYLOAD_TOO_LARGE, &page);
    };
    if !same_token(field(&fields, "csrf").unwrap_or(""), &who.session.csrf) {
        page.report_error = Some(t.error_form_expired.clone());
        return render(StatusCode::FORBIDDEN, &page);
    }
    if !who.partner.kind.may_submit_reports() {
        page.report_error = Some("operators run the platform and do not file reports".to_owned());
        return render(StatusCode::FORBIDDEN, &page);
    }
    let now = state.now();
    let mut problems: Vec<String> = Vec::new();
    let fraud_type = FraudType::from_key(field(&fields, "fraud_type").unwrap_or(""));
    if fraud_type.is_none() {
        problems.push(t.error_fraud_type.clone());
    }
    let occurred = field(&fields, "occurred")
        .filter(|d| d.len() == 10)
        .and_then(|d| Timestamp::parse_rfc3339(&format!("{d}T12:00:00Z")).ok())
        .map(|at| if at.millis() > now.millis() { now } else { at });
    if occurred.is_none() {
        problems.push(t.error_date.clone());
    }
    let amount = match field(&fields, "amount").map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => match Money::parse(&a.replace(',', "."), Currency::EUR) {
            Ok(m) => Some(m),
            Err(_) => {
                problems.push(t.error_amount.clone());
                None
            }
        },
    };
    let tlp = Tlp::from_key(field(&fields, "tlp").unwrap_or("amber")).unwrap_or(Tlp::Amber);
    let mut indicators = Vec::new();
    for (n, line) in field(&fields, "identifiers").unwrap_or("").lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match Indicator::parse(None, line) {
            Ok(i) => {
                let role = super::report::role_for(i.kind());
                indicators.push((i, role));
            }
            Err(e) => problems.push(format!("{} {}: {}", t.report_identifier_label, n + 1, invalid_message(t, &e))),
        }
    }
    let (Some(fraud_type), Some(occurred_at), true) = (fraud_type, occurred, problems.is_empty()) else {
        page.report_error = Some(problems.join(" "));
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let draft = ReportDraft {
        external_id: None,
        fraud_type,
        channel: None,
        occurred_at,
        amount,
        aangifte: field(&fields, "aangifte") == Some("ja"),
        victim_age_band: vangnet_core::report::AgeBand::Unknown,
        tlp,
        description: field(&fields, "description").map(str::to_owned),
        indicators,
    };
    let report = match NewReport::new(draft, now) {
        Ok(r) => r,
        Err(e) => {
            page.report_error = Some(match e {
                vangnet_core::report::ReportError::NoIndicators => t.error_no_identifiers.clone(),
                other => other.to_string(),
            });
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    match state.file_reports(&who.partner, std::slice::from_ref(&report)).await {
        Ok(outcomes) => match outcomes.first() {
            Some(InsertOutcome::Created(stored)) => see_other(&format!("/partner?gemeld={}", stored.id)),
            _ => server_error(&parts),
        },
        Err(_) => server_error(&parts),
    }
}

struct AuditRow {
    when: String,
    action: String,
    subject: String,
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct AuditPage {
    page: Chrome,
    partner_name: String,
    partner_kind: String,
    csrf: String,
    rows: Vec<AuditRow>,
}

async fn audit(State(state): State<AppState>, parts: Parts) -> Response {
    let Some(who) = signed_in(&state, &parts).await else {
        return see_other("/partner");
    };
    let entries = match state.store.audit_entries_of(&who.partner.actor(), AUDIT_PAGE).await {
        Ok(e) => e,
        Err(_) => return server_error(&parts),
    };
    let content = lang_of(&parts).content();
    render(
        StatusCode::OK,
        &AuditPage {
            page: Chrome::new(&parts, &content.ui.partner_audit_title, "partner"),
            partner_name: who.partner.name.clone(),
            partner_kind: who.partner.kind.as_str().to_owned(),
            csrf: who.session.csrf.clone(),
            rows: entries
                .into_iter()
                .map(|e| AuditRow {
                    when: e.at.to_rfc3339(),
                    action: e.action,
                    subject: e.subject,
                })
                .collect(),
        },
    )
}
