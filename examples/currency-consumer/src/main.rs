//! Prices orders in the customer's currency.
//!
//! The catalogue is priced in EUR. Instead of keeping its own table of currencies and a nightly
//! copy of exchange rates, this service asks refdata: which currency the customer's country
//! uses, how many minor units it has, and today's EUR rate. The client caches those answers for
//! as long as refdata says they are fresh, so pricing an order usually makes no network call.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use refdata_client::RefdataClient;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Currency the catalogue is priced in.
const CATALOGUE_CURRENCY: &str = "EUR";

#[derive(Debug, Deserialize)]
struct QuoteRequest {
    /// ISO 3166-1 alpha-2 code of the customer's country.
    customer_country: String,
    lines: Vec<OrderLine>,
}

#[derive(Debug, Deserialize)]
struct OrderLine {
    sku: String,
    quantity: u32,
    /// Catalogue price of one item, in EUR.
    unit_price: Decimal,
}

#[derive(Debug, Serialize)]
struct Quote {
    currency: String,
    /// Date of the exchange rate used.
    rate_date: String,
    rate: Decimal,
    lines: Vec<QuotedLine>,
    total: Decimal,
}

#[derive(Debug, Serialize)]
struct QuotedLine {
    sku: String,
    quantity: u32,
    unit_price: Decimal,
    amount: Decimal,
}

/// Errors as RFC 9457 problem documents.
#[derive(Debug)]
enum QuoteError {
    UnknownCountry(String),
    NoCurrency(String),
    RateUnavailable(String),
    Refdata(refdata_client::Error),
}

impl From<refdata_client::Error> for QuoteError {
    fn from(error: refdata_client::Error) -> Self {
        QuoteError::Refdata(error)
    }
}

impl IntoResponse for QuoteError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            QuoteError::UnknownCountry(code) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown country code {code:?}"),
            ),
            QuoteError::NoCurrency(code) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("country {code} has no currency in circulation"),
            ),
            QuoteError::RateUnavailable(currency) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("no {CATALOGUE_CURRENCY}/{currency} exchange rate is published"),
            ),
            QuoteError::Refdata(error) => {
                tracing::error!(%error, "reference data unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "reference data is temporarily unavailable".to_owned(),
                )
            }
        };
        let body = serde_json::json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("Error"),
            "status": status.as_u16(),
            "detail": detail,
        });
        (
            status,
            [("content-type", "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

async fn quote(
    State(refdata): State<RefdataClient>,
    Json(request): Json<QuoteRequest>,
) -> Result<Json<Quote>, QuoteError> {
    let country = match refdata.country(&request.customer_country).await {
        Ok(country) => country,
        Err(error) if error.is_not_found() => {
            return Err(QuoteError::UnknownCountry(request.customer_country))
        }
        Err(error) => return Err(error.into()),
    };
    let Some(code) = country.currencies.first() else {
        return Err(QuoteError::NoCurrency(country.alpha2));
    };
    let currency = refdata.currency(code).await?;
    // One cacheable request per currency and day, whatever the order: prices are computed
    // locally from the rate rather than with one /v1/convert call per amount.
    let (rate, rate_date) = if currency.code == CATALOGUE_CURRENCY {
        (Decimal::ONE, "n/a".to_owned())
    } else {
        let rates = refdata
            .exchange_rates(CATALOGUE_CURRENCY, None, &[&currency.code])
            .await?;
        let rate = *rates
            .rates
            .get(&currency.code)
            .ok_or_else(|| QuoteError::RateUnavailable(currency.code.clone()))?;
        (rate, rates.date.to_string())
    };
    let minor_units = currency.minor_units.unwrap_or(2);
    let round = |amount: Decimal| {
        amount.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero)
    };

    let lines: Vec<QuotedLine> = request
        .lines
        .into_iter()
        .map(|line| {
            let unit_price = round(line.unit_price * rate);
            QuotedLine {
                amount: unit_price * Decimal::from(line.quantity),
                sku: line.sku,
                quantity: line.quantity,
                unit_price,
            }
        })
        .collect();
    let total = lines.iter().map(|line| line.amount).sum();
    Ok(Json(Quote {
        currency: currency.code,
        rate_date,
        rate,
        lines,
        total,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let refdata_url =
        std::env::var("REFDATA_URL").unwrap_or_else(|_| "http://127.0.0.1:8080/".to_owned());
    let refdata = RefdataClient::builder(refdata_url)
        .timeout(Duration::from_millis(500))
        .retries(2)
        .cache_capacity(8 * 1024 * 1024)
        // Yesterday's rates are better than no quote at all.
        .max_stale(Duration::from_secs(6 * 60 * 60))
        .build()?;

    let app = Router::new()
        .route("/orders/quote", post(quote))
        .with_state(refdata);
    let address: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:8090".to_owned())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!(%address, "currency-consumer listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
