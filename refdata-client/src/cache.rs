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
    /// Freshness lifetime the response granted; reused when a `304` carries no
    /// `Cache-Control` of its own.
    pub lifetime: Duration,
    /// How long after `fresh_until` the body may be returned while it is revalidated in the
    /// background.
    pub stale_while_revalidate: Duration,
}

impl Entry {
    pub fn is_fresh(&self, now: Instant) -> bool {
        now < self.fresh_until
    }

    pub fn within_stale_while_revalidate(&self, now: Instant) -> bool {
        !self.is_fresh(now) && now < self.fresh_until + self.stale_while_revalidate
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
    pub stale_while_revalidate: Option<Duration>,
    pub no_store: bool,
    pub no_cache: bool,
    /// Whether any `Cache-Control` field was present.
    pub present: bool,
}

impl Directives {
    pub fn parse(headers: &HeaderMap) -> Self {
        let mut directives = Directives::default();
        for value in headers.get_all(CACHE_CONTROL) {
            directives.present = true;
            let Ok(value) = value.to_str() else { continue };
            for directive in value.split(',') {
                let (name, argument) = match directive.split_once('=') {
                    Some((name, argument)) => {
                        (name.trim(), Some(argument.trim().trim_matches('"')))
                    }
                    None => (directive.trim(), None),
                };
                let seconds = || {
                    argument
                        .and_then(|a| a.parse::<u64>().ok())
                        .map(Duration::from_secs)
                };
                if name.eq_ignore_ascii_case("max-age") {
                    directives.max_age = seconds().or(directives.max_age);
                } else if name.eq_ignore_ascii_case("stale-while-revalidate") {
                    directives.stale_while_revalidate =
                        seconds().or(directives.stale_while_revalidate);
                } else if name.eq_ignore_ascii_case("no-store") {
                    directives.no_store = true;
                } else if name.eq_ignore_ascii_case("no-cache") {
                    directives.no_cache = true;
                }
            }
        }
        directives
    }

    /// The stale-while-revalidate window; none when the response must always be revalidated.
    pub fn stale_while_revalidate_window(&self) -> Duration {
        if self.no_cache {
            return Duration::ZERO;
        }
        self.stale_while_revalidate.unwrap_or(Duration::ZERO)
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
        lifetime: fresh_for,
        stale_while_revalidate: directives.stale_while_revalidate_window(),
    })
}

/// Entries expire once they are too stale to serve even when the service is down.
struct StaleBound {
    max_stale: Duration,
}

impl StaleBound {
    fn lifetime(&self, entry: &Entry, now: Instant) -> Duration {
        entry.fresh_until.saturating_duration_since(now)
            + self.max_stale.max(entry.stale_while_revalidate)
    }
}

impl moka::Expiry<String, Arc<Entry>> for StaleBound {
    fn expire_after_create(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(self.lifetime(entry, created_at))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Arc<Entry>,
        updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.lifetime(entry, updated_at))
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
        let directives = Directives::parse(&h);
        assert_eq!(
            directives.stale_while_revalidate_window(),
            Duration::from_secs(30)
        );
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
