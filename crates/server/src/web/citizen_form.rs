//! What every public form post does before its own checks: read the body within
//! [`MAX_FORM_BYTES`], take one from the form's rate-limit bucket for the client's address,
//! find (or make) the visitor, parse the fields, and check the form's CSRF token and the
//! honeypot field people cannot see. The report form and the objection form both start here.

use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::http::request::Parts;
use axum::response::Response;
use vangnet_services::limits::RateLimiter;

use super::{MAX_FORM_BYTES, field, form_fields, same_token, server_error, too_many, visitor, visitor_csrf};
use crate::state::AppState;

/// A public form post, read and checked.
#[derive(Debug)]
pub struct CitizenPost {
    pub parts: Parts,
    pub fields: Vec<(String, String)>,
    /// The visitor's id (from the cookie, or new).
    pub visitor_id: String,
    /// The cookie to set when the visitor is new (then the CSRF token cannot match).
    pub cookie: Option<HeaderValue>,
    /// The form came with this visitor's CSRF token.
    pub csrf_ok: bool,
    /// A robot filled in the hidden `website` field.
    pub honeypot: bool,
}

impl CitizenPost {
    /// A field's text (empty when it is missing).
    pub fn text(&self, name: &str) -> String {
        field(&self.fields, name).unwrap_or("").to_owned()
    }
}

/// Reads and checks a public form post. `too_large` answers a body over the bound; a refused
/// rate or a failed visitor answer here.
pub async fn read(
    state: &AppState,
    request: Request,
    bucket: &RateLimiter<String>,
    too_large: impl FnOnce(&Parts) -> Response,
) -> Result<CitizenPost, Response> {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return Err(too_large(&parts));
    };
    let key = super::client_key(&parts, state);
    if let Err(retry_after) = bucket.take(&key) {
        state.metrics.counters.public_rate_limited.inc();
        return Err(too_many(&parts, retry_after));
    }
    let Ok((visitor_id, cookie)) = visitor(&parts, state) else {
        return Err(server_error(&parts));
    };
    let fields = form_fields(&body);
    let csrf = field(&fields, "csrf").unwrap_or("");
    let csrf_ok = cookie.is_none() && same_token(csrf, &visitor_csrf(state, &visitor_id));
    let honeypot = field(&fields, "website").is_some_and(|w| !w.is_empty());
    Ok(CitizenPost {
        parts,
        fields,
        visitor_id,
        cookie,
        csrf_ok,
        honeypot,
    })
}

/// Adds the visitor cookie to an answer, when there is one to set.
pub fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}
