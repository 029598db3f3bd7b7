use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use futures::FutureExt;
use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use fleet_events::{Envelope, ShipmentEvent, SHIPMENT_EVENTS_SUBJECT};

use crate::countries;
use crate::saga::UndoStack;
use crate::AppState;

#[derive(Debug, Deserialize)]
pub struct NewShipment {
    pub customer_id: Uuid,
    pub origin_country: String,
    pub destination_country: String,
    pub vehicle_class: String,
    pub quoted_amount: Decimal,
    pub currency: String,
}

type ApiResult<T> = Result<T, (StatusCode, String)>;

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

pub async fn create_shipment(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(req): Json<NewShipment>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let key = headers
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or((StatusCode::BAD_REQUEST, "Idempotency-Key required".into()))?
        .to_owned();

    if let Some(existing) = sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM shipments WHERE idempotency_key = $1",
    )
    .bind(&key)
    .fetch_optional(&state.db)
    .await
    .map_err(internal)?
    {
        return Ok((StatusCode::OK, Json(serde_json::json!({ "id": existing }))));
    }

    if !countries::is_operated(&req.origin_country)
        || !countries::is_operated(&req.destination_country)
    {
        return Err((StatusCode::UNPROCESSABLE_ENTITY, "lane not operated".into()));
    }

    let shipment_id = Uuid::new_v4();
    let mut undo = UndoStack::default();

    // step 1: hold a vehicle
    let reservation = match state.fleet.reserve_vehicle(shipment_id, &req.vehicle_class).await {
        Ok(r) => r,
        Err(e) => return Err((StatusCode::CONFLICT, e.to_string())),
    };
    {
        let fleet = state.fleet.clone();
        let rid = reservation.reservation_id;
        undo.push("release_vehicle", move || {
            async move { fleet.release_vehicle(rid).await.map_err(Into::into) }.boxed()
        });
    }

    // step 2: authorize payment
    let auth = match state
        .billing
        .authorize(req.customer_id, req.quoted_amount, &req.currency)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            undo.unwind().await;
            return Err((StatusCode::PAYMENT_REQUIRED, e.to_string()));
        }
    };
    {
        let billing = state.billing.clone();
        let aid = auth.authorization_id;
        undo.push("void_authorization", move || {
            async move { billing.void(aid).await.map_err(Into::into) }.boxed()
        });
    }

    // step 3: persist locally together with the outbox row
    let persisted: anyhow::Result<()> = async {
        let mut tx = state.db.begin().await?;
        sqlx::query(
            "INSERT INTO shipments (id, customer_id, origin_country, destination_country, \
             vehicle_id, authorization_id, status, idempotency_key) \
             VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7)",
        )
        .bind(shipment_id)
        .bind(req.customer_id)
        .bind(&req.origin_country)
        .bind(&req.destination_country)
        .bind(reservation.vehicle_id)
        .bind(auth.authorization_id)
        .bind(&key)
        .execute(&mut *tx)
        .await?;

        let event = Envelope::v1(ShipmentEvent::Created {
            shipment_id,
            customer_id: req.customer_id,
            origin_country: req.origin_country.clone(),
            destination_country: req.destination_country.clone(),
        });
        sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
            .bind(SHIPMENT_EVENTS_SUBJECT)
            .bind(serde_json::to_value(&event)?)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
    .await;

    if let Err(e) = persisted {
        undo.unwind().await;
        return Err(internal(e));
    }
    undo.commit();

    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": shipment_id }))))
}

#[derive(Debug, Deserialize)]
pub struct Reassign {
    pub old_reservation_id: Uuid,
    pub vehicle_class: String,
}

/// Swap the vehicle on a scheduled shipment (breakdowns, driver no-shows).
pub async fn reassign_vehicle(
    State(state): State<Arc<AppState>>,
    Path(shipment_id): Path<Uuid>,
    Json(req): Json<Reassign>,
) -> ApiResult<StatusCode> {
    state
        .fleet
        .release_vehicle(req.old_reservation_id)
        .await
        .map_err(internal)?;

    let reservation = state
        .fleet
        .reserve_vehicle(shipment_id, &req.vehicle_class)
        .await
        .map_err(internal)?;

    state
        .tracking
        .assign_vehicle(shipment_id, reservation.vehicle_id)
        .await
        .map_err(internal)?;

    sqlx::query("UPDATE shipments SET vehicle_id = $1 WHERE id = $2")
        .bind(reservation.vehicle_id)
        .bind(shipment_id)
        .execute(&state.db)
        .await
        .map_err(internal)?;

    Ok(StatusCode::NO_CONTENT)
}

/// Publishes outbox rows. Dispatch has no direct broker client: rows are
/// forwarded to tracking's ingest endpoint, which fans them out on NATS.
pub async fn relay_outbox(state: Arc<AppState>) {
    let http = reqwest::Client::new();
    loop {
        let rows: Vec<(i64, String, serde_json::Value)> = match sqlx::query_as(
            "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100",
        )
        .fetch_all(&state.db)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "outbox poll failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        for (id, subject, payload) in rows {
            let ok = http
                .post(format!("{}/ingest/{}", state.tracking_base(), subject))
                .json(&payload)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if !ok {
                break;
            }
            let _ = sqlx::query("UPDATE outbox SET published_at = now() WHERE id = $1")
                .bind(id)
                .execute(&state.db)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

impl AppState {
    fn tracking_base(&self) -> &str {
        self.tracking.base()
    }
}
