//! Running the HTTP server: layers, background dataset loading, graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as AutoBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::{self, AppState};
use crate::caching::{CacheConfig, CacheLayer, ResponseCache};
use crate::config::{CorsOrigins, Limits};
use crate::conn::Timed;
use crate::metrics::{track_requests, Metrics};
use crate::storage::{watch, Store};
use crate::store::SnapshotSource;

#[derive(Debug, Error)]
pub enum ServeError {
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot load the {source_name} datasets: {message}")]
    Load {
        source_name: String,
        message: String,
    },
}

/// The full service: [`app::router`] plus the HTTP layers, with cache hits answered in front
/// of the router, and CORS and the access log (when configured) around everything.
pub fn service(
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send + 'static>
       + Clone
       + Send
       + 'static {
    // The timeout bounds rendering only: cache hits and 304s answer from memory, and a timer
    // per request cost them measurable throughput.
    let router = app::router(state.clone()).layer(axum::middleware::from_fn_with_state(
        state.limits().request_timeout,
        app::problem::time_limit,
    ));
    let (router, cache, metrics) = with_caching(router, &state);
    let router = router.layer(CatchPanicLayer::custom(panic_response));
    let hits_first = cache.hits_first(router, metrics);
    let config = state.config();
    tower::ServiceBuilder::new()
        .option_layer(cors_layer(&config.cors))
        .option_layer(
            config
                .access_log
                .then(|| axum::middleware::from_fn(access_log)),
        )
        .service(hits_first)
}

/// One compact line per request (target `refdata::access`), hits included.
async fn access_log(request: Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    tracing::info!(
        target: "refdata::access",
        "{method} {uri} {} {}us",
        response.status().as_u16(),
        started.elapsed().as_micros()
    );
    response
}

/// CORS for the read API: GET and HEAD (and their preflight) from the configured origins,
/// with the validators and paging headers readable by scripts.
fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    // With `*` the answer is the same for every origin, so it must not add `Vary: origin`:
    // shared caches would keep one copy per origin. A list echoes the origin, so it varies.
    let (allow_origin, vary) = match origins {
        CorsOrigins::Off => return None,
        CorsOrigins::Any => (AllowOrigin::any(), Vec::new()),
        CorsOrigins::List(list) => (
            AllowOrigin::list(
                list.iter()
                    .filter_map(|origin| http::HeaderValue::from_str(origin).ok()),
            ),
            vec![http::header::ORIGIN],
        ),
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .vary(vary)
            .allow_methods([http::Method::GET, http::Method::HEAD])
            .allow_headers([
                http::header::IF_NONE_MATCH,
                http::header::IF_MODIFIED_SINCE,
                http::header::IF_MATCH,
                http::header::IF_UNMODIFIED_SINCE,
            ])
            .expose_headers([
                http::header::ETAG,
                http::header::LINK,
                http::header::RETRY_AFTER,
                http::HeaderName::from_static("x-total-count"),
                http::HeaderName::from_static(app::LATEST_RATES_HEADER),
            ])
            .max_age(Duration::from_secs(24 * 3600)),
    )
}

/// A handler panic becomes a 500 problem; the panic itself is logged.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    axum::response::IntoResponse::into_response(crate::app::problem::Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        "the request could not be completed; the failure was logged",
    ))
}

/// Wraps the router in the response cache (ETag, 304, Cache-Control, compression, moka) and
/// the request metrics. Both go on with `Router::layer` so they see the matched route; metrics
/// is outermost so misses are timed with their rendering. Never put a compression layer around
/// the cache: it stores pre-compressed variants itself. Returns the layer too, for
/// [`CacheLayer::hits_first`].
fn with_caching(router: Router, state: &AppState) -> (Router, CacheLayer, Arc<Metrics>) {
    let metrics = Metrics::new();
    let renderer = Arc::clone(&metrics);
    state.add_metrics(Arc::new(move || renderer.render()));
    let config = CacheConfig {
        max_bytes: state.limits().cache_max_bytes,
        ..CacheConfig::default()
    };
    let cache = CacheLayer::new(
        ResponseCache::new(config).with_clock(Arc::clone(state.clock())),
        state.generation(),
        Arc::clone(&metrics),
    );
    let router = router
        .layer(cache.clone())
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&metrics),
            track_requests,
        ));
    (router, cache, metrics)
}

/// Serves on `listener` until `shutdown` resolves, loading the datasets from `source` in the
/// background (`/readyz` answers 503 until they are loaded). Fails if loading fails.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    source: Arc<dyn SnapshotSource>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let loader_state = state.clone();
    let load = async move {
        let source_name = source.name().to_owned();
        let loaded = tokio::task::spawn_blocking(move || source.load()).await;
        match loaded {
            Ok(Ok(snapshot)) => {
                let generation = loader_state.replace_snapshot(snapshot);
                tracing::info!(source = %source_name, generation, "datasets loaded");
                Ok(())
            }
            Ok(Err(error)) => Err(ServeError::Load {
                source_name,
                message: error.to_string(),
            }),
            Err(join_error) => Err(ServeError::Load {
                source_name,
                message: join_error.to_string(),
            }),
        }
    };
    serve_loading(listener, state, load, shutdown).await
}

/// Serves the datasets stored at `database_url` (`sqlite://PATH` or `postgres://...`):
/// connects, migrates, seeds an empty database from the embedded snapshot, serves the newest
/// version and keeps following new ones (notifications on PostgreSQL, and a check every
/// [`crate::config::ServiceConfig::version_check`]).
pub async fn serve_store(
    listener: TcpListener,
    state: AppState,
    database_url: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let loader_state = state.clone();
    let load = async move {
        let source_name = crate::storage::redact(&database_url);
        let failed = |error: crate::storage::StorageError| ServeError::Load {
            source_name: source_name.clone(),
            message: error.to_string(),
        };
        let store = Arc::new(Store::open(&database_url).await.map_err(failed)?);
        loader_state.set_store(Arc::clone(&store));
        let version = watch::sync(&store, &loader_state).await.map_err(failed)?;
        tracing::info!(source = %source_name, version, "datasets loaded");
        let interval = loader_state.config().version_check;
        tokio::spawn(watch::run(store, loader_state, interval));
        Ok(())
    };
    serve_loading(listener, state, load, shutdown).await
}

/// Serves while `load` installs the datasets in the background; stops with its error if it
/// fails.
async fn serve_loading(
    listener: TcpListener,
    state: AppState,
    load: impl Future<Output = Result<(), ServeError>> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (failed_tx, failed_rx) = tokio::sync::oneshot::channel::<ServeError>();
    tokio::spawn(async move {
        let started = Instant::now();
        match load.await {
            Ok(()) => tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "ready"),
            Err(error) => {
                tracing::error!(%error, "cannot load datasets");
                let _ = failed_tx.send(error);
            }
        }
    });

    let failure = Arc::new(std::sync::Mutex::new(None));
    let failure_slot = failure.clone();
    let closing = state.clone();
    let stop = async move {
        let load_failed = async {
            match failed_rx.await {
                Ok(error) => error,
                // Loading succeeded: only `shutdown` stops the server.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = shutdown => tracing::info!("shutting down"),
            error = load_failed => {
                if let Ok(mut slot) = failure_slot.lock() {
                    *slot = Some(error);
                }
            }
        }
        // Change streams never end by themselves; draining would wait for them forever.
        closing.close_streams();
    };
    tracing::info!(address = %listener.local_addr()?, "listening");
    let limits = state.limits().clone();
    let stats = Arc::new(ConnectionStats::default());
    let rendered = Arc::clone(&stats);
    state.add_metrics(Arc::new(move || rendered.render()));
    run(listener, service(state), &limits, stats, stop).await;
    let error = failure.lock().ok().and_then(|mut slot| slot.take());
    match error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Open and refused connections of [`run`], for `/metrics`.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    open: AtomicI64,
    refused: AtomicU64,
}

impl ConnectionStats {
    /// Prometheus text for the two figures.
    pub fn render(&self) -> String {
        format!(
            "# HELP refdata_connections_open HTTP connections being served.\n\
             # TYPE refdata_connections_open gauge\n\
             refdata_connections_open {}\n\
             # HELP refdata_connections_refused_total Connections answered 503 and closed over \
             the connection limit.\n\
             # TYPE refdata_connections_refused_total counter\n\
             refdata_connections_refused_total {}\n",
            self.open.load(Ordering::Relaxed),
            self.refused.load(Ordering::Relaxed)
        )
    }
}

/// The problem answered to a connection over [`Limits::max_connections`] before closing it.
const TOO_MANY_CONNECTIONS: &str = "{\"type\":\"urn:refdata:problem:too-many-connections\",\
\"title\":\"Too many connections\",\"status\":503,\
\"detail\":\"the connection limit is reached; retry shortly\"}";

/// Accepts connections on `listener` and serves them with `service` until `shutdown`
/// resolves, then stops accepting and waits for the open connections to finish their
/// in-flight requests (idle keep-alive connections are closed at once).
///
/// Unlike `axum::serve`, it enforces [`Limits::header_read_timeout`] and
/// [`Limits::idle_timeout`] (see [`crate::conn::Timed`]) and [`Limits::max_connections`].
pub async fn run<S>(
    listener: TcpListener,
    service: S,
    limits: &Limits,
    stats: Arc<ConnectionStats>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut builder = AutoBuilder::new(TokioExecutor::new());
    // hyper's own header timer runs from the end of a response to the end of the next head,
    // one sum of the two limits `Timed` enforces separately; it is turned off.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.idle_timeout)
        .keep_alive_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(refuse(stream));
            continue;
        };
        stats.open.fetch_add(1, Ordering::Relaxed);
        let closed = Arc::clone(&stats);
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let hyper_service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            tower::ServiceExt::oneshot(service.clone(), request.map(Body::new))
        });
        let connection = builder
            .serve_connection_with_upgrades(
                TokioIo::new(Timed::new(
                    stream,
                    limits.idle_timeout,
                    limits.header_read_timeout,
                )),
                hyper_service,
            )
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
            closed.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection over the limit with a 503 and closes it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let written = tokio::time::timeout(Duration::from_secs(1), async {
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
             retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{}",
            TOO_MANY_CONNECTIONS.len(),
            TOO_MANY_CONNECTIONS
        );
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
    if let Ok(Err(error)) = written {
        tracing::debug!(%error, "refusing a connection failed");
    }
}

/// Binds `address`, retrying for up to `wait` while it is still held (a previous process
/// that is draining after SIGTERM).
pub async fn bind(address: SocketAddr, wait: Duration) -> std::io::Result<TcpListener> {
    let deadline = Instant::now() + wait;
    loop {
        match TcpListener::bind(address).await {
            Err(error)
                if error.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline =>
            {
                tracing::info!(%address, "address in use; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            result => return result,
        }
    }
}
