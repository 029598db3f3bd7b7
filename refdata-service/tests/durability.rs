//! `kill -9` of the `refdata` binary during a stream of admin writes, then a restart on the
//! same store: every acknowledged write is there, versions have no gaps, and every version
//! reads back complete. Once on SQLite (the default store) and once on PostgreSQL. Also
//! `refdata import --into` beside a running service, which the periodic version check picks
//! up.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::postgres::Postgres;
use common::{send, TOKEN};
use reqwest::Method;
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_refdata");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

struct Service {
    child: Child,
    base: String,
}

impl Service {
    async fn start(database_url: &str) -> Self {
        let port = free_port();
        let child = Command::new(BINARY)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .env("REFDATA_ADMIN_TOKEN", TOKEN)
            .env("RUST_LOG", "warn")
            .env("REFDATA_VERSION_CHECK", "1s")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts");
        // Owned before waiting, so a failed start is still killed and reaped.
        let service = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("{}/readyz", service.base)).await {
                if response.status() == 200 {
                    return service;
                }
            }
            assert!(Instant::now() < deadline, "ready within 30 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn kill_9(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes until the service dies; returns (version, write number) of every acknowledged one.
async fn write_until_killed(mut service: Service, kill_after: usize) -> Vec<(u64, u64)> {
    let base = service.base.clone();
    let writer = tokio::spawn(async move {
        let mut acknowledged = Vec::new();
        let client = reqwest::Client::new();
        for n in 0u64.. {
            let body = json!({"code": "ZZB", "numeric": "990", "name": format!("Durability {n}"),
                              "minor_units": 2, "reason": format!("write {n}")});
            let response = client
                .post(format!("{base}/v1/admin/currencies"))
                .bearer_auth(TOKEN)
                .body(body.to_string())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let Ok(response) = response else { break };
            assert!(response.status().is_success(), "{}", response.status());
            let Ok(answer) = response.json::<serde_json::Value>().await else {
                break;
            };
            acknowledged.push((answer["version"].as_u64().unwrap(), n));
        }
        acknowledged
    });
    // Let some writes through, then kill while the next is in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let audit = send(
            Method::GET,
            &format!("{}/v1/admin/audit", service.base),
            Some(TOKEN),
            None,
            None,
        )
        .await;
        let count = audit.body["items"].as_array().map_or(0, Vec::len);
        if count > kill_after {
            break;
        }
        assert!(Instant::now() < deadline, "writes go through");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    service.kill_9();
    writer.await.unwrap()
}

async fn check_after_restart(database_url: &str, acknowledged: &[(u64, u64)]) {
    assert!(acknowledged.len() >= 3, "{acknowledged:?}");
    let service = Service::start(database_url).await;
    let base = &service.base;
    let audit = send(
        Method::GET,
        &format!("{base}/v1/admin/audit?limit=1000"),
        Some(TOKEN),
        None,
        None,
    )
    .await;
    let items = audit.body["items"].as_array().unwrap();
    let versions: Vec<u64> = items
        .iter()
        .map(|i| i["version"].as_u64().unwrap())
        .collect();
    let head = *versions.last().unwrap();
    assert_eq!(versions, (1..=head).collect::<Vec<_>>(), "no gaps");
    for (version, n) in acknowledged {
        let item = &items[usize::try_from(*version).unwrap() - 1];
        assert_eq!(
            item["reason"],
            format!("write {n}"),
            "acknowledged write {n} is version {version}"
        );
    }
    for version in 1..=head {
        let old = send(
            Method::GET,
            &format!("{base}/v1/datasets/currencies?version={version}"),
            None,
            None,
            None,
        )
        .await;
        assert_eq!(old.status, 200, "version {version} reads back");
    }
    let current = send(
        Method::GET,
        &format!("{base}/v1/currencies/ZZB"),
        None,
        None,
        None,
    )
    .await;
    let name = current.body["name"].as_str().unwrap();
    let last = acknowledged.last().unwrap().1;
    let served: u64 = name.trim_start_matches("Durability ").parse().unwrap();
    assert!(
        served >= last,
        "serves write {served}, the last acknowledged is {last}"
    );
    assert_eq!(
        common::served_version(base.trim_start_matches("http://").parse().unwrap()).await,
        head
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let service = Service::start(&url).await;
    let acknowledged = write_until_killed(service, 8).await;
    check_after_restart(&url, &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgresql() {
    let Some(server) = tokio::task::spawn_blocking(Postgres::start).await.unwrap() else {
        return;
    };
    let url = server.new_database().await;
    let service = Service::start(&url).await;
    let acknowledged = write_until_killed(service, 8).await;
    check_after_restart(&url, &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_into_a_running_sqlite_store_is_served_after_the_version_check() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let service = Service::start(&url).await;
    let file = dir.path().join("eurofxref-daily.xml");
    std::fs::write(
        &file,
        r#"<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<Cube><Cube time="2026-11-02"><Cube currency="USD" rate="1.1622"/></Cube></Cube></gesmes:Envelope>"#,
    )
    .unwrap();
    let output = Command::new(BINARY)
        .args(["import", "--into", &url, "--ecb"])
        .arg(&file)
        .args(["--reason", "daily rates", "--if-match", "1"])
        .output()
        .expect("binary runs");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("as version 2"));
    let stale = Command::new(BINARY)
        .args(["import", "--into", &url, "--ecb"])
        .arg(&file)
        .args(["--if-match", "1"])
        .output()
        .expect("binary runs");
    assert!(!stale.status.success(), "a stale --if-match is refused");
    let written = Instant::now();
    let path = format!(
        "{}/v1/exchange-rates?date=2026-11-02&symbols=USD",
        service.base
    );
    loop {
        let rates = send(Method::GET, &path, None, None, None).await;
        if rates.body["date"] == "2026-11-02" {
            assert_eq!(rates.body["rates"]["USD"], "1.1622");
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(5),
            "served after the check"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let audit = send(
        Method::GET,
        &format!("{}/v1/admin/audit?since=1", service.base),
        Some(TOKEN),
        None,
        None,
    )
    .await;
    assert_eq!(audit.body["items"][0]["action"], "exchange-rates.import");
    assert!(audit.body["items"][0]["author"]
        .as_str()
        .unwrap()
        .starts_with("cli:"));
}

/// The ECB's whole history, imported into a store seeded from the snapshot built from that same
/// file, changes nothing.
#[test]
fn importing_the_committed_ecb_history_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let history = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/upstream/ecb/eurofxref-hist.zip"
    );
    let output = Command::new(BINARY)
        .args(["import", "--into", &url, "--ecb", history])
        .output()
        .expect("binary runs");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("nothing changed") && stdout.contains("version 1"),
        "{stdout}"
    );
}
