//! Running the HTTP server: layers, background dataset loading, graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::Router;
use thiserror::Error;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::app::{self, AppState};
use crate::caching::{CacheConfig, CacheLayer, HitFirst, ResponseCache};
use crate::metrics::{track_requests, Metrics};
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
/// of the router.
pub fn service(state: AppState) -> HitFirst<Router> {
    // The timeout bounds rendering only: cache hits and 304s answer from memory, and a timer
    // per request cost them measurable throughput.
    let router = app::router(state.clone()).layer(TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        state.limits().request_timeout,
    ));
    let (router, cache, metrics) = with_caching(router, &state);
    let router = router.layer(CatchPanicLayer::custom(panic_response));
    // Request logging costs a span, a clock read and a wrapped body per request even when
    // filtered out, so it is only layered when INFO is enabled when the service is built;
    // then every request, hits included, goes through the router to be logged.
    let log_requests = tracing::level_filters::LevelFilter::current() >= Level::INFO;
    let router = if log_requests {
        router.layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
    } else {
        router
    };
    cache.hits_first(router, metrics, !log_requests)
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
    let (failed_tx, failed_rx) = tokio::sync::oneshot::channel::<ServeError>();
    let loader_state = state.clone();
    tokio::spawn(async move {
        let started = Instant::now();
        let source_name = source.name().to_owned();
        let loaded = tokio::task::spawn_blocking(move || source.load()).await;
        let error = match loaded {
            Ok(Ok(snapshot)) => {
                let generation = loader_state.replace_snapshot(snapshot);
                tracing::info!(
                    source = %source_name,
                    generation,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "datasets loaded"
                );
                return;
            }
            Ok(Err(error)) => error.to_string(),
            Err(join_error) => join_error.to_string(),
        };
        tracing::error!(source = %source_name, %error, "cannot load datasets");
        let _ = failed_tx.send(ServeError::Load {
            source_name,
            message: error,
        });
    });

    let failure = Arc::new(std::sync::Mutex::new(None));
    let failure_slot = failure.clone();
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
    };
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service(service(state)),
    )
    .with_graceful_shutdown(stop)
    .await?;
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
