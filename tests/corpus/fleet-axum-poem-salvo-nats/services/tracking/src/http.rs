use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Shared;

#[derive(Serialize, sqlx::FromRow)]
struct ShipmentView {
    shipment_id: Uuid,
    customer_id: Uuid,
    status: String,
    vehicle_id: Option<Uuid>,
    last_seen_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Customer-facing "where is my parcel" endpoint.
async fn shipment_view(
    State(s): State<Arc<Shared>>,
    Path(id): Path<Uuid>,
) -> Result<Json<ShipmentView>, StatusCode> {
    sqlx::query_as::<_, ShipmentView>(
        "SELECT s.id AS shipment_id, s.customer_id, s.status, t.vehicle_id, t.last_seen_at \
         FROM shipments s LEFT JOIN shipment_tracking t ON t.shipment_id = s.id \
         WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(&s.db)
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
    .map(Json)
    .ok_or(StatusCode::NOT_FOUND)
}

#[derive(Deserialize)]
struct AssignVehicle {
    vehicle_id: Uuid,
}

async fn assign_vehicle(
    State(s): State<Arc<Shared>>,
    Path(id): Path<Uuid>,
    Json(body): Json<AssignVehicle>,
) -> StatusCode {
    match sqlx::query(
        "INSERT INTO shipment_tracking (shipment_id, vehicle_id) VALUES ($1, $2) \
         ON CONFLICT (shipment_id) DO UPDATE SET vehicle_id = EXCLUDED.vehicle_id",
    )
    .bind(id)
    .bind(body.vehicle_id)
    .execute(&s.db)
    .await
    {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Relay endpoint used by dispatch's outbox poller: forwards the already
/// persisted event onto NATS. Consumers key on the envelope's event_id.
async fn ingest(
    State(s): State<Arc<Shared>>,
    Path(subject): Path<String>,
    body: Bytes,
) -> StatusCode {
    let allowed = subject.starts_with("fleetops.");
    if !allowed {
        return StatusCode::FORBIDDEN;
    }
    match s.nats.publish(subject, body).await {
        Ok(()) => StatusCode::ACCEPTED,
        Err(_) => StatusCode::BAD_GATEWAY,
    }
}

pub async fn serve(shared: Arc<Shared>, port: u16) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/shipments/:id", get(shipment_view))
        .route("/shipments/:id/vehicle", put(assign_vehicle))
        .route("/ingest/:subject", post(ingest))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
