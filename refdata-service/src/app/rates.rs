//! `/v1/exchange-rates` and `/v1/convert`: ECB euro reference rates in any base.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{given, parse_date, required, ApiPath, ApiQuery};
use super::problem::Problem;
use super::{json_within, policy, render_blocking, with_policy, AppState};
use crate::caching::CachePolicy;
use crate::clock;
use crate::domain::rates::EURO;
use crate::store::Snapshot;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// Base currency (default `EUR`); any currency the ECB quotes.
    base: Option<String>,
    /// As-of date `YYYY-MM-DD` (default: latest); the last publication on or before it is used.
    date: Option<String>,
    /// Comma-separated currencies to return (default: all quoted that day).
    symbols: Option<String>,
    /// First day of a time series (`YYYY-MM-DD`); not with `date`.
    start: Option<String>,
    /// Last day of a time series (default: latest publication); needs `start`.
    end: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RatesOnDateQuery {
    /// Base currency (default `EUR`).
    base: Option<String>,
    /// Comma-separated currencies to return (default: all quoted that day).
    symbols: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConvertQuery {
    /// Source currency.
    #[param(required = true)]
    from: Option<String>,
    /// Target currency.
    #[param(required = true)]
    to: Option<String>,
    /// Decimal amount, e.g. `12.34` (no exponent, at most 28 significant digits).
    #[param(required = true)]
    amount: Option<String>,
    /// As-of date `YYYY-MM-DD` (default: latest).
    date: Option<String>,
}

/// Rates of one publication.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"base":"EUR","date":"2024-01-02","rates":{"USD":"1.0956","JPY":"155.68"}}))]
pub struct RatesResponse {
    base: String,
    /// The ECB publication date actually used.
    date: NaiveDate,
    /// Units of each currency per one unit of `base`.
    #[schema(value_type = BTreeMap<String, String>)]
    rates: BTreeMap<String, Decimal>,
}

/// Rates of every publication in a date range.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesResponse {
    base: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    /// Publication date to rates.
    #[schema(value_type = BTreeMap<String, BTreeMap<String, String>>)]
    rates: BTreeMap<String, BTreeMap<String, Decimal>>,
}

/// A converted amount.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"from":"USD","to":"JPY","amount":"12.34","date":"2024-01-02",
    "rate":"142.096","result":"1753"}))]
pub struct ConversionResponse {
    from: String,
    to: String,
    #[schema(value_type = String)]
    amount: Decimal,
    /// The ECB publication date actually used.
    date: NaiveDate,
    /// Units of `to` per unit of `from`, 6 significant digits for cross rates.
    #[schema(value_type = String)]
    rate: Decimal,
    /// `amount * rate` at full precision, rounded half-to-even to the minor units of `to`.
    #[schema(value_type = String)]
    result: Decimal,
}

/// An alphabetic ISO 4217 code from a parameter.
fn currency_code(data: &Snapshot, text: &str) -> Result<String, Problem> {
    let code = text.to_ascii_uppercase();
    let alphabetic = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
    if !alphabetic || data.currency(&code).is_none() {
        return Err(Problem::unknown_code("ISO 4217 currency", text));
    }
    Ok(code)
}

fn symbols(data: &Snapshot, text: &Option<String>) -> Result<Vec<String>, Problem> {
    let Some(text) = given(text) else {
        return Ok(Vec::new());
    };
    let mut codes = Vec::new();
    for part in text.split(',') {
        let code = currency_code(data, part)?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    Ok(codes)
}

fn base(data: &Snapshot, text: &Option<String>) -> Result<String, Problem> {
    given(text).map_or(Ok(EURO.to_owned()), |text| currency_code(data, text))
}

/// `None` for "latest".
fn as_of(text: Option<&str>) -> Result<Option<NaiveDate>, Problem> {
    match text {
        None | Some("latest") => Ok(None),
        Some(text) => parse_date(text).map(Some),
    }
}

/// Immutable once a later publication exists; otherwise until the next expected publication.
fn rates_policy(
    state: &AppState,
    data: &Snapshot,
    requested: Option<NaiveDate>,
    extra: &[&str],
) -> CachePolicy {
    let datasets: Vec<_> = std::iter::once("exchange_rates")
        .chain(extra.iter().copied())
        .filter_map(|name| data.dataset(name))
        .collect();
    let last = data.exchange_rates().last_date();
    match requested {
        Some(date) if date < last => policy::historic_rates(&datasets),
        _ => policy::until(
            policy::latest_rates(&datasets),
            clock::next_rates_change(last, state.clock().now()),
        ),
    }
}

/// Response header naming the newest publication loaded, so every rate answer shows how old
/// the data is (today minus this date), whatever date it was asked for.
pub const LATEST_RATES_HEADER: &str = "refdata-latest-rates-date";

/// A rate answer: the policy plus [`LATEST_RATES_HEADER`].
fn rate_answer(policy: CachePolicy, data: &Snapshot, body: impl IntoResponse) -> Response {
    let mut response = with_policy(policy, body);
    if let Ok(value) = HeaderValue::from_str(&data.exchange_rates().last_date().to_string()) {
        response.headers_mut().insert(LATEST_RATES_HEADER, value);
    }
    response
}

fn quote_response(
    state: &AppState,
    data: &Snapshot,
    base: &str,
    requested: Option<NaiveDate>,
    symbols: &[String],
) -> Result<Response, Problem> {
    let rates = data.exchange_rates();
    let date = requested.unwrap_or_else(|| rates.last_date());
    let quote = rates.quote(base, date, symbols)?;
    Ok(rate_answer(
        rates_policy(state, data, requested, &[]),
        data,
        Json(RatesResponse {
            base: quote.base,
            date: quote.date,
            rates: quote.rates,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/exchange-rates",
    tag = "exchange rates",
    params(RatesQuery),
    responses(
        (status = 200, description = "Rates as of `date`, or a time series with `start`/`end`", body = RatesResponse),
        (status = 400, description = "Malformed date, unknown currency or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Date before 1999-01-04 or currency not quoted on that date", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn query(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<RatesQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let base = base(&data, &query.base)?;
    let symbols = symbols(&data, &query.symbols)?;
    let start = given(&query.start);
    let end = given(&query.end);
    if start.is_none() && end.is_none() {
        let requested = as_of(given(&query.date))?;
        return quote_response(&state, &data, &base, requested, &symbols);
    }
    if given(&query.date).is_some() {
        return Err(Problem::invalid_parameter(
            "date selects one publication; use start/end for a series, not both",
        ));
    }
    let start = parse_date(start.ok_or_else(|| Problem::invalid_parameter("end needs start"))?)?;
    let requested_end = as_of(end)?;
    let end = requested_end.unwrap_or_else(|| data.exchange_rates().last_date());
    let max_days = state.limits().max_series_days;
    if (end - start).num_days() > i64::from(max_days) {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-range",
            "Invalid date range",
            format!(
                "{start} to {end} is longer than the {max_days} days a series may span; ask \
                 for it in parts"
            ),
        ));
    }
    let permit = state.expensive_permit()?;
    let max_bytes = state.limits().max_response_bytes;
    let policy = rates_policy(&state, &data, requested_end, &[]);
    render_blocking(permit, move || {
        let series = data.exchange_rates().series(&base, start, end, &symbols)?;
        let body = SeriesResponse {
            base,
            start_date: start,
            end_date: end,
            rates: series
                .into_iter()
                .map(|quote| (quote.date.to_string(), quote.rates))
                .collect(),
        };
        let json = json_within(&body, max_bytes)?;
        Ok(rate_answer(policy, &data, json))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/exchange-rates/{date}",
    tag = "exchange rates",
    params(("date" = String, Path, description = "`YYYY-MM-DD` or `latest`"), RatesOnDateQuery),
    responses(
        (status = 200, description = "Rates of the last publication on or before `date`", body = RatesResponse),
        (status = 400, description = "Malformed date or unknown currency", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Date before 1999-01-04 or currency not quoted on that date", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn on_date(
    State(state): State<AppState>,
    ApiPath(date): ApiPath<String>,
    ApiQuery(query): ApiQuery<RatesOnDateQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let requested = as_of(Some(date.as_str()))?;
    let base = base(&data, &query.base)?;
    let symbols = symbols(&data, &query.symbols)?;
    quote_response(&state, &data, &base, requested, &symbols)
}

#[utoipa::path(
    get,
    path = "/v1/convert",
    tag = "exchange rates",
    params(ConvertQuery),
    responses(
        (status = 200, description = "The converted amount", body = ConversionResponse),
        (status = 400, description = "Missing or malformed parameter, bad amount", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Date before 1999-01-04 or currency not quoted on that date", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn convert(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConvertQuery>,
) -> Result<Response, Problem> {
    let data = state.data()?;
    let from = currency_code(&data, required("from", &query.from)?)?;
    let to = currency_code(&data, required("to", &query.to)?)?;
    let amount_text = required("amount", &query.amount)?;
    let parsed = if super::extract::is_plain_decimal(amount_text) {
        Decimal::from_str_exact(amount_text).ok()
    } else {
        None
    };
    let amount = parsed.ok_or_else(|| {
        Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad-amount",
            "Invalid amount",
            format!(
                "amount {:?} is not a decimal number (digits, optional sign and \
                 decimal point, at most 28 significant digits)",
                super::problem::clip(amount_text)
            ),
        )
    })?;
    let requested = as_of(given(&query.date))?;
    let rates = data.exchange_rates();
    let date = requested.unwrap_or_else(|| rates.last_date());
    let minor_units = data.currency(&to).and_then(|c| c.minor_units);
    let conversion = rates.convert(&from, &to, amount, date, minor_units)?;
    Ok(rate_answer(
        rates_policy(&state, &data, requested, &["currencies"]),
        &data,
        Json(ConversionResponse {
            from: conversion.from,
            to: conversion.to,
            amount: conversion.amount,
            date: conversion.date,
            rate: conversion.rate,
            result: conversion.result,
        }),
    ))
}
