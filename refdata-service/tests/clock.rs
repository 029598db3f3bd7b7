//! Time-dependent answers against the real service with an injected clock: "today" answers
//! change at midnight and on scheduled dates, `max-age` never reaches past a change, and the
//! age of the newest exchange rates is visible.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use refdata::clock::ManualClock;
use refdata::config::ServiceConfig;
use serde_json::Value;

/// Starts a service on a free port whose clock is `clock`.
async fn start(clock: &ManualClock, max_rates_age: Option<Duration>) -> SocketAddr {
    let config = ServiceConfig {
        clock: Arc::new(clock.clone()),
        max_rates_age,
        ..ServiceConfig::default()
    };
    common::start_with(config).await
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// `(max-age, stale-while-revalidate)` in seconds.
    fn freshness(&self) -> (u64, u64) {
        let value = self.header("cache-control");
        let directive = |name: &str| {
            value
                .split(',')
                .filter_map(|part| part.trim().strip_prefix(name))
                .filter_map(|rest| rest.strip_prefix('='))
                .find_map(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (directive("max-age"), directive("stale-while-revalidate"))
    }
}

async fn get(address: SocketAddr, path: &str) -> Answer {
    let response = reqwest::get(format!("http://{address}{path}"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

fn clock(at: &str) -> ManualClock {
    ManualClock::at(at).unwrap()
}

fn at(text: &str) -> std::time::SystemTime {
    use refdata::clock::Clock;
    clock(text).now()
}

fn standard_rate(rates: &Value) -> &str {
    rates
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "standard" && r["subdivision"].is_null())
        .and_then(|r| r["rate"].as_str())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_today_answer_changes_at_midnight_and_max_age_never_crosses_it() {
    let clock = clock("2020-06-30T23:00:00Z");
    let address = start(&clock, None).await;

    let before = get(address, "/v1/tax-rates/DE").await;
    assert_eq!(before.status, 200);
    assert_eq!(before.body["date"], "2020-06-30");
    assert_eq!(standard_rate(&before.body["current"]), "19");
    let (max_age, swr) = before.freshness();
    assert!(max_age + swr <= 3600, "{}", before.header("cache-control"));
    assert!(max_age > 0);

    // Cached: the same answer, with less time left.
    clock.advance(Duration::from_secs(3000));
    let cached = get(address, "/v1/tax-rates/DE").await;
    assert_eq!(cached.header("etag"), before.header("etag"));
    let (max_age, swr) = cached.freshness();
    assert!(max_age + swr <= 600, "{}", cached.header("cache-control"));

    clock.set(at("2020-07-01T00:00:00Z"));
    let after = get(address, "/v1/tax-rates/DE").await;
    assert_eq!(after.body["date"], "2020-07-01");
    assert_eq!(standard_rate(&after.body["current"]), "16");
    assert_ne!(after.header("etag"), before.header("etag"));
    let (max_age, swr) = after.freshness();
    assert!(max_age + swr <= 86400, "{}", after.header("cache-control"));
    assert!(max_age > 3600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_rate_becomes_current_on_its_valid_from() {
    let clock = clock("2020-06-30T12:00:00Z");
    let address = start(&clock, None).await;
    let path = "/v1/tax-rates?country=DE&type=standard";

    let before = get(address, path).await;
    assert_eq!(standard_rate(&before.body), "19");
    // The 16 % rate starts at the next midnight: 12 hours away.
    let (max_age, swr) = before.freshness();
    assert!(
        max_age + swr <= 12 * 3600,
        "{}",
        before.header("cache-control")
    );

    clock.set(at("2020-07-01T00:00:00Z"));
    let during = get(address, path).await;
    assert_eq!(standard_rate(&during.body), "16");
    // Nothing changes before 2021: the usual day plus a week.
    assert_eq!(during.freshness(), (86400, 7 * 86400));

    clock.set(at("2020-12-31T23:59:00Z"));
    let last_minute = get(address, path).await;
    assert_eq!(standard_rate(&last_minute.body), "16");
    let (max_age, swr) = last_minute.freshness();
    assert!(
        max_age + swr <= 60,
        "{}",
        last_minute.header("cache-control")
    );

    clock.set(at("2021-01-01T00:00:00Z"));
    assert_eq!(standard_rate(&get(address, path).await.body), "19");

    // A date in the query does not depend on the clock.
    let dated = get(
        address,
        "/v1/tax-rates?country=DE&type=standard&date=2020-08-01",
    )
    .await;
    assert_eq!(standard_rate(&dated.body), "16");
    assert_eq!(dated.freshness(), (86400, 7 * 86400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_rates_are_kept_until_the_next_expected_publication_and_show_their_age() {
    // The snapshot's last publication is Friday 2026-10-30; the next is expected on Monday.
    let clock = clock("2026-11-02T13:30:00Z");
    let address = start(&clock, Some(Duration::from_secs(4 * 86400))).await;

    let latest = get(address, "/v1/exchange-rates?symbols=USD").await;
    assert_eq!(latest.body["date"], "2026-10-30");
    assert_eq!(latest.header("refdata-latest-rates-date"), "2026-10-30");
    let (max_age, swr) = latest.freshness();
    assert!(max_age + swr <= 1800, "{}", latest.header("cache-control"));
    let convert = get(address, "/v1/convert?from=USD&to=JPY&amount=1").await;
    let (max_age, swr) = convert.freshness();
    assert!(max_age + swr <= 1800, "{}", convert.header("cache-control"));

    // Historic rates are immutable but still say how old the newest rates are.
    let historic = get(address, "/v1/exchange-rates/2024-01-02?symbols=USD").await;
    assert!(historic.header("cache-control").contains("immutable"));
    assert_eq!(historic.header("refdata-latest-rates-date"), "2026-10-30");

    let datasets = get(address, "/v1/datasets").await;
    let freshness = &datasets.body["exchange_rates"];
    assert_eq!(freshness["latest_publication"], "2026-10-30");
    assert_eq!(freshness["age_days"], 3);
    assert_eq!(freshness["overdue"], false);
    assert_eq!(
        freshness["next_expected_publication"],
        "2026-11-02T14:00:00Z"
    );
    assert_eq!(get(address, "/readyz").await.status, 200);

    // The publication is overdue: answers are kept for minutes only.
    clock.set(at("2026-11-02T15:00:00Z"));
    let overdue = get(address, "/v1/exchange-rates?symbols=USD").await;
    let (max_age, swr) = overdue.freshness();
    assert!(max_age + swr <= 300, "{}", overdue.header("cache-control"));
    assert_eq!(
        get(address, "/v1/datasets").await.body["exchange_rates"]["overdue"],
        true
    );

    let metrics = common::get_authorized(&format!("http://{address}/metrics")).await;
    assert!(
        metrics.contains(&format!(
            "refdata_exchange_rates_age_seconds {}",
            3 * 86400 + 15 * 3600
        )),
        "{metrics}"
    );
    assert!(metrics.contains("refdata_exchange_rates_latest_publication_timestamp_seconds 1793"));

    // Past the configured four days, readiness fails so an alert fires.
    clock.set(at("2026-11-03T00:00:01Z"));
    let stale = get(address, "/readyz").await;
    assert_eq!(stale.status, 503);
    assert_eq!(stale.body["type"], "urn:refdata:problem:rates-stale");
}
