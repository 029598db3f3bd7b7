//! Checkout of a pending order: reserve its stock with the inventory service, then charge the
//! customer through the payments service.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clients::ReservationLine;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct CheckoutRequest {
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct CheckoutReceipt {
    pub order_id: Uuid,
    pub reservation_id: Uuid,
    pub payment_id: Uuid,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("order {0} not found")]
    NotFound(Uuid),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("downstream service: {0}")]
    Downstream(#[from] reqwest::Error),
}

impl CheckoutError {
    fn status(&self) -> StatusCode {
        match self {
            CheckoutError::NotFound(_) => StatusCode::NOT_FOUND,
            CheckoutError::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
            CheckoutError::Downstream(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

pub async fn checkout(
    State(state): State<AppState>,
    Path(order_id): Path<Uuid>,
    Json(request): Json<CheckoutRequest>,
) -> Result<Json<CheckoutReceipt>, (StatusCode, String)> {
    run_checkout(&state, order_id, &request.currency)
        .await
        .map(Json)
        .map_err(|error| (error.status(), error.to_string()))
}

async fn run_checkout(
    state: &AppState,
    order_id: Uuid,
    currency: &str,
) -> Result<CheckoutReceipt, CheckoutError> {
    let total_cents: i64 = sqlx::query_scalar("SELECT total_cents FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(CheckoutError::NotFound(order_id))?;
    let lines: Vec<(String, i32)> =
        sqlx::query_as("SELECT sku, quantity FROM order_lines WHERE order_id = $1")
            .bind(order_id)
            .fetch_all(&state.pool)
            .await?;
    let lines: Vec<ReservationLine> = lines
        .into_iter()
        .map(|(sku, quantity)| ReservationLine { sku, quantity })
        .collect();

    let reservation = state.inventory.reserve_stock(order_id, &lines).await?;
    // A declined card leaves the stock reserved for an order that will never be paid.
    let payment = state
        .payments
        .charge(order_id, total_cents, currency)
        .await?;

    Ok(CheckoutReceipt {
        order_id,
        reservation_id: reservation.id,
        payment_id: payment.id,
    })
}
