//! The client-side HTTP cache: freshness from `Cache-Control`, validators for revalidation, and
//! a bound on how long stale copies may stand in for an unavailable service.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{HeaderMap, AGE, CACHE_CONTROL, ETAG, LAST_MODIFIED};

/// A stored response body and what is needed to reuse or revalidate it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub body: Bytes,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fresh_until: Instant,
}

impl Entry {
    pub fn is_fresh(&self, now: Instant) -> bool {
        now < self.fresh_until
    }

    /// Usable when the service is unavailable: stale by no more than `max_stale`.
    pub fn usable_when_failing(&self, now: Instant, max_stale: Duration) -> bool {
        now.saturating_duration_since(self.fresh_until) <= max_stale
    }

    fn weight(&self) -> u32 {
        let size = self.body.len()
            + self.etag.as_ref().map_or(0, String::len)
            + self.last_modified.as_ref().map_or(0, String::len)
            + 64;
        u32::try_from(size).unwrap_or(u32::MAX)
    }
}

/// The cache directives the client acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Directives {
    pub max_age: Option<Duration>,
    pub no_store: bool,
    pub no_cache: bool,
}

impl Directives {
    pub fn parse(headers: &HeaderMap) -> Self {
        let mut directives = Directives::default();
        for value in headers.get_all(CACHE_CONTROL) {
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let (name, argument) = match directive.split_once('=') {
                    Some((name, argument)) => {
                        (name.trim(), Some(argument.trim().trim_matches('"')))
                    }
                    None => (directive.trim(), None),
                };
                if name.eq_ignore_ascii_case("max-age") {
                    if let Some(seconds) = argument.and_then(|a| a.parse::<u64>().ok()) {
                        directives.max_age = Some(Duration::from_secs(seconds));
                    }
                } else if name.eq_ignore_ascii_case("no-store") {
                    directives.no_store = true;
                } else if name.eq_ignore_ascii_case("no-cache") {
                    directives.no_cache = true;
                }
            }
        }
        directives
    }

    /// How long a response received now stays fresh, net of the `Age` it already has.
    pub fn freshness(&self, headers: &HeaderMap) -> Duration {
        if self.no_cache {
            return Duration::ZERO;
        }
        let age = headers
            .get(AGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(Duration::ZERO, Duration::from_secs);
        self.max_age.unwrap_or(Duration::ZERO).saturating_sub(age)
    }
}

pub(crate) fn header_string(
    headers: &HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(crate) fn entry_from_response(headers: &HeaderMap, body: Bytes, now: Instant) -> Option<Entry> {
    let directives = Directives::parse(headers);
    if directives.no_store {
        return None;
    }
    let etag = header_string(headers, ETAG);
    let last_modified = header_string(headers, LAST_MODIFIED);
    let fresh_for = directives.freshness(headers);
    // Kept even when it is never fresh: it can be revalidated, or stand in for a failing service.
    Some(Entry {
        body,
        etag,
        last_modified,
        fresh_until: now + fresh_for,
    })
}

/// Entries expire once they are too stale to serve even when the service is down.
struct StaleBound {
    max_stale: Duration,
}

impl moka::Expiry<String, Arc<Entry>> for StaleBound {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(entry.fresh_until.saturating_duration_since(created_at) + self.max_stale)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.fresh_until.saturating_duration_since(updated_at) + self.max_stale)
    }
}

pub(crate) type Store = moka::future::Cache<String, Arc<Entry>>;

pub(crate) fn store(capacity_bytes: u64, max_stale: Duration) -> Store {
    moka::future::Cache::builder()
        .name("refdata-client")
        .max_capacity(capacity_bytes)
        .weigher(|key: &String, entry: &Arc<Entry>| {
            entry
                .weight()
                .saturating_add(u32::try_from(key.len()).unwrap_or(u32::MAX))
        })
        .expire_after(StaleBound { max_stale })
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn freshness_comes_from_max_age_less_age() {
        let h = headers(&[
            (
                "cache-control",
                "public, max-age=60, stale-while-revalidate=30",
            ),
            ("age", "15"),
        ]);
        assert_eq!(Directives::parse(&h).freshness(&h), Duration::from_secs(45));
        let h = headers(&[("cache-control", "max-age=\"10\""), ("age", "99")]);
        assert_eq!(Directives::parse(&h).freshness(&h), Duration::ZERO);
    }

    #[test]
    fn no_cache_and_no_store() {
        let h = headers(&[
            ("cache-control", "max-age=60"),
            ("cache-control", "no-cache"),
        ]);
        assert_eq!(Directives::parse(&h).freshness(&h), Duration::ZERO);
        let h = headers(&[("cache-control", "No-Store")]);
        assert!(entry_from_response(&h, Bytes::new(), Instant::now()).is_none());
        let h = headers(&[]);
        assert_eq!(Directives::parse(&h).freshness(&h), Duration::ZERO);
    }
}
