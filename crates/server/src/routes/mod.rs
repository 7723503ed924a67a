//! One module per resource, each with its own `router()`.

pub mod call_lists;
pub mod calls;
pub mod checks;
pub mod citizen_reports;
pub mod disputes;
pub mod health;
pub mod indicators;
pub mod meta;
pub mod payments;
pub mod pnbf;
pub mod reports;
