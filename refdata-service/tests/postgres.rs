//! Replicas on one PostgreSQL: a change made through one is served by the others within a
//! second (LISTEN/NOTIFY), with a new ETag; writers on different replicas race on If-Match
//! and exactly one wins. The server is a throwaway PostgreSQL started from the installed
//! binaries (see `common/postgres.rs`).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::{send, served_version, start_store, TOKEN};
use refdata::config::ServiceConfig;
use reqwest::Method;
use serde_json::json;

fn tax(country: &str, rate: &str, from: &str) -> String {
    json!({"country": country, "subdivision": null, "type": "standard", "rate": rate,
           "valid_from": from, "valid_to": null, "source": "gazette", "reason": "test"})
    .to_string()
}

/// Replicas whose periodic check is too slow to matter: only notifications can make the
/// one-second bound.
fn config() -> ServiceConfig {
    ServiceConfig {
        version_check: Duration::from_secs(60),
        ..common::config()
    }
}

async fn get(address: SocketAddr, path: &str) -> common::Response {
    send(
        Method::GET,
        &format!("http://{address}{path}"),
        None,
        None,
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_postgresql() {
    let Some(server) = tokio::task::spawn_blocking(Postgres::start).await.unwrap() else {
        return;
    };
    let url = server.new_database().await;
    let (a, _) = start_store(&url, config()).await;
    let (b, _) = start_store(&url, config()).await;
    let (c, _) = start_store(&url, config()).await;
    assert_eq!(served_version(a).await, 1, "seeded once");
    assert_eq!(served_version(b).await, 1);

    // A change through A is served by B and C within a second, with a new ETag.
    let path = "/v1/tax-rates?country=DE&date=2031-06-01&type=standard";
    let before_b = get(b, path).await;
    let before_c = get(c, path).await;
    assert_eq!(before_b.body[0]["rate"], "19");
    let created = send(
        Method::POST,
        &format!("http://{a}/v1/admin/tax-rates"),
        Some(TOKEN),
        Some("\"1\""),
        Some(tax("DE", "21", "2031-01-01")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let acknowledged = Instant::now();
    for (replica, before) in [(b, &before_b), (c, &before_c)] {
        loop {
            let now = get(replica, path).await;
            if now.body[0]["rate"] == "21" {
                assert_ne!(now.header("etag"), before.header("etag"));
                break;
            }
            assert!(
                acknowledged.elapsed() < Duration::from_secs(1),
                "{replica} serves the change within a second"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    eprintln!(
        "replicas serve the change {:?} after the write was acknowledged",
        acknowledged.elapsed()
    );
    assert_eq!(served_version(c).await, 2);
    let changes = get(b, "/v1/changes?since=1").await;
    assert_eq!(changes.body["items"][0]["action"], "tax-rates.create");

    // Two editors on two replicas with the same If-Match: exactly one wins.
    for round in 0..3u64 {
        let version = served_version(a).await;
        let if_match = format!("\"{version}\"");
        let (url_a, url_b) = (
            format!("http://{a}/v1/admin/tax-rates"),
            format!("http://{b}/v1/admin/tax-rates"),
        );
        let (first, second) = tokio::join!(
            send(
                Method::POST,
                &url_a,
                Some(TOKEN),
                Some(&if_match),
                Some(tax("FR", "21", &format!("{}-01-01", 2031 + round)))
            ),
            send(
                Method::POST,
                &url_b,
                Some(TOKEN),
                Some(&if_match),
                Some(tax("IT", "23", &format!("{}-01-01", 2031 + round)))
            ),
        );
        let mut statuses = [first.status, second.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 412], "{} / {}", first.body, second.body);
        // Both replicas serve the winner before the next round reads the version.
        let deadline = Instant::now() + Duration::from_secs(1);
        while served_version(a).await != version + 1 || served_version(b).await != version + 1 {
            assert!(Instant::now() < deadline, "replicas agree within a second");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let audit = send(
        Method::GET,
        &format!("http://{c}/v1/admin/audit"),
        Some(TOKEN),
        None,
        None,
    )
    .await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 5);

    // A replica started later catches up from the database.
    let (d, _) = start_store(&url, config()).await;
    assert_eq!(served_version(d).await, 5);
}

/// Reads are served from memory: with PostgreSQL down they go on, writes are refused with a
/// 503 and change nothing, and once it is back the replicas reconnect and follow changes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_go_on_while_postgresql_is_down() {
    let Some(server) = tokio::task::spawn_blocking(Postgres::start).await.unwrap() else {
        return;
    };
    let url = server.new_database().await;
    let (a, _) = start_store(&url, config()).await;
    let (b, _) = start_store(&url, config()).await;
    let path = "/v1/tax-rates?country=DE&date=2031-06-01&type=standard";
    assert_eq!(get(b, path).await.body[0]["rate"], "19");

    tokio::task::block_in_place(|| server.stop());
    for replica in [a, b] {
        let read = get(replica, "/v1/countries/DE").await;
        assert_eq!(read.status, 200, "a cached read");
        let read = get(replica, "/v1/exchange-rates?date=2024-01-02&symbols=USD").await;
        assert_eq!(
            read.status, 200,
            "a render from the snapshot: {}",
            read.body
        );
    }
    let refused = send(
        Method::POST,
        &format!("http://{a}/v1/admin/tax-rates"),
        Some(TOKEN),
        None,
        Some(tax("DE", "21", "2031-01-01")),
    )
    .await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(
        refused.body["type"],
        "urn:refdata:problem:storage-unavailable"
    );

    tokio::task::block_in_place(|| server.restart());
    let deadline = Instant::now() + Duration::from_secs(20);
    let written = loop {
        let attempt = send(
            Method::POST,
            &format!("http://{a}/v1/admin/tax-rates"),
            Some(TOKEN),
            None,
            Some(tax("DE", "21", "2031-01-01")),
        )
        .await;
        if attempt.status == 201 {
            break attempt;
        }
        assert!(
            Instant::now() < deadline,
            "writes work again: {}",
            attempt.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        written.body["version"], 2,
        "the refused write changed nothing"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(b, path).await.body[0]["rate"] != "21" {
        assert!(
            Instant::now() < deadline,
            "B follows changes again after reconnecting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
