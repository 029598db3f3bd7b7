//! refdata-client against the real service on a free port: typed calls decode the real JSON,
//! fresh copies make no request, revalidations are answered 304, and cached copies stand in
//! while the service is down, up to the client's `max_stale`.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use refdata::app::AppState;
use refdata::server;
use refdata::store::EmbeddedSource;
use refdata_client::{CountryFilter, Error, RefdataClient};
use rust_decimal::Decimal;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const TOKEN: &str = "client-test-token-0123456789";

/// One real server per test, so its metrics and its lifetime belong to that test.
struct Service {
    url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), server::ServeError>>>,
}

impl Service {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(
            listener,
            AppState::loading_with(refdata::config::ServiceConfig {
                tokens: Arc::new(refdata::auth::Tokens::admin(TOKEN)),
                ..Default::default()
            }),
            Arc::new(EmbeddedSource),
            async move {
                let _ = stopped.await;
            },
        ));
        let service = Self {
            url,
            stop: Some(stop),
            task: Some(task),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = reqwest::get(format!("{}readyz", service.url)).await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return service;
            }
            assert!(Instant::now() < deadline, "service not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Graceful shutdown: stops accepting, finishes open connections, returns.
    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("clean shutdown");
        }
    }

    async fn metrics(&self) -> String {
        reqwest::Client::new()
            .get(format!("{}metrics", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// `refdata_http_requests_total` of one route template, GET, status class.
    async fn requests(&self, route: &str, status_class: &str) -> u64 {
        let series = format!(
            "refdata_http_requests_total{{route=\"{route}\",method=\"GET\",status=\"{status_class}\"}} "
        );
        self.metrics()
            .await
            .lines()
            .find_map(|line| line.strip_prefix(&series)?.parse().ok())
            .unwrap_or(0)
    }
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal literal")
}

fn date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

#[tokio::test]
async fn typed_calls_decode_the_real_json() {
    let service = Service::start().await;
    let refdata = RefdataClient::builder(&service.url)
        .build()
        .expect("client");

    let germany = refdata.country("DE").await.expect("country");
    assert_eq!(
        (germany.alpha3.as_str(), germany.numeric.as_str()),
        ("DEU", "276")
    );
    assert_eq!(germany.currencies, ["EUR"]);
    assert_eq!(germany.region.as_deref(), Some("Europe"));
    assert_eq!(refdata.country("276").await.expect("numeric"), germany);

    let all = refdata
        .countries(&CountryFilter::default())
        .await
        .expect("countries");
    assert_eq!(all.len(), 249);
    let western = refdata
        .countries(&CountryFilter::default().subregion("Western Europe"))
        .await
        .expect("filtered");
    assert!(western.iter().any(|c| c.alpha2 == "DE"), "{western:?}");
    assert!(western
        .iter()
        .all(|c| c.subregion.as_deref() == Some("Western Europe")));
    let euro = refdata
        .countries(&CountryFilter::default().currency("EUR"))
        .await
        .expect("euro area");
    assert!(
        euro.len() >= 20
            && euro
                .iter()
                .all(|c| c.currencies.contains(&"EUR".to_owned()))
    );
    let named = refdata
        .countries(&CountryFilter::default().name("deutsch"))
        .await
        .expect("by name");
    assert!(named.is_empty(), "names are English: {named:?}");
    let named = refdata
        .countries(&CountryFilter::default().name("GERM"))
        .await
        .expect("by name");
    assert_eq!(named, std::slice::from_ref(&germany));

    let yen = refdata.currency("JPY").await.expect("currency");
    assert_eq!((yen.numeric.as_str(), yen.minor_units), ("392", Some(0)));
    assert_eq!(yen.countries, ["JP"]);
    let gold = refdata.currency("XAU").await.expect("gold");
    assert!(gold.metal && gold.minor_units.is_none());
    let currencies = refdata.currencies().await.expect("currencies");
    assert!(currencies.iter().any(|c| c.code == "EUR" && !c.historic));
    assert!(currencies.iter().any(|c| c.code == "CYP" && c.historic));

    let rates = refdata
        .exchange_rates("EUR", date(2024, 1, 2), &["USD", "JPY"])
        .await
        .expect("rates");
    assert_eq!(rates.date, date(2024, 1, 2).expect("date"));
    assert_eq!(rates.rates.len(), 2);
    assert_eq!(rates.rates["USD"], decimal("1.0956"));
    assert_eq!(rates.rates["JPY"], decimal("155.68"));
    let saturday = refdata
        .exchange_rates("USD", date(2024, 1, 6), &[])
        .await
        .expect("weekend rates");
    assert_eq!(saturday.date, date(2024, 1, 5).expect("date"));
    assert_eq!(saturday.base, "USD");
    assert!(saturday.rates.len() > 20);
    let latest = refdata
        .exchange_rates("EUR", None, &["USD"])
        .await
        .expect("latest");
    assert!(latest.date >= rates.date);

    let conversion = refdata
        .convert("USD", "JPY", decimal("12.34"), date(2024, 1, 2))
        .await
        .expect("conversion");
    assert_eq!(conversion.rate, decimal("142.096"));
    assert_eq!(conversion.result, decimal("1753"));
    assert_eq!(conversion.amount, decimal("12.34"));

    let vat = refdata
        .tax_rates("DE", date(2020, 8, 1), Some("standard"))
        .await
        .expect("tax rates");
    assert_eq!(vat.len(), 1);
    assert_eq!(vat[0].rate, decimal("16"));
    assert_eq!(vat[0].rate_type, "standard");
    assert_eq!(vat[0].valid_to, date(2020, 12, 31));
    assert!(vat[0].source.as_deref().is_some_and(|s| !s.is_empty()));
    let all_types = refdata
        .tax_rates("DE", date(2021, 1, 1), None)
        .await
        .expect("every type");
    assert!(all_types
        .iter()
        .any(|r| r.rate_type == "reduced" && r.rate == decimal("7")));

    let datasets = refdata.datasets().await.expect("datasets");
    for name in ["countries", "currencies", "exchange_rates", "tax_rates"] {
        let dataset = datasets
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} in {datasets:?}"));
        assert!(!dataset.version.is_empty());
        assert!(dataset
            .content_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("sha256:")));
        assert!(dataset.records.is_some_and(|n| n > 0));
        assert!(dataset.details.contains_key("licence"), "{dataset:?}");
    }
}

#[tokio::test]
async fn service_problems_become_typed_errors() {
    let service = Service::start().await;
    let refdata = RefdataClient::builder(&service.url)
        .retries(0)
        .build()
        .expect("client");
    let missing = refdata.country("XX").await.expect_err("no such country");
    assert!(missing.is_not_found(), "{missing}");
    assert!(
        missing.detail().is_some_and(|d| d.contains("XX")),
        "{missing}"
    );
    let bad = refdata
        .convert("EUR", "ABC", decimal("1"), None)
        .await
        .expect_err("unknown currency");
    assert_eq!(bad.status(), Some(422), "{bad}");
    let unknown_type = refdata
        .tax_rates("DE", None, Some("vat"))
        .await
        .expect_err("unknown type");
    assert_eq!(unknown_type.status(), Some(400), "{unknown_type}");
    // Problems are answers, not outages: no retries, nothing cached.
    assert_eq!(refdata.stats().retries, 0);
    let again = refdata.country("XX").await.expect_err("still missing");
    assert!(again.is_not_found());
    assert_eq!(refdata.stats().requests, 4);
}

#[tokio::test]
async fn fresh_copies_make_no_request() {
    let service = Service::start().await;
    let refdata = RefdataClient::builder(&service.url)
        .build()
        .expect("client");
    for _ in 0..5 {
        refdata.country("DE").await.expect("country");
        refdata
            .convert("EUR", "USD", decimal("10"), date(2024, 1, 2))
            .await
            .expect("conversion");
    }
    let stats = refdata.stats();
    assert_eq!(stats.requests, 2, "{stats:?}");
    assert_eq!(stats.fresh_hits, 8, "{stats:?}");
    assert_eq!(service.requests("/v1/countries/{code}", "2xx").await, 1);
    assert_eq!(service.requests("/v1/convert", "2xx").await, 1);
    // Clones share the cache.
    refdata.clone().country("DE").await.expect("country");
    assert_eq!(refdata.stats().requests, 2);
}

#[tokio::test]
async fn expired_copies_are_revalidated_with_304s() {
    let service = Service::start().await;
    // Never trust a copy without asking: every call revalidates.
    let refdata = RefdataClient::builder(&service.url)
        .max_freshness(Duration::ZERO)
        .build()
        .expect("client");
    let first = refdata.currency("EUR").await.expect("currency");
    for _ in 0..3 {
        assert_eq!(refdata.currency("EUR").await.expect("revalidated"), first);
    }
    let stats = refdata.stats();
    assert_eq!((stats.requests, stats.revalidated), (4, 3), "{stats:?}");
    assert_eq!(service.requests("/v1/currencies/{code}", "2xx").await, 1);
    assert_eq!(service.requests("/v1/currencies/{code}", "3xx").await, 3);
}

#[tokio::test]
async fn cached_copies_stand_in_while_the_service_is_down_up_to_max_stale() {
    let mut service = Service::start().await;
    let fresh_for = Duration::from_millis(200);
    let max_stale = Duration::from_millis(1500);
    let refdata = RefdataClient::builder(&service.url)
        .max_freshness(fresh_for)
        .max_stale(max_stale)
        .retries(0)
        .connect_timeout(Duration::from_millis(200))
        .timeout(Duration::from_millis(500))
        .build()
        .expect("client");

    let latest = refdata
        .exchange_rates("EUR", None, &["USD", "GBP"])
        .await
        .expect("latest rates");
    let germany = refdata.country("DE").await.expect("country");
    // Timed from the later fetch: both copies are at least this stale at each step below.
    let fetched_at = Instant::now();
    service.stop().await;
    assert!(
        reqwest::get(&service.url).await.is_err(),
        "the service is down"
    );

    // Past freshness and the stale-while-revalidate window (both capped at `fresh_for`):
    // only stale-if-error can answer.
    tokio::time::sleep(
        (fresh_for * 2 + Duration::from_millis(100)).saturating_sub(fetched_at.elapsed()),
    )
    .await;
    let stale = refdata
        .exchange_rates("EUR", None, &["USD", "GBP"])
        .await
        .expect("stale copy while down");
    assert_eq!(stale, latest);
    assert_eq!(refdata.country("DE").await.expect("stale country"), germany);
    let stats = refdata.stats();
    assert_eq!(stats.stale_served, 2, "{stats:?}");

    // Once the copies are older than `max_stale` past their freshness, the outage shows.
    let too_old = fresh_for + max_stale + Duration::from_millis(200);
    tokio::time::sleep(too_old.saturating_sub(fetched_at.elapsed())).await;
    let error = refdata
        .exchange_rates("EUR", None, &["USD", "GBP"])
        .await
        .expect_err("too stale to serve");
    assert!(
        matches!(error, Error::Transport { .. } | Error::Timeout { .. }),
        "{error:?}"
    );
    assert_eq!(refdata.stats().stale_served, 2);
}
