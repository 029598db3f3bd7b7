//! refdata-client against the caching layer over a real socket: the client's revalidations are
//! answered by the layer's 304s, and its fresh hits never reach the service.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use refdata::caching::{CacheConfig, CacheLayer, CachePolicy, DataGeneration, ResponseCache};
use refdata::metrics::{track_requests, Metrics};
use refdata_client::RefdataClient;
use serde_json::json;

#[derive(Clone)]
struct Backend {
    renders: Arc<AtomicUsize>,
    max_age: Duration,
}

async fn currency(State(backend): State<Backend>, Path(code): Path<String>) -> Response {
    backend.renders.fetch_add(1, Ordering::SeqCst);
    let mut response = Json(json!({
        "code": code, "numeric": "392", "name": "Yen", "minor_units": 0,
        "countries": ["JP"], "historic": false, "fund": false
    }))
    .into_response();
    response.extensions_mut().insert(CachePolicy {
        dataset_version: "iso4217-2024".to_owned(),
        last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        max_age: backend.max_age,
        stale_while_revalidate: Duration::ZERO,
        immutable: false,
        changes_at: None,
    });
    response
}

async fn start(max_age: Duration) -> (String, Arc<AtomicUsize>, Arc<Metrics>) {
    let renders = Arc::new(AtomicUsize::new(0));
    let metrics = Metrics::new();
    let router = Router::new()
        .route("/v1/currencies/{code}", get(currency))
        .with_state(Backend {
            renders: Arc::clone(&renders),
            max_age,
        })
        .layer(CacheLayer::new(
            ResponseCache::new(CacheConfig::default()),
            DataGeneration::default(),
            Arc::clone(&metrics),
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&metrics),
            track_requests,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(axum::serve(listener, router).into_future());
    (format!("http://{address}/"), renders, metrics)
}

#[tokio::test]
async fn client_revalidations_are_answered_with_304_from_the_cache() {
    let (url, renders, metrics) = start(Duration::ZERO).await;
    let refdata = RefdataClient::builder(url).build().expect("client");
    for _ in 0..3 {
        let yen = refdata.currency("JPY").await.expect("currency");
        assert_eq!(yen.minor_units, Some(0));
    }
    assert_eq!(renders.load(Ordering::SeqCst), 1);
    assert_eq!(refdata.stats().revalidated, 2);
    let route = "/v1/currencies/{code}";
    let get = axum::http::Method::GET;
    assert_eq!(metrics.request_count(route, &get, "2xx"), 1);
    assert_eq!(metrics.request_count(route, &get, "3xx"), 2);
}

#[tokio::test]
async fn fresh_client_copies_make_no_request() {
    let (url, renders, metrics) = start(Duration::from_secs(300)).await;
    let refdata = RefdataClient::builder(url).build().expect("client");
    for _ in 0..3 {
        refdata.currency("JPY").await.expect("currency");
    }
    assert_eq!(renders.load(Ordering::SeqCst), 1);
    assert_eq!(refdata.stats().fresh_hits, 2);
    let get = axum::http::Method::GET;
    assert_eq!(
        metrics.request_count("/v1/currencies/{code}", &get, "2xx"),
        1
    );
}
