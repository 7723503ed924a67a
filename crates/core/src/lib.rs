//! The Vangnet domain core.
//!
//! Everything the platform knows about fraud lives here as plain types and pure functions:
//! indicators and their canonical forms, reports, partner kinds and TLP, the score, the
//! in-memory indicator index and the hash chain of the audit log.
//!
//! This crate must never do I/O: no files, no sockets, no database, no JSON wire types. The
//! storage, server and CLI crates are adapters around it. The only outside facts it reads are
//! the system clock (through [`Timestamp::now`], which callers may replace by passing their own
//! time) and the operating system's random generator for API tokens.

pub mod audit;
pub mod dispute;
pub mod index;
pub mod indicator;
pub mod money;
pub mod mules;
pub mod nl_banks;
pub mod partner;
pub mod pnbf;
pub mod report;
pub mod retention;
pub mod scope;
pub mod scoring;
pub mod screening;
pub mod subject_access;
pub mod timestamp;
pub mod token;

pub use indicator::{Indicator, IndicatorError, IndicatorKind};
pub use money::{Currency, Money, MoneyError};
pub use partner::{PartnerKind, Viewer};
pub use report::{FraudType, Tlp};
pub use timestamp::Timestamp;
