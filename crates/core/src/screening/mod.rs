//! Real-time interventions: payment screening for banks (and, with the call-screening work,
//! call screening for telecom providers). Pure decision logic and bounded state; the server
//! loads rules files, feeds registry and telecom signals in, and persists what it must.

pub mod calls;
pub mod payments;
