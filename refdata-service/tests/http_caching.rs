//! The caching layer and metrics middleware around a small router that follows the handler
//! contract: cacheable `200`s carry a `CachePolicy` extension.

use std::future::IntoFuture;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use refdata::caching::{CacheConfig, CacheLayer, CachePolicy, DataGeneration, ResponseCache};
use refdata::metrics::{metrics_router, track_requests, Metrics};
use serde_json::json;
use tower::ServiceExt;

#[derive(Clone, Default)]
struct Renders(Arc<AtomicUsize>);

impl Renders {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn policy() -> CachePolicy {
    CachePolicy {
        dataset_version: "iso3166-2024.1".to_owned(),
        last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_153_600),
        max_age: Duration::from_secs(3600),
        stale_while_revalidate: Duration::from_secs(60),
        immutable: false,
        changes_at: None,
    }
}

fn cacheable(body: serde_json::Value, policy: CachePolicy) -> Response {
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(policy);
    response
}

async fn country(State(renders): State<Renders>, Path(code): Path<String>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    if code == "XX" {
        let mut response = (StatusCode::NOT_FOUND, "no such country").into_response();
        response.extensions_mut().insert(policy());
        return response;
    }
    cacheable(json!({ "alpha2": code, "name": "Germany" }), policy())
}

/// A body large enough to be stored compressed.
async fn countries(State(renders): State<Renders>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    let list: Vec<_> = (0..200)
        .map(|i| json!({ "alpha2": format!("C{i}"), "name": format!("Country number {i}") }))
        .collect();
    cacheable(json!(list), policy())
}

async fn negotiated(State(renders): State<Renders>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    let mut response = cacheable(json!({ "lang": "en" }), policy());
    response.headers_mut().insert(
        header::VARY,
        header::HeaderValue::from_static("Accept-Language"),
    );
    response
}

/// Large enough to be compressed on the blocking pool.
async fn large(State(renders): State<Renders>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    let list: Vec<_> = (0..2000)
        .map(
            |i| json!({ "code": format!("X{i:04}"), "label": format!("Entry {i} of a long list") }),
        )
        .collect();
    cacheable(json!(list), policy())
}

async fn convert(State(renders): State<Renders>, uri: axum::http::Uri) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    let historic = CachePolicy {
        immutable: true,
        changes_at: None,
        stale_while_revalidate: Duration::ZERO,
        ..policy()
    };
    cacheable(json!({ "query": uri.query() }), historic)
}

async fn slow(State(renders): State<Renders>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    cacheable(json!({ "slow": true }), policy())
}

async fn uncached(State(renders): State<Renders>) -> Response {
    renders.0.fetch_add(1, Ordering::SeqCst);
    Json(json!({ "live": true })).into_response()
}

struct App {
    router: Router,
    renders: Renders,
    generation: DataGeneration,
    cache: ResponseCache,
    metrics: Arc<Metrics>,
}

fn app_with(config: CacheConfig) -> App {
    let renders = Renders::default();
    let generation = DataGeneration::default();
    let cache = ResponseCache::new(config);
    let metrics = Metrics::new();
    let router = Router::new()
        .route("/v1/countries", get(countries))
        .route("/v1/countries/{code}", get(country))
        .route("/v1/convert", get(convert))
        .route("/v1/large", get(large))
        .route("/v1/negotiated", get(negotiated))
        .route("/slow", get(slow))
        .route("/live", get(uncached).post(uncached))
        .with_state(renders.clone())
        .merge(metrics_router(Arc::clone(&metrics)))
        .layer(CacheLayer::new(
            cache.clone(),
            generation.clone(),
            Arc::clone(&metrics),
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&metrics),
            track_requests,
        ));
    App {
        router,
        renders,
        generation,
        cache,
        metrics,
    }
}

fn app() -> App {
    app_with(CacheConfig::default())
}

async fn send(
    app: &App,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::empty()).expect("valid request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.expect("body");
    (parts.status, parts.headers, body.to_vec())
}

async fn get_ok(app: &App, uri: &str, headers: &[(&str, &str)]) -> (HeaderMap, Vec<u8>) {
    let (status, headers, body) = send(app, Method::GET, uri, headers).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}");
    (headers, body)
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing {name}"))
}

#[tokio::test]
async fn second_get_is_served_from_cache_with_caching_headers() {
    let app = app();
    let (first, body) = get_ok(&app, "/v1/countries/DE", &[]).await;
    let (second, cached_body) = get_ok(&app, "/v1/countries/DE", &[]).await;
    assert_eq!(app.renders.count(), 1);
    assert_eq!(body, cached_body);
    assert_eq!(header(&first, header::ETAG), header(&second, header::ETAG));
    let etag = header(&first, header::ETAG);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );
    assert_eq!(
        header(&second, header::CACHE_CONTROL),
        "public, max-age=3600, stale-while-revalidate=60"
    );
    assert_eq!(header(&second, header::VARY), "accept-encoding");
    assert_eq!(
        header(&second, header::LAST_MODIFIED),
        "Tue, 02 Jan 2024 00:00:00 GMT"
    );
    assert_eq!(header(&second, header::CONTENT_TYPE), "application/json");
    assert_eq!(
        header(&second, header::CONTENT_LENGTH),
        body.len().to_string()
    );
    assert!(
        second.get(header::CONTENT_ENCODING).is_none(),
        "small bodies stay identity"
    );
    let stats = app.cache.stats();
    assert_eq!((stats.hits, stats.misses), (1, 1));
}

#[tokio::test]
async fn query_parameter_order_does_not_split_the_cache() {
    let app = app();
    let (a, _) = get_ok(&app, "/v1/convert?from=USD&to=JPY&amount=1", &[]).await;
    let (b, _) = get_ok(&app, "/v1/convert?amount=1&to=JPY&from=USD", &[]).await;
    assert_eq!(app.renders.count(), 1);
    assert_eq!(header(&a, header::ETAG), header(&b, header::ETAG));
    assert_eq!(
        header(&a, header::CACHE_CONTROL),
        "public, max-age=3600, immutable"
    );
    get_ok(&app, "/v1/convert?from=USD&to=JPY&amount=2", &[]).await;
    assert_eq!(app.renders.count(), 2);
}

#[tokio::test]
async fn negotiates_precompressed_encodings_with_distinct_strong_etags() {
    let app = app();
    let (identity_headers, identity) = get_ok(&app, "/v1/countries", &[]).await;
    let (br_headers, br) = get_ok(
        &app,
        "/v1/countries",
        &[("accept-encoding", "gzip, deflate, br")],
    )
    .await;
    let (gz_headers, gz) = get_ok(
        &app,
        "/v1/countries",
        &[("accept-encoding", "br;q=0.5, gzip")],
    )
    .await;
    assert_eq!(app.renders.count(), 1, "one entry holds every encoding");

    assert!(identity_headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(header(&br_headers, header::CONTENT_ENCODING), "br");
    assert_eq!(header(&gz_headers, header::CONTENT_ENCODING), "gzip");
    assert_eq!(
        header(&br_headers, header::CONTENT_LENGTH),
        br.len().to_string()
    );
    assert!(br.len() < identity.len() && gz.len() < identity.len());

    let mut unbrotli = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut unbrotli)
        .expect("valid brotli");
    assert_eq!(unbrotli, identity);
    let mut ungzip = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut ungzip)
        .expect("valid gzip");
    assert_eq!(ungzip, identity);

    let identity_tag = header(&identity_headers, header::ETAG).trim_matches('"');
    assert_eq!(
        header(&br_headers, header::ETAG),
        format!("\"{identity_tag}-br\"")
    );
    assert_eq!(
        header(&gz_headers, header::ETAG),
        format!("\"{identity_tag}-gzip\"")
    );
}

#[tokio::test]
async fn large_bodies_are_compressed_off_the_async_workers() {
    let app = app();
    let (_, identity) = get_ok(&app, "/v1/large", &[("accept-encoding", "identity")]).await;
    assert!(identity.len() > 64 * 1024, "{}", identity.len());
    let (headers, br) = get_ok(&app, "/v1/large", &[("accept-encoding", "br")]).await;
    assert_eq!(header(&headers, header::CONTENT_ENCODING), "br");
    let mut unbrotli = Vec::new();
    brotli::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut unbrotli)
        .expect("valid brotli");
    assert_eq!(unbrotli, identity);
    assert_eq!(app.renders.count(), 1);
}

#[tokio::test]
async fn if_none_match_answers_not_modified_without_a_body() {
    let app = app();
    let (headers, _) = get_ok(&app, "/v1/countries", &[("accept-encoding", "gzip")]).await;
    let gzip_tag = header(&headers, header::ETAG).to_owned();
    let weak = format!("W/{gzip_tag}");
    let listed = format!("\"other\", {gzip_tag}");
    for condition in [gzip_tag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        // The br variant of the same representation is not modified either.
        let (status, headers, body) = send(
            &app,
            Method::GET,
            "/v1/countries",
            &[("if-none-match", condition), ("accept-encoding", "br")],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {condition}"
        );
        assert!(body.is_empty());
        assert!(header(&headers, header::ETAG).ends_with("-br\""));
        assert!(headers.contains_key(header::CACHE_CONTROL));
        assert_eq!(header(&headers, header::VARY), "accept-encoding");
        assert!(!headers.contains_key(header::CONTENT_TYPE));
    }
    let (status, _, body) = send(
        &app,
        Method::GET,
        "/v1/countries",
        &[("if-none-match", "\"stale\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.is_empty());
    assert_eq!(app.renders.count(), 1);
}

#[tokio::test]
async fn if_modified_since_applies_only_without_if_none_match() {
    let app = app();
    let later = "Wed, 03 Jan 2024 00:00:00 GMT";
    let earlier = "Mon, 01 Jan 2024 00:00:00 GMT";
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-modified-since", later)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-modified-since", earlier)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-modified-since", later), ("if-none-match", "\"nope\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "If-None-Match takes precedence");
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-modified-since", "garbage")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn failed_if_match_and_if_unmodified_since_answer_412() {
    let app = app();
    let (headers, _) = get_ok(&app, "/v1/countries/DE", &[]).await;
    let etag = header(&headers, header::ETAG).to_owned();
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let weak = format!("W/{etag}");
    for (name, value) in [
        ("if-match", "\"other\""),
        ("if-match", weak.as_str()),
        ("if-unmodified-since", "Mon, 01 Jan 2024 00:00:00 GMT"),
    ] {
        let (status, _, body) = send(&app, Method::GET, "/v1/countries/DE", &[(name, value)]).await;
        assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{name}: {value}");
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["type"], "urn:refdata:problem:precondition-failed");
        assert_eq!(problem["status"], 412);
    }
    let (status, _, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("if-unmodified-since", "Wed, 03 Jan 2024 00:00:00 GMT")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn responses_varying_on_other_headers_are_not_shared() {
    let app = app();
    for _ in 0..2 {
        let (headers, _) = get_ok(&app, "/v1/negotiated", &[]).await;
        assert!(!headers.contains_key(header::ETAG));
    }
    assert_eq!(app.renders.count(), 2);
}

#[tokio::test]
async fn head_shares_the_get_entry_and_reports_the_length() {
    let app = app();
    let (status, headers, body) = send(
        &app,
        Method::HEAD,
        "/v1/countries",
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    let (get_headers, br) = get_ok(&app, "/v1/countries", &[("accept-encoding", "br")]).await;
    assert_eq!(
        app.renders.count(),
        1,
        "HEAD rendered the entry GET then used"
    );
    assert_eq!(
        header(&headers, header::CONTENT_LENGTH),
        br.len().to_string()
    );
    assert_eq!(
        header(&headers, header::ETAG),
        header(&get_headers, header::ETAG)
    );
    assert_eq!(header(&headers, header::CONTENT_ENCODING), "br");
}

#[tokio::test]
async fn errors_and_responses_without_policy_pass_through_uncached() {
    let app = app();
    for _ in 0..2 {
        let (status, headers, body) = send(&app, Method::GET, "/v1/countries/XX", &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, b"no such country");
        assert!(!headers.contains_key(header::ETAG));
        let (headers, _) = get_ok(&app, "/live", &[]).await;
        assert!(!headers.contains_key(header::ETAG));
        assert!(!headers.contains_key(header::CACHE_CONTROL));
    }
    assert_eq!(app.renders.count(), 4);
    let (status, _, body) = send(&app, Method::POST, "/live", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, br#"{"live":true}"#);
    assert_eq!(app.cache.stats().uncacheable, 4);
}

#[tokio::test]
async fn head_of_an_uncacheable_response_has_no_body() {
    let app = app();
    let (status, headers, body) = send(&app, Method::HEAD, "/live", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    assert_eq!(header(&headers, header::CONTENT_LENGTH), "13");
}

#[tokio::test]
async fn a_new_data_generation_renders_again() {
    let app = app();
    get_ok(&app, "/v1/countries/DE", &[]).await;
    get_ok(&app, "/v1/countries/DE", &[]).await;
    app.generation.bump();
    get_ok(&app, "/v1/countries/DE", &[]).await;
    get_ok(&app, "/v1/countries/DE", &[]).await;
    assert_eq!(app.renders.count(), 2);
}

#[tokio::test]
async fn concurrent_misses_render_once() {
    let app = Arc::new(app());
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(
            async move { get_ok(&app, "/slow", &[]).await.1 },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task"), br#"{"slow":true}"#);
    }
    assert_eq!(app.renders.count(), 1);
    let stats = app.cache.stats();
    assert_eq!((stats.misses, stats.hits), (1, 15));
}

#[tokio::test]
async fn refused_identity_without_alternative_is_not_acceptable() {
    let app = app();
    let (status, headers, _) = send(
        &app,
        Method::GET,
        "/v1/countries/DE",
        &[("accept-encoding", "identity;q=0")],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        header(&headers, header::CONTENT_TYPE),
        "application/problem+json"
    );
    assert_eq!(header(&headers, header::VARY), "accept-encoding");
    let (headers, _) = get_ok(
        &app,
        "/v1/countries",
        &[("accept-encoding", "identity;q=0, gzip;q=0.1")],
    )
    .await;
    assert_eq!(header(&headers, header::CONTENT_ENCODING), "gzip");
}

#[tokio::test]
async fn the_byte_bound_evicts_entries() {
    let app = app_with(CacheConfig {
        max_bytes: 4 * 1024,
        ..CacheConfig::default()
    });
    for i in 0..64 {
        get_ok(&app, &format!("/v1/convert?amount={i}"), &[]).await;
    }
    app.cache.run_pending_tasks().await;
    let stats = app.cache.stats();
    assert!(stats.weighted_bytes <= 4 * 1024, "{stats:?}");
    assert!(stats.evictions > 0, "{stats:?}");
}

#[tokio::test]
async fn metrics_record_route_templates_and_cache_figures() {
    let app = app();
    get_ok(&app, "/v1/countries/DE", &[]).await;
    get_ok(&app, "/v1/countries/FR", &[]).await;
    get_ok(&app, "/v1/countries/FR", &[]).await;
    send(&app, Method::GET, "/v1/countries/XX", &[]).await;
    send(&app, Method::GET, "/nowhere", &[]).await;
    assert_eq!(
        app.metrics
            .request_count("/v1/countries/{code}", &Method::GET, "2xx"),
        3
    );
    assert_eq!(
        app.metrics
            .request_count("/v1/countries/{code}", &Method::GET, "4xx"),
        1
    );
    assert_eq!(
        app.metrics.request_count("unmatched", &Method::GET, "4xx"),
        1
    );

    let (headers, body) = get_ok(&app, "/metrics", &[]).await;
    assert_eq!(
        header(&headers, header::CONTENT_TYPE),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(body).expect("utf-8");
    assert!(
        text.contains("refdata_response_cache_hits_total 1\n"),
        "{text}"
    );
    assert!(
        text.contains("refdata_response_cache_misses_total 2\n"),
        "{text}"
    );
    assert!(text.contains("# TYPE refdata_http_request_duration_seconds histogram"));
    assert!(
        !text.contains("/v1/countries/DE"),
        "raw paths never become labels"
    );
}

#[tokio::test]
async fn conditional_and_head_responses_survive_a_real_connection() {
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let client = reqwest::Client::new();
    let url = format!("http://{address}/v1/countries");

    let full = client.get(&url).send().await.expect("GET");
    assert_eq!(full.status(), 200);
    let etag = full.headers()[header::ETAG].clone();
    let length = full.bytes().await.expect("body").len();

    let head = client.head(&url).send().await.expect("HEAD");
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers()[header::CONTENT_LENGTH],
        length.to_string().as_str()
    );

    let revalidated = client
        .get(&url)
        .header(header::IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .expect("conditional GET");
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()[header::ETAG], etag);
    // Content-Length on a 304 must be the 200's, if sent at all.
    if let Some(announced) = revalidated.headers().get(header::CONTENT_LENGTH) {
        assert_eq!(announced, length.to_string().as_str());
    }
    assert!(revalidated.bytes().await.expect("body").is_empty());
    server.abort();
}
