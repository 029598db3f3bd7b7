//! A server speaking the refdata HTTP contract with fixed bodies, behind the real caching and
//! metrics layers wired the way `refdata serve` wires them.
//!
//! It lets `bench/run.sh --contract-server` exercise the load benchmark end to end, and measures
//! what the HTTP stack and the caching layer cost independently of the datasets:
//!
//! ```sh
//! cargo bench -p refdata-service --bench contract_server --no-run
//! target/release/deps/contract_server-* serve --listen 127.0.0.1:8081
//! ```
//!
//! Run by `cargo bench` (which passes `--bench`), it exits at once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use refdata::caching::{CacheConfig, CacheLayer, CachePolicy, DataGeneration, ResponseCache};
use refdata::metrics::{metrics_router, track_requests, Metrics};
use rust_decimal::Decimal;
use serde_json::json;

fn policy(dataset_version: &str, max_age: u64, immutable: bool) -> CachePolicy {
    CachePolicy {
        dataset_version: dataset_version.to_owned(),
        last_modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_717_200_000),
        max_age: Duration::from_secs(max_age),
        stale_while_revalidate: Duration::from_secs(3600),
        immutable,
        changes_at: None,
    }
}

fn with_policy(body: serde_json::Value, policy: CachePolicy) -> Response {
    let mut response = Json(body).into_response();
    response.extensions_mut().insert(policy);
    response
}

fn problem(status: StatusCode, detail: String) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

async fn country(Path(code): Path<String>) -> Response {
    if !code.eq_ignore_ascii_case("DE") {
        return problem(
            StatusCode::NOT_FOUND,
            format!("no country with code {code:?}"),
        );
    }
    with_policy(
        json!({
            "alpha2": "DE", "alpha3": "DEU", "numeric": "276", "name": "Germany",
            "official_name": "Federal Republic of Germany", "common_name": null, "flag": "🇩🇪",
            "currencies": ["EUR"], "region": "Europe", "subregion": "Western Europe"
        }),
        policy("iso3166-2024.1", 86_400, false),
    )
}

async fn convert(Query(query): Query<HashMap<String, String>>) -> Response {
    let param = |name: &str| query.get(name).map(String::as_str);
    let (Some("USD"), Some("JPY"), Some(amount)) = (param("from"), param("to"), param("amount"))
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "this contract server converts USD to JPY only".to_owned(),
        );
    };
    let Ok(amount) = Decimal::from_str(amount) else {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("invalid amount {amount:?}"),
        );
    };
    let rate = Decimal::new(14_213, 2);
    let date = param("date").unwrap_or("2024-01-02");
    with_policy(
        json!({
            "from": "USD", "to": "JPY", "amount": amount.to_string(), "date": date,
            "rate": rate.to_string(), "result": (amount * rate).round_dp(0).to_string()
        }),
        policy("ecb-2024-01-02", 31_536_000, true),
    )
}

async fn tax_rates(Query(query): Query<HashMap<String, String>>) -> Response {
    if query.get("country").map(String::as_str) != Some("DE") {
        return problem(
            StatusCode::NOT_FOUND,
            "this contract server knows DE only".to_owned(),
        );
    }
    with_policy(
        json!([
            {"country": "DE", "subdivision": null, "type": "standard", "rate": "16",
             "valid_from": "2020-07-01", "valid_to": "2020-12-31", "source": "BGBl. I 2020 S. 1512"},
            {"country": "DE", "subdivision": null, "type": "reduced", "rate": "5",
             "valid_from": "2020-07-01", "valid_to": "2020-12-31", "source": "BGBl. I 2020 S. 1512"}
        ]),
        policy("tax-2024.1", 3600, false),
    )
}

async fn datasets() -> Response {
    with_policy(
        json!([
            {"name": "countries", "version": "iso3166-2024.1"},
            {"name": "exchange-rates", "version": "ecb-2024-01-02"},
            {"name": "tax-rates", "version": "tax-2024.1"}
        ]),
        policy("all-2024.1", 60, false),
    )
}

fn app() -> Router {
    let metrics = Metrics::new();
    let cache = ResponseCache::new(CacheConfig::default());
    Router::new()
        .route("/v1/countries/{code}", get(country))
        .route("/v1/convert", get(convert))
        .route("/v1/tax-rates", get(tax_rates))
        .route("/v1/datasets", get(datasets))
        .merge(metrics_router(Arc::clone(&metrics)))
        .layer(CacheLayer::new(
            cache,
            DataGeneration::default(),
            Arc::clone(&metrics),
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            track_requests,
        ))
}

fn listen_address(args: &[String]) -> Option<Result<SocketAddr, String>> {
    let mut args = args.iter();
    if args.next().map(String::as_str) != Some("serve") {
        return None;
    }
    let mut listen = None;
    while let Some(arg) = args.next() {
        if arg == "--listen" {
            listen = args.next().map(String::as_str);
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            listen = Some(value);
        }
    }
    let listen = listen.unwrap_or("127.0.0.1:8080");
    Some(
        listen
            .parse()
            .map_err(|error| format!("invalid --listen address {listen:?}: {error}")),
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let address = match listen_address(&args) {
        None => {
            eprintln!("contract_server: pass `serve --listen ADDR` to start serving");
            return ExitCode::SUCCESS;
        }
        Some(Err(error)) => {
            eprintln!("contract_server: {error}");
            return ExitCode::FAILURE;
        }
        Some(Ok(address)) => address,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("contract_server: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address).await?;
        eprintln!(
            "contract_server listening on http://{}",
            listener.local_addr()?
        );
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("contract_server: {error}");
            ExitCode::FAILURE
        }
    }
}
