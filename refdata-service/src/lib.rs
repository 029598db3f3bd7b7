//! refdata: the shared reference-data service (countries, currencies, exchange rates, tax rates).
//!
//! - [`domain`]: data types and pure logic (cross rates, rounding, tax validity).
//! - [`import`]: `refdata import`, building the snapshot from the source files.
//! - [`store`]: the loaded, indexed snapshot and the [`store::SnapshotSource`] seam.
//! - [`storage`]: versioned, durable storage in SQLite or PostgreSQL and replica sync.
//! - [`auth`]: bearer tokens and roles of the admin API.
//! - [`app`]: the axum router ([`app::router`]) over an [`app::AppState`].
//! - [`server`]: layers, background loading and graceful shutdown ([`server::serve`]).
//! - [`caching`]: ETags, conditional requests and the in-process response cache.
//! - [`metrics`]: Prometheus metrics for requests and the cache.
//! - [`clock`]: the injectable clock and the moments time-dependent answers change.
//! - [`config`]: limits, data-age threshold, CORS and logging settings.

pub mod app;
pub mod auth;
pub mod caching;
pub mod clock;
pub mod config;
pub mod conn;
pub mod domain;
pub mod import;
pub mod metrics;
pub mod server;
pub mod storage;
pub mod store;
