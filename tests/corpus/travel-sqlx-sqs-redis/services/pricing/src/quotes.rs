use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::currencies::{is_quotable, minor_digits};
use crate::AppState;

#[derive(Deserialize)]
pub struct QuoteRequest {
    route: String,
    season: String,
    base_fare_eur: Decimal,
    currency: String,
}

#[derive(Serialize)]
pub struct Quote {
    route: String,
    amount: Decimal,
    currency: String,
    demand_factor: Decimal,
}

/// Pure computation: reads fare rules, today's rate and last week's revenue on the route.
pub async fn quote(
    State(state): State<AppState>,
    Json(req): Json<QuoteRequest>,
) -> Result<Json<Quote>, (StatusCode, String)> {
    if !is_quotable(&req.currency) {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, format!("cannot quote in {}", req.currency)));
    }
    let err = |e: sqlx::Error| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());

    let multiplier = sqlx::query_scalar!(
        "SELECT multiplier FROM fare_rules WHERE route = $1 AND season = $2",
        req.route,
        req.season
    )
    .fetch_optional(&state.db)
    .await
    .map_err(err)?
    .unwrap_or(Decimal::ONE);

    let rate = sqlx::query_scalar!(
        "SELECT per_eur FROM exchange_rates WHERE currency = $1 ORDER BY as_of DESC LIMIT 1",
        req.currency
    )
    .fetch_optional(&state.db)
    .await
    .map_err(err)?
    .unwrap_or(Decimal::ONE);

    let revenue = state
        .billing
        .revenue_by_route(Utc::now() - Duration::days(7))
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let invoices_on_route: i64 = revenue.iter().filter(|r| r.route == req.route).map(|r| r.invoices).sum();
    let demand_factor = if invoices_on_route > 200 { Decimal::new(115, 2) } else { Decimal::ONE };

    let amount = (req.base_fare_eur * multiplier * demand_factor * rate).round_dp(minor_digits(&req.currency));
    Ok(Json(Quote { route: req.route, amount, currency: req.currency, demand_factor }))
}
