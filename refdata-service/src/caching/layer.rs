//! The tower layer that serves GET/HEAD responses from the [`ResponseCache`].

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, HttpBody as _};
use axum::extract::MatchedPath;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{Method, Request, StatusCode};
use tower::{Layer, Service, ServiceExt};

use super::conditional::{
    if_match_matches, if_none_match_matches, modified_since, not_modified_since,
};
use super::key::{canonical_target, CacheKey};
use super::negotiate::negotiate;
use super::store::{CachedResponse, ResponseCache};
use super::{CachePolicy, DataGeneration};
use crate::metrics::Metrics;

/// Wraps a router so cacheable responses are rendered once per data generation and then served
/// from memory with ETags, conditional requests and pre-compressed bodies.
#[derive(Clone, Debug)]
pub struct CacheLayer {
    // Behind an Arc so a request clones one pointer, not moka's handles.
    cache: Arc<ResponseCache>,
    generation: DataGeneration,
}

impl CacheLayer {
    /// The layer also registers `cache` with `metrics`, so its hit, miss, eviction and size
    /// figures appear in [`Metrics::render`].
    pub fn new(cache: ResponseCache, generation: DataGeneration, metrics: Arc<Metrics>) -> Self {
        metrics.observe_response_cache(cache.clone());
        Self {
            cache: Arc::new(cache),
            generation,
        }
    }
}

impl<S> Layer<S> for CacheLayer {
    type Service = CacheService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CacheService {
            inner,
            cache: Arc::clone(&self.cache),
            generation: self.generation.clone(),
        }
    }
}

/// The service produced by [`CacheLayer`].
#[derive(Clone, Debug)]
pub struct CacheService<S> {
    inner: S,
    cache: Arc<ResponseCache>,
    generation: DataGeneration,
}

/// Answers cache hits in front of the router: no route matching and no middleware run for a
/// hit, which is then recorded in the request metrics under the route that rendered it.
/// Misses, other methods and entries without a recorded route go to `inner`: the router with
/// the [`CacheLayer`] and the metrics middleware, which render, store and count them.
#[derive(Debug)]
pub struct HitFirst<S> {
    /// One reference count per clone (hyper's service takes one per request) and per call,
    /// instead of a copy of the whole router stack; a miss clones the router.
    shared: Arc<HitShared<S>>,
}

#[derive(Debug)]
struct HitShared<S> {
    inner: S,
    cache: Arc<ResponseCache>,
    generation: DataGeneration,
    metrics: Arc<Metrics>,
}

impl<S> Clone for HitFirst<S> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl CacheLayer {
    /// Wraps the whole router (which must carry this layer) so hits skip routing.
    pub fn hits_first<S>(&self, router: S, metrics: Arc<Metrics>) -> HitFirst<S> {
        HitFirst {
            shared: Arc::new(HitShared {
                inner: router,
                cache: Arc::clone(&self.cache),
                generation: self.generation.clone(),
                metrics,
            }),
        }
    }
}

impl<S> Service<Request<Body>> for HitFirst<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send + 'static>>;

    /// Always ready: a miss drives its own copy of the router to readiness (`oneshot`).
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Box::pin(self.shared.inner.clone().oneshot(request));
        }
        let shared = Arc::clone(&self.shared);
        let generation = shared.generation.current();
        Box::pin(async move {
            let started = std::time::Instant::now();
            let key = CacheKey {
                generation,
                target: canonical_target(request.uri()).into(),
            };
            let cache = &shared.cache;
            let now = cache.clock.now();
            if let Some(entry) = cache.entries.get(&key).await {
                if let (Some(route), true) = (&entry.route, entry.is_current(now)) {
                    cache.counters.hits.fetch_add(1, Ordering::Relaxed);
                    let (parts, _body) = request.into_parts();
                    let response = respond(&entry, &parts, parts.method == Method::HEAD, now);
                    shared.metrics.record_request(
                        route,
                        &parts.method,
                        response.status().as_u16(),
                        started.elapsed(),
                    );
                    return Ok(response);
                }
            }
            shared.inner.clone().oneshot(request).await
        })
    }
}

/// Bodies from this size on are hashed and compressed on the blocking pool.
const BLOCKING_BUILD_BYTES: usize = 32 * 1024;

/// A response the handlers produced that must not be cached; handed back to the request that
/// rendered it. Requests that waited on the same render find it taken and render their own.
struct Uncacheable(Mutex<Option<Response>>);

impl<S> Service<Request<Body>> for CacheService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // Take the service that was driven to readiness, leave a fresh clone in its place.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let method = request.method().clone();
        if method != Method::GET && method != Method::HEAD {
            return Box::pin(inner.oneshot(request));
        }
        let cache = Arc::clone(&self.cache);
        let generation = self.generation.current();
        Box::pin(async move { Ok(serve(inner, cache, generation, request).await) })
    }
}

async fn serve<S>(
    inner: S,
    cache: Arc<ResponseCache>,
    generation: u64,
    request: Request<Body>,
) -> Response
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let target: Arc<str> = canonical_target(request.uri()).into();
    let key = CacheKey { generation, target };
    let (mut parts, _body) = request.into_parts();
    let is_head = parts.method == Method::HEAD;
    let route: Option<Arc<str>> = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| Arc::from(m.as_str()));

    let now = cache.clock.now();
    if let Some(entry) = cache.entries.get(&key).await {
        if entry.is_current(now) {
            cache.counters.hits.fetch_add(1, Ordering::Relaxed);
            return respond(&entry, &parts, is_head, now);
        }
        // Past its `changes_at` (midnight, a scheduled change): render it again.
        cache.entries.invalidate(&key).await;
    }

    // Render as GET even for HEAD: the stored entry must carry the body for later GETs.
    parts.method = Method::GET;
    let render_parts = parts.clone();
    let render_inner = inner.clone();
    let render_cache = Arc::clone(&cache);
    let target = Arc::clone(&key.target);
    let rendered = cache
        .entries
        .entry(key)
        .or_try_insert_with(async move {
            let request = Request::from_parts(render_parts, Body::empty());
            let response = match render_inner.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            into_entry(&render_cache, &target, route, response).await
        })
        .await;
    if is_head {
        parts.method = Method::HEAD;
    }
    match rendered {
        Ok(entry) => {
            let counter = if entry.is_fresh() {
                &cache.counters.misses
            } else {
                &cache.counters.hits
            };
            counter.fetch_add(1, Ordering::Relaxed);
            respond(entry.value(), &parts, is_head, cache.clock.now())
        }
        Err(uncacheable) => {
            cache.counters.uncacheable.fetch_add(1, Ordering::Relaxed);
            let own = uncacheable.0.lock().ok().and_then(|mut slot| slot.take());
            let response = match own {
                Some(response) => response,
                // Another request rendered this uncacheable response; render ours.
                None => {
                    let request = Request::from_parts(parts, Body::empty());
                    match inner.oneshot(request).await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                }
            };
            if is_head {
                strip_body(response)
            } else {
                response
            }
        }
    }
}

fn strip_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    if !parts.headers.contains_key(header::CONTENT_LENGTH) {
        if let Some(length) = body.size_hint().exact() {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
    }
    Response::from_parts(parts, Body::empty())
}

/// Turns a handler's response into a cache entry, or hands it back when it is not cacheable.
async fn into_entry(
    cache: &ResponseCache,
    target: &str,
    route: Option<Arc<str>>,
    response: Response,
) -> Result<Arc<CachedResponse>, Uncacheable> {
    let give_back = |response: Response| Uncacheable(Mutex::new(Some(response)));
    if response.status() != StatusCode::OK
        || response.headers().contains_key(header::CONTENT_ENCODING)
    {
        return Err(give_back(response));
    }
    let Some(policy) = response.extensions().get::<CachePolicy>().cloned() else {
        return Err(give_back(response));
    };
    // Entries are keyed by target only: a response that varies on other request headers
    // (Accept, Accept-Language, ...) must not be shared.
    let varies_otherwise = response
        .headers()
        .get_all(header::VARY)
        .iter()
        .any(|value| {
            value.to_str().map_or(true, |value| {
                value
                    .split(',')
                    .map(str::trim)
                    .any(|name| !name.is_empty() && !name.eq_ignore_ascii_case("accept-encoding"))
            })
        });
    if varies_otherwise {
        return Err(give_back(response));
    }
    let max_entry_bytes = cache.config.max_entry_bytes;
    let fits = response
        .body()
        .size_hint()
        .upper()
        .is_some_and(|upper| upper <= max_entry_bytes as u64);
    if !fits {
        return Err(give_back(response));
    }
    let (parts, body) = response.into_parts();
    // The extensions may hold a handler's permit for expensive work (see
    // `app::ExpensivePermit`); they are dropped only once the entry is built, so compressing
    // counts against the same limit as rendering.
    let http::response::Parts {
        headers,
        extensions,
        ..
    } = parts;
    match axum::body::to_bytes(body, max_entry_bytes).await {
        Ok(bytes) if bytes.len() < BLOCKING_BUILD_BYTES => {
            let mut entry = CachedResponse::build(&cache.config, &policy, target, headers, bytes);
            entry.route = route;
            drop(extensions);
            Ok(Arc::new(entry))
        }
        // Compressing a large body takes milliseconds: keep it off the async workers.
        Ok(bytes) => {
            let config = Arc::clone(&cache.config);
            let owned_target = target.to_owned();
            let built = tokio::task::spawn_blocking(move || {
                let mut entry =
                    CachedResponse::build(&config, &policy, &owned_target, headers, bytes);
                entry.route = route;
                drop(extensions);
                entry
            })
            .await;
            match built {
                Ok(entry) => Ok(Arc::new(entry)),
                Err(error) => {
                    tracing::error!(%error, target, "building a cache entry failed");
                    Err(give_back(StatusCode::INTERNAL_SERVER_ERROR.into_response()))
                }
            }
        }
        Err(error) => {
            tracing::error!(%error, target, "reading a response body failed");
            Err(give_back(StatusCode::INTERNAL_SERVER_ERROR.into_response()))
        }
    }
}

/// Answers a request from a cached entry: picks the content-coding, evaluates the
/// preconditions and copies the precomputed headers and body.
fn respond(
    entry: &CachedResponse,
    request: &http::request::Parts,
    is_head: bool,
    now: std::time::SystemTime,
) -> Response {
    let accept_encoding = request
        .headers
        .get(header::ACCEPT_ENCODING)
        .map(|v| v.to_str().unwrap_or(""));
    let Some(variant) = negotiate(accept_encoding, &entry.available).and_then(|e| entry.variant(e))
    else {
        return not_acceptable();
    };

    // RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since, then If-None-Match, else
    // If-Modified-Since.
    let etag = variant.etag.to_str().unwrap_or("").trim_matches('"');
    let precondition_failed = match request.headers.get(header::IF_MATCH) {
        Some(field) => !field
            .to_str()
            .is_ok_and(|field| if_match_matches(field, etag)),
        None => request
            .headers
            .get(header::IF_UNMODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|field| modified_since(field, entry.last_modified_at)),
    };
    if precondition_failed {
        let mut response = precondition_failed_problem(request, is_head);
        response
            .headers_mut()
            .insert(header::ETAG, variant.etag.clone());
        return response;
    }

    let not_modified = match request.headers.get(header::IF_NONE_MATCH) {
        Some(field) => field
            .to_str()
            .is_ok_and(|field| if_none_match_matches(field, &entry.etag_base)),
        None => request
            .headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|field| not_modified_since(field, entry.last_modified_at)),
    };

    let mut response = if not_modified || is_head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(variant.body.clone()))
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, variant.etag.clone());
    headers.insert(header::CACHE_CONTROL, entry.cache_control_at(now));
    headers.insert(header::LAST_MODIFIED, entry.last_modified.clone());
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // The 200's length (RFC 9110 §8.6); without it, axum's router would announce 0.
    headers.insert(header::CONTENT_LENGTH, variant.content_length.clone());
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    headers.reserve(entry.headers.len() + 2);
    for (name, value) in &entry.headers {
        headers.append(name.clone(), value.clone());
    }
    if let Some(coding) = variant.encoding.content_coding() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    response
}

/// A 412 problem (no body for HEAD), naming the resource's current tag in `ETag`.
fn precondition_failed_problem(request: &http::request::Parts, is_head: bool) -> Response {
    let body = serde_json::json!({
        "type": "urn:refdata:problem:precondition-failed",
        "title": "Precondition failed",
        "status": 412,
        "detail": "If-Match or If-Unmodified-Since does not hold for the current representation; its ETag is in the ETag header",
        "instance": request.uri.path(),
    })
    .to_string();
    let length = body.len();
    let mut response = Response::new(if is_head {
        Body::empty()
    } else {
        Body::from(body)
    });
    *response.status_mut() = StatusCode::PRECONDITION_FAILED;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    response
}

fn not_acceptable() -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Not Acceptable",
        "status": 406,
        "detail": "no content-coding acceptable to the client is available (identity and * are refused by Accept-Encoding)",
    });
    let mut response = (StatusCode::NOT_ACCEPTABLE, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}
