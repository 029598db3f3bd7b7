//! Starts the real server once per test binary on a free port.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod postgres;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use refdata::app::AppState;
use refdata::server;
use refdata::store::EmbeddedSource;
use serde_json::Value;

static SERVER: OnceLock<SocketAddr> = OnceLock::new();

/// The admin bearer token of the test servers (`/metrics` needs one).
pub const TOKEN: &str = "test-admin-token-0123456789";

/// The default configuration with [`TOKEN`].
pub fn config() -> refdata::config::ServiceConfig {
    refdata::config::ServiceConfig {
        tokens: Arc::new(refdata::auth::Tokens::admin(TOKEN)),
        ..Default::default()
    }
}

/// GETs `url` with [`TOKEN`] and returns the body text, asserting 200.
pub async fn get_authorized(url: &str) -> String {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request succeeds");
    assert_eq!(response.status(), 200, "{url}");
    response.text().await.expect("body")
}

/// Address of a server running `refdata serve` on the embedded snapshot, ready.
pub fn server() -> SocketAddr {
    *SERVER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind a free port");
                tx.send(listener.local_addr().expect("local address"))
                    .expect("report address");
                server::serve(
                    listener,
                    AppState::loading_with(config()),
                    Arc::new(EmbeddedSource),
                    std::future::pending(),
                )
                .await
                .expect("server runs");
            });
        });
        let address = rx.recv().expect("server address");
        wait_until_ready(address);
        address
    })
}

fn wait_until_ready(address: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            use std::io::{Read, Write};
            let _ =
                stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            let _ = stream.read_to_string(&mut response);
            if response.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server not ready within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// GETs `path_and_query` and parses the body as JSON.
pub async fn get(path_and_query: &str) -> Response {
    let url = format!("http://{}{path_and_query}", server());
    let response = reqwest::get(&url).await.expect("request succeeds");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Response {
        status,
        headers,
        body,
    }
}

/// GETs and asserts 200.
pub async fn get_ok(path_and_query: &str) -> Value {
    let response = get(path_and_query).await;
    assert_eq!(response.status, 200, "{path_and_query}: {}", response.body);
    response.body
}

/// GETs and asserts a problem+json with `status` and problem `slug`; returns the problem.
pub async fn get_problem(path_and_query: &str, status: u16, slug: &str) -> Value {
    let response = get(path_and_query).await;
    assert_eq!(
        response.status, status,
        "{path_and_query}: {}",
        response.body
    );
    assert_eq!(
        response.header("content-type"),
        "application/problem+json",
        "{path_and_query}"
    );
    let problem = response.body;
    assert_eq!(
        problem["type"],
        format!("urn:refdata:problem:{slug}"),
        "{problem}"
    );
    assert_eq!(problem["status"], status);
    assert_eq!(problem["instance"], path_and_query);
    assert!(problem["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    problem
}

/// Starts a server with `config` on a free port in the current runtime; returns once it is
/// ready.
pub async fn start_with(mut config: refdata::config::ServiceConfig) -> SocketAddr {
    if config.tokens.is_empty() {
        config.tokens = self::config().tokens;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::loading_with(config);
    let ready = state.clone();
    tokio::spawn(server::serve(
        listener,
        state,
        Arc::new(EmbeddedSource),
        std::future::pending(),
    ));
    for _ in 0..600 {
        if ready.is_ready() {
            return address;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("service not ready within 30 s");
}

/// Starts a server on the datasets stored at `database_url` with `config` (tokens default to
/// [`TOKEN`] as admin); returns once it serves the stored version, with its state.
pub async fn start_store(
    database_url: &str,
    mut config: refdata::config::ServiceConfig,
) -> (SocketAddr, AppState) {
    if config.tokens.is_empty() {
        config.tokens = self::config().tokens;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::loading_with(config);
    let ready = state.clone();
    tokio::spawn(server::serve_store(
        listener,
        state,
        database_url.to_owned(),
        std::future::pending(),
    ));
    for _ in 0..600 {
        if ready.is_ready() {
            return (address, ready);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("service not ready within 30 s");
}

/// A request with [`TOKEN`]; returns status, headers and the JSON body (or the text as a
/// JSON string).
pub async fn send(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    if_match: Option<&str>,
    body: Option<String>,
) -> Response {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(version) = if_match {
        request = request.header("if-match", version);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("request succeeds");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Response {
        status,
        headers,
        body,
    }
}

/// The dataset version `address` serves.
pub async fn served_version(address: SocketAddr) -> u64 {
    let body = reqwest::get(format!("http://{address}/v1/datasets"))
        .await
        .expect("datasets")
        .json::<Value>()
        .await
        .expect("JSON");
    body["version"].as_u64().expect("version")
}
