//! The client against a local test server on a free loopback port.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use refdata_client::{CountryFilter, Error, RefdataClient};
use rust_decimal::Decimal;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Clone, Default)]
struct Backend {
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
    if_none_match: Arc<Mutex<Vec<String>>>,
    queries: Arc<Mutex<Vec<String>>>,
    failures_left: Arc<AtomicUsize>,
    max_age: Arc<AtomicU64>,
    stale_while_revalidate: Arc<AtomicU64>,
    /// Delay before answering, in milliseconds.
    delay_ms: Arc<AtomicU64>,
}

impl Backend {
    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

const GERMANY: &str = r#"{"alpha2":"DE","alpha3":"DEU","numeric":"276","name":"Germany","official_name":"Federal Republic of Germany","common_name":null,"flag":"🇩🇪","currencies":["EUR"],"region":"Europe","subregion":"Western Europe"}"#;

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "https://refdata.example/problems/test",
        "title": title,
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn country(
    State(backend): State<Backend>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    let delay = backend.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if backend
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok()
    {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
            "reloading datasets",
        );
    }
    if code != "DE" {
        return problem(
            StatusCode::NOT_FOUND,
            "Not Found",
            &format!("no country with code {code:?}"),
        );
    }
    let mut cache_control = format!("public, max-age={}", backend.max_age.load(Ordering::SeqCst));
    let window = backend.stale_while_revalidate.load(Ordering::SeqCst);
    if window > 0 {
        cache_control.push_str(&format!(", stale-while-revalidate={window}"));
    }
    let etag = "\"iso3166-2024-de\"";
    if let Some(condition) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        backend
            .if_none_match
            .lock()
            .expect("lock")
            .push(condition.to_owned());
        if condition == etag {
            backend.not_modified.fetch_add(1, Ordering::SeqCst);
            return (
                StatusCode::NOT_MODIFIED,
                [
                    (header::ETAG, etag),
                    (header::CACHE_CONTROL, cache_control.as_str()),
                ],
            )
                .into_response();
        }
    }
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache_control.as_str()),
        ],
        GERMANY,
    )
        .into_response()
}

async fn countries(State(backend): State<Backend>, RawQuery(query): RawQuery) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    backend
        .queries
        .lock()
        .expect("lock")
        .push(query.unwrap_or_default());
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(r#"{{"items":[{GERMANY}],"total":1,"limit":1000,"offset":0}}"#),
    )
        .into_response()
}

async fn exchange_rates(State(backend): State<Backend>, RawQuery(query): RawQuery) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    backend
        .queries
        .lock()
        .expect("lock")
        .push(query.unwrap_or_default());
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"base":"EUR","date":"2024-01-02","rates":{"USD":"1.0956","JPY":"155.72"}}"#,
    )
        .into_response()
}

async fn convert(State(backend): State<Backend>, RawQuery(query): RawQuery) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    backend
        .queries
        .lock()
        .expect("lock")
        .push(query.unwrap_or_default());
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"from":"USD","to":"JPY","amount":"12.34","date":"2024-01-02","rate":"142.13","result":"1753.88"}"#,
    )
        .into_response()
}

async fn tax_rates(State(backend): State<Backend>, RawQuery(query): RawQuery) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    backend
        .queries
        .lock()
        .expect("lock")
        .push(query.unwrap_or_default());
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"[{"country":"DE","subdivision":null,"type":"standard","rate":"16","valid_from":"2020-07-01","valid_to":"2020-12-31","source":"BMF"}]"#,
    )
        .into_response()
}

/// Five currencies in pages of at most two, whatever `limit` asks for, as a service with a
/// smaller page bound would answer.
async fn currencies(State(backend): State<Backend>, RawQuery(query): RawQuery) -> Response {
    backend.requests.fetch_add(1, Ordering::SeqCst);
    let query = query.unwrap_or_default();
    backend.queries.lock().expect("lock").push(query.clone());
    let offset: usize = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("offset="))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let codes = ["AAA", "BBB", "CCC", "DDD", "EEE"];
    let items: Vec<_> = codes
        .iter()
        .skip(offset)
        .take(2)
        .map(|code| serde_json::json!({"code": code, "numeric": "999", "name": code}))
        .collect();
    let page =
        serde_json::json!({"items": items, "total": codes.len(), "limit": 2, "offset": offset});
    (
        [(header::CONTENT_TYPE, "application/json")],
        page.to_string(),
    )
        .into_response()
}

async fn broken() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        "[1, 2",
    )
        .into_response()
}

struct TestServer {
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    async fn start(backend: Backend) -> Self {
        let router = Router::new()
            .route("/v1/countries", get(countries))
            .route("/v1/countries/{code}", get(country))
            .route("/v1/currencies", get(currencies))
            .route("/v1/exchange-rates", get(exchange_rates))
            .route("/v1/convert", get(convert))
            .route("/v1/tax-rates", get(tax_rates))
            .route("/v1/datasets", get(broken))
            .with_state(backend);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = signal.await;
                })
                .await
                .expect("serve");
        });
        Self {
            address,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// Stops accepting, closes idle connections and waits until the port is closed.
    async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }
}

fn client(server: &TestServer) -> RefdataClient {
    RefdataClient::builder(server.url())
        .timeout(Duration::from_secs(2))
        .backoff(Duration::from_millis(5), Duration::from_millis(20))
        .build()
        .expect("client")
}

#[tokio::test]
async fn fresh_responses_are_served_without_a_request() {
    let backend = Backend::default();
    backend.max_age.store(60, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let first = refdata.country("DE").await.expect("first");
    let second = refdata.country("DE").await.expect("second");
    assert_eq!(first, second);
    assert_eq!(
        first.official_name.as_deref(),
        Some("Federal Republic of Germany")
    );
    assert_eq!(backend.requests(), 1);
    assert_eq!(refdata.stats().fresh_hits, 1);
}

#[tokio::test]
async fn max_freshness_caps_the_lifetime_the_service_grants() {
    let backend = Backend::default();
    backend.max_age.store(60, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = RefdataClient::builder(server.url())
        .max_freshness(Duration::ZERO)
        .build()
        .expect("client");
    let first = refdata.country("DE").await.expect("first");
    let second = refdata.country("DE").await.expect("second");
    assert_eq!(first, second);
    assert_eq!(backend.requests(), 2, "max-age=60 is not trusted");
    assert_eq!(backend.not_modified.load(Ordering::SeqCst), 1);
    assert_eq!(refdata.stats().revalidated, 1);
}

#[tokio::test]
async fn lists_follow_the_pages_up_to_the_total() {
    let backend = Backend::default();
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let codes: Vec<String> = refdata
        .currencies()
        .await
        .expect("currencies")
        .into_iter()
        .map(|currency| currency.code)
        .collect();
    assert_eq!(codes, ["AAA", "BBB", "CCC", "DDD", "EEE"]);
    assert_eq!(
        *backend.queries.lock().expect("lock"),
        ["limit=1000", "limit=1000&offset=2", "limit=1000&offset=4"]
    );
}

#[tokio::test]
async fn expired_responses_are_revalidated_with_if_none_match() {
    let backend = Backend::default();
    backend.max_age.store(0, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let first = refdata.country("DE").await.expect("first");
    // The 304 extends freshness: the third call makes no request.
    backend.max_age.store(60, Ordering::SeqCst);
    let second = refdata.country("DE").await.expect("revalidated");
    let third = refdata.country("DE").await.expect("fresh again");
    assert_eq!(first, second);
    assert_eq!(second, third);
    assert_eq!(backend.requests(), 2);
    assert_eq!(backend.not_modified.load(Ordering::SeqCst), 1);
    assert_eq!(
        *backend.if_none_match.lock().expect("lock"),
        ["\"iso3166-2024-de\""]
    );
    let stats = refdata.stats();
    assert_eq!((stats.revalidated, stats.fresh_hits), (1, 1));
}

#[tokio::test]
async fn stale_while_revalidate_answers_at_once_and_refreshes_in_the_background() {
    let backend = Backend::default();
    backend.max_age.store(0, Ordering::SeqCst);
    backend.stale_while_revalidate.store(60, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let first = refdata.country("DE").await.expect("first");

    // The service turns slow; stale answers must not wait for it.
    backend.delay_ms.store(1500, Ordering::SeqCst);
    backend.max_age.store(60, Ordering::SeqCst);
    let started = std::time::Instant::now();
    for _ in 0..5 {
        assert_eq!(refdata.country("DE").await.expect("stale"), first);
    }
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(refdata.stats().background_revalidations, 5);

    // One background revalidation, not five; once it lands the entry is fresh again.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while refdata.stats().revalidated == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no background revalidation"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(backend.requests(), 2);
    assert_eq!(backend.not_modified.load(Ordering::SeqCst), 1);
    refdata.country("DE").await.expect("fresh");
    assert_eq!(refdata.stats().fresh_hits, 1);
    assert_eq!(backend.requests(), 2);
}

#[tokio::test]
async fn stale_copies_stand_in_for_a_stopped_service() {
    let backend = Backend::default();
    backend.max_age.store(0, Ordering::SeqCst);
    let mut server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let strict = RefdataClient::builder(server.url())
        .max_stale(Duration::ZERO)
        .retries(0)
        .build()
        .expect("client");
    let fresh = refdata.country("DE").await.expect("service up");
    strict.country("DE").await.expect("service up");
    server.stop().await;

    let stale = refdata.country("DE").await.expect("stale-if-error");
    assert_eq!(stale, fresh);
    assert_eq!(refdata.stats().stale_served, 1);
    assert!(refdata.stats().retries >= 2, "retried before falling back");

    let error = strict.country("DE").await.expect_err("too stale");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn stale_copies_stand_in_for_server_errors() {
    let backend = Backend::default();
    let server = TestServer::start(backend.clone()).await;
    let refdata = RefdataClient::builder(server.url())
        .retries(1)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .expect("client");
    let fresh = refdata.country("DE").await.expect("service up");
    backend.failures_left.store(10, Ordering::SeqCst);
    assert_eq!(refdata.country("DE").await.expect("stale"), fresh);
    assert_eq!(backend.requests(), 3);
}

#[tokio::test]
async fn concurrent_calls_share_one_request() {
    let backend = Backend::default();
    backend.delay_ms.store(200, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let refdata = refdata.clone();
            tokio::spawn(async move { refdata.country("DE").await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("task").expect("country").alpha2, "DE");
    }
    assert_eq!(
        backend.requests(),
        1,
        "max-age=0, yet one request for 20 concurrent calls"
    );

    // Failures are shared too: one failing request (and its retries), not twenty.
    backend.failures_left.store(100, Ordering::SeqCst);
    backend.requests.store(0, Ordering::SeqCst);
    let strict = RefdataClient::builder(server.url())
        .retries(1)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .expect("client");
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let strict = strict.clone();
            tokio::spawn(async move { strict.country("DE").await })
        })
        .collect();
    for call in calls {
        let error = call.await.expect("task").expect_err("503");
        assert_eq!(error.status(), Some(503));
    }
    assert_eq!(backend.requests(), 2);
}

#[tokio::test]
async fn a_503_is_retried_until_success() {
    let backend = Backend::default();
    backend.failures_left.store(1, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let country = refdata
        .country("DE")
        .await
        .expect("second attempt succeeds");
    assert_eq!(country.alpha3, "DEU");
    assert_eq!(backend.requests(), 2);
    assert_eq!(refdata.stats().retries, 1);
}

#[tokio::test]
async fn server_errors_without_a_cached_copy_surface_after_retries() {
    let backend = Backend::default();
    backend.failures_left.store(10, Ordering::SeqCst);
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let error = refdata.country("DE").await.expect_err("always 503");
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.detail(), Some("reloading datasets"));
    assert_eq!(backend.requests(), 3, "one attempt and two retries");
}

#[tokio::test]
async fn problem_documents_become_typed_errors_without_retries() {
    let backend = Backend::default();
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let error = refdata.country("ZZ").await.expect_err("404");
    assert!(error.is_not_found());
    assert_eq!(error.detail(), Some("no country with code \"ZZ\""));
    assert!(error.to_string().contains("404 Not Found"), "{error}");
    assert_eq!(backend.requests(), 1);

    for _ in 0..2 {
        let error = refdata.datasets().await.expect_err("malformed body");
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    }
    assert_eq!(
        refdata.stats().fresh_hits,
        0,
        "unreadable bodies are not kept"
    );
}

#[tokio::test]
async fn queries_are_encoded_and_bodies_typed() {
    let backend = Backend::default();
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let date = NaiveDate::from_ymd_opt(2024, 1, 2);

    let rates = refdata
        .exchange_rates("EUR", date, &["USD", "JPY"])
        .await
        .expect("rates");
    assert_eq!(
        rates.rates["JPY"],
        Decimal::from_str("155.72").expect("decimal")
    );
    let conversion = refdata
        .convert(
            "USD",
            "JPY",
            Decimal::from_str("12.34").expect("decimal"),
            date,
        )
        .await
        .expect("conversion");
    assert_eq!(
        conversion.result,
        Decimal::from_str("1753.88").expect("decimal")
    );
    let taxes = refdata
        .tax_rates("DE", NaiveDate::from_ymd_opt(2020, 8, 1), Some("standard"))
        .await
        .expect("tax rates");
    assert_eq!(taxes[0].valid_to, NaiveDate::from_ymd_opt(2020, 12, 31));
    let europe = refdata
        .countries(&CountryFilter::default().region("Europe & Asia"))
        .await
        .expect("countries");
    assert_eq!(europe.len(), 1);

    assert_eq!(
        *backend.queries.lock().expect("lock"),
        [
            "base=EUR&date=2024-01-02&symbols=USD%2CJPY",
            "from=USD&to=JPY&amount=12.34&date=2024-01-02",
            "country=DE&date=2020-08-01&type=standard",
            "region=Europe+%26+Asia&limit=1000",
        ]
    );
}

#[tokio::test]
async fn path_segments_are_escaped_and_base_prefixes_kept() {
    let backend = Backend::default();
    let server = TestServer::start(backend.clone()).await;
    let refdata = client(&server);
    let error = refdata
        .country("../admin")
        .await
        .expect_err("not a country");
    assert!(error.is_not_found());
    assert_eq!(error.detail(), Some("no country with code \"../admin\""));

    let prefixed = RefdataClient::builder(format!("{}refdata", server.url()))
        .build()
        .expect("client");
    let error = prefixed.country("DE").await.expect_err("no such prefix");
    assert!(error.is_not_found());
    assert_eq!(error.detail(), None, "axum's plain 404 has no problem body");
}

#[test]
fn invalid_base_urls_are_rejected() {
    for url in ["", "refdata:8080", "ftp://refdata/", "http://refdata/?x=1"] {
        let error = RefdataClient::builder(url).build().expect_err(url);
        assert!(
            matches!(error, Error::InvalidBaseUrl { .. }),
            "{url}: {error:?}"
        );
    }
}
