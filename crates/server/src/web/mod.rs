//! The web front end: server-rendered HTML for citizens (check, report, help) and the first
//! partner console. Every core flow works without JavaScript (there is none); pages are in
//! Dutch with English beside them (`?lang=en`, remembered in a cookie); the texts come from the
//! reviewed content files (`content.rs`). Each page module owns its routes and its templates
//! (`templates/`).
//!
//! Security: every response carries a strict Content-Security-Policy (no script at all, styles
//! only from this server) and the usual headers; forms are protected against cross-site
//! request forgery by a token bound to a cookie (citizen forms) or to the session (console).

pub mod check;
pub mod citizen_form;
pub mod console;
pub mod content;
pub mod disputes;
pub mod help;
pub mod mules;
pub mod networks;
pub mod objection;
pub mod pnbf;
pub mod privacy;
pub mod report;
pub mod subjects;
pub mod triage;

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{StatusCode, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub use content::Lang;
use content::Ui;

use crate::state::AppState;

/// The stylesheet, the only static file.
const STYLESHEET: &str = include_str!("static/vangnet.css");
/// The cookie that remembers the chosen language.
const LANG_COOKIE: &str = "vangnet_lang";
/// The cookie that binds the citizen forms' CSRF tokens (and pseudonymises submitters).
pub const VISITOR_COOKIE: &str = "vangnet_visitor";
/// The largest form body accepted by the web pages.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/vangnet.css", get(stylesheet))
        .route("/favicon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .merge(check::router())
        .merge(report::router())
        .merge(objection::router())
        .merge(privacy::router())
        .merge(help::router())
        .merge(console::router())
        .merge(pnbf::console_router())
        .merge(triage::console_router())
        .merge(disputes::console_router())
        .merge(subjects::console_router())
        .merge(mules::console_router())
        .merge(networks::console_router())
        .route("/zaak/{secret}", get(pnbf::victim))
}

/// The headers every response carries (API responses too: they cost nothing there).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let chosen = chosen_lang(request.uri().query());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    set(headers, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    if let Some(lang) = chosen
        && let Ok(cookie) = HeaderValue::from_str(&format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()))
    {
        headers.append(header::SET_COOKIE, cookie);
    }
    response
}

/// The language asked for in the query string (`lang=en`).
fn chosen_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(Lang::from_code)
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request: `?lang=`, then the cookie, then Dutch.
pub fn lang_of(parts: &Parts) -> Lang {
    chosen_lang(parts.uri.query())
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::from_code))
        .unwrap_or(Lang::Nl)
}

/// The parts of every page that the layout renders.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub t: &'static Ui,
    pub lang: &'static str,
    /// The page title (without the site name).
    pub title: String,
    /// Which navigation item is current: `home`, `check`, `report`, `help`, `partner`.
    pub nav: &'static str,
    /// The link to this page in the other language.
    pub other_lang_href: String,
}

impl Chrome {
    pub fn new(parts: &Parts, title: &str, nav: &'static str) -> Chrome {
        let lang = lang_of(parts);
        let t = &lang.content().ui;
        let other = Lang::from_code(&t.other_language_code).unwrap_or(Lang::En);
        let kept: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        let mut href = format!("{}?lang={}", parts.uri.path(), other.code());
        for pair in kept {
            href.push('&');
            href.push_str(pair);
        }
        Chrome {
            t,
            lang: lang.code(),
            title: title.to_owned(),
            nav,
            other_lang_href: href,
        }
    }

    pub fn content(&self) -> &'static content::Content {
        Lang::from_code(self.lang).unwrap_or(Lang::Nl).content()
    }
}

/// A page's refusal, if any, as the message to show and the status to answer with (200 OK
/// without one).
pub fn split_refusal(refusal: Option<(String, StatusCode)>) -> (Option<String>, StatusCode) {
    match refusal {
        Some((message, status)) => (Some(message), status),
        None => (None, StatusCode::OK),
    }
}

/// Renders a template as an HTML response.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A page with a title and a message: not found, too many requests, an error.
#[derive(Debug, Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub page: Chrome,
    pub text: String,
}

/// The page for a rate-limited request, with `Retry-After`.
pub fn too_many(parts: &Parts, retry_after: u64) -> Response {
    let page = Chrome::new(parts, &lang_of(parts).content().ui.too_many_title, "");
    let text = page.t.too_many_text.clone();
    let mut response = render(StatusCode::TOO_MANY_REQUESTS, &MessagePage { page, text });
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The page for a failure inside the server (details go to the log, not the page).
pub fn server_error(parts: &Parts) -> Response {
    let page = Chrome::new(parts, &lang_of(parts).content().ui.server_error_title, "");
    let text = page.t.server_error_text.clone();
    render(StatusCode::INTERNAL_SERVER_ERROR, &MessagePage { page, text })
}

/// The page for an unknown address.
pub fn not_found(parts: &Parts) -> Response {
    let page = Chrome::new(parts, &lang_of(parts).content().ui.page_not_found_title, "");
    let text = page.t.page_not_found_text.clone();
    render(StatusCode::NOT_FOUND, &MessagePage { page, text })
}

/// Whether a request asks for HTML (a browser) rather than JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The address a client is limited by: IPv4 as is, IPv6 by its /64 network (one household or
/// device), or the last `X-Forwarded-For` entry when the server sits behind a trusted proxy.
pub fn client_key(parts: &Parts, state: &AppState) -> String {
    let forwarded = state
        .http()
        .trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok());
    let ip = forwarded.or_else(|| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    });
    match ip {
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "unknown".to_owned(),
    }
}

/// The visitor id from the cookie, or a new one with the `Set-Cookie` header to send.
pub fn visitor(parts: &Parts, state: &AppState) -> Result<(String, Option<HeaderValue>), vangnet_core::token::RandomnessError> {
    if let Some(id) = cookie(&parts.headers, VISITOR_COOKIE).filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Ok((id.to_owned(), None));
    }
    let id = hex::encode(vangnet_core::token::random_secret(16)?);
    let secure = if state.http().secure_cookies { "; Secure" } else { "" };
    let header = HeaderValue::from_str(&format!(
        "{VISITOR_COOKIE}={id}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}"
    ))
    .ok();
    Ok((id, header))
}

/// The CSRF token of a citizen form for a visitor.
pub fn visitor_csrf(state: &AppState, visitor: &str) -> String {
    state.web_mac("csrf", visitor)
}

/// Constant-time comparison of two tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The fields of a urlencoded form, in order (repeated names kept).
pub fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// The first value of a form field.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Chrome,
}

async fn home(parts: Parts) -> Response {
    let t = &lang_of(&parts).content().ui;
    render(
        StatusCode::OK,
        &HomePage {
            page: Chrome::new(&parts, &t.home_title, "home"),
        },
    )
}

/// The site icon: a white V on the header's blue.
const ICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\"><rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b3d6b\"/><path d=\"M8 8l8 17 8-17\" fill=\"none\" stroke=\"#fff\" stroke-width=\"4\" stroke-linejoin=\"round\"/></svg>";

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Redirect after a successful form post (303: the browser follows with GET).
/// Text for the inside of a server-written SVG element or attribute (the graphs of the mule and
/// network pages, built as strings rather than templates).
pub fn svg_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The HTML pages' not-found page, or the API's JSON error, depending on the client.
pub async fn fallback(State(_state): State<AppState>, parts: Parts) -> Response {
    if !parts.uri.path().starts_with("/api/") && wants_html(&parts.headers) {
        not_found(&parts)
    } else {
        crate::ApiError::not_found("resource").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_language() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; vangnet_lang=en; b=2"));
        assert_eq!(cookie(&headers, "vangnet_lang"), Some("en"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
        assert_eq!(chosen_lang(Some("x=1&lang=en")), Some(Lang::En));
        assert_eq!(chosen_lang(Some("lang=fr")), None);
        assert_eq!(chosen_lang(None), None);
    }

    #[test]
    fn tokens_compare_fully() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }

    #[test]
    fn forms_keep_repeated_fields() {
        let fields = form_fields(b"identifier=NL91&identifier=06-1&description=a+b%21");
        let ids: Vec<&str> = fields.iter().filter(|(k, _)| k == "identifier").map(|(_, v)| v.as_str()).collect();
        assert_eq!(ids, vec!["NL91", "06-1"]);
        assert_eq!(field(&fields, "description"), Some("a b!"));
        assert!(form_fields(b"%zz=\xff").is_empty() || field(&form_fields(b"%zz=\xff"), "x").is_none());
    }
}
