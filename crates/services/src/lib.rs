//! Vangnet's services: the application state and the use cases that the HTTP API, the web
//! pages, the stream workers and the CLI all reach. Between the domain core (no I/O) and the
//! adapters: the services hold state (the index, the engines' memory, the audit queue, console
//! sessions, rate limits) and talk to the store, but know no wire format — no HTTP, no NATS, no
//! JSON shapes of the API (those are in `vangnet-wire`).
//!
//! [`Services::start`] checks the keys, starts the engines and loads the index;
//! [`start::Background::run`] runs the change-feed follower, the rules reload, the call expiry
//! and the PNBF scheduler until [`start::Running::stop`].
//!
//! Nothing here logs personal data: indicators appear in logs and the audit log only as keyed
//! pseudonyms.

pub mod audit_sink;
pub mod auth;
pub mod checks;
pub mod citizen_reports;
pub mod clock;
pub mod dispute_requests;
pub mod disputes;
pub mod feed;
pub mod limits;
pub mod metrics;
pub mod mule_reads;
pub mod mules;
pub mod networks;
pub mod pnbf;
pub mod registry;
pub mod reports;
pub mod retention;
pub mod screening;
pub mod sessions;
pub mod settings;
pub mod start;
pub mod state;
pub mod subjects;

pub use limits::Rate;
pub use metrics::Metrics;
pub use registry::Registry;
pub use settings::Settings;
pub use start::{Background, Running, StartError, audit_key};
pub use state::Services;
