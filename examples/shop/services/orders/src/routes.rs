use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::stock;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct OrderLine {
    pub sku: String,
    pub quantity: i32,
    pub unit_cents: i64,
}

#[derive(Debug, Deserialize)]
pub struct PlaceOrder {
    pub customer_id: Uuid,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Order {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub status: String,
    pub total_cents: i64,
}

pub async fn place_order(
    State(state): State<AppState>,
    Json(request): Json<PlaceOrder>,
) -> Result<(StatusCode, Json<Order>), (StatusCode, String)> {
    for line in &request.lines {
        let available = stock::available_quantity(&state.inventory_pool, &line.sku)
            .await
            .map_err(internal)?;
        if available < line.quantity {
            return Err((StatusCode::CONFLICT, format!("{} is out of stock", line.sku)));
        }
    }

    let total_cents: i64 = request
        .lines
        .iter()
        .map(|l| l.unit_cents * i64::from(l.quantity))
        .sum();
    let mut tx = state.pool.begin().await.map_err(internal)?;
    let order: Order = sqlx::query_as(
        "INSERT INTO orders (id, customer_id, total_cents) VALUES ($1, $2, $3) \
         RETURNING id, customer_id, status, total_cents",
    )
    .bind(Uuid::new_v4())
    .bind(request.customer_id)
    .bind(total_cents)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;

    for line in &request.lines {
        sqlx::query(
            "INSERT INTO order_lines (order_id, sku, quantity, unit_cents) VALUES ($1, $2, $3, $4)",
        )
        .bind(order.id)
        .bind(&line.sku)
        .bind(line.quantity)
        .bind(line.unit_cents)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
        stock::reserve(&state.inventory_pool, &line.sku, line.quantity)
            .await
            .map_err(internal)?;
    }

    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('orders.placed', $1)")
        .bind(serde_json::json!({ "order_id": order.id, "total_cents": order.total_cents }))
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(order)))
}

pub async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<Order>, (StatusCode, String)> {
    sqlx::query_as::<_, Order>("SELECT id, customer_id, status, total_cents FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.pool)
        .await
        .map_err(internal)?
        .map(Json)
        .ok_or((StatusCode::NOT_FOUND, format!("order {id} not found")))
}

fn internal(error: sqlx::Error) -> (StatusCode, String) {
    tracing::error!(%error, "database error");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_string())
}
