//! Canonical cache keys: the same resource asked for with query parameters in another order
//! shares one cache entry.

use std::sync::Arc;

use http::Uri;

/// Identifies one cached resource; every content-coding of it lives in the same entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub generation: u64,
    /// Path plus query with its parameters in canonical order.
    pub target: Arc<str>,
}

/// `path?query` with query parameters sorted by name. The sort is stable so repeated
/// parameters (`symbols=USD&symbols=JPY`) keep their relative order, and empty pairs are
/// dropped. Values are kept as sent: no decoding, so no ambiguity is introduced.
pub fn canonical_target(uri: &Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_owned();
    };
    let mut pairs: Vec<&str> = query.split('&').filter(|pair| !pair.is_empty()).collect();
    if pairs.is_empty() {
        return path.to_owned();
    }
    pairs.sort_by_key(|pair| pair.split_once('=').map_or(*pair, |(name, _)| name));
    let mut target = String::with_capacity(path.len() + 1 + query.len());
    target.push_str(path);
    target.push('?');
    for (index, pair) in pairs.iter().enumerate() {
        if index > 0 {
            target.push('&');
        }
        target.push_str(pair);
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(uri: &str) -> String {
        canonical_target(&uri.parse().expect("valid test URI"))
    }

    #[test]
    fn sorts_parameters_by_name() {
        assert_eq!(
            canonical("/v1/convert?to=JPY&from=USD&amount=1"),
            "/v1/convert?amount=1&from=USD&to=JPY"
        );
    }

    #[test]
    fn keeps_order_of_repeated_parameters() {
        assert_eq!(
            canonical("/r?symbols=USD&base=EUR&symbols=JPY"),
            "/r?base=EUR&symbols=USD&symbols=JPY"
        );
        assert_ne!(canonical("/r?s=B&s=A"), canonical("/r?s=A&s=B"));
    }

    #[test]
    fn drops_empty_pairs_and_queries() {
        assert_eq!(canonical("/v1/countries?"), "/v1/countries");
        assert_eq!(canonical("/v1/countries?&a=1&&"), "/v1/countries?a=1");
        assert_eq!(canonical("/v1/countries"), "/v1/countries");
    }
}
