//! The citizen report form (*melden*): `GET /melden` shows it, `POST /melden` checks and stores
//! it as a report from the `citizen` source, `GET /melden/ontvangen` shows the reference and the
//! next steps.
//!
//! A citizen report is marked TLP:GREEN, weighted lowest in the score, never enough on its own
//! for the public check to say `reported`, and counted once per person per indicator: the
//! report carries a pseudonym of the visitor cookie (a keyed hash), never an address or name.
//! Protection against abuse: a CSRF token bound to the visitor cookie, a per-address rate
//! limit, a form-size limit, a bound on the number of details, and a honeypot field that
//! people do not see and robots fill in.

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::indicator::{Indicator, IndicatorKind};
use vangnet_core::report::{AgeBand, FraudType, IndicatorRole, NewReport, ReportDraft, ReportError, Tlp};
use vangnet_core::{Currency, Money, Timestamp};
use vangnet_store::{CITIZEN_SOURCE_ID, InsertOutcome};

use super::check::invalid_message;
use super::citizen_form::{CitizenPost, with_cookie};
use super::content::{Content, Guidance};
use super::{Chrome, lang_of, render, see_other, server_error, visitor, visitor_csrf};
use crate::state::AppState;

/// Detail boxes shown on a fresh form.
const INITIAL_ROWS: usize = 3;
/// The most detail boxes one form may have.
pub const MAX_FORM_IDENTIFIERS: usize = 20;
/// The earliest date a citizen can give.
const EARLIEST: &str = "2000-01-01";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/melden", get(form).post(submit))
        .route("/melden/ontvangen", get(thanks))
}

/// What the citizen typed, kept to show the form again.
#[derive(Debug, Default)]
struct Values {
    fraud_type: String,
    occurred: String,
    amount: String,
    identifiers: Vec<String>,
    description: String,
    aangifte: String,
    age_band: String,
    reference: String,
}

/// One detail box.
#[derive(Debug)]
struct Row {
    number: usize,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "report_form.html")]
struct FormPage {
    page: Chrome,
    values: Values,
    rows: Vec<Row>,
    /// Field id → message, in the order of the form (for the summary at the top).
    errors: Vec<(String, String)>,
    fraud_types: Vec<(&'static str, String)>,
    age_bands: Vec<(&'static str, String)>,
    csrf: String,
    today: String,
    earliest: &'static str,
    max_rows: usize,
}

impl FormPage {
    fn error(&self, id: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| f == id).map(|(_, m)| m.as_str())
    }
}

fn new_reference() -> Option<String> {
    let bytes = vangnet_core::token::random_secret(6).ok()?;
    let hex = hex::encode_upper(bytes);
    Some(format!("VN-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12]))
}

fn is_reference(r: &str) -> bool {
    let b = r.as_bytes();
    b.len() == 17
        && r.starts_with("VN-")
        && b[7] == b'-'
        && b[12] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 0..=2 | 7 | 12) || c.is_ascii_digit() || (b'A'..=b'F').contains(c))
}

fn form_page(parts: &Parts, state: &AppState, visitor_id: &str, values: Values, rows: Vec<Row>, errors: Vec<(String, String)>) -> FormPage {
    let content = lang_of(parts).content();
    let t = &content.ui;
    FormPage {
        page: Chrome::new(parts, &t.report_title, "report"),
        values,
        rows,
        errors,
        fraud_types: FraudType::ALL
            .iter()
            .map(|f| (f.as_str(), content.fraud_type(*f).to_owned()))
            .collect(),
        age_bands: AgeBand::ALL
            .iter()
            .map(|a| {
                let label = if *a == AgeBand::Unknown {
                    t.report_age_unknown.clone()
                } else {
                    a.as_str().to_owned()
                };
                (a.as_str(), label)
            })
            .collect(),
        csrf: visitor_csrf(state, visitor_id),
        today: state.now().date_string(),
        earliest: EARLIEST,
        max_rows: MAX_FORM_IDENTIFIERS,
    }
}

fn empty_rows(n: usize) -> Vec<Row> {
    (1..=n)
        .map(|number| Row {
            number,
            value: String::new(),
            error: None,
        })
        .collect()
}

async fn form(State(state): State<AppState>, parts: Parts) -> Response {
    let Ok((visitor_id, cookie)) = visitor(&parts, &state) else {
        return server_error(&parts);
    };
    let values = Values {
        reference: new_reference().unwrap_or_default(),
        ..Values::default()
    };
    let page = form_page(&parts, &state, &visitor_id, values, empty_rows(INITIAL_ROWS), Vec::new());
    with_cookie(render(StatusCode::OK, &page), cookie)
}

/// The role an indicator of a kind usually plays in a citizen's report.
pub(crate) fn role_for(kind: IndicatorKind) -> IndicatorRole {
    match kind {
        IndicatorKind::Iban => IndicatorRole::Payee,
        IndicatorKind::Phone => IndicatorRole::Caller,
        IndicatorKind::Url | IndicatorKind::Domain => IndicatorRole::Website,
        IndicatorKind::Email => IndicatorRole::Contact,
        IndicatorKind::Crypto => IndicatorRole::Wallet,
        IndicatorKind::Handle => IndicatorRole::Profile,
    }
}

/// An amount as people write it: `250`, `249,95`, `€ 1.250,00`, `249.95`.
fn parse_amount(text: &str) -> Option<Money> {
    let mut s: String = text
        .trim()
        .trim_start_matches('€')
        .trim_end_matches("EUR")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if s.contains(',') {
        s = s.replace('.', "").replace(',', ".");
    } else if s.matches('.').count() > 1 || s.split_once('.').is_some_and(|(_, f)| f.len() == 3) {
        // `1.250` is a thousands separator, not a decimal point.
        s = s.replace('.', "");
    }
    Money::parse(&s, Currency::EUR).ok()
}

/// The checked report, or the errors per field.
/// Field id and message of each problem, in form order.
type FieldErrors = Vec<(String, String)>;

fn check_form(content: &Content, values: &Values, now: Timestamp) -> Result<NewReport, (Vec<Row>, FieldErrors)> {
    let t = &content.ui;
    let mut errors: Vec<(String, String)> = Vec::new();
    let fraud_type = FraudType::from_key(&values.fraud_type);
    if fraud_type.is_none() {
        errors.push(("fraud_type".into(), t.error_fraud_type.clone()));
    }
    let occurred_at = if values.occurred.trim().is_empty() {
        errors.push(("occurred".into(), t.error_required.clone()));
        None
    } else {
        let date = values.occurred.trim();
        let parsed = (date.len() == 10 && date >= EARLIEST)
            .then(|| Timestamp::parse_rfc3339(&format!("{date}T12:00:00Z")).ok())
            .flatten();
        match parsed {
            None => {
                errors.push(("occurred".into(), t.error_date.clone()));
                None
            }
            Some(at) if at.date_string() > now.date_string() => {
                errors.push(("occurred".into(), t.error_date_future.clone()));
                None
            }
            // Today's date at noon may lie a few hours ahead of now: keep it within now.
            Some(at) => Some(if at.millis() > now.millis() { now } else { at }),
        }
    };
    let amount = if values.amount.trim().is_empty() {
        None
    } else {
        let parsed = parse_amount(&values.amount);
        if parsed.is_none() {
            errors.push(("amount".into(), t.error_amount.clone()));
        }
        parsed
    };
    let mut rows = Vec::with_capacity(values.identifiers.len());
    let mut indicators = Vec::new();
    for (i, value) in values.identifiers.iter().enumerate() {
        let mut row = Row {
            number: i + 1,
            value: value.clone(),
            error: None,
        };
        if !value.trim().is_empty() {
            match Indicator::parse(None, value) {
                Ok(indicator) => {
                    let role = role_for(indicator.kind());
                    indicators.push((indicator, role));
                }
                Err(e) => {
                    let message = invalid_message(t, &e);
                    errors.push((format!("identifier-{}", i + 1), message.clone()));
                    row.error = Some(message);
                }
            }
        }
        rows.push(row);
    }
    let any_error_on_rows = rows.iter().any(|r| r.error.is_some());
    if indicators.is_empty() && !any_error_on_rows {
        errors.push(("identifier-1".into(), t.error_no_identifiers.clone()));
        if let Some(first) = rows.first_mut() {
            first.error = Some(t.error_no_identifiers.clone());
        }
    }
    let aangifte = match values.aangifte.as_str() {
        "ja" => Some(true),
        "nee" => Some(false),
        _ => {
            errors.push(("aangifte-ja".into(), t.error_required.clone()));
            None
        }
    };
    let age = if values.age_band.is_empty() {
        AgeBand::Unknown
    } else {
        AgeBand::from_key(&values.age_band).unwrap_or(AgeBand::Unknown)
    };
    let (Some(fraud_type), Some(occurred_at), Some(aangifte), true) = (fraud_type, occurred_at, aangifte, errors.is_empty()) else {
        return Err((rows, errors));
    };
    let draft = ReportDraft {
        external_id: Some(values.reference.clone()),
        fraud_type,
        channel: None,
        occurred_at,
        amount,
        aangifte,
        victim_age_band: age,
        tlp: Tlp::Green,
        description: Some(values.description.clone()),
        indicators,
    };
    NewReport::new(draft, now).map_err(|e| {
        let (id, message) = match e {
            ReportError::NoIndicators | ReportError::TooManyIndicators => ("identifier-1", t.error_too_many_identifiers.clone()),
            ReportError::OccurredInFuture => ("occurred", t.error_date_future.clone()),
            ReportError::DescriptionTooLong | ReportError::DescriptionCharacters => ("description", t.error_description.clone()),
            ReportError::ExternalId => ("reference", t.error_form_expired.clone()),
        };
        (rows_or_default(values), vec![(id.to_owned(), message)])
    })
}

/// The form again, as typed, with "the form has expired" at the top.
fn expired(parts: &Parts, state: &AppState, visitor_id: &str, values: Values, status: StatusCode) -> Response {
    let t = &lang_of(parts).content().ui;
    let rows = rows_or_default(&values);
    let page = form_page(
        parts,
        state,
        visitor_id,
        values,
        rows,
        vec![("fraud_type".into(), t.error_form_expired.clone())],
    );
    render(status, &page)
}

fn rows_or_default(values: &Values) -> Vec<Row> {
    values
        .identifiers
        .iter()
        .enumerate()
        .map(|(i, v)| Row {
            number: i + 1,
            value: v.clone(),
            error: None,
        })
        .collect()
}

async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let post = match super::citizen_form::read(&state, request, &state.public_limits.reports, |parts| {
        state.metrics.counters.citizen_reports_rejected.inc();
        let t = &lang_of(parts).content().ui;
        let page = super::MessagePage {
            page: Chrome::new(parts, &t.report_title, "report"),
            text: t.error_description.clone(),
        };
        render(StatusCode::PAYLOAD_TOO_LARGE, &page)
    })
    .await
    {
        Ok(post) => post,
        Err(answer) => return answer,
    };
    let content = lang_of(&post.parts).content();
    let text = |name: &str| post.text(name);
    let mut identifiers: Vec<String> = post
        .fields
        .iter()
        .filter(|(k, _)| k == "identifier")
        .map(|(_, v)| v.clone())
        .take(MAX_FORM_IDENTIFIERS)
        .collect();
    let mut values = Values {
        fraud_type: text("fraud_type"),
        occurred: text("occurred"),
        amount: text("amount"),
        identifiers: Vec::new(),
        description: text("description"),
        aangifte: text("aangifte"),
        age_band: text("age_band"),
        reference: text("reference"),
    };
    if !is_reference(&values.reference) {
        values.reference = new_reference().unwrap_or_default();
    }
    let adding = text("action") == "add";
    let CitizenPost {
        parts,
        visitor_id,
        cookie,
        csrf_ok,
        honeypot,
        ..
    } = post;
    if !csrf_ok {
        state.metrics.counters.citizen_reports_rejected.inc();
        values.identifiers = identifiers;
        return with_cookie(expired(&parts, &state, &visitor_id, values, StatusCode::FORBIDDEN), cookie);
    }
    if honeypot {
        // A robot filled in the field people cannot see: answer as if stored, store nothing.
        state.metrics.counters.honeypot_hits.inc();
        return see_other(&format!(
            "/melden/ontvangen?kenmerk={}&soort={}",
            values.reference,
            FraudType::Other.as_str()
        ));
    }
    if adding {
        if identifiers.len() < MAX_FORM_IDENTIFIERS {
            identifiers.push(String::new());
        }
        values.identifiers = identifiers;
        let rows = rows_or_default(&values);
        let page = form_page(&parts, &state, &visitor_id, values, rows, Vec::new());
        return render(StatusCode::OK, &page);
    }
    values.identifiers = identifiers;
    let report = match check_form(content, &values, state.now()) {
        Ok(report) => report.from_submitter(state.web_mac("submitter", &visitor_id)),
        Err((rows, errors)) => {
            state.metrics.counters.citizen_reports_rejected.inc();
            let rows = if rows.is_empty() { empty_rows(1) } else { rows };
            let page = form_page(&parts, &state, &visitor_id, values, rows, errors);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let source = match state.store.partner(CITIZEN_SOURCE_ID).await {
        Ok(Some(source)) => source,
        Ok(None) => {
            tracing::error!("the citizen source is missing from the store; were the migrations run?");
            return server_error(&parts);
        }
        Err(e) => {
            tracing::error!(error = %e, "store error");
            return server_error(&parts);
        }
    };
    let fraud_type = report.fraud_type();
    match state.file_reports(&source, std::slice::from_ref(&report)).await {
        Ok(outcomes) => match outcomes.first() {
            Some(InsertOutcome::Created(_) | InsertOutcome::Existing { .. }) => {
                state.metrics.counters.citizen_reports.inc();
                see_other(&format!(
                    "/melden/ontvangen?kenmerk={}&soort={}",
                    values.reference,
                    fraud_type.as_str()
                ))
            }
            _ => {
                values.reference = new_reference().unwrap_or_default();
                expired(&parts, &state, &visitor_id, values, StatusCode::CONFLICT)
            }
        },
        Err(_) => server_error(&parts),
    }
}

#[derive(Debug, Deserialize)]
struct ThanksQuery {
    kenmerk: Option<String>,
    soort: Option<String>,
}

#[derive(Template)]
#[template(path = "report_thanks.html")]
struct ThanksPage<'a> {
    page: Chrome,
    reference: Option<String>,
    key: &'static str,
    guidance: &'a Guidance,
    steps: Vec<(&'a str, &'a str, bool)>,
}

async fn thanks(parts: Parts) -> Response {
    let content = lang_of(&parts).content();
    let q: ThanksQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(ThanksQuery {
        kenmerk: None,
        soort: None,
    });
    let fraud_type = q.soort.as_deref().and_then(FraudType::from_key).unwrap_or(FraudType::Other);
    let Some(guidance) = content.guidance(fraud_type) else {
        return server_error(&parts);
    };
    render(
        StatusCode::OK,
        &ThanksPage {
            page: Chrome::new(&parts, &content.ui.report_thanks_title, "report"),
            reference: q.kenmerk.filter(|r| is_reference(r)),
            key: fraud_type.as_str(),
            guidance,
            steps: guidance
                .steps
                .iter()
                .map(|s| (s.title.as_str(), s.text.as_str(), s.urgent))
                .collect(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_people_write_them() {
        let eur = |s: &str| parse_amount(s).map(|m| m.minor());
        assert_eq!(eur("250"), Some(25_000));
        assert_eq!(eur("249,95"), Some(24_995));
        assert_eq!(eur("€ 1.250,00"), Some(125_000));
        assert_eq!(eur("249.95"), Some(24_995));
        assert_eq!(eur("1.250"), Some(125_000));
        assert_eq!(eur("1.250.000"), Some(125_000_000));
        assert_eq!(eur("veel"), None);
        assert_eq!(eur("-5"), None);
    }

    #[test]
    fn references() {
        let r = new_reference().expect("randomness");
        assert!(is_reference(&r), "{r}");
        assert!(!is_reference("VN-1234-5678-9ABG"));
        assert!(!is_reference("VN-1234-5678"));
        assert!(!is_reference("XX-1234-5678-9ABC"));
    }

    fn values(ids: &[&str]) -> Values {
        Values {
            fraud_type: "marketplace".into(),
            occurred: "2026-11-01".into(),
            amount: "250".into(),
            identifiers: ids.iter().map(|s| (*s).to_owned()).collect(),
            description: String::new(),
            aangifte: "ja".into(),
            age_band: "65-74".into(),
            reference: "VN-0000-1111-2222".into(),
        }
    }

    #[test]
    fn the_form_names_each_bad_field() {
        let content = crate::web::Lang::Nl.content();
        let now = Timestamp::parse_rfc3339("2026-11-28T10:00:00Z").expect("valid");
        let report = check_form(content, &values(&["NL91 ABNA 0417 1643 00", "", "06-12345678"]), now).expect("valid");
        assert_eq!(report.indicators().len(), 2);
        assert_eq!(report.tlp(), Tlp::Green);

        let Err((rows, errors)) = check_form(content, &values(&["NL91 ABNA 0417 1643 01", "06-12345678"]), now) else {
            panic!("the IBAN's check digits are wrong")
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "identifier-1");
        assert!(errors[0].1.contains("IBAN"), "{}", errors[0].1);
        assert!(rows[0].error.is_some() && rows[1].error.is_none());

        let mut bad = values(&[]);
        bad.fraud_type = "nonsense".into();
        bad.occurred = "2027-01-01".into();
        bad.amount = "veel".into();
        bad.aangifte = String::new();
        let Err((_, errors)) = check_form(content, &bad, now) else {
            panic!("everything is wrong")
        };
        let ids: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(ids, vec!["fraud_type", "occurred", "amount", "identifier-1", "aangifte-ja"]);
    }
}
