//! The HTTP API: routes, handlers, problem details and the OpenAPI document.
//!
//! [`router`] builds every route over an [`AppState`] without HTTP caching; the caching layer
//! (`crate::caching`) is added around it by [`crate::server`]. Handlers attach a
//! [`CachePolicy`] to each cacheable `200` response (see [`policy`]).

pub mod admin;
pub mod changes;
mod countries;
mod currencies;
pub mod extract;
mod meta;
pub mod openapi;
pub mod pagination;
pub mod policy;
pub mod problem;
mod rates;
pub use rates::LATEST_RATES_HEADER;
mod tax;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::sync::broadcast;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::caching::{CachePolicy, DataGeneration};
use crate::clock::SharedClock;
use crate::config::{Limits, ServiceConfig};
use crate::storage::{self, Store, VersionInfo};
use crate::store::Snapshot;
use problem::Problem;

/// Renders extra Prometheus text for `/metrics` (installed by the caching layer).
pub type MetricsRenderer = Arc<dyn Fn() -> String + Send + Sync>;

/// Shared state of the API: the current snapshot (absent while loading) and the data
/// generation the caching layer keys on.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    /// Swapped whole, so a request sees one complete version; reads never take a lock.
    snapshot: ArcSwapOption<Snapshot>,
    /// Every stored version up to the current one, oldest first (empty without a database).
    history: ArcSwap<Vec<VersionInfo>>,
    /// Serialises installs, so versions only move forward.
    install: Mutex<()>,
    /// New versions, for the change stream.
    changes: broadcast::Sender<VersionInfo>,
    /// The database, when the datasets come from one (admin writes need it).
    store: OnceLock<Arc<Store>>,
    /// Set when the server shuts down, to end the change streams.
    closing: tokio::sync::watch::Sender<bool>,
    generation: DataGeneration,
    metrics: RwLock<Vec<MetricsRenderer>>,
    config: ServiceConfig,
    /// Permits for expensive renders ([`crate::config::Limits::max_expensive`]).
    expensive: Arc<Semaphore>,
    /// Requests answered `busy` because every permit was taken.
    shed: AtomicU64,
}

impl AppState {
    /// A state that serves `snapshot` right away, with the default configuration.
    pub fn new(snapshot: Snapshot) -> Self {
        Self::with_config(snapshot, ServiceConfig::default())
    }

    /// A state that serves `snapshot` right away.
    pub fn with_config(snapshot: Snapshot, config: ServiceConfig) -> Self {
        let state = Self::loading_with(config);
        state.replace_snapshot(snapshot);
        state
    }

    /// A state with no data yet: `/readyz` and data routes answer 503 until
    /// [`AppState::replace_snapshot`] is called.
    pub fn loading() -> Self {
        Self::loading_with(ServiceConfig::default())
    }

    /// [`AppState::loading`] with a configuration (limits, clock, CORS, ...).
    pub fn loading_with(config: ServiceConfig) -> Self {
        Self {
            inner: Arc::new(StateInner {
                snapshot: ArcSwapOption::empty(),
                history: ArcSwap::from_pointee(Vec::new()),
                install: Mutex::new(()),
                changes: broadcast::channel(1024).0,
                store: OnceLock::new(),
                closing: tokio::sync::watch::Sender::new(false),
                generation: DataGeneration::default(),
                metrics: RwLock::new(Vec::new()),
                expensive: Arc::new(Semaphore::new(config.limits.max_expensive.max(1))),
                shed: AtomicU64::new(0),
                config,
            }),
        }
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.config.limits
    }

    pub fn clock(&self) -> &SharedClock {
        &self.inner.config.clock
    }

    /// A permit to run an expensive render, or a 503 problem with `Retry-After` when they are
    /// all taken: excess expensive work is shed rather than queued in front of cheap requests.
    pub fn expensive_permit(&self) -> Result<ExpensivePermit, Problem> {
        Arc::clone(&self.inner.expensive)
            .try_acquire_owned()
            .map(|permit| ExpensivePermit {
                _held: Arc::new(permit),
            })
            .map_err(|_| {
                self.inner.shed.fetch_add(1, Ordering::Relaxed);
                Problem::busy(self.limits().retry_after)
            })
    }

    /// Requests shed with `busy` so far.
    pub fn shed_count(&self) -> u64 {
        self.inner.shed.load(Ordering::Relaxed)
    }

    /// Installs a new snapshot and bumps the data generation; returns the new generation.
    pub fn replace_snapshot(&self, snapshot: Snapshot) -> u64 {
        let _installing = self
            .inner
            .install
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.snapshot.store(Some(Arc::new(snapshot)));
        self.inner.generation.bump()
    }

    /// Installs stored version `snapshot.version()` with the versions that led to it, unless
    /// a version at least as new is already served (a notification and a local write can
    /// race). Returns whether it was installed; new versions go to the change stream.
    pub fn install_version(&self, snapshot: Snapshot, new_versions: Vec<VersionInfo>) -> bool {
        let _installing = self
            .inner
            .install
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.inner.snapshot.load().as_ref().map(|s| s.version());
        if current.is_some_and(|v| v >= snapshot.version()) {
            return false;
        }
        let mut history = Vec::clone(&self.inner.history.load());
        let last = history.last().map_or(0, |v| v.version);
        let added: Vec<VersionInfo> = new_versions
            .into_iter()
            .filter(|v| v.version > last && v.version <= snapshot.version())
            .collect();
        // The audit detail stays in the database: the in-memory history serves the change
        // feed and version lists, which do not show it, and grows with every version.
        history.extend(added.iter().map(|info| VersionInfo {
            detail: serde_json::Value::Null,
            ..info.clone()
        }));
        let version = snapshot.version();
        let snapshot = storage::stamp(snapshot, version, &history);
        self.inner.history.store(Arc::new(history));
        self.inner.snapshot.store(Some(Arc::new(snapshot)));
        self.inner.generation.bump();
        for info in added {
            // No subscribers is fine.
            let _ = self.inner.changes.send(info);
        }
        true
    }

    /// Stored versions up to the one served, oldest first.
    pub fn history(&self) -> Arc<Vec<VersionInfo>> {
        self.inner.history.load_full()
    }

    /// The stored version served (0 without a database or before loading).
    pub fn version(&self) -> u64 {
        self.inner
            .snapshot
            .load()
            .as_ref()
            .map_or(0, |s| s.version())
    }

    /// New versions as they are installed.
    pub fn subscribe(&self) -> broadcast::Receiver<VersionInfo> {
        self.inner.changes.subscribe()
    }

    /// Ends every change stream (at shutdown).
    pub fn close_streams(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once [`AppState::close_streams`] has been called.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Attaches the database the datasets come from; only the first call has an effect.
    pub fn set_store(&self, store: Arc<Store>) {
        let _ = self.inner.store.set(store);
    }

    pub fn store(&self) -> Option<&Arc<Store>> {
        self.inner.store.get()
    }

    /// The current snapshot, if loaded.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.inner.snapshot.load_full()
    }

    /// The current snapshot, or a 503 problem while loading.
    pub fn data(&self) -> Result<Arc<Snapshot>, Problem> {
        self.snapshot().ok_or_else(Problem::not_ready)
    }

    pub fn is_ready(&self) -> bool {
        self.snapshot().is_some()
    }

    /// The generation counter shared with the caching layer.
    pub fn generation(&self) -> DataGeneration {
        self.inner.generation.clone()
    }

    /// Adds a renderer whose output is appended to `/metrics`.
    pub fn add_metrics(&self, renderer: MetricsRenderer) {
        self.inner
            .metrics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(renderer);
    }

    fn extra_metrics(&self) -> String {
        self.inner
            .metrics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|render| render())
            .collect()
    }
}

/// Held while an expensive response is rendered; it travels in the response's extensions so
/// the caching layer keeps it until the body is compressed and stored.
#[derive(Clone, Debug)]
pub struct ExpensivePermit {
    _held: Arc<OwnedSemaphorePermit>,
}

impl AppState {
    /// A permit when a page of `limit` items is large enough to count as expensive.
    pub fn page_permit(&self, limit: usize) -> Result<Option<ExpensivePermit>, Problem> {
        if limit > self.limits().large_page {
            self.expensive_permit().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// `response` holding `permit` until the caching layer has stored it.
pub fn holding(mut response: Response, permit: Option<ExpensivePermit>) -> Response {
    if let Some(permit) = permit {
        response.extensions_mut().insert(permit);
    }
    response
}

/// Runs an expensive render on the blocking pool, so the async workers stay free for cache
/// hits; the permit is held by the work itself, which outlives a request timeout.
pub async fn render_blocking<F>(permit: ExpensivePermit, work: F) -> Result<Response, Problem>
where
    F: FnOnce() -> Result<Response, Problem> + Send + 'static,
{
    let done = tokio::task::spawn_blocking(move || (work(), permit)).await;
    match done {
        Ok((Ok(response), permit)) => Ok(holding(response, Some(permit))),
        Ok((Err(problem), _)) => Err(problem),
        Err(error) => {
            tracing::error!(%error, "an expensive render failed");
            Err(Problem::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the request could not be completed; the failure was logged",
            ))
        }
    }
}

/// `body` as a JSON response, or a 422 problem once it grows past `max_bytes` (serialising
/// stops there, so an oversized answer never sits in memory whole).
pub fn json_within(body: &impl serde::Serialize, max_bytes: usize) -> Result<Response, Problem> {
    struct Bounded {
        bytes: Vec<u8>,
        max: usize,
    }
    impl std::io::Write for Bounded {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            if self.bytes.len() + data.len() > self.max {
                return Err(std::io::Error::other("response too large"));
            }
            self.bytes.extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Bounded {
        bytes: Vec::with_capacity(64 * 1024),
        max: max_bytes,
    };
    if serde_json::to_writer(&mut out, body).is_err() {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "response-too-large",
            "Response too large",
            format!(
                "the answer would exceed {max_bytes} bytes; ask for fewer symbols or a shorter \
                 range"
            ),
        ));
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        out.bytes,
    )
        .into_response())
}

/// A response carrying the cache policy the caching layer applies.
pub fn with_policy(policy: CachePolicy, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response.extensions_mut().insert(policy);
    response
}

/// All routes of the API, without the caching layer.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/countries", get(countries::list))
        .route("/v1/countries/{code}", get(countries::get_one))
        .route(
            "/v1/countries/{code}/subdivisions",
            get(countries::subdivisions),
        )
        .route("/v1/currencies", get(currencies::list))
        .route("/v1/currencies/{code}", get(currencies::get_one))
        .route("/v1/exchange-rates", get(rates::query))
        .route("/v1/exchange-rates/{date}", get(rates::on_date))
        .route("/v1/convert", get(rates::convert))
        .route("/v1/tax-rates", get(tax::query))
        .route("/v1/tax-rates/{country}", get(tax::by_country))
        .route("/v1/datasets", get(meta::datasets))
        .route("/v1/datasets/{name}", get(meta::dataset))
        .route("/v1/datasets/{name}/versions", get(meta::versions))
        .route("/v1/changes", get(changes::list))
        .route("/v1/changes/stream", get(changes::stream))
        .route(
            "/v1/admin/tax-rates",
            post(admin::create_tax_rate).get(admin::list_tax_rates),
        )
        .route(
            "/v1/admin/tax-rates/{id}",
            put(admin::replace_tax_rate).delete(admin::retire_tax_rate),
        )
        .route("/v1/admin/countries", post(admin::upsert_country))
        .route(
            "/v1/admin/countries/{code}",
            put(admin::replace_country).delete(admin::retire_country),
        )
        .route("/v1/admin/subdivisions", post(admin::upsert_subdivision))
        .route(
            "/v1/admin/subdivisions/{code}",
            put(admin::replace_subdivision).delete(admin::retire_subdivision),
        )
        .route("/v1/admin/currencies", post(admin::upsert_currency))
        .route(
            "/v1/admin/currencies/{code}",
            put(admin::replace_currency).delete(admin::retire_currency),
        )
        .route("/v1/admin/exchange-rates", post(admin::import_rates))
        .route("/v1/admin/rollback", post(admin::rollback))
        .route("/v1/admin/audit", get(admin::audit))
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(meta::metrics))
        .route("/openapi.json", get(openapi::serve))
        .fallback(problem::route_not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::gate,
        ))
        .layer(axum::middleware::from_fn(problem::limit_uri))
        .layer(axum::middleware::from_fn(problem::fill_instance))
        .with_state(state)
}
