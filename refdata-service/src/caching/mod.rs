//! HTTP caching for rendered responses: strong ETags, conditional requests, Cache-Control,
//! pre-compressed variants and an in-process moka cache bounded by bytes.
//!
//! Contract with the handlers: a handler that returns a cacheable `200` inserts a
//! [`CachePolicy`] into its response extensions. The caching layer keys stored responses by
//! the data generation (bumped whenever any dataset changes) and the path and query, so a new
//! dataset version never serves stale bytes.
//!
//! One entry holds every content-coding of a representation (identity, and brotli and gzip when
//! the body is large enough to gain from them), compressed once when the entry is built, so a
//! hit is a hash look-up plus a reference-counted copy of the body. HEAD shares the GET entry.
//! Bump the [`DataGeneration`] after the new data is visible to the handlers.
//!
//! Responses that vary on request headers other than `Accept-Encoding` (a handler `Vary`
//! header naming them) are passed through uncached, as are non-`200` responses, responses
//! without a [`CachePolicy`], and bodies above [`CacheConfig::max_entry_bytes`].
//!
//! # Wiring
//!
//! Layers added later wrap the earlier ones. Metrics go last, so they are outermost and time
//! cache hits too; both go through `Router::layer` so they see the route's `MatchedPath`.
//! Tracing, timeouts and panic catching can wrap them. Do not put a compression layer around
//! the cache: it would re-encode identity responses under their identity ETag. To answer hits
//! before routing, wrap the finished router with [`CacheLayer::hits_first`]: hits are then
//! counted by the metrics under the route that rendered them, everything else goes through
//! the router.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{routing::get, Router};
//! use refdata::caching::{CacheConfig, CacheLayer, DataGeneration, ResponseCache};
//! use refdata::metrics::{metrics_router, track_requests, Metrics};
//!
//! let metrics = Metrics::new();
//! let generation = DataGeneration::default(); // bumped by whoever reloads datasets
//! let cache = ResponseCache::new(CacheConfig { max_bytes: 64 << 20, ..CacheConfig::default() });
//! let app: Router = Router::new()
//!     .route("/v1/countries/{code}", get(|| async { "handler returning a CachePolicy" }))
//!     .merge(metrics_router(Arc::clone(&metrics)))
//!     .layer(CacheLayer::new(cache, generation.clone(), Arc::clone(&metrics)))
//!     .layer(axum::middleware::from_fn_with_state(metrics, track_requests));
//! ```

mod conditional;
mod key;
mod layer;
mod negotiate;
mod store;

pub use conditional::{
    if_match_matches, if_none_match_matches, modified_since, not_modified_since,
};
pub use key::canonical_target;
pub use layer::{CacheLayer, CacheService, HitFirst};
pub use negotiate::{negotiate, Encoding};
pub use store::{bounded, cache_control_value, etag_base, CacheConfig, CacheStats, ResponseCache};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How a representation may be cached, chosen per dataset by the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachePolicy {
    /// Version of the dataset(s) the body was rendered from; part of the ETag.
    pub dataset_version: String,
    /// When that dataset last changed (`Last-Modified`).
    pub last_modified: SystemTime,
    pub max_age: Duration,
    pub stale_while_revalidate: Duration,
    /// Representations that can never change (historic exchange rates).
    pub immutable: bool,
    /// The next moment the representation can change although the data does not (a "today"
    /// answer at midnight, "latest" rates at the next expected publication). The stored entry
    /// is dropped then, and `max-age` plus `stale-while-revalidate` never reach past it.
    pub changes_at: Option<SystemTime>,
}

/// A counter bumped whenever any dataset changes; cache keys include it.
#[derive(Debug, Clone, Default)]
pub struct DataGeneration(Arc<AtomicU64>);

impl DataGeneration {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    pub fn bump(&self) -> u64 {
        self.0.fetch_add(1, Ordering::AcqRel) + 1
    }
}
