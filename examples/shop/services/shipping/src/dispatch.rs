use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::AppState;

const CARRIER: &str = "dhl";

/// Dispatches the shipment of a paid order and takes its items off the inventory.
pub async fn dispatch(State(state): State<AppState>, Path(order_id): Path<Uuid>) -> StatusCode {
    match try_dispatch(&state, order_id).await {
        Ok(true) => StatusCode::NO_CONTENT,
        Ok(false) => StatusCode::CONFLICT,
        Err(error) => {
            tracing::error!(%error, %order_id, "dispatch failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn try_dispatch(state: &AppState, order_id: Uuid) -> Result<bool, sqlx::Error> {
    // Payments and shipping share a database, so the payment status is one query away.
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM payments WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(&state.pool)
            .await?;
    if status.as_deref() != Some("captured") {
        return Ok(false);
    }

    let items: Vec<(String, i32)> = sqlx::query_as(
        "SELECT si.sku, si.quantity FROM shipment_items si \
         JOIN shipments s ON s.id = si.shipment_id WHERE s.order_id = $1",
    )
    .bind(order_id)
    .fetch_all(&state.pool)
    .await?;
    for (sku, quantity) in &items {
        state.stock.ship(sku, *quantity).await?;
    }

    sqlx::query("UPDATE shipments SET carrier = $1, dispatched_at = now() WHERE order_id = $2")
        .bind(CARRIER)
        .bind(order_id)
        .execute(&state.pool)
        .await?;
    Ok(true)
}
