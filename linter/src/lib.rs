//! archlint: reads a Cargo workspace without compiling it, builds a model of services,
//! databases, tables, calls and events, and reports data-management mistakes.
//!
//! Pipeline: discovery (which crates are services) -> extractors (Rust, SQL, deployment
//! files) feed facts into one [`model::Model`] -> rules judge the model -> reporters render
//! diagnostics. Rules never reparse source; extractors never judge.

pub mod extract;
pub mod model;
pub mod source;
