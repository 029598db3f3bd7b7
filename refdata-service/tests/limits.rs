//! Limits that shed load, against the real service: expensive misses are capped while cache
//! hits keep their speed, series and response sizes are bounded, slow and idle connections are
//! closed, connections over the limit are refused; plus CORS, the bind retry and draining.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use refdata::config::{CorsOrigins, Limits, ServiceConfig};
use refdata::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(config: ServiceConfig) -> SocketAddr {
    common::start_with(config).await
}

fn with_limits(limits: Limits) -> ServiceConfig {
    ServiceConfig {
        limits,
        ..ServiceConfig::default()
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_hits_stay_an_order_of_magnitude_faster_during_a_storm_of_expensive_misses() {
    let address = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();
    let hit = format!("http://{address}/v1/countries/DE");
    assert_eq!(client.get(&hit).send().await.unwrap().status(), 200);

    // 16 clients asking for four-year series with distinct end dates: every one a miss.
    let storm_ends = Instant::now() + Duration::from_secs(3);
    let mut storm = Vec::new();
    for worker in 0..16u32 {
        let client = client.clone();
        storm.push(tokio::spawn(async move {
            let (mut rendered, mut shed) = (Vec::new(), 0u32);
            let mut day = worker;
            while Instant::now() < storm_ends {
                day += 16;
                let end = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
                    + chrono::Days::new(u64::from(day % 600));
                let url = format!(
                    "http://{address}/v1/exchange-rates?start=2021-01-01&end={end}&base=USD"
                );
                let started = Instant::now();
                let response = client.get(&url).send().await.unwrap();
                let status = response.status().as_u16();
                let retry_after = response.headers().get("retry-after").cloned();
                let content_type = response.headers().get("content-type").cloned();
                let body = response.bytes().await.unwrap();
                match status {
                    200 => rendered.push(started.elapsed()),
                    503 => {
                        assert_eq!(retry_after.unwrap(), "1");
                        assert_eq!(content_type.unwrap(), "application/problem+json");
                        assert!(String::from_utf8_lossy(&body).contains("problem:busy"));
                        shed += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    other => panic!("{url}: {other} {}", String::from_utf8_lossy(&body)),
                }
            }
            (rendered, shed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut hits = Vec::new();
    while Instant::now() < storm_ends {
        let started = Instant::now();
        let response = client.get(&hit).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        hits.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (mut rendered, mut shed) = (Vec::new(), 0);
    for worker in storm {
        let (times, refused) = worker.await.unwrap();
        rendered.extend(times);
        shed += refused;
    }
    assert!(shed > 0, "16 clients over a limit of 2 must be shed");
    let metrics = client
        .get(format!("http://{address}/metrics"))
        .bearer_auth(common::TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("refdata_shed_total "))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert_eq!(counted, u64::from(shed));
    assert!(!rendered.is_empty() && !hits.is_empty());
    let (hit, miss) = (median(hits), median(rendered));
    assert!(
        hit * 10 < miss,
        "median hit {hit:?} is not an order of magnitude below median render {miss:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_length_and_response_size_are_bounded() {
    let address = start(with_limits(Limits {
        max_series_days: 31,
        max_response_bytes: 8 * 1024,
        ..Limits::default()
    }))
    .await;
    let get = |path: &str| {
        let url = format!("http://{address}{path}");
        async move {
            let response = reqwest::get(url).await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            (status, body)
        }
    };
    let (status, problem) = get("/v1/exchange-rates?start=2024-01-01&end=2024-03-01").await;
    assert_eq!(status, 422);
    assert_eq!(problem["type"], "urn:refdata:problem:invalid-range");
    let (status, problem) = get("/v1/exchange-rates?start=2024-01-01&end=2024-01-31").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["type"], "urn:refdata:problem:response-too-large");
    let (status, series) =
        get("/v1/exchange-rates?start=2024-01-01&end=2024-01-31&symbols=USD").await;
    assert_eq!(status, 200, "{series}");
    assert_eq!(series["rates"].as_object().unwrap().len(), 22);
}

/// Reads until the server closes the connection; `None` if it is still open after 5 s.
async fn read_until_closed(stream: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_and_idle_keep_alive_connections_are_closed() {
    let address = start(with_limits(Limits {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_millis(1500),
        ..Limits::default()
    }))
    .await;

    // A head that never ends is closed by the header timer, well before the idle one.
    let mut slow = TcpStream::connect(address).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"GET /v1/countries/DE HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(
        answer.is_some(),
        "a connection that never ends its head stays open"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));

    // Idle longer than the header timeout is fine: the next request is answered.
    let mut idle = TcpStream::connect(address).await.unwrap();
    let mut buffer = [0u8; 4096];
    for _ in 0..2 {
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let n = idle.read(&mut buffer).await.unwrap();
        assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    // ... but past the idle timeout the connection is closed.
    let answer = read_until_closed(&mut idle)
        .await
        .expect("an idle keep-alive connection stays open");
    assert!(answer.is_empty(), "{answer}");

    // So is a connection that never sends anything.
    let mut silent = TcpStream::connect(address).await.unwrap();
    assert!(read_until_closed(&mut silent).await.is_some());
}

/// The status line and the problem of an answer read to its end.
fn problem_of(answer: &str) -> (&str, serde_json::Value) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    let status = head.split(' ').nth(1).unwrap_or_default();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON body: {body:?}"));
    (status, problem)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_heads_get_a_problem_not_an_empty_answer() {
    let address = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();

    // Request targets of 64 KiB and more, which hyper itself would refuse with an empty 414,
    // and one between the router's 8 KiB limit and hyper's.
    // (reqwest refuses to send targets of 64 KiB, so this speaks HTTP/1.1 itself.)
    for length in [20_000, 65_536, 70_000, 300_000] {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!(
            "GET /v1/countries?q={} HTTP/1.1\r\nHost: t\r\n\r\n",
            "a".repeat(length)
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut stream)
            .await
            .expect("the connection is closed after the answer");
        let (status, problem) = problem_of(&answer);
        assert_eq!(status, "414", "target of {length} bytes");
        assert_eq!(problem["type"], "urn:refdata:problem:uri-too-long");
        assert_eq!(problem["status"], 414);
        assert!(answer.len() < 500, "no echo: {answer}");
    }
    let response = client
        .get(format!(
            "http://{address}/v1/countries?q={}",
            "a".repeat(20_000)
        ))
        .send()
        .await
        .expect("an answer an HTTP client reads");
    assert_eq!(response.status(), 414);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // A head larger than 64 KiB, and one with more header fields than hyper takes.
    let big_field = format!(
        "GET /v1/countries/DE HTTP/1.1\r\nHost: t\r\nx-big: {}\r\n\r\n",
        "b".repeat(200_000)
    );
    let mut many_fields = String::from("GET /v1/countries/DE HTTP/1.1\r\nHost: t\r\n");
    for i in 0..150 {
        many_fields.push_str(&format!("x-field-{i}: {i}\r\n"));
    }
    many_fields.push_str("\r\n");
    for request in [big_field, many_fields] {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let answer = read_until_closed(&mut stream)
            .await
            .expect("the connection is closed after the answer");
        let (status, problem) = problem_of(&answer);
        assert_eq!(status, "431", "{answer}");
        assert_eq!(problem["type"], "urn:refdata:problem:headers-too-large");
    }

    // A large body sent after `100 Continue` is a body, not a head: a single 200 KB line is
    // refused as not an ECB file, not as an oversized request line.
    let body = "x".repeat(200_000);
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/admin/exchange-rates HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\
                 Expect: 100-continue\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                common::TOKEN,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut interim = [0u8; 64];
    let n = stream.read(&mut interim).await.unwrap();
    assert!(interim[..n].starts_with(b"HTTP/1.1 100 Continue"));
    stream.write_all(body.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await.expect("an answer");
    let (status, problem) = problem_of(&answer);
    assert_eq!(status, "422", "{answer}");
    assert_eq!(problem["type"], "urn:refdata:problem:invalid-change");

    // Within the limits, 100 fields and a target just under 8 KiB are served.
    let mut hundred = client.get(format!(
        "http://{address}/v1/countries?q={}",
        "a".repeat(8000)
    ));
    for i in 0..95 {
        hundred = hundred.header(format!("x-field-{i}"), "1");
    }
    assert_eq!(hundred.send().await.unwrap().status(), 200);
    let germany = client
        .get(format!("http://{address}/v1/countries/DE"))
        .send()
        .await
        .unwrap();
    assert_eq!(germany.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_cannot_parse_get_a_400_problem_not_an_empty_answer() {
    let address = start(ServiceConfig::default()).await;
    let requests: [&[u8]; 5] = [
        b"GET /v1/countries/<DE> HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /v1/countries/\x7f HTTP/1.1\r\nHost: t\r\n\r\n",
        b"G@T /v1/countries/DE HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET /v1/countries/DE HTTP/9.9\r\nHost: t\r\n\r\n",
        b"GET /v1/countries/DE HTTP/1.1\r\nBad Header: x\r\n\r\n",
    ];
    for request in requests {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(request).await.unwrap();
        let answer = read_until_closed(&mut stream)
            .await
            .expect("the connection is closed after the answer");
        let (status, problem) = problem_of(&answer);
        assert_eq!(status, "400", "{answer}");
        assert_eq!(problem["type"], "urn:refdata:problem:malformed-request");
        assert_eq!(problem["status"], 400);
    }
    // A well-formed request on the next connection is served as usual.
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /v1/countries/DE HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await.expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_are_answered_503_and_closed() {
    let address = start(with_limits(Limits {
        max_connections: 2,
        ..Limits::default()
    }))
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 1024];
        let n = stream.read(&mut buffer).await.unwrap();
        assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let mut third = TcpStream::connect(address).await.unwrap();
    let answer = read_until_closed(&mut third).await.expect("closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("problem:too-many-connections"), "{answer}");
    // The refusal is counted; `/metrics` needs a slot, so it is read after one is freed.

    // Closing one frees its slot.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = reqwest::Client::new()
            .get(format!("http://{address}/metrics"))
            .bearer_auth(common::TOKEN)
            .send()
            .await;
        if let Ok(response) = response {
            if response.status() == 200 {
                let metrics = response.text().await.unwrap();
                let refused: u64 = metrics
                    .lines()
                    .find_map(|line| line.strip_prefix("refdata_connections_refused_total "))
                    .and_then(|n| n.parse().ok())
                    .unwrap();
                // The third connection, and any attempt made before the slot was freed.
                assert!(refused >= 1, "{metrics}");
                break;
            }
        }
        assert!(Instant::now() < deadline, "the slot was not released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_answers_preflight_and_simple_requests() {
    let any = start(ServiceConfig::default()).await;
    let client = reqwest::Client::new();
    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{any}/v1/countries/DE"),
        )
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "if-none-match")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .unwrap_or_default()
    };
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
    assert!(header(&preflight, "access-control-allow-methods").contains("get"));
    assert!(header(&preflight, "access-control-allow-headers").contains("if-none-match"));

    // Twice: the second is a cache hit answered before the router.
    for _ in 0..2 {
        let simple = client
            .get(format!(
                "http://{any}/v1/convert?from=USD&to=JPY&amount=1&date=2024-01-02"
            ))
            .header("origin", "https://shop.example")
            .send()
            .await
            .unwrap();
        assert_eq!(simple.status(), 200);
        assert_eq!(header(&simple, "access-control-allow-origin"), "*");
        // The same answer for every origin: shared caches need not key on it.
        let vary: Vec<String> = simple
            .headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect();
        assert_eq!(vary, ["accept-encoding"]);
        let exposed = header(&simple, "access-control-expose-headers");
        assert!(exposed.contains("etag"), "{exposed}");
        assert!(exposed.contains("refdata-latest-rates-date"), "{exposed}");
    }

    let listed = start(ServiceConfig {
        cors: CorsOrigins::List(vec!["https://shop.example".into()]),
        ..ServiceConfig::default()
    })
    .await;
    for (origin, allowed) in [
        ("https://shop.example", "https://shop.example"),
        ("https://evil.example", ""),
    ] {
        let response = client
            .get(format!("http://{listed}/v1/countries/FR"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "access-control-allow-origin"), allowed);
        let varies_on_origin = response
            .headers()
            .get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().contains("origin"));
        assert!(varies_on_origin, "an echoed origin must be in Vary");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bind_retries_while_the_address_is_held() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = held.local_addr().unwrap();
    let binding = tokio::spawn(server::bind(address, Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !binding.is_finished(),
        "bind gave up while the address was held"
    );
    drop(held);
    let listener = binding.await.unwrap().expect("bound once released");
    assert_eq!(listener.local_addr().unwrap(), address);

    let _taken = listener;
    let error = server::bind(address, Duration::ZERO).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_in_flight_requests() {
    use axum::routing::get;
    // The handler reports when it has started, then takes 500 ms.
    let (entered_tx, mut entered) = tokio::sync::mpsc::unbounded_channel::<()>();
    let slow = axum::Router::new().route(
        "/slow",
        get(move || {
            let entered_tx = entered_tx.clone();
            async move {
                let _ = entered_tx.send(());
                tokio::time::sleep(Duration::from_millis(500)).await;
                "done"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        let stats = Arc::new(server::ConnectionStats::default());
        server::run(listener, slow, &Limits::default(), stats, async {
            let _ = stopped.await;
        })
        .await;
    });
    let in_flight = tokio::spawn(reqwest::get(format!("http://{address}/slow")));
    entered.recv().await.unwrap();
    stop.send(()).unwrap();

    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(address).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still accepted while draining"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the server stops once drained")
        .unwrap();
}
