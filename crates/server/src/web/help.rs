//! Victim help (*slachtofferhulp*): a short questionnaire that classifies what happened into a
//! fraud type, then that type's steps, most urgent first, with the organisations that handle
//! each step, and a printable large-type summary. One question per page, answered with two
//! buttons; the state is only the question number, so it works without JavaScript or cookies.
//! The questions, steps and organisations are data (`content/*.toml`).

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use vangnet_core::report::FraudType;

use super::content::{Content, Guidance, Organisation};
use super::{Chrome, lang_of, not_found, render, see_other};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hulp", get(index))
        .route("/hulp/vraag/{n}", get(question))
        .route("/hulp/antwoord", get(answer))
        .route("/hulp/{fraud_type}", get(steps))
        .route("/hulp/{fraud_type}/afdrukken", get(print))
}

#[derive(Template)]
#[template(path = "help_index.html")]
struct IndexPage {
    page: Chrome,
    types: Vec<(&'static str, String)>,
}

fn all_types(content: &Content) -> Vec<(&'static str, String)> {
    FraudType::ALL
        .iter()
        .map(|t| (t.as_str(), content.fraud_type(*t).to_owned()))
        .collect()
}

async fn index(parts: Parts) -> Response {
    let content = lang_of(&parts).content();
    render(
        StatusCode::OK,
        &IndexPage {
            page: Chrome::new(&parts, &content.ui.help_title, "help"),
            types: all_types(content),
        },
    )
}

#[derive(Template)]
#[template(path = "help_question.html")]
struct QuestionPage {
    page: Chrome,
    number: usize,
    total: usize,
    text: String,
    hint: String,
}

async fn question(parts: Parts, Path(n): Path<String>) -> Response {
    let content = lang_of(&parts).content();
    let total = content.questionnaire.len();
    let Some(number) = n.parse::<usize>().ok().filter(|n| (1..=total).contains(n)) else {
        return not_found(&parts);
    };
    let q = &content.questionnaire[number - 1];
    render(
        StatusCode::OK,
        &QuestionPage {
            page: Chrome::new(&parts, &q.text, "help"),
            number,
            total,
            text: q.text.clone(),
            hint: q.hint.clone(),
        },
    )
}

#[derive(Debug, Deserialize)]
struct Answer {
    stap: Option<String>,
    antwoord: Option<String>,
}

/// Where an answer leads: the first "yes" decides the fraud type; after the last "no", the
/// general steps.
pub fn next_after(content: &Content, step: usize, yes: bool) -> String {
    let total = content.questionnaire.len();
    match content.questionnaire.get(step.wrapping_sub(1)) {
        Some(q) if yes => format!("/hulp/{}", q.fraud_type),
        Some(_) if step < total => format!("/hulp/vraag/{}", step + 1),
        Some(_) => format!("/hulp/{}", FraudType::Other.as_str()),
        None => "/hulp/vraag/1".to_owned(),
    }
}

async fn answer(parts: Parts) -> Response {
    let content = lang_of(&parts).content();
    let a: Answer = serde_urlencoded::from_str(parts.uri.query().unwrap_or("")).unwrap_or(Answer {
        stap: None,
        antwoord: None,
    });
    let step = a.stap.and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
    let yes = match a.antwoord.as_deref() {
        Some("ja") => true,
        Some("nee") => false,
        // No answer given: ask the same question again.
        _ => return see_other(&format!("/hulp/vraag/{}", step.max(1).min(content.questionnaire.len()))),
    };
    see_other(&next_after(content, step, yes))
}

/// One step with its organisation, ready for the template.
struct StepView<'a> {
    title: &'a str,
    text: &'a str,
    urgent: bool,
    organisation: Option<&'a Organisation>,
}

fn step_views<'a>(content: &'a Content, guidance: &'a Guidance) -> Vec<StepView<'a>> {
    guidance
        .steps
        .iter()
        .map(|s| StepView {
            title: &s.title,
            text: &s.text,
            urgent: s.urgent,
            organisation: s.organisation.as_ref().and_then(|o| content.organisations.get(o)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "help_steps.html")]
struct StepsPage<'a> {
    page: Chrome,
    key: &'static str,
    guidance: &'a Guidance,
    steps: Vec<StepView<'a>>,
}

#[derive(Template)]
#[template(path = "help_print.html")]
struct PrintPage<'a> {
    page: Chrome,
    guidance: &'a Guidance,
    steps: Vec<StepView<'a>>,
}

async fn steps(parts: Parts, Path(key): Path<String>) -> Response {
    let content = lang_of(&parts).content();
    let Some((t, guidance)) = FraudType::from_key(&key).and_then(|t| Some((t, content.guidance(t)?))) else {
        return not_found(&parts);
    };
    render(
        StatusCode::OK,
        &StepsPage {
            page: Chrome::new(&parts, &guidance.title, "help"),
            key: t.as_str(),
            guidance,
            steps: step_views(content, guidance),
        },
    )
}

async fn print(parts: Parts, Path(key): Path<String>) -> Response {
    let content = lang_of(&parts).content();
    let Some(guidance) = FraudType::from_key(&key).and_then(|t| content.guidance(t)) else {
        return not_found(&parts);
    };
    render(
        StatusCode::OK,
        &PrintPage {
            page: Chrome::new(&parts, &guidance.title, "help"),
            guidance,
            steps: step_views(content, guidance),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::Lang;

    #[test]
    fn the_first_yes_decides() {
        let content = Lang::Nl.content();
        assert_eq!(next_after(content, 1, true), "/hulp/bankhelpdesk");
        assert_eq!(next_after(content, 1, false), "/hulp/vraag/2");
        let last = content.questionnaire.len();
        assert_eq!(next_after(content, last, false), "/hulp/other");
        assert_eq!(next_after(content, 0, true), "/hulp/vraag/1", "no such question");
        assert_eq!(next_after(content, last + 1, false), "/hulp/vraag/1");
    }
}
