//! Typed, caching client for the refdata service.
//!
//! Services call refdata instead of keeping their own copies of countries, currencies, exchange
//! rates and tax rates. This client makes that cheap and robust:
//!
//! - responses are cached for their `Cache-Control: max-age`, so fresh reads make no request;
//! - expired entries are revalidated with `If-None-Match`, and a `304` reuses the cached body;
//! - within the response's `stale-while-revalidate` window the cached body is returned at once
//!   and revalidated in the background, once per resource;
//! - concurrent calls for the same resource share one request and its outcome;
//! - when the service is unreachable or answers 5xx, a stale copy is returned, up to a
//!   configurable maximum staleness (stale-if-error);
//! - each attempt has a timeout, and connection errors, timeouts, 5xx, 408 and 429 are retried
//!   with exponential backoff and jitter, honouring `Retry-After` (every call is an idempotent
//!   GET);
//! - error responses (`application/problem+json`) become [`Error::Api`] with the service's
//!   `detail`;
//! - [`RefdataClient::subscribe_to_changes`] follows the service's change stream and empties
//!   the cache as soon as a new dataset version is served, instead of waiting for `max-age`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), refdata_client::Error> {
//! use std::time::Duration;
//! use refdata_client::RefdataClient;
//!
//! let refdata = RefdataClient::builder("http://refdata:8080")
//!     .timeout(Duration::from_millis(500))
//!     .retries(2)
//!     .cache_capacity(16 * 1024 * 1024)
//!     .build()?;
//! let germany = refdata.country("DE").await?;
//! let price = refdata
//!     .convert("EUR", &germany.currencies[0], "12.50".parse().unwrap_or_default(), None)
//!     .await?;
//! println!("{} {}", price.result, price.to);
//! # Ok(()) }
//! ```

mod cache;
mod changes;
mod client;
mod error;
mod model;

pub use changes::ChangeSubscription;
pub use client::{ClientBuilder, ClientStats, RefdataClient};
pub use error::Error;
pub use model::{
    Conversion, Country, CountryFilter, Currency, Dataset, ExchangeRates, Problem, TaxRate,
};
