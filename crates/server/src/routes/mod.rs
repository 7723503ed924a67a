//! One module per resource, each with its own `router()`.

pub mod call_lists;
pub mod calls;
pub mod checks;
pub mod citizen_reports;
pub mod disputes;
pub mod health;
pub mod indicators;
pub mod meta;
pub mod mules;
pub mod networks;
pub mod payments;
pub mod pnbf;
pub mod reports;
pub mod subjects;

/// `Cache-Control: no-store`, for answers that hold personal data.
pub const NO_STORE: [(axum::http::header::HeaderName, &str); 1] = [(axum::http::header::CACHE_CONTROL, "no-store")];
