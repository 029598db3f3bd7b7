//! The in-process store of rendered responses, bounded by bytes.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use super::conditional::truncate_to_seconds;
use super::key::CacheKey;
use super::negotiate::Encoding;
use super::CachePolicy;
use crate::clock::{SharedClock, SystemClock};

/// Sizing and compression settings of the [`ResponseCache`].
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Upper bound of the cache, in bytes of stored bodies (all encodings) plus keys and headers.
    pub max_bytes: u64,
    /// Bodies larger than this are served but not cached.
    pub max_entry_bytes: usize,
    /// Bodies smaller than this are stored (and served) uncompressed only: compressing them
    /// saves less than the `Content-Encoding` header costs.
    pub compress_min_bytes: usize,
    /// Brotli quality, 0-11. Compression runs once per entry, so a high value pays off.
    pub brotli_quality: u32,
    /// gzip level, 0-9.
    pub gzip_level: u32,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_entry_bytes: 8 * 1024 * 1024,
            compress_min_bytes: 512,
            brotli_quality: 5,
            gzip_level: 6,
        }
    }
}

/// One content-coding of a cached representation, with its precomputed header values.
#[derive(Debug)]
pub(crate) struct Variant {
    pub encoding: Encoding,
    pub body: Bytes,
    pub etag: HeaderValue,
    pub content_length: HeaderValue,
}

/// A rendered `200` response with every content-coding worth serving.
#[derive(Debug)]
pub(crate) struct CachedResponse {
    /// Hex hash shared by all variants; the strong ETag of each variant adds a coding suffix.
    pub etag_base: String,
    /// Handler headers, minus the ones this layer manages.
    pub headers: HeaderMap,
    /// `Cache-Control` of the policy, used as is when the entry has no `changes_at`.
    pub cache_control: HeaderValue,
    pub policy: CachePolicy,
    pub last_modified: HeaderValue,
    pub last_modified_at: SystemTime,
    /// Identity first, then whatever compressed variants turned out smaller.
    pub variants: Vec<Variant>,
    pub available: Vec<Encoding>,
    /// The route template that rendered it (`/v1/countries/{code}`), for request metrics of
    /// hits answered before routing.
    pub route: Option<std::sync::Arc<str>>,
    weight: usize,
}

impl CachedResponse {
    pub fn variant(&self, encoding: Encoding) -> Option<&Variant> {
        self.variants.iter().find(|v| v.encoding == encoding)
    }

    /// Whether the entry may still be served at `now` (it has not reached its `changes_at`).
    pub fn is_current(&self, now: SystemTime) -> bool {
        self.policy.changes_at.is_none_or(|at| now < at)
    }

    /// `Cache-Control` as of `now`: the policy's, shortened to end at `changes_at`.
    pub fn cache_control_at(&self, now: SystemTime) -> HeaderValue {
        if self.policy.changes_at.is_none() {
            return self.cache_control.clone();
        }
        cache_control_value(&bounded(&self.policy, now))
    }
}

/// `policy` with `max-age` and `stale-while-revalidate` cut so that together they end no later
/// than its `changes_at` (whole seconds, rounded down).
pub fn bounded(policy: &CachePolicy, now: SystemTime) -> CachePolicy {
    let Some(changes_at) = policy.changes_at else {
        return policy.clone();
    };
    let left = Duration::from_secs(changes_at.duration_since(now).unwrap_or_default().as_secs());
    let max_age = policy.max_age.min(left);
    CachePolicy {
        max_age,
        stale_while_revalidate: policy.stale_while_revalidate.min(left - max_age),
        ..policy.clone()
    }
}

/// Bytes the allocator keeps around each allocation.
const ALLOCATION_OVERHEAD: usize = 32;

/// Headers the caching layer computes itself and must not copy from the handler's response.
const MANAGED_HEADERS: [HeaderName; 8] = [
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::TRANSFER_ENCODING,
    header::ETAG,
    header::CACHE_CONTROL,
    header::LAST_MODIFIED,
    header::VARY,
    header::EXPIRES,
];

/// Renders the `Cache-Control` value of a policy.
pub fn cache_control_value(policy: &CachePolicy) -> HeaderValue {
    let mut value = format!("public, max-age={}", policy.max_age.as_secs());
    if !policy.stale_while_revalidate.is_zero() {
        value.push_str(&format!(
            ", stale-while-revalidate={}",
            policy.stale_while_revalidate.as_secs()
        ));
    }
    if policy.immutable {
        value.push_str(", immutable");
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
}

/// Strong validator of a representation: a hash of the dataset version, the canonical target
/// and the body, so it changes whenever any of them does.
pub fn etag_base(dataset_version: &str, target: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update((dataset_version.len() as u64).to_le_bytes());
    hasher.update(dataset_version.as_bytes());
    hasher.update((target.len() as u64).to_le_bytes());
    hasher.update(target.as_bytes());
    hasher.update(body);
    hex::encode(&hasher.finalize()[..16])
}

fn is_compressible(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json" | "application/xml" | "application/javascript" | "image/svg+xml"
        )
}

fn gzip(body: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(level.min(9)),
    );
    encoder.write_all(body)?;
    encoder.finish()
}

fn brotli(body: &[u8], quality: u32) -> std::io::Result<Vec<u8>> {
    // A window no larger than the body: the encoder allocates buffers for the whole window,
    // and with 22 bits (4 MiB) two concurrent compressions of a series cost tens of MiB.
    let window_bits = body
        .len()
        .next_power_of_two()
        .trailing_zeros()
        .clamp(16, 22);
    let params = brotli::enc::BrotliEncoderParams {
        quality: quality.min(11) as i32,
        lgwin: window_bits as i32,
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 3);
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
    Ok(out)
}

impl CachedResponse {
    /// Builds an entry from a handler's `200`: hashes the body once and compresses it once per
    /// coding, keeping a compressed variant only when it is actually smaller.
    pub fn build(
        config: &CacheConfig,
        policy: &CachePolicy,
        target: &str,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        for name in &MANAGED_HEADERS {
            headers.remove(name);
        }
        let etag_base = etag_base(&policy.dataset_version, target, &body);
        let mut variants = Vec::with_capacity(3);
        if body.len() >= config.compress_min_bytes && is_compressible(&headers) {
            let compressed = [
                (Encoding::Brotli, brotli(&body, config.brotli_quality)),
                (Encoding::Gzip, gzip(&body, config.gzip_level)),
            ];
            for (encoding, result) in compressed {
                match result {
                    Ok(mut bytes) if bytes.len() < body.len() => {
                        // The encoder's spare capacity would otherwise stay allocated (and
                        // unweighed) for the life of the entry.
                        bytes.shrink_to_fit();
                        variants.push(variant(encoding, &etag_base, Bytes::from(bytes)));
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%error, ?encoding, "compressing a cached response failed");
                    }
                }
            }
        }
        // A rendered body usually sits in a buffer grown by doubling: keep an exact copy so
        // the cache holds (and weighs) only the bytes it serves.
        let body = Bytes::copy_from_slice(&body);
        variants.insert(0, variant(Encoding::Identity, &etag_base, body));
        let last_modified_at = truncate_to_seconds(policy.last_modified);
        let last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(last_modified_at))
            .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"));
        let header_bytes: usize = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 16)
            .sum();
        // Bodies plus the allocations around them (header values, tags, the entry itself,
        // moka's node), rounded the way the allocator rounds them.
        let weight = variants
            .iter()
            .map(|v| v.body.len().next_multiple_of(16) + v.etag.len() + 2 * ALLOCATION_OVERHEAD)
            .sum::<usize>()
            + header_bytes
            + etag_base.len()
            + 512;
        let available = variants.iter().map(|v| v.encoding).collect();
        Self {
            etag_base,
            headers,
            cache_control: cache_control_value(policy),
            policy: policy.clone(),
            last_modified,
            last_modified_at,
            variants,
            available,
            route: None,
            weight,
        }
    }
}

fn variant(encoding: Encoding, etag_base: &str, body: Bytes) -> Variant {
    let etag = format!("\"{etag_base}{}\"", encoding.etag_suffix());
    Variant {
        encoding,
        etag: HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")),
        content_length: HeaderValue::from(body.len()),
        body,
    }
}

/// Hit, miss and eviction counters of a [`ResponseCache`].
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) uncacheable: AtomicU64,
}

/// A point-in-time view of a cache's counters and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests answered from the cache (including 304s and requests that waited for a
    /// concurrent render of the same key).
    pub hits: u64,
    /// Requests that rendered a response through the handlers.
    pub misses: u64,
    /// Entries removed to stay within `max_bytes`.
    pub evictions: u64,
    /// GET/HEAD responses that were not cacheable (not `200`, no policy, too large).
    pub uncacheable: u64,
    pub entries: u64,
    pub weighted_bytes: u64,
    pub max_bytes: u64,
}

/// Shared, cloneable cache of rendered responses.
#[derive(Clone)]
pub struct ResponseCache {
    pub(crate) entries: moka::future::Cache<CacheKey, Arc<CachedResponse>>,
    pub(crate) config: Arc<CacheConfig>,
    pub(crate) counters: Arc<CacheCounters>,
    pub(crate) clock: SharedClock,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish()
    }
}

impl ResponseCache {
    pub fn new(config: CacheConfig) -> Self {
        let counters = Arc::new(CacheCounters::default());
        let eviction_counters = Arc::clone(&counters);
        let entries = moka::future::Cache::builder()
            .name("refdata-responses")
            .max_capacity(config.max_bytes)
            .weigher(|key: &CacheKey, value: &Arc<CachedResponse>| {
                u32::try_from(key.target.len() + value.weight).unwrap_or(u32::MAX)
            })
            .eviction_listener(move |_key, _value, cause| {
                if cause.was_evicted() {
                    eviction_counters.evictions.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        Self {
            entries,
            config: Arc::new(config),
            counters,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` to expire entries at their policy's `changes_at` and to compute their
    /// remaining `max-age`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_max_bytes(max_bytes: u64) -> Self {
        Self::new(CacheConfig {
            max_bytes,
            ..CacheConfig::default()
        })
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// Current figures. Entries and bytes are counted from the stored entries: moka's own
    /// counts lag until its pending maintenance runs, which made a scrape report an empty cache
    /// while it served hits. Counting walks the entries, which is fine at scrape frequency.
    pub fn stats(&self) -> CacheStats {
        let (entries, weighted_bytes) =
            self.entries
                .iter()
                .fold((0u64, 0u64), |(entries, bytes), (key, value)| {
                    let weight = (key.target.len() + value.weight).min(u32::MAX as usize);
                    (entries + 1, bytes + weight as u64)
                });
        CacheStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            misses: self.counters.misses.load(Ordering::Relaxed),
            evictions: self.counters.evictions.load(Ordering::Relaxed),
            uncacheable: self.counters.uncacheable.load(Ordering::Relaxed),
            entries,
            weighted_bytes,
            max_bytes: self.config.max_bytes,
        }
    }

    /// Drops every entry. Not needed for correctness after a [`super::DataGeneration`] bump
    /// (old generations are never looked up again and age out), but frees their memory at once.
    pub fn invalidate_all(&self) {
        self.entries.invalidate_all();
    }

    /// Applies pending evictions and size accounting now; moka does it lazily otherwise.
    pub async fn run_pending_tasks(&self) {
        self.entries.run_pending_tasks().await;
    }
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::new(CacheConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn policy(changes_at: Option<SystemTime>) -> CachePolicy {
        CachePolicy {
            dataset_version: "v".into(),
            last_modified: SystemTime::UNIX_EPOCH,
            max_age: Duration::from_secs(3600),
            stale_while_revalidate: Duration::from_secs(86400),
            immutable: false,
            changes_at,
        }
    }

    #[test]
    fn max_age_and_stale_while_revalidate_end_at_the_change() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let unbounded = bounded(&policy(None), now);
        assert_eq!(unbounded, policy(None));

        let far = bounded(&policy(Some(now + Duration::from_secs(7200))), now);
        assert_eq!(far.max_age, Duration::from_secs(3600));
        assert_eq!(far.stale_while_revalidate, Duration::from_secs(3600));

        let near = bounded(&policy(Some(now + Duration::from_millis(90_500))), now);
        assert_eq!(near.max_age, Duration::from_secs(90));
        assert_eq!(near.stale_while_revalidate, Duration::ZERO);
        assert_eq!(
            cache_control_value(&near).to_str().unwrap(),
            "public, max-age=90"
        );

        let past = bounded(&policy(Some(now - Duration::from_secs(1))), now);
        assert_eq!(past.max_age, Duration::ZERO);
        assert_eq!(past.stale_while_revalidate, Duration::ZERO);
    }

    #[test]
    fn entries_weigh_at_least_every_stored_coding() {
        let config = CacheConfig::default();
        let body = Bytes::from(
            "{\"k\":\"a fairly repetitive value\"}"
                .repeat(200)
                .into_bytes(),
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let entry = CachedResponse::build(&config, &policy(None), "/t", headers, body.clone());
        assert_eq!(entry.variants.len(), 3, "identity, brotli and gzip");
        let stored: usize = entry.variants.iter().map(|v| v.body.len()).sum();
        assert!(entry.weight >= stored + 3 * ALLOCATION_OVERHEAD);
        assert_eq!(entry.variants[0].body, body);
    }
}
