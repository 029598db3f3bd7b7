//! refdata-client's cache, driven by the change stream of the real service: a change made
//! through the admin API is read by a subscribed client at once, while an unsubscribed one
//! keeps its cached copy until `max-age`.

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{send, start_store, TOKEN};
use refdata_client::RefdataClient;
use reqwest::Method;
use serde_json::json;

async fn standard(client: &RefdataClient, date: NaiveDate) -> String {
    let rates = client
        .tax_rates("DE", Some(date), Some("standard"))
        .await
        .expect("tax rates");
    rates
        .first()
        .map(|r| r.rate.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_change_stream_empties_the_client_cache_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let (address, _) = start_store(&url, common::config()).await;
    let base = format!("http://{address}/");
    let subscribed = RefdataClient::builder(&base).build().unwrap();
    let unsubscribed = RefdataClient::builder(&base).build().unwrap();
    let subscription = subscribed.subscribe_to_changes().expect("inside a runtime");
    let deadline = Instant::now() + Duration::from_secs(10);
    while subscription.version() != 1 {
        assert!(Instant::now() < deadline, "subscribed within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let day = NaiveDate::from_ymd_opt(2031, 6, 1).unwrap();
    assert_eq!(standard(&subscribed, day).await, "19");
    assert_eq!(standard(&unsubscribed, day).await, "19");
    let requests = subscribed.stats().requests;
    assert_eq!(standard(&subscribed, day).await, "19");
    assert_eq!(
        subscribed.stats().requests,
        requests,
        "a fresh copy is reused"
    );

    let created = send(
        Method::POST,
        &format!("{base}v1/admin/tax-rates"),
        Some(TOKEN),
        Some("\"1\""),
        Some(
            json!({"country": "DE", "subdivision": null, "type": "standard", "rate": "21",
                   "valid_from": "2031-01-01", "valid_to": null, "source": "gazette",
                   "reason": "announced"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let acknowledged = Instant::now();
    while standard(&subscribed, day).await != "21" {
        assert!(
            acknowledged.elapsed() < Duration::from_secs(1),
            "the subscribed client reads the change within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(subscription.version(), 2);
    assert!(subscription.invalidations() >= 2);
    assert_eq!(
        standard(&unsubscribed, day).await,
        "19",
        "without the stream the cached copy stands until max-age"
    );
    drop(subscription);
}

/// A server on `listener` over the store at `url`, stopped by `stop`; returns once it is ready.
async fn serve_until(
    listener: tokio::net::TcpListener,
    url: &str,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<()> {
    let state = refdata::app::AppState::loading_with(common::config());
    let ready = state.clone();
    let task = tokio::spawn({
        let url = url.to_owned();
        async move {
            let stopped = async move {
                let _ = stop.await;
            };
            refdata::server::serve_store(listener, state, url, stopped)
                .await
                .expect("serves");
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.is_ready() {
        assert!(Instant::now() < deadline, "ready within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task
}

#[tokio::test]
async fn a_client_reconnecting_after_a_restart_empties_its_cache_when_the_version_moved_on() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let first = serve_until(listener, &url, stopped).await;

    let base = format!("http://{address}/");
    let client = RefdataClient::builder(&base).build().unwrap();
    let subscription = client.subscribe_to_changes().expect("inside a runtime");
    let deadline = Instant::now() + Duration::from_secs(10);
    while subscription.version() != 1 {
        assert!(Instant::now() < deadline, "subscribed within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let day = NaiveDate::from_ymd_opt(2031, 6, 1).unwrap();
    assert_eq!(standard(&client, day).await, "19");

    // The service stops (ending the stream); while the client is cut off, another process
    // changes the store; the service comes back on the same address.
    stop.send(()).unwrap();
    first.await.unwrap();
    let (other, _) = start_store(&url, common::config()).await;
    let created = send(
        Method::POST,
        &format!("http://{other}/v1/admin/tax-rates"),
        Some(TOKEN),
        Some("\"1\""),
        Some(
            json!({"country": "DE", "subdivision": null, "type": "standard", "rate": "21",
                   "valid_from": "2031-01-01", "valid_to": null, "source": "gazette",
                   "reason": "announced"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let listener = refdata::server::bind(address, Duration::from_secs(5))
        .await
        .expect("the address again");
    let (_stop, stopped) = tokio::sync::oneshot::channel();
    let _second = serve_until(listener, &url, stopped).await;

    let back = Instant::now();
    while standard(&client, day).await != "21" {
        assert!(
            back.elapsed() < Duration::from_secs(10),
            "the reconnected client reads the change (backoff at most 5 s)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(subscription.version(), 2);
    assert!(subscription.invalidations() >= 2);
}
