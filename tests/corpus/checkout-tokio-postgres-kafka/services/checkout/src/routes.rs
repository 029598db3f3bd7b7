use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::events::OrderLine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::CheckoutError;
use crate::{repo, saga, AppState};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/orders", post(create_order))
        .route("/v1/orders/:id", get(get_order))
        .route("/v1/orders/:id/cancel", post(cancel_order))
        .route("/v1/subscriptions", post(create_subscription))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
pub struct CreateOrder {
    pub customer_id: Uuid,
    pub customer_email: String,
    pub shipping_country: String,
    pub shipping_address: String,
    pub payment_method_token: String,
    pub currency: String,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Serialize)]
pub struct OrderCreated {
    pub order_id: Uuid,
    pub status: &'static str,
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, CheckoutError> {
    headers
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or(CheckoutError::MissingIdempotencyKey)
}

fn request_hash(body: &CreateOrder) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.customer_id.hash(&mut h);
    body.payment_method_token.hash(&mut h);
    for l in &body.lines {
        l.sku.hash(&mut h);
        l.quantity.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

async fn create_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<CreateOrder>,
) -> Result<Json<OrderCreated>, CheckoutError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&body);

    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    if let Some((seen_hash, order_id)) = repo::find_idempotent(&tx, &key).await? {
        if seen_hash != hash {
            return Err(CheckoutError::IdempotencyConflict);
        }
        return Ok(Json(OrderCreated { order_id, status: "accepted" }));
    }
    if !repo::country_supported(&tx, &body.shipping_country).await? {
        return Err(CheckoutError::UnsupportedCountry(body.shipping_country));
    }
    let order = pending_from(body);
    repo::insert_pending(&tx, &key, &hash, &order).await?;
    tx.commit().await?;

    match saga::place_order(&state, &order).await {
        Ok(placed) => {
            let tx = conn.transaction().await?;
            repo::confirm_with_event(&tx, &order, placed.payment_id, placed.shipment_id).await?;
            tx.commit().await?;
            Ok(Json(OrderCreated { order_id: order.id, status: "confirmed" }))
        }
        Err(e) => {
            let tx = conn.transaction().await?;
            repo::mark_failed(&tx, order.id, &e.to_string()).await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

async fn create_subscription(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<CreateOrder>,
) -> Result<Json<OrderCreated>, CheckoutError> {
    let key = idempotency_key(&headers)?;
    let hash = request_hash(&body);
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    if let Some((_, order_id)) = repo::find_idempotent(&tx, &key).await? {
        return Ok(Json(OrderCreated { order_id, status: "accepted" }));
    }
    let order = pending_from(body);
    repo::insert_pending(&tx, &key, &hash, &order).await?;
    tx.commit().await?;

    let placed = saga::start_subscription(&state, &order).await?;
    let tx = conn.transaction().await?;
    repo::confirm_with_event(&tx, &order, placed.payment_id, placed.shipment_id).await?;
    tx.commit().await?;
    Ok(Json(OrderCreated { order_id: order.id, status: "confirmed" }))
}

/// Customer-initiated cancellation before dispatch. Safe to retry: the status
/// guard makes the second call a no-op and no second event is written.
async fn cancel_order(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderCreated>, CheckoutError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let changed = repo::cancel_with_event(&tx, id, "customer_request").await?;
    tx.commit().await?;
    tracing::info!(order_id = %id, changed, "cancel requested");
    Ok(Json(OrderCreated { order_id: id, status: "cancelled" }))
}

async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<serde_json::Value>, CheckoutError> {
    let conn = state.pool.get().await?;
    let row = conn
        .query_one(
            "SELECT id, status, total_cents, currency, created_at::text FROM orders WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(Json(serde_json::json!({
        "id": row.get::<_, Uuid>(0),
        "status": row.get::<_, String>(1),
        "total_cents": row.get::<_, i64>(2),
        "currency": row.get::<_, String>(3),
        "created_at": row.get::<_, String>(4),
    })))
}

fn pending_from(body: CreateOrder) -> saga::PendingOrder {
    let total_cents = body
        .lines
        .iter()
        .map(|l| l.unit_price_cents * i64::from(l.quantity))
        .sum();
    saga::PendingOrder {
        id: Uuid::new_v4(),
        customer_id: body.customer_id,
        customer_email: body.customer_email,
        shipping_country: body.shipping_country,
        shipping_address: body.shipping_address,
        payment_method_token: body.payment_method_token,
        lines: body.lines,
        total_cents,
        currency: body.currency,
    }
}
