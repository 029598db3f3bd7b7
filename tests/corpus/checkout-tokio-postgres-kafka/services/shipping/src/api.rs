use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{patch, post};
use axum::{Json, Router};
use rdkafka::producer::FutureRecord;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::events::ShipmentStatusChanged;
use crate::Ctx;

pub fn router(ctx: Ctx) -> Router {
    Router::new()
        .route("/v1/shipments", post(create_shipment))
        .route("/v1/shipments/:id/status", patch(update_status))
        .route("/webhooks/courier", post(courier_webhook))
        .with_state(ctx)
}

type Resp = Result<(StatusCode, Json<Value>), (StatusCode, String)>;

fn err500<E: std::fmt::Display>(e: E) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[derive(Deserialize)]
struct NewShipment {
    order_id: Uuid,
    address: String,
    country: String,
    #[allow(dead_code)]
    items: usize,
}

async fn create_shipment(State(ctx): State<Ctx>, headers: HeaderMap, Json(body): Json<NewShipment>) -> Resp {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or((StatusCode::BAD_REQUEST, "idempotency-key header required".into()))?
        .to_owned();

    let mut conn = ctx.pool.get().await.map_err(err500)?;
    let tx = conn.transaction().await.map_err(err500)?;
    if let Some(row) = tx
        .query_opt("SELECT shipment_id FROM idempotency_keys WHERE key = $1", &[&key])
        .await
        .map_err(err500)?
    {
        let id: Uuid = row.get(0);
        return Ok((StatusCode::OK, Json(json!({ "shipment_id": id }))));
    }

    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO shipments (id, order_id, address, country) VALUES ($1, $2, $3, $4)",
        &[&id, &body.order_id, &body.address, &body.country],
    )
    .await
    .map_err(err500)?;
    tx.execute(
        "INSERT INTO idempotency_keys (key, shipment_id) VALUES ($1, $2)",
        &[&key, &id],
    )
    .await
    .map_err(err500)?;
    tx.commit().await.map_err(err500)?;
    Ok((StatusCode::CREATED, Json(json!({ "shipment_id": id, "tracking_number": null }))))
}

#[derive(Deserialize)]
struct StatusUpdate {
    status: String,
    tracking_number: Option<String>,
}

async fn update_status(
    State(ctx): State<Ctx>,
    Path(id): Path<Uuid>,
    Json(upd): Json<StatusUpdate>,
) -> Resp {
    let conn = ctx.pool.get().await.map_err(err500)?;
    let row = conn
        .query_opt(
            "UPDATE shipments SET status = $2, tracking_number = COALESCE($3, tracking_number) \
             WHERE id = $1 RETURNING order_id",
            &[&id, &upd.status, &upd.tracking_number],
        )
        .await
        .map_err(err500)?
        .ok_or((StatusCode::NOT_FOUND, "unknown shipment".into()))?;
    let order_id: Uuid = row.get(0);

    let event = ShipmentStatusChanged {
        shipment_id: id,
        order_id,
        status: upd.status.clone(),
        tracking_number: upd.tracking_number.clone(),
        changed_at: chrono::Utc::now(),
    };
    let bytes = serde_json::to_vec(&event).map_err(err500)?;
    ctx.producer
        .send(
            FutureRecord::to(&ctx.settings.kafka.status_topic)
                .key(&order_id.to_string())
                .payload(&bytes),
            Duration::from_secs(3),
        )
        .await
        .map_err(|(e, _)| err500(e))?;

    Ok((StatusCode::OK, Json(json!({ "id": id, "status": upd.status }))))
}

#[derive(Deserialize)]
struct CourierEvent {
    tracking_number: String,
    event: String,
}

/// The courier calls this for every scan; deliveries are retried by them until we 2xx.
async fn courier_webhook(State(ctx): State<Ctx>, Json(evt): Json<CourierEvent>) -> Resp {
    if evt.event != "delivered" {
        return Ok((StatusCode::NO_CONTENT, Json(Value::Null)));
    }
    let conn = ctx.pool.get().await.map_err(err500)?;
    conn.execute(
        "UPDATE shipments SET status = 'delivered', delivered_at = COALESCE(delivered_at, now()) \
         WHERE tracking_number = $1",
        &[&evt.tracking_number],
    )
    .await
    .map_err(err500)?;
    Ok((StatusCode::OK, Json(json!({ "ok": true }))))
}
