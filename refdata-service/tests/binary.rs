//! The `refdata` binary: serving on a free port, graceful shutdown, CLI errors.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_refdata");

#[test]
fn serves_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let mut child = Command::new(BINARY)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--database-url", &database])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("a log line before exit")
            .expect("readable log");
        let event: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("JSON log line: {line}"));
        if event["message"] == "listening" {
            break event["address"].as_str().expect("address field").to_owned();
        }
    };

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = runtime.block_on(async {
        loop {
            if let Ok(response) = reqwest::get(format!("http://{address}/readyz")).await {
                if response.status() == 200 {
                    break true;
                }
            }
            if Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert!(ready, "ready within 30 s");
    let germany: serde_json::Value = runtime.block_on(async {
        reqwest::get(format!("http://{address}/v1/countries/DE"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(germany["alpha3"], "DEU");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("process exits");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|line| line.contains("shutting down")),
        "{rest:?}"
    );
}

#[test]
fn import_with_missing_source_fails_with_the_path() {
    let out = tempfile::tempdir().unwrap();
    let missing = out.path().join("nowhere");
    let output = Command::new(BINARY)
        .arg("import")
        .args(["--iso-codes", missing.to_str().unwrap()])
        .args(["--iso-codes-version", "4.15.0"])
        .args(["--iso4217", "list-one.xml", "--ecb", "hist.zip"])
        .args(["--regions", "regions.csv", "--regions-version", "1"])
        .args(["--historic-currencies", "historic.csv"])
        .args(["--out", out.path().join("data").to_str().unwrap()])
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("iso_3166-1.json"), "{stderr}");
    assert!(!out.path().join("data").exists());
}

#[test]
fn bad_listen_address_is_a_usage_error() {
    let output = Command::new(BINARY)
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--listen"));
}

#[test]
fn check_tax_rates_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        "country,subdivision,type,rate,valid_from,valid_to,source\n\
         DE,,standard,19,2021-01-01,,UStG\nUS,US-CA,standard,7.25,2017-01-01,,CDTFA\n",
    )
    .unwrap();
    let output = Command::new(BINARY)
        .arg("check-tax-rates")
        .arg(&good)
        .output()
        .expect("binary runs");
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 valid tax rates"));

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "country,subdivision,type,rate,valid_from,valid_to,source\n\
         DE,,standard,19,2021-01-01,,UStG\nDE,DE-XX,standard,19,2021-01-01,,x\n",
    )
    .unwrap();
    let output = Command::new(BINARY)
        .arg("check-tax-rates")
        .arg(&bad)
        .output()
        .expect("binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("DE-XX"),
        "{stderr}"
    );
}

#[test]
fn hash_token_prints_the_line_a_tokens_file_takes_and_serve_reads_it() {
    use std::io::Write;
    let token = "a-long-random-token-0123456789";
    let mut child = Command::new(BINARY)
        .arg("hash-token")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{token}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let hash = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert_eq!(hash, refdata::auth::hash_token(token));

    let short = Command::new(BINARY)
        .arg("hash-token")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!short.status.success(), "an empty token is refused");

    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::write(&tokens, format!("# test\nmonitoring reader {hash}\n")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let database = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let mut server = Command::new(BINARY)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &database, "--tokens"])
        .arg(&tokens)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/metrics");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                let metrics = client.get(&url).bearer_auth(token).send().await.unwrap();
                let anonymous = client.get(&url).send().await.unwrap().status();
                let audit = client
                    .get(format!("http://127.0.0.1:{port}/v1/admin/audit"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status();
                let write = client
                    .post(format!("http://127.0.0.1:{port}/v1/admin/rollback"))
                    .bearer_auth(token)
                    .body("{}")
                    .send()
                    .await
                    .unwrap()
                    .status();
                break [
                    metrics.status().as_u16(),
                    anonymous.as_u16(),
                    audit.as_u16(),
                    write.as_u16(),
                ];
            }
            assert!(Instant::now() < deadline, "ready within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(statuses, [200, 401, 200, 403]);
}
