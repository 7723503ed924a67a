//! Vangnet's wire types: the JSON shapes (and the ISO 20022 messages) that the HTTP API, the
//! web pages, the stream workers and the CLI exchange with the outside, and their checks into
//! the services' inputs. Every adapter that speaks JSON uses these, so a payment on the NATS
//! subject and a payment in `POST /api/v1/payments/score` are one type with one validation.
//!
//! Errors are [`WireError`]s: a stable code, the field and a message; each adapter answers
//! them in its own way (HTTP status and JSON body, dead-letter headers, a CLI line).

pub mod calls;
pub mod disputes;
pub mod error;
pub mod iso20022;
pub mod json;
pub mod mules;
pub mod networks;
pub mod payments;
pub mod pnbf;
pub mod registry;
pub mod subjects;

pub use error::{ErrorBody, ErrorDetail, WireError};
