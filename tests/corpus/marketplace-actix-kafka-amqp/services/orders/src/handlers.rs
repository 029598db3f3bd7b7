use actix_web::{web, HttpResponse};
use chrono::Utc;
use contracts::{topics, Line, OrderEvent};
use deadpool_postgres::Transaction;
use serde::Deserialize;
use uuid::Uuid;

use crate::{error::OrderError, AppState};

#[derive(Debug, Deserialize)]
pub struct PlaceOrder {
    pub customer_id: Uuid,
    pub currency: String,
    pub ship_to_country: String,
    pub lines: Vec<Line>,
}

/// Extension trait: append an event to the outbox inside the caller's transaction.
pub trait OutboxExt {
    async fn enqueue(&self, topic: &str, key: Uuid, event: &OrderEvent) -> Result<(), OrderError>;
}

impl OutboxExt for Transaction<'_> {
    async fn enqueue(&self, topic: &str, key: Uuid, event: &OrderEvent) -> Result<(), OrderError> {
        let payload = serde_json::to_value(event).expect("event serializes");
        self.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
            &[&topic, &key.to_string(), &payload],
        )
        .await?;
        Ok(())
    }
}

pub async fn place_order(
    state: web::Data<AppState>,
    body: web::Json<PlaceOrder>,
) -> Result<HttpResponse, OrderError> {
    let req = body.into_inner();
    let order_id = Uuid::new_v4();
    let total: i64 = req.lines.iter().map(|l| l.unit_price_minor * i64::from(l.qty)).sum();

    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO orders (id, customer_id, currency, ship_to_country, total_minor) VALUES ($1, $2, $3, $4, $5)",
        &[&order_id, &req.customer_id, &req.currency, &req.ship_to_country, &total],
    )
    .await?;
    let insert_line = tx
        .prepare("INSERT INTO order_lines (order_id, sku, qty, unit_price_minor) VALUES ($1, $2, $3, $4)")
        .await?;
    for line in &req.lines {
        tx.execute(&insert_line, &[&order_id, &line.sku, &line.qty, &line.unit_price_minor]).await?;
    }
    let event = OrderEvent::Placed {
        order_id,
        customer_id: req.customer_id,
        lines: req.lines,
        currency: req.currency,
        ship_to_country: req.ship_to_country,
        placed_at: Utc::now(),
    };
    tx.enqueue(topics::ORDER_EVENTS, order_id, &event).await?;
    tx.commit().await?;

    Ok(HttpResponse::Created().json(serde_json::json!({ "id": order_id, "status": "placed" })))
}

pub async fn cancel_order(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, OrderError> {
    let order_id = path.into_inner();
    let mut client = state.pool.get().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt("SELECT status FROM orders WHERE id = $1 FOR UPDATE", &[&order_id])
        .await?
        .ok_or(OrderError::NotFound(order_id))?;
    let status: String = row.get(0);
    match status.as_str() {
        "cancelled" => return Ok(HttpResponse::Ok().json(serde_json::json!({ "id": order_id, "status": status }))),
        "shipped" => return Err(OrderError::Conflict(status)),
        _ => {}
    }
    tx.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1", &[&order_id]).await?;
    tx.enqueue(
        topics::ORDER_EVENTS,
        order_id,
        &OrderEvent::Cancelled { order_id, reason: "customer request".into() },
    )
    .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "id": order_id, "status": "cancelled" })))
}

pub async fn get_order(state: web::Data<AppState>, path: web::Path<Uuid>) -> Result<HttpResponse, OrderError> {
    let id = path.into_inner();
    let client = state.pool.get().await?;
    let row = client
        .query_opt("SELECT status, total_minor, currency FROM orders WHERE id = $1", &[&id])
        .await?
        .ok_or(OrderError::NotFound(id))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "id": id,
        "status": row.get::<_, String>(0),
        "total_minor": row.get::<_, i64>(1),
        "currency": row.get::<_, String>(2),
    })))
}

#[allow(dead_code)]
async fn _assert_tx_send(tx: Transaction<'_>) {
    let _ = tx;
}
