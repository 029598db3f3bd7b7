//! HTTP caching of the real service on a free port: validators, Cache-Control per dataset,
//! content negotiation, uncached errors, HEAD and the `/metrics` figures.

mod common;

use std::io::Read;

use reqwest::header::{self, HeaderMap};
use reqwest::Method;

struct Raw {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// Sends `method path` with `headers` and returns the bytes as they came over the wire
/// (this reqwest build has no decompression, so encoded bodies stay encoded).
async fn send(method: Method, path: &str, headers: &[(&str, &str)]) -> Raw {
    let url = format!("http://{}{path}", common::server());
    let mut request = reqwest::Client::new().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request succeeds");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    Raw {
        status,
        headers,
        body,
    }
}

async fn get(path: &str, headers: &[(&str, &str)]) -> Raw {
    send(Method::GET, path, headers).await
}

fn max_age(cache_control: &str) -> u64 {
    directive(cache_control, "max-age").unwrap_or_else(|| panic!("no max-age: {cache_control}"))
}

fn directive(cache_control: &str, name: &str) -> Option<u64> {
    cache_control.split(',').find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key == name).then(|| value.parse().ok())?
    })
}

/// The value of an unlabelled or exactly labelled sample in the Prometheus text.
fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0, |value| value.trim().parse::<f64>().unwrap_or(0.0) as u64)
}

async fn metrics_text() -> String {
    assert_eq!(get("/metrics", &[]).await.status, 401);
    let authorization = format!("Bearer {}", common::TOKEN);
    let response = get("/metrics", &[("authorization", authorization.as_str())]).await;
    assert_eq!(response.status, 200);
    String::from_utf8(response.body).expect("metrics are UTF-8")
}

#[tokio::test]
async fn country_has_a_strong_etag_and_reference_data_caching() {
    let first = get("/v1/countries/DE", &[]).await;
    assert_eq!(first.status, 200);
    let etag = first.header(header::ETAG);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "strong ETag, not W/: {etag}"
    );
    let cache_control = first.header(header::CACHE_CONTROL);
    assert!(cache_control.contains("public"), "{cache_control}");
    assert!(max_age(cache_control) >= 86_400, "{cache_control}");
    assert!(
        directive(cache_control, "stale-while-revalidate").is_some_and(|s| s > 0),
        "{cache_control}"
    );
    assert!(!cache_control.contains("immutable"), "{cache_control}");
    let last_modified = first.header(header::LAST_MODIFIED);
    assert!(
        httpdate::parse_http_date(last_modified).is_ok(),
        "Last-Modified is an HTTP date: {last_modified:?}"
    );
    assert_eq!(first.header(header::VARY), "accept-encoding");
    assert_eq!(first.header(header::CONTENT_TYPE), "application/json");
    let germany: serde_json::Value = serde_json::from_slice(&first.body).expect("JSON");
    assert_eq!(germany["alpha3"], "DEU");

    // The same representation, rendered or from memory, keeps its validator.
    let second = get("/v1/countries/DE", &[]).await;
    assert_eq!(second.header(header::ETAG), etag);
    assert_eq!(second.body, first.body);
    // Other representations have other validators.
    let france = get("/v1/countries/FR", &[]).await;
    assert_ne!(france.header(header::ETAG), etag);
}

#[tokio::test]
async fn if_none_match_round_trip_answers_304_without_a_body() {
    let fresh = get("/v1/countries/DE", &[]).await;
    let etag = fresh.header(header::ETAG).to_owned();

    let revalidated = get("/v1/countries/DE", &[("if-none-match", &etag)]).await;
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty(), "304 has no body");
    for name in [header::ETAG, header::CACHE_CONTROL, header::VARY] {
        assert_eq!(
            revalidated.header(name.clone()),
            fresh.header(name.clone()),
            "{name} of the 304"
        );
    }
    assert!(revalidated.headers.get(header::CONTENT_TYPE).is_none());

    // Any of a list, and `*`, match; a stale validator gets the full body.
    let listed = get(
        "/v1/countries/DE",
        &[("if-none-match", &format!("\"stale\", {etag}"))],
    )
    .await;
    assert_eq!(listed.status, 304);
    let star = get("/v1/countries/DE", &[("if-none-match", "*")]).await;
    assert_eq!(star.status, 304);
    let stale = get("/v1/countries/DE", &[("if-none-match", "\"stale\"")]).await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, fresh.body);

    // If-Modified-Since with the representation's own Last-Modified is answered 304 as well.
    let since = get(
        "/v1/countries/DE",
        &[("if-modified-since", fresh.header(header::LAST_MODIFIED))],
    )
    .await;
    assert_eq!(since.status, 304);
}

#[tokio::test]
async fn cache_control_follows_the_dataset() {
    let reference = get("/v1/currencies/EUR", &[]).await;
    let reference_cc = reference.header(header::CACHE_CONTROL).to_owned();
    assert!(max_age(&reference_cc) >= 86_400, "{reference_cc}");

    // A date with a later publication never changes.
    let historic = get("/v1/exchange-rates/2024-01-02", &[]).await;
    assert_eq!(historic.status, 200);
    let historic_cc = historic.header(header::CACHE_CONTROL);
    assert!(historic_cc.contains("immutable"), "{historic_cc}");
    assert!(max_age(historic_cc) >= 30 * 86_400, "{historic_cc}");
    let historic_convert = get("/v1/convert?from=USD&to=JPY&amount=10&date=2024-01-02", &[]).await;
    assert!(historic_convert
        .header(header::CACHE_CONTROL)
        .contains("immutable"));

    // The latest rates change with the next publication: short-lived, never immutable.
    for path in [
        "/v1/exchange-rates",
        "/v1/exchange-rates/latest",
        "/v1/convert?from=EUR&to=USD&amount=1",
    ] {
        let latest = get(path, &[]).await;
        assert_eq!(latest.status, 200, "{path}");
        let latest_cc = latest.header(header::CACHE_CONTROL);
        assert!(!latest_cc.contains("immutable"), "{path}: {latest_cc}");
        assert!(
            max_age(latest_cc) < max_age(&reference_cc),
            "{path}: {latest_cc} vs {reference_cc}"
        );
        assert!(max_age(latest_cc) <= 3600, "{path}: {latest_cc}");
        assert!(!latest.header(header::ETAG).is_empty(), "{path}");
        assert!(!latest.header(header::LAST_MODIFIED).is_empty(), "{path}");
    }

    let tax = get("/v1/tax-rates?country=DE&date=2021-01-01", &[]).await;
    assert_eq!(tax.status, 200);
    assert!(max_age(tax.header(header::CACHE_CONTROL)) > 0);
    assert!(!tax.header(header::LAST_MODIFIED).is_empty());
}

#[tokio::test]
async fn gzip_and_brotli_are_negotiated_with_their_own_etags() {
    // The full list is large enough to be stored compressed.
    let path = "/v1/countries?limit=1000";
    let identity = get(path, &[("accept-encoding", "identity")]).await;
    assert_eq!(identity.status, 200);
    assert!(identity.headers.get(header::CONTENT_ENCODING).is_none());
    let gzip = get(path, &[("accept-encoding", "gzip")]).await;
    let br = get(path, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(gzip.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    for encoded in [&gzip, &br] {
        assert_eq!(encoded.header(header::VARY), "accept-encoding");
        assert_eq!(
            encoded.header(header::CONTENT_LENGTH),
            encoded.body.len().to_string()
        );
        assert!(encoded.body.len() < identity.body.len() / 3);
    }

    let mut ungzipped = Vec::new();
    flate2::read::GzDecoder::new(&gzip.body[..])
        .read_to_end(&mut ungzipped)
        .expect("valid gzip");
    assert_eq!(ungzipped, identity.body);
    let mut unbrotlied = Vec::new();
    brotli::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut unbrotlied)
        .expect("valid brotli");
    assert_eq!(unbrotlied, identity.body);

    let tags = [
        identity.header(header::ETAG),
        gzip.header(header::ETAG),
        br.header(header::ETAG),
    ];
    assert!(tags.iter().all(|tag| tag.starts_with('"')), "{tags:?}");
    assert!(
        tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
        "{tags:?}"
    );

    // Each encoding revalidates with its own tag. The codings are one representation, so a
    // tag of another coding also validates; the 304 then names the coding selected now.
    let gzip_304 = get(
        path,
        &[("accept-encoding", "gzip"), ("if-none-match", tags[1])],
    )
    .await;
    assert_eq!(gzip_304.status, 304);
    assert_eq!(gzip_304.header(header::ETAG), tags[1]);
    let identity_with_gzip_tag = get(
        path,
        &[("accept-encoding", "identity"), ("if-none-match", tags[1])],
    )
    .await;
    assert_eq!(identity_with_gzip_tag.status, 304);
    assert_eq!(identity_with_gzip_tag.header(header::ETAG), tags[0]);
}

#[tokio::test]
async fn problems_are_not_cached_and_carry_no_validators() {
    let uncacheable_before = sample(
        &metrics_text().await,
        "refdata_response_cache_uncacheable_total",
    );
    for (path, status) in [
        ("/v1/countries/XX", 404),
        ("/v1/convert?from=EUR&to=USD", 400),
        ("/v1/exchange-rates/1900-01-01", 422),
        ("/v1/no-such-route", 404),
    ] {
        for _ in 0..2 {
            let response = get(path, &[("accept-encoding", "gzip, br")]).await;
            assert_eq!(response.status, status, "{path}");
            assert_eq!(
                response.header(header::CONTENT_TYPE),
                "application/problem+json",
                "{path}"
            );
            assert!(response.headers.get(header::ETAG).is_none(), "{path}");
            assert!(
                response.headers.get(header::LAST_MODIFIED).is_none(),
                "{path}"
            );
            let cache_control = response.header(header::CACHE_CONTROL);
            assert!(
                cache_control.is_empty() || cache_control.contains("no-store"),
                "{path}: {cache_control}"
            );
            assert!(response.headers.get(header::CONTENT_ENCODING).is_none());
            let problem: serde_json::Value =
                serde_json::from_slice(&response.body).expect("problem JSON");
            assert_eq!(problem["status"], status, "{path}");
        }
    }
    // Every one of the eight GETs went to the handlers; none was stored.
    let uncacheable_after = sample(
        &metrics_text().await,
        "refdata_response_cache_uncacheable_total",
    );
    assert!(
        uncacheable_after >= uncacheable_before + 8,
        "{uncacheable_before} -> {uncacheable_after}"
    );
    // A validator does not turn an error into a 304.
    let conditional = get("/v1/countries/XX", &[("if-none-match", "*")]).await;
    assert_eq!(conditional.status, 404);
}

#[tokio::test]
async fn head_matches_get_without_a_body() {
    let full = get("/v1/currencies/JPY", &[]).await;
    let head = send(Method::HEAD, "/v1/currencies/JPY", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    for name in [
        header::ETAG,
        header::CACHE_CONTROL,
        header::LAST_MODIFIED,
        header::CONTENT_TYPE,
        header::VARY,
    ] {
        assert_eq!(
            head.header(name.clone()),
            full.header(name.clone()),
            "{name}"
        );
    }
    assert_eq!(
        head.header(header::CONTENT_LENGTH),
        full.body.len().to_string()
    );
    let conditional = send(
        Method::HEAD,
        "/v1/currencies/JPY",
        &[("if-none-match", full.header(header::ETAG))],
    )
    .await;
    assert_eq!(conditional.status, 304);
    let missing = send(Method::HEAD, "/v1/currencies/ZZZ", &[]).await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_cache_hits() {
    // A path no other test requests, so its first GET is a miss.
    let path = "/v1/countries/NO/subdivisions";
    let series = r#"refdata_http_requests_total{route="/v1/countries/{code}/subdivisions",method="GET",status="2xx"}"#;
    let before = metrics_text().await;
    let (hits, misses, requests) = (
        sample(&before, "refdata_response_cache_hits_total"),
        sample(&before, "refdata_response_cache_misses_total"),
        sample(&before, series),
    );
    for _ in 0..5 {
        assert_eq!(get(path, &[]).await.status, 200);
    }
    let after = metrics_text().await;
    assert_eq!(sample(&after, series) - requests, 5, "{after}");
    // Other tests run concurrently on the same server, so the cache totals grow by at least
    // this test's share: one render and four hits.
    assert!(
        sample(&after, "refdata_response_cache_misses_total") > misses,
        "{after}"
    );
    assert!(
        sample(&after, "refdata_response_cache_hits_total") >= hits + 4,
        "{after}"
    );
    assert!(after.contains(
        r#"refdata_http_request_duration_seconds_count{route="/v1/countries/{code}/subdivisions"}"#
    ));
    assert!(
        sample(&after, "refdata_response_cache_entries") > 0,
        "{after}"
    );
    assert!(sample(&after, "process_resident_memory_bytes") > 0);

    // Requests matching no route share one label.
    get("/v1/nothing-here/1", &[]).await;
    get("/v1/nothing-here/2", &[]).await;
    let text = metrics_text().await;
    assert!(
        sample(
            &text,
            r#"refdata_http_requests_total{route="unmatched",method="GET",status="4xx"}"#
        ) >= 2,
        "{text}"
    );
    assert!(!text.contains("nothing-here"));
}
