//! `GET /privacy`: the listing criteria, who receives what, the terms and how to object, in
//! plain Dutch and English, with the numbers as this installation is configured.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;

use super::content::PrivacyTexts;
use super::{Chrome, lang_of, render};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/privacy", get(page))
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    page: Chrome,
    p: &'static PrivacyTexts,
    listing_text: String,
    score_text: String,
    terms: Vec<String>,
}

/// A number as the page's language writes it (`0,5` or `0.5`).
fn number(value: f64, nl: bool) -> String {
    let text = format!("{value}");
    if nl { text.replace('.', ",") } else { text }
}

async fn page(State(state): State<AppState>, parts: Parts) -> Response {
    let lang = lang_of(&parts);
    let p = &lang.content().privacy;
    let nl = lang.code() == "nl";
    let services = &state.settings;
    let threshold = &services.public.threshold;
    let scoring = &services.scoring;
    let fill = |text: &str| {
        text.replace("{min_reports}", &number(threshold.min_reports, nl))
            .replace("{citizen_weight}", &number(threshold.citizen_weight, nl))
            .replace("{half_life}", &number(scoring.half_life_days, nl))
            .replace("{retention_days}", &scoring.retention_days.to_string())
            .replace("{naw_days}", &services.pnbf.procedure.naw_retention_days.to_string())
            .replace("{decision_days}", &services.disputes.decision_days.to_string())
            .replace("{report_days}", &services.retention.default_days.to_string())
            .replace(
                "{citizen_days}",
                &services
                    .retention
                    .term_days(vangnet_core::report::FraudType::Other, vangnet_core::PartnerKind::Citizen)
                    .to_string(),
            )
            .replace("{cleared_days}", &services.retention.cleared_days.to_string())
            .replace("{decided_days}", &services.retention.decided_days.to_string())
    };
    render(
        StatusCode::OK,
        &PrivacyPage {
            page: Chrome::new(&parts, &p.title, ""),
            p,
            listing_text: fill(&p.listing_text),
            score_text: fill(&p.score_text),
            terms: [&p.terms_reports, &p.terms_naw, &p.terms_objections]
                .into_iter()
                .map(|t| fill(t))
                .collect(),
        },
    )
}
