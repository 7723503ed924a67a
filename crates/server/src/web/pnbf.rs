//! PNBF pages: the printable dossier, the victim's case page behind the secret link, and the
//! banks' outbox, inbox, case and figures pages in the partner console.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::render;
use crate::routes::pnbf::DossierOut;

#[derive(Template)]
#[template(path = "pnbf_dossier.html")]
struct DossierPage<'a> {
    d: &'a DossierOut,
}

/// The dossier as an HTML page for print.
pub fn dossier_page(d: &DossierOut) -> Response {
    render(StatusCode::OK, &DossierPage { d })
}
