use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::Utc;
use events::{subjects, LineItem, OrderEvent};
use pricing_proto::v1::{LockQuoteRequest, QuoteLine, ReleaseQuoteRequest};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{idempotency_keys, order_items, orders, outbox};
use crate::error::AppError;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct CreateOrder {
    pub customer_id: Uuid,
    pub customer_email: String,
    pub currency: String,
    pub items: Vec<LineItem>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<String, AppError> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| AppError::BadRequest("Idempotency-Key header is required".into()))
}

/// Places an order. The order, its items, the OrderPlaced event (outbox) and the client's
/// idempotency key are written in one transaction; a replayed key returns the original order.
pub async fn create_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<CreateOrder>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let key = idempotency_key(&headers)?;
    if let Some(existing) = idempotency_keys::Entity::find_by_id(key.clone()).one(&state.db).await? {
        return Ok((StatusCode::OK, Json(serde_json::json!({ "id": existing.order_id }))));
    }

    let order_id = Uuid::new_v4();
    let total_minor: i64 = req.items.iter().map(|i| i.unit_price_minor * i64::from(i.quantity)).sum();

    let txn = state.db.begin().await?;
    orders::ActiveModel {
        id: Set(order_id),
        customer_id: Set(req.customer_id),
        customer_email: Set(req.customer_email.clone()),
        status: Set("placed".into()),
        total_minor: Set(total_minor),
        currency: Set(req.currency.clone()),
        created_at: Set(Utc::now().into()),
    }
    .insert(&txn)
    .await?;

    order_items::Entity::insert_many(req.items.iter().map(|i| order_items::ActiveModel {
        order_id: Set(order_id),
        sku: Set(i.sku.clone()),
        quantity: Set(i.quantity),
        unit_price_minor: Set(i.unit_price_minor),
        ..Default::default()
    }))
    .exec(&txn)
    .await?;

    let event = OrderEvent::OrderPlaced {
        order_id,
        customer_id: req.customer_id,
        items: req.items,
        total_minor,
        currency: req.currency,
        placed_at: Utc::now(),
    };
    outbox::ActiveModel {
        subject: Set(subjects::ORDER_EVENTS.to_owned()),
        payload: Set(serde_json::to_value(&event).map_err(anyhow::Error::from)?),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    idempotency_keys::ActiveModel {
        key: Set(key),
        order_id: Set(order_id),
        created_at: Set(Utc::now().into()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;

    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": order_id }))))
}

pub async fn get_order(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Json<serde_json::Value>, AppError> {
    let (order, items) = orders::Entity::find_by_id(id)
        .find_with_related(order_items::Entity)
        .all(&state.db)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(Json(serde_json::json!({ "order": order, "items": items })))
}

/// Claims a request key; `false` means this request was already handled.
async fn claim_key<C: ConnectionTrait>(db: &C, key: String, order_id: Uuid) -> Result<bool, AppError> {
    let res = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
        key: Set(key),
        order_id: Set(order_id),
        created_at: Set(Utc::now().into()),
    })
    .on_conflict(OnConflict::column(idempotency_keys::Column::Key).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(res == 1)
}

async fn load_order(db: &DatabaseConnection, id: Uuid) -> Result<(orders::Model, Vec<order_items::Model>), AppError> {
    let order = orders::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let items = order_items::Entity::find()
        .filter(order_items::Column::OrderId.eq(id))
        .all(db)
        .await?;
    Ok((order, items))
}

fn quote_request(order: &orders::Model, items: &[order_items::Model]) -> LockQuoteRequest {
    LockQuoteRequest {
        order_id: order.id.to_string(),
        currency: order.currency.clone(),
        lines: items
            .iter()
            .map(|i| QuoteLine { sku: i.sku.clone(), quantity: i.quantity })
            .collect(),
    }
}

/// One-click purchase for saved cards: lock the price, then charge it right away.
pub async fn instant_buy(
    State(state): State<AppState>,
    Path(order_id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AppError> {
    if !claim_key(&state.db, idempotency_key(&headers)?, order_id).await? {
        return Ok(Json(serde_json::json!({ "status": "duplicate" })));
    }
    let (order, items) = load_order(&state.db, order_id).await?;

    let mut pricing = state.pricing.clone();
    let quote = pricing.lock_quote(quote_request(&order, &items)).await?.into_inner();

    let resp = state
        .http
        .post(format!("{}/payments", state.payments_url))
        .json(&serde_json::json!({
            "order_id": order_id,
            "amount_minor": quote.total_minor,
            "currency": quote.currency,
            "quote_id": quote.quote_id,
        }))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(AppError::Upstream(format!("payment declined: {}", resp.status())));
    }

    orders::ActiveModel { id: Set(order_id), status: Set("paid".into()), ..Default::default() }
        .update(&state.db)
        .await?;
    Ok(Json(serde_json::json!({ "status": "paid", "quote_id": quote.quote_id })))
}

/// Re-prices an unpaid order (e.g. after a promotion) and adjusts the authorised amount.
pub async fn reprice(
    State(state): State<AppState>,
    Path(order_id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, AppError> {
    if !claim_key(&state.db, idempotency_key(&headers)?, order_id).await? {
        return Ok(Json(serde_json::json!({ "status": "duplicate" })));
    }
    let (order, items) = load_order(&state.db, order_id).await?;

    let mut pricing = state.pricing.clone();
    let quote = pricing.lock_quote(quote_request(&order, &items)).await?.into_inner();

    let adjusted = state
        .http
        .put(format!("{}/payments/{}/authorization", state.payments_url, order_id))
        .json(&serde_json::json!({ "amount_minor": quote.total_minor }))
        .send()
        .await
        .and_then(|r| r.error_for_status());
    if let Err(err) = adjusted {
        tracing::warn!(%order_id, error = %err, "authorization adjustment failed, releasing quote");
        pricing
            .release_quote(ReleaseQuoteRequest { quote_id: quote.quote_id.clone() })
            .await?;
        return Err(AppError::Upstream(err.to_string()));
    }

    // The quote and the authorisation already hold the new total: a failed save is left to
    // the nightly reconciliation, which copies the locked quote's total onto the order.
    if let Err(err) = (orders::ActiveModel {
        id: Set(order_id),
        total_minor: Set(quote.total_minor),
        ..Default::default()
    })
    .update(&state.db)
    .await
    {
        tracing::error!(%order_id, error = %err, "order total not saved; reconciliation will copy it");
    }
    Ok(Json(serde_json::json!({ "total_minor": quote.total_minor })))
}
