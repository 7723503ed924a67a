//! The storage test suite: every scenario runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL is the server at `VANGNET_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a schema of its own, dropped
//! at the end. Without a reachable server the PostgreSQL variants are skipped with a notice,
//! except when `CI` is set: then they fail.

mod support;

mod audit;
mod calls;
mod citizen_reports;
mod dispute_requests;
mod disputes;
mod mules;
mod networks;
mod partners;
mod pnbf;
mod reports;
mod retention;
mod screening;
mod settings;
mod subjects;
