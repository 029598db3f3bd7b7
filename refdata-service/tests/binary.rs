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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Waits until `port` answers `/readyz` with 200.
async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "ready within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn stop(mut child: std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert!(child.wait().expect("process exits").success());
}

/// The contract's configuration: with no `--database-url` the store is `refdata.db` in the
/// working directory, created in WAL mode; `REFDATA_ADMIN_TOKEN` grants the admin role to that
/// token; `REFDATA_DATABASE_URL` names the store.
#[test]
fn the_default_store_and_the_admin_token_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let token = "environment-admin-token-0123456789";
    let port = free_port();
    let server = Command::new(BINARY)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env_remove("REFDATA_DATABASE_URL")
        .env_remove("REFDATA_TOKENS")
        .env("REFDATA_ADMIN_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rate = serde_json::json!({"country": "DE", "subdivision": null, "type": "standard",
        "rate": "21", "valid_from": "2032-01-01", "valid_to": null, "source": "gazette",
        "reason": "announced"})
    .to_string();
    let url = format!("http://127.0.0.1:{port}/v1/admin/tax-rates");
    let (anonymous, wrong, written, author) = runtime.block_on(async {
        wait_ready(port).await;
        let client = reqwest::Client::new();
        let post = |token: Option<&str>| {
            let mut request = client.post(&url).body(rate.clone());
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let anonymous = post(None).await.unwrap().status().as_u16();
        let wrong = post(Some("environment-admin-token-012345678"))
            .await
            .unwrap()
            .status()
            .as_u16();
        let written = post(Some(token)).await.unwrap();
        let written = (
            written.status().as_u16(),
            written.json::<serde_json::Value>().await.unwrap(),
        );
        let audit: serde_json::Value = client
            .get(format!("http://127.0.0.1:{port}/v1/admin/audit?since=1"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            anonymous,
            wrong,
            written,
            audit["items"][0]["author"].clone(),
        )
    });
    stop(server);
    assert_eq!((anonymous, wrong), (401, 401));
    assert_eq!(written.0, 201, "{}", written.1);
    assert_eq!(written.1["version"], 2);
    assert_eq!(author, "admin-token");
    let database = dir.path().join("refdata.db");
    let header = std::fs::read(&database).expect("refdata.db in the working directory");
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!(header[18], 2, "WAL mode (file format version 2)");

    // The same store named by REFDATA_DATABASE_URL, from elsewhere, without a token.
    let port = free_port();
    let server = Command::new(BINARY)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(std::env::temp_dir())
        .env(
            "REFDATA_DATABASE_URL",
            format!("sqlite://{}", database.display()),
        )
        .env_remove("REFDATA_ADMIN_TOKEN")
        .env_remove("REFDATA_TOKENS")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let (version, rate, closed) = runtime.block_on(async {
        wait_ready(port).await;
        let get = |path: String| async move {
            reqwest::get(format!("http://127.0.0.1:{port}{path}"))
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        };
        let version = get("/v1/datasets".into()).await["version"].clone();
        let rate = get("/v1/tax-rates?country=DE&date=2032-06-01&type=standard".into()).await;
        let closed = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/admin/rollback"))
            .bearer_auth(token)
            .body("{}")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (version, rate[0]["rate"].clone(), closed)
    });
    stop(server);
    assert_eq!(version, 2);
    assert_eq!(rate, "21");
    assert_eq!(
        closed, 401,
        "without REFDATA_ADMIN_TOKEN the token is unknown"
    );
}

/// Logs written to a pipe or a file carry no ANSI colour codes (the text format colours only
/// a terminal), also when nothing in the environment says to leave colours out.
#[test]
fn text_logs_to_a_pipe_have_no_colours() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("refdata.db").display());
    let mut child = Command::new(BINARY)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
        ])
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("readable log");
        let listening = line.contains("listening");
        seen.push(line);
        if listening {
            break;
        }
    }
    stop(child);
    assert!(
        seen.iter()
            .any(|line| line.contains("listening") && line.contains("INFO")),
        "{seen:#?}"
    );
    assert!(
        seen.iter().all(|line| !line.contains('\u{1b}')),
        "escape codes in piped logs: {seen:#?}"
    );
}
