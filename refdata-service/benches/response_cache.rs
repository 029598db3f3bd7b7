//! Cost of the caching layer per request, in process (no sockets): hits in each encoding, 304
//! revalidations, misses that render and compress, and the same router without the layer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use refdata::caching::{CacheConfig, CacheLayer, CachePolicy, DataGeneration, ResponseCache};
use refdata::metrics::Metrics;
use serde_json::json;
use tower::ServiceExt;

fn policy() -> CachePolicy {
    CachePolicy {
        dataset_version: "bench".to_owned(),
        last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_717_200_000),
        max_age: Duration::from_secs(3600),
        stale_while_revalidate: Duration::from_secs(60),
        immutable: false,
        changes_at: None,
    }
}

async fn country() -> Response {
    let mut response = Json(json!({
        "alpha2": "DE", "alpha3": "DEU", "numeric": "276", "name": "Germany",
        "official_name": "Federal Republic of Germany", "common_name": null, "flag": "🇩🇪",
        "currencies": ["EUR"], "region": "Europe", "subregion": "Western Europe"
    }))
    .into_response();
    response.extensions_mut().insert(policy());
    response
}

/// About the size of the full country list (250 entries).
async fn countries() -> Response {
    let list: Vec<_> = (0..250)
        .map(|i| {
            json!({
                "alpha2": format!("C{i}"), "alpha3": format!("CC{i}"), "numeric": format!("{i:03}"),
                "name": format!("Country {i}"), "official_name": format!("Republic of Country {i}"),
                "common_name": null, "flag": "🏳", "currencies": ["EUR"], "region": "Europe",
                "subregion": "Western Europe"
            })
        })
        .collect();
    let mut response = Json(list).into_response();
    response.extensions_mut().insert(policy());
    response
}

fn routes() -> Router {
    Router::new()
        .route("/v1/countries", get(countries))
        .route("/v1/countries/{code}", get(country))
}

fn cached_routes() -> Router {
    routes().layer(CacheLayer::new(
        ResponseCache::new(CacheConfig::default()),
        DataGeneration::default(),
        Metrics::new(),
    ))
}

fn request(uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap_or_default()
}

async fn call(router: &Router, request: Request<Body>) -> usize {
    let Ok(response) = router.clone().oneshot(request).await;
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    body.len()
}

fn bench_cache(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("tokio runtime: {error}"));
    let cached = cached_routes();
    let uncached = routes();
    let etag = runtime.block_on(async {
        let response = cached
            .clone()
            .oneshot(request("/v1/countries", &[]))
            .await
            .unwrap_or_else(|never| match never {});
        response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    });

    let mut group = c.benchmark_group("response_cache");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hit/small/identity", |b| {
        b.iter(|| runtime.block_on(call(&cached, request("/v1/countries/DE", &[]))))
    });
    group.bench_function("hit/list/br", |b| {
        b.iter(|| {
            runtime.block_on(call(
                &cached,
                request("/v1/countries", &[("accept-encoding", "gzip, br")]),
            ))
        })
    });
    group.bench_function("not_modified/list", |b| {
        b.iter(|| {
            runtime.block_on(call(
                &cached,
                request("/v1/countries", &[("if-none-match", etag.as_str())]),
            ))
        })
    });
    let unique = AtomicU64::new(0);
    group.bench_function("miss/small", |b| {
        b.iter(|| {
            let n = unique.fetch_add(1, Ordering::Relaxed);
            runtime.block_on(call(
                &cached,
                request(&format!("/v1/countries/DE?n={n}"), &[]),
            ))
        })
    });
    group.bench_function("uncached/small", |b| {
        b.iter(|| runtime.block_on(call(&uncached, request("/v1/countries/DE", &[]))))
    });
    group.bench_function("uncached/list", |b| {
        b.iter(|| runtime.block_on(call(&uncached, request("/v1/countries", &[]))))
    });
    group.finish();

    // The list's brotli variant, compressed once per entry: what a miss on a large body costs.
    let generation = DataGeneration::default();
    let rebuilt = routes().layer(CacheLayer::new(
        ResponseCache::new(CacheConfig::default()),
        generation.clone(),
        Arc::new(Metrics::default()),
    ));
    c.bench_function("response_cache/miss/list/compress", |b| {
        b.iter(|| {
            generation.bump();
            runtime.block_on(call(&rebuilt, request("/v1/countries", &[])))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench_cache
}
criterion_main!(benches);
