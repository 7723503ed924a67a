//! Request extractors: JSON bodies with errors that name the field, and the calling partner.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use vangnet_store::Partner;

use vangnet_wire::json::parse_json;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body, parsed strictly: wrong content type → 415, too large → 413, not JSON → 400,
/// wrong shape → 422 with the path of the offending field.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| {
                let v = v.trim().to_ascii_lowercase();
                v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let ApiBody(bytes) = ApiBody::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson).map_err(ApiError::from)
    }
}

/// A request body as bytes, with the JSON error shape for a body that is too large (413
/// `payload_too_large`) or cannot be read (400 `unreadable_body`): axum's own rejections are
/// plain text.
#[derive(Debug)]
pub struct ApiBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state).await.map(ApiBody).map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than the server accepts",
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the request body could not be read")
            }
        })
    }
}

/// A JSON body that may also be left out entirely (then `T::default()`).
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req.headers().get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() == b"0")
            || (req.headers().get(header::CONTENT_TYPE).is_none()
                && req.headers().get(header::TRANSFER_ENCODING).is_none()
                && req.headers().get(header::CONTENT_LENGTH).is_none());
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state).await.map(|ApiJson(v)| OptionalJson(v))
    }
}

/// A path parameter set; a malformed one (bad percent-encoding) is a 422 JSON error.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|e| ApiError::invalid("invalid_parameter", "path", e.body_text()))
    }
}

/// Query parameters; unknown or malformed ones are a 422 JSON error.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<T>(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::invalid("invalid_parameter", "query", format!("the query parameters are not valid: {e}")))
    }
}

/// The partner making the request, from `Authorization: Bearer TOKEN`.
#[derive(Debug, Clone)]
pub struct Caller(pub Partner);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "send your API token as `Authorization: Bearer TOKEN`",
            ));
        };
        let presented = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or("");
        // An address that sent too many wrong tokens is answered 429 without a look-up, unless
        // it presents a token known to be valid: guessing costs the server nothing and gets
        // nowhere, and a partner behind the same address keeps working.
        let address = crate::web::client_key(parts, state);
        let now = std::time::Instant::now();
        let too_many = |retry_after: u64| {
            state.metrics.counters.auth_failures_limited.inc();
            ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests with a wrong token from your address; wait and send a valid token",
                )
            }
        };
        if let Err(retry_after) = state.limits.auth_failures.blocked(&address, now)
            && !state.auth.known_valid(presented)
        {
            return Err(too_many(retry_after));
        }
        let partner = state.auth.authenticate(presented).await?;
        let Some(partner) = partner else {
            if let Err(retry_after) = state.limits.auth_failures.failed(&address, now) {
                return Err(too_many(retry_after));
            }
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the API token is unknown or has been revoked",
            ));
        };
        if let Some(retry_after) = state.limits.partner_rate(&partner) {
            return Err(ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests from your organisation; slow down",
                )
            });
        }
        // Only a token's own scopes refuse here; what the partner's kind may do is the
        // resource's decision (403 `forbidden`), as for tokens made before scopes existed.
        if let Some(scope) = crate::scopes::required(&parts.method, parts.uri.path())
            && partner.grant.scopes.is_some_and(|granted| !granted.contains(scope))
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "scope_missing",
                format!("scope `{scope}` missing: this token was not issued for it; use a token with that scope"),
            ));
        }
        let caller = Caller(partner);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}
