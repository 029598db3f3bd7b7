use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use common::amqp::publish_json;
use common::events::{OrderCancelled, OrderLine, OrderPlaced};
use common::Envelope;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::{NewOrder, NewOutboxMessage, Order, OrderLineRow, ShippingAddress};
use crate::schema::{idempotency_keys, order_lines, orders, outbox};
use crate::saga;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct NewOrderRequest {
    pub customer_id: Uuid,
    pub currency: String,
    pub lines: Vec<OrderLine>,
}

#[post("/orders")]
pub async fn create_order(
    state: web::Data<AppState>,
    body: web::Json<NewOrderRequest>,
) -> Result<HttpResponse, ApiError> {
    if body.lines.is_empty() {
        return Err(ApiError::BadRequest("an order needs at least one line".into()));
    }
    let order_id = Uuid::new_v4();
    let total_cents: i64 = body
        .lines
        .iter()
        .map(|l| l.unit_price_cents * i64::from(l.quantity))
        .sum();
    let rows: Vec<OrderLineRow> = body
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| OrderLineRow {
            order_id,
            line_no: i as i32 + 1,
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price_cents: l.unit_price_cents,
        })
        .collect();

    let mut conn = state.pool.get().await?;
    let currency = body.currency.clone();
    let customer_id = body.customer_id;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            diesel::insert_into(orders::table)
                .values(&NewOrder { id: order_id, customer_id, total_cents, currency: &currency })
                .execute(conn)
                .await?;
            diesel::insert_into(order_lines::table)
                .values(&rows)
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;

    let event = OrderPlaced {
        order_id,
        customer_id: body.customer_id,
        lines: body.lines.clone(),
        total_cents,
        currency: body.currency.clone(),
        placed_at: Utc::now(),
    };
    publish_json(&state.channel, "orders", "order.placed", &event).await?;

    Ok(HttpResponse::Created().json(serde_json::json!({ "id": order_id, "status": "pending" })))
}

#[derive(Debug, Deserialize)]
pub struct CancelRequest {
    pub reason: String,
}

/// Cancelling twice is a no-op: the status transition only matches a non-cancelled order, and
/// the event is only queued when the transition happened.
#[post("/orders/{id}/cancel")]
pub async fn cancel_order(
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path.into_inner();
    let reason = body.into_inner().reason;
    let mut conn = state.pool.get().await?;

    let cancelled = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            async move {
                let updated = diesel::update(
                    orders::table
                        .filter(orders::id.eq(order_id))
                        .filter(orders::status.ne_all(vec!["cancelled", "shipped"])),
                )
                .set((orders::status.eq("cancelled"), orders::updated_at.eq(Utc::now())))
                .execute(conn)
                .await?;
                if updated == 0 {
                    return Ok(false);
                }

                let lines: Vec<OrderLineRow> = order_lines::table
                    .filter(order_lines::order_id.eq(order_id))
                    .select(OrderLineRow::as_select())
                    .load(conn)
                    .await?;
                let event = Envelope::new(
                    "order.cancelled",
                    1,
                    OrderCancelled {
                        order_id,
                        lines: lines
                            .into_iter()
                            .map(|l| OrderLine { sku: l.sku, quantity: l.quantity, unit_price_cents: l.unit_price_cents })
                            .collect(),
                        reason,
                    },
                );
                diesel::insert_into(outbox::table)
                    .values(&NewOutboxMessage {
                        exchange: "orders",
                        routing_key: "order.cancelled",
                        payload: serde_json::to_value(&event).expect("event serializes"),
                    })
                    .execute(conn)
                    .await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await?;

    if cancelled {
        Ok(HttpResponse::Accepted().finish())
    } else {
        Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "unchanged" })))
    }
}

#[derive(Debug, Deserialize)]
pub struct CheckoutRequest {
    pub address: ShippingAddress,
}

/// Claims the client's Idempotency-Key; a retry with the same key gets 409 instead of running the
/// saga a second time.
async fn claim_idempotency_key(
    conn: &mut AsyncPgConnection,
    req: &HttpRequest,
    order_id: Uuid,
) -> Result<(), ApiError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::BadRequest("Idempotency-Key header is required".into()))?;
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((idempotency_keys::key.eq(key), idempotency_keys::order_id.eq(order_id)))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 0 {
        return Err(ApiError::Conflict(format!("request {key} already processed")));
    }
    Ok(())
}

async fn load_order(conn: &mut AsyncPgConnection, order_id: Uuid) -> Result<(Order, Vec<OrderLineRow>), ApiError> {
    let order: Order = orders::table
        .find(order_id)
        .select(Order::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(ApiError::NotFound)?;
    let lines = order_lines::table
        .filter(order_lines::order_id.eq(order_id))
        .order(order_lines::line_no)
        .select(OrderLineRow::as_select())
        .load(conn)
        .await?;
    Ok((order, lines))
}

#[post("/orders/{id}/checkout")]
pub async fn checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    claim_idempotency_key(&mut conn, &req, order_id).await?;
    let (order, lines) = load_order(&mut conn, order_id).await?;

    let outcome = saga::place_order_saga(&state.clients, &order, &lines, &body.address).await?;

    diesel::update(orders::table.find(order_id))
        .set((orders::status.eq("confirmed"), orders::updated_at.eq(Utc::now())))
        .execute(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[post("/orders/{id}/express-checkout")]
pub async fn express_checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let order_id = path.into_inner();
    let mut conn = state.pool.get().await?;
    claim_idempotency_key(&mut conn, &req, order_id).await?;
    let (order, lines) = load_order(&mut conn, order_id).await?;

    let receipt = saga::express::express_checkout(&state.clients, &order, &lines).await?;

    diesel::update(orders::table.find(order_id))
        .set((orders::status.eq("paid"), orders::updated_at.eq(Utc::now())))
        .execute(&mut conn)
        .await?;
    Ok(HttpResponse::Ok().json(receipt))
}

#[get("/orders/{id}")]
pub async fn get_order(state: web::Data<AppState>, path: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let (order, lines) = load_order(&mut conn, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "order": order, "lines": lines })))
}
