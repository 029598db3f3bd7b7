//! The client: typed endpoint methods over a cached, retrying GET.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::NaiveDate;
use reqwest::header::{
    HeaderMap, ACCEPT, CONTENT_TYPE, IF_MODIFIED_SINCE, IF_NONE_MATCH, RETRY_AFTER,
};
use reqwest::{StatusCode, Url};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use crate::cache::{self, Directives, Entry, Store};
use crate::error::Error;
use crate::model::{
    Conversion, Country, CountryFilter, Currency, Dataset, DatasetList, ExchangeRates, Page,
    Problem, TaxRate,
};

/// Largest page size of the service's list endpoints.
const PAGE_SIZE: &str = "1000";

/// Configures a [`RefdataClient`]; start with [`RefdataClient::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_backoff: Duration,
    cache_capacity: u64,
    max_stale: Duration,
    max_freshness: Option<Duration>,
    user_agent: String,
}

impl ClientBuilder {
    fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_millis(500),
            retries: 2,
            backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(1),
            cache_capacity: 32 * 1024 * 1024,
            max_stale: Duration::from_secs(24 * 60 * 60),
            max_freshness: None,
            user_agent: concat!("refdata-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// Time limit of one attempt, response body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Extra attempts after a connection error, a timeout or a 5xx. GETs are idempotent, so
    /// retrying them is safe.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// First retry delay; it doubles per attempt (with jitter) up to `max`.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Bound of the response cache in bytes; `0` disables caching.
    pub fn cache_capacity(mut self, bytes: u64) -> Self {
        self.cache_capacity = bytes;
        self
    }

    /// How long past its freshness a cached response may still be returned when the service
    /// is unreachable or failing (stale-if-error). `Duration::ZERO` turns that off.
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// Longest time a cached response is used without asking the service, whatever its
    /// `Cache-Control` grants: caps the freshness lifetime and the stale-while-revalidate
    /// window. For consumers that must see new data sooner than the service's `max-age`
    /// (e.g. the next exchange-rate publication). Unset by default.
    pub fn max_freshness(mut self, max_freshness: Duration) -> Self {
        self.max_freshness = Some(max_freshness);
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    pub fn build(self) -> Result<RefdataClient, Error> {
        let invalid = |reason: String| Error::InvalidBaseUrl {
            url: self.base_url.clone(),
            reason,
        };
        let base = Url::parse(&self.base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!("scheme {:?} is not http", base.scheme())));
        }
        if base.cannot_be_a_base() || base.query().is_some() || base.fragment().is_some() {
            return Err(invalid(
                "expected a URL like http://host:port/ or http://host/prefix/".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent.clone())
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        let cache =
            (self.cache_capacity > 0).then(|| cache::store(self.cache_capacity, self.max_stale));
        Ok(RefdataClient {
            inner: Arc::new(Inner {
                http,
                base,
                cache,
                config: self,
                stats: Counters::default(),
                refreshing: Mutex::new(HashSet::new()),
                in_flight: Mutex::new(HashMap::new()),
            }),
        })
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    fresh_hits: AtomicU64,
    revalidated: AtomicU64,
    stale_served: AtomicU64,
    background_revalidations: AtomicU64,
    retries: AtomicU64,
}

/// What the client did so far, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Calls answered from a fresh cached response without a request.
    pub fresh_hits: u64,
    /// Calls answered by a `304 Not Modified` revalidation.
    pub revalidated: u64,
    /// Calls answered with a stale copy because the service failed.
    pub stale_served: u64,
    /// Calls answered with a stale copy within `stale-while-revalidate` while it was
    /// revalidated in the background.
    pub background_revalidations: u64,
    pub retries: u64,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    cache: Option<Store>,
    config: ClientBuilder,
    stats: Counters,
    /// Keys being revalidated in the background, so each is refreshed once at a time.
    refreshing: Mutex<HashSet<String>>,
    /// Network fetches in flight, shared by concurrent calls for the same URL.
    in_flight: Mutex<HashMap<String, Arc<SharedFetch>>>,
}

/// The outcome of one network fetch, set once and read by every caller that waited for it.
type SharedFetch = OnceCell<Result<Bytes, Error>>;

/// Removes a key from the in-flight set however the background refresh ends.
struct RefreshGuard {
    inner: Arc<Inner>,
    key: String,
}

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        lock(&self.inner.refreshing).remove(&self.key);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Typed, caching client of the refdata service. Cheap to clone; clones share the cache.
///
/// ```no_run
/// # async fn demo() -> Result<(), refdata_client::Error> {
/// use std::time::Duration;
/// let refdata = refdata_client::RefdataClient::builder("http://refdata.internal:8080")
///     .timeout(Duration::from_millis(800))
///     .retries(2)
///     .build()?;
/// let yen = refdata.currency("JPY").await?;
/// assert_eq!(yen.minor_units, Some(0));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RefdataClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RefdataClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefdataClient")
            .field("base", &self.inner.base.as_str())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Outcome of one attempt that did not produce a usable response.
enum Failure {
    /// Worth retrying and worth answering from a stale copy; `retry_after` is the delay the
    /// service asked for.
    Transient {
        error: Error,
        retry_after: Option<Duration>,
    },
    /// Final: the service said no (4xx) or the response made no sense.
    Permanent(Error),
}

impl RefdataClient {
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.stats;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            fresh_hits: c.fresh_hits.load(Ordering::Relaxed),
            revalidated: c.revalidated.load(Ordering::Relaxed),
            stale_served: c.stale_served.load(Ordering::Relaxed),
            background_revalidations: c.background_revalidations.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
        }
    }

    /// `GET /v1/countries/{code}`; `code` is alpha-2, alpha-3 or numeric.
    pub async fn country(&self, code: &str) -> Result<Country, Error> {
        self.get(&["v1", "countries", code], &[]).await
    }

    /// `GET /v1/countries` with optional filters: every matching country, following the
    /// service's pages.
    pub async fn countries(&self, filter: &CountryFilter) -> Result<Vec<Country>, Error> {
        self.get_all(&["v1", "countries"], &filter.query_pairs())
            .await
    }

    /// `GET /v1/currencies/{code}`.
    pub async fn currency(&self, code: &str) -> Result<Currency, Error> {
        self.get(&["v1", "currencies", code], &[]).await
    }

    /// `GET /v1/currencies`: every currency, current and historic, following the service's
    /// pages.
    pub async fn currencies(&self) -> Result<Vec<Currency>, Error> {
        self.get_all(&["v1", "currencies"], &[]).await
    }

    /// `GET /v1/exchange-rates`: rates of `base` on `date` (latest when `None`), limited to
    /// `symbols` when not empty.
    pub async fn exchange_rates(
        &self,
        base: &str,
        date: Option<NaiveDate>,
        symbols: &[&str],
    ) -> Result<ExchangeRates, Error> {
        let date = date.map(|d| d.to_string());
        let symbols = symbols.join(",");
        let mut query = vec![("base", base)];
        if let Some(date) = &date {
            query.push(("date", date));
        }
        if !symbols.is_empty() {
            query.push(("symbols", &symbols));
        }
        self.get(&["v1", "exchange-rates"], &query).await
    }

    /// `GET /v1/convert`: `amount` of `from` in `to` at the rates of `date` (latest when `None`).
    pub async fn convert(
        &self,
        from: &str,
        to: &str,
        amount: Decimal,
        date: Option<NaiveDate>,
    ) -> Result<Conversion, Error> {
        let amount = amount.to_string();
        let date = date.map(|d| d.to_string());
        let mut query = vec![("from", from), ("to", to), ("amount", amount.as_str())];
        if let Some(date) = &date {
            query.push(("date", date));
        }
        self.get(&["v1", "convert"], &query).await
    }

    /// `GET /v1/tax-rates`: rates of `country` (alpha-2) in force on `date` (today when `None`),
    /// of one `rate_type` (`standard`, `reduced`, ...) or all.
    pub async fn tax_rates(
        &self,
        country: &str,
        date: Option<NaiveDate>,
        rate_type: Option<&str>,
    ) -> Result<Vec<TaxRate>, Error> {
        let date = date.map(|d| d.to_string());
        let mut query = vec![("country", country)];
        if let Some(date) = &date {
            query.push(("date", date));
        }
        if let Some(rate_type) = rate_type {
            query.push(("type", rate_type));
        }
        self.get(&["v1", "tax-rates"], &query).await
    }

    /// Follows `GET /v1/changes/stream` in a background task (on the current Tokio runtime;
    /// [`Error::NoRuntime`] outside one) and empties the cache whenever the service announces
    /// a new dataset version, so the next call reads the new data at once rather than after
    /// `max-age`. Reconnects with backoff after errors; a reconnect also empties the cache when
    /// the version moved on meanwhile. Stops when the returned handle is dropped.
    pub fn subscribe_to_changes(&self) -> Result<crate::ChangeSubscription, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        Ok(crate::changes::spawn(
            &runtime,
            self.inner.http.clone(),
            self.url(&["v1", "changes", "stream"], &[]),
            self.inner.cache.clone(),
        ))
    }

    /// `GET /v1/datasets`: the datasets served and their versions.
    pub async fn datasets(&self) -> Result<Vec<Dataset>, Error> {
        let list: DatasetList = self.get(&["v1", "datasets"], &[]).await?;
        Ok(list.into())
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Every item of a paginated list, fetched with the largest page size the service allows.
    async fn get_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, Error> {
        let mut items = Vec::new();
        loop {
            let offset = items.len().to_string();
            let mut paged = query.to_vec();
            paged.push(("limit", PAGE_SIZE));
            if !items.is_empty() {
                paged.push(("offset", &offset));
            }
            let page: Page<T> = self.get(segments, &paged).await?;
            let received = page.items.len();
            items.extend(page.items);
            // An empty page ends the walk even if `total` promised more (data reloaded meanwhile).
            if received == 0 || items.len() >= page.total {
                return Ok(items);
            }
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let url = self.url(segments, query);
        let body = self.fetch(url.clone()).await?;
        match serde_json::from_slice(&body) {
            Ok(value) => Ok(value),
            Err(source) => {
                // Do not keep answering from a body this client cannot read.
                if let Some(cache) = &self.inner.cache {
                    cache.invalidate(url.as_str()).await;
                }
                Err(Error::Decode {
                    url: url.to_string(),
                    source: Arc::new(source),
                })
            }
        }
    }

    /// The body of `url`: from a fresh cached copy, a stale one being revalidated in the
    /// background, a revalidated one, the network, or a stale copy when the service fails.
    async fn fetch(&self, url: Url) -> Result<Bytes, Error> {
        let inner = &*self.inner;
        let key = url.to_string();
        let cached = match &inner.cache {
            Some(cache) => cache.get(&key).await,
            None => None,
        };
        if let Some(entry) = &cached {
            let now = Instant::now();
            if entry.is_fresh(now) {
                inner.stats.fresh_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(entry.body.clone());
            }
            if entry.within_stale_while_revalidate(now) {
                inner
                    .stats
                    .background_revalidations
                    .fetch_add(1, Ordering::Relaxed);
                self.revalidate_in_background(url, key, Arc::clone(entry));
                return Ok(entry.body.clone());
            }
        }
        self.fetch_shared(&url, &key, cached.as_deref()).await
    }

    /// One network fetch per URL at a time: concurrent callers wait for the one in flight and
    /// share its outcome. If the caller running it is cancelled, a waiting one takes over.
    async fn fetch_shared(
        &self,
        url: &Url,
        key: &str,
        cached: Option<&Entry>,
    ) -> Result<Bytes, Error> {
        let cell = Arc::clone(
            lock(&self.inner.in_flight)
                .entry(key.to_owned())
                .or_insert_with(|| Arc::new(OnceCell::new())),
        );
        let outcome = cell
            .get_or_init(|| self.fetch_from_network(url, key, cached, true))
            .await
            .clone();
        let mut in_flight = lock(&self.inner.in_flight);
        if in_flight
            .get(key)
            .is_some_and(|current| Arc::ptr_eq(current, &cell))
        {
            in_flight.remove(key);
        }
        outcome
    }

    fn revalidate_in_background(&self, url: Url, key: String, entry: Arc<Entry>) {
        if !lock(&self.inner.refreshing).insert(key.clone()) {
            return;
        }
        let guard = RefreshGuard {
            inner: Arc::clone(&self.inner),
            key,
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let client = self.clone();
        runtime.spawn(async move {
            let guard = guard;
            if let Err(error) = client
                .fetch_from_network(&url, &guard.key, Some(&entry), false)
                .await
            {
                tracing::debug!(%url, error = %error, "background revalidation failed");
            }
        });
    }

    /// Requests `url`, revalidating `cached` when there is one, with retries; answers with the
    /// stale copy when the service keeps failing and `serve_stale` allows it.
    async fn fetch_from_network(
        &self,
        url: &Url,
        key: &str,
        cached: Option<&Entry>,
        serve_stale: bool,
    ) -> Result<Bytes, Error> {
        let inner = &*self.inner;
        let mut attempt = 0;
        loop {
            match self.attempt(url, key, cached).await {
                Ok(body) => return Ok(body),
                Err(Failure::Permanent(error)) => return Err(error),
                Err(Failure::Transient { error, retry_after }) => {
                    if attempt < inner.config.retries {
                        let delay = self.backoff_delay(attempt, retry_after);
                        attempt += 1;
                        inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                        tracing::debug!(%url, attempt, ?delay, error = %error, "retrying refdata request");
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    if let Some(entry) = cached.filter(|_| serve_stale) {
                        if entry.usable_when_failing(Instant::now(), inner.config.max_stale) {
                            inner.stats.stale_served.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%url, error = %error, "refdata unavailable; serving a stale cached response");
                            return Ok(entry.body.clone());
                        }
                    }
                    return Err(error);
                }
            }
        }
    }

    async fn attempt(
        &self,
        url: &Url,
        key: &str,
        cached: Option<&Entry>,
    ) -> Result<Bytes, Failure> {
        let inner = &*self.inner;
        let timeout = inner.config.timeout;
        let mut request = inner
            .http
            .get(url.clone())
            .timeout(timeout)
            .header(ACCEPT, "application/json");
        if let Some(entry) = cached {
            if let Some(etag) = &entry.etag {
                request = request.header(IF_NONE_MATCH, etag);
            } else if let Some(last_modified) = &entry.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
        }
        inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let transport = |source: reqwest::Error| {
            let error = if source.is_timeout() {
                Error::Timeout {
                    url: url.to_string(),
                    timeout,
                }
            } else {
                Error::Transport {
                    url: url.to_string(),
                    source: Arc::new(source),
                }
            };
            Failure::Transient {
                error,
                retry_after: None,
            }
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();

        if status == StatusCode::NOT_MODIFIED {
            let Some(entry) = cached else {
                return Err(Failure::Permanent(unexpected(
                    url,
                    status,
                    "304 to an unconditional request",
                )));
            };
            let directives = Directives::parse(&headers);
            // A 304 updates the stored headers it carries; without Cache-Control the stored
            // lifetime and window apply again.
            let (lifetime, stale_while_revalidate) = if directives.present {
                (
                    directives.freshness(&headers),
                    directives.stale_while_revalidate_window(),
                )
            } else {
                (entry.lifetime, entry.stale_while_revalidate)
            };
            let (lifetime, stale_while_revalidate) = self.capped(lifetime, stale_while_revalidate);
            let refreshed = Entry {
                body: entry.body.clone(),
                etag: cache::header_string(&headers, reqwest::header::ETAG)
                    .or_else(|| entry.etag.clone()),
                last_modified: cache::header_string(&headers, reqwest::header::LAST_MODIFIED)
                    .or_else(|| entry.last_modified.clone()),
                fresh_until: Instant::now() + lifetime,
                lifetime,
                stale_while_revalidate,
            };
            let body = refreshed.body.clone();
            if let Some(cache) = &inner.cache {
                if !directives.no_store {
                    cache.insert(key.to_owned(), Arc::new(refreshed)).await;
                }
            }
            inner.stats.revalidated.fetch_add(1, Ordering::Relaxed);
            return Ok(body);
        }

        let body = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            if status == StatusCode::OK {
                if let Some(cache) = &inner.cache {
                    if let Some(mut entry) =
                        cache::entry_from_response(&headers, body.clone(), Instant::now())
                    {
                        let (lifetime, stale_while_revalidate) =
                            self.capped(entry.lifetime, entry.stale_while_revalidate);
                        entry.fresh_until -= entry.lifetime - lifetime;
                        entry.lifetime = lifetime;
                        entry.stale_while_revalidate = stale_while_revalidate;
                        cache.insert(key.to_owned(), Arc::new(entry)).await;
                    }
                }
            }
            return Ok(body);
        }

        let problem = problem_from(&headers, &body, status);
        let error = Error::Api {
            url: url.to_string(),
            problem,
        };
        // Overload and server-side failures are worth another try; other 4xx are answers.
        let transient = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT;
        if transient {
            Err(Failure::Transient {
                error,
                retry_after: retry_after(&headers),
            })
        } else {
            Err(Failure::Permanent(error))
        }
    }

    /// Freshness lifetime and stale-while-revalidate window within `max_freshness`.
    fn capped(&self, lifetime: Duration, stale_while_revalidate: Duration) -> (Duration, Duration) {
        match self.inner.config.max_freshness {
            Some(cap) => (lifetime.min(cap), stale_while_revalidate.min(cap)),
            None => (lifetime, stale_while_revalidate),
        }
    }

    /// Exponential backoff, jittered between half and all of the step, stretched to the server's `Retry-After` seconds
    /// when it sends one (up to the configured maximum).
    fn backoff_delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let config = &self.inner.config;
        let ceiling = config
            .backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(config.max_backoff);
        let jittered = ceiling.mul_f64(0.5 + 0.5 * jitter());
        retry_after.map_or(jittered, |asked| {
            asked.min(config.max_backoff).max(jittered)
        })
    }
}

fn unexpected(url: &Url, status: StatusCode, detail: &str) -> Error {
    Error::Api {
        url: url.to_string(),
        problem: Problem {
            type_uri: "about:blank".to_owned(),
            title: status
                .canonical_reason()
                .unwrap_or("Unexpected status")
                .to_owned(),
            status: status.as_u16(),
            detail: Some(detail.to_owned()),
        },
    }
}

/// The service's problem document, or one made from the status when the body is not one.
fn problem_from(headers: &HeaderMap, body: &[u8], status: StatusCode) -> Problem {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let parsed = if is_json {
        serde_json::from_slice::<Problem>(body).ok()
    } else {
        None
    };
    let mut problem = parsed.unwrap_or_else(|| Problem {
        type_uri: "about:blank".to_owned(),
        title: String::new(),
        status: status.as_u16(),
        detail: std::str::from_utf8(body)
            .ok()
            .map(str::trim)
            .filter(|text| !text.is_empty() && text.len() <= 512)
            .map(str::to_owned),
    });
    if problem.status == 0 {
        problem.status = status.as_u16();
    }
    if problem.title.is_empty() {
        problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
    }
    problem
}

/// A uniform number in [0, 1) from the standard library's randomly seeded hasher.
fn jitter() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `Retry-After` in delay-seconds form; the HTTP-date form is not worth a clock dependency.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
