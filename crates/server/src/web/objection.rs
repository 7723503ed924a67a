//! The person's own objection (*bezwaar*): `GET /bezwaar` shows the form (the public check's
//! answer links to it with the value filled in), `POST /bezwaar` checks and stores it, and
//! `GET /bezwaar/ontvangen` shows the reference and what happens next.
//!
//! An objection is anonymous input: it informs, never decides. It changes nothing in what
//! checks answer until a reviewer turns it into a dispute. Protection against abuse as on the
//! report form: a CSRF token bound to the visitor cookie, a per-address rate limit, a form-size
//! limit and a honeypot field; the sender is stored only as a keyed pseudonym of the cookie.

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_services::dispute_requests::{self, ObjectionError, ObjectionInput};

use super::check::invalid_message;
use super::citizen_form::{CitizenPost, with_cookie};
use super::content::DisputeTexts;
use super::{Chrome, lang_of, render, see_other, server_error, visitor, visitor_csrf};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bezwaar", get(form).post(submit))
        .route("/bezwaar/ontvangen", get(thanks))
}

#[derive(Template)]
#[template(path = "objection_form.html")]
struct FormPage {
    page: Chrome,
    d: &'static DisputeTexts,
    decision_text: String,
    kinds: Vec<(&'static str, String)>,
    kind: String,
    value: String,
    reason: String,
    contact: String,
    csrf: String,
    /// Field id → message, in form order.
    errors: Vec<(String, String)>,
}

impl FormPage {
    fn error(&self, id: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == id).map(|(_, m)| m.as_str())
    }
}

/// The sentence with the configured term.
fn decision_text(state: &AppState, d: &DisputeTexts) -> String {
    d.next_decision
        .replace("{days}", &state.settings.disputes.decision_days.to_string())
}

#[derive(Debug, Default)]
struct Values {
    kind: String,
    value: String,
    reason: String,
    contact: String,
}

fn form_page(parts: &Parts, state: &AppState, visitor_id: &str, values: Values, errors: Vec<(String, String)>) -> FormPage {
    let content = lang_of(parts).content();
    let d = &content.disputes;
    FormPage {
        page: Chrome::new(parts, &d.form_title, "check"),
        d,
        decision_text: decision_text(state, d),
        kinds: IndicatorKind::ALL
            .iter()
            .map(|k| (k.as_str(), content.kind(*k).to_owned()))
            .collect(),
        kind: values.kind,
        value: values.value,
        reason: values.reason,
        contact: values.contact,
        csrf: visitor_csrf(state, visitor_id),
        errors,
    }
}

#[derive(Debug, Deserialize)]
struct FormQuery {
    soort: Option<String>,
    waarde: Option<String>,
}

async fn form(State(state): State<AppState>, parts: Parts) -> Response {
    let Ok((visitor_id, cookie)) = visitor(&parts, &state) else {
        return server_error(&parts);
    };
    let q: FormQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(FormQuery { soort: None, waarde: None });
    let values = Values {
        kind: q.soort.filter(|k| IndicatorKind::from_key(k).is_some()).unwrap_or_default(),
        value: q.waarde.unwrap_or_default().chars().take(500).collect(),
        ..Values::default()
    };
    let page = form_page(&parts, &state, &visitor_id, values, Vec::new());
    with_cookie(render(StatusCode::OK, &page), cookie)
}

async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let post = match super::citizen_form::read(&state, request, &state.public_limits.objections, |parts| {
        let d = &lang_of(parts).content().disputes;
        let page = super::MessagePage {
            page: Chrome::new(parts, &d.form_title, "check"),
            text: d.error_reason.clone(),
        };
        render(StatusCode::PAYLOAD_TOO_LARGE, &page)
    })
    .await
    {
        Ok(post) => post,
        Err(answer) => return answer,
    };
    let lang = lang_of(&post.parts);
    let content = lang.content();
    let d = &content.disputes;
    let values = Values {
        kind: post.text("soort"),
        value: post.text("waarde"),
        reason: post.text("reden"),
        contact: post.text("contact"),
    };
    let CitizenPost {
        parts,
        visitor_id,
        cookie,
        csrf_ok,
        honeypot,
        ..
    } = post;
    if !csrf_ok {
        let expired = vec![("waarde".to_owned(), content.ui.error_form_expired.clone())];
        let page = form_page(&parts, &state, &visitor_id, values, expired);
        return with_cookie(render(StatusCode::FORBIDDEN, &page), cookie);
    }
    if honeypot {
        // A robot filled in the field people cannot see: answer as if stored, store nothing.
        state.metrics.counters.honeypot_hits.inc();
        return see_other("/bezwaar/ontvangen");
    }
    let kind = IndicatorKind::from_key(&values.kind);
    let indicator = match Indicator::parse(kind, &values.value) {
        Ok(indicator) => indicator,
        Err(e) => {
            let errors = vec![("waarde".to_owned(), invalid_message(&content.ui, &e))];
            let page = form_page(&parts, &state, &visitor_id, values, errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let input = ObjectionInput {
        indicator: &indicator,
        reason: &values.reason,
        contact: Some(values.contact.as_str()),
        language: lang.code(),
        submitter: state.web_mac("objection", &visitor_id),
    };
    let with_contact = !values.contact.trim().is_empty();
    match dispute_requests::submit(&state, input).await {
        Ok(reference) => see_other(&format!(
            "/bezwaar/ontvangen?kenmerk={reference}&contact={}",
            u8::from(with_contact)
        )),
        Err(e @ (ObjectionError::Reason(_) | ObjectionError::Contact)) => {
            let error = match e {
                ObjectionError::Contact => ("contact".to_owned(), d.error_contact.clone()),
                _ => ("reden".to_owned(), d.error_reason.clone()),
            };
            let page = form_page(&parts, &state, &visitor_id, values, vec![error]);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(ObjectionError::Store(_)) => server_error(&parts),
    }
}

#[derive(Template)]
#[template(path = "objection_thanks.html")]
struct ThanksPage {
    page: Chrome,
    d: &'static DisputeTexts,
    decision_text: String,
    reference: Option<String>,
    with_contact: bool,
}

#[derive(Debug, Deserialize)]
struct ThanksQuery {
    kenmerk: Option<String>,
    contact: Option<String>,
}

async fn thanks(State(state): State<AppState>, parts: Parts) -> Response {
    let d = &lang_of(&parts).content().disputes;
    let q: ThanksQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(ThanksQuery {
        kenmerk: None,
        contact: None,
    });
    render(
        StatusCode::OK,
        &ThanksPage {
            page: Chrome::new(&parts, &d.thanks_title, "check"),
            d,
            decision_text: decision_text(&state, d),
            reference: q.kenmerk.filter(|r| dispute_requests::is_reference(r)),
            with_contact: q.contact.as_deref() == Some("1"),
        },
    )
}
