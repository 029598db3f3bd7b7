use fleet_events::{Envelope, VEHICLE_EVENTS_SUBJECT};
use poem::http::StatusCode;
use poem::web::{Data, Json, Path};
use poem::{handler, Error, Request, Result};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Ctx;

#[derive(Deserialize)]
pub struct ReserveRequest {
    shipment_id: Uuid,
    vehicle_class: String,
}

#[derive(Serialize)]
pub struct ReserveResponse {
    reservation_id: Uuid,
    vehicle_id: Uuid,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum VehicleEvent {
    Reserved { vehicle_id: Uuid, shipment_id: Uuid },
}

fn db_err(e: sqlx::Error) -> Error {
    Error::from_string(e.to_string(), StatusCode::INTERNAL_SERVER_ERROR)
}

#[handler]
pub async fn reserve(
    req: &Request,
    Data(ctx): Data<&Ctx>,
    Json(body): Json<ReserveRequest>,
) -> Result<Json<ReserveResponse>> {
    let key = req
        .header("Idempotency-Key")
        .ok_or_else(|| Error::from_status(StatusCode::BAD_REQUEST))?
        .to_owned();

    let mut tx = ctx.db.begin().await.map_err(db_err)?;

    if let Some((rid, vid)) = sqlx::query_as::<_, (Uuid, Uuid)>(
        "SELECT id, vehicle_id FROM reservations WHERE idempotency_key = ?",
    )
    .bind(&key)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    {
        return Ok(Json(ReserveResponse { reservation_id: rid, vehicle_id: vid }));
    }

    let vehicle_id: Uuid = sqlx::query_scalar(
        "SELECT id FROM vehicles WHERE class = ? AND status = 'available' LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(&body.vehicle_class)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::from_status(StatusCode::CONFLICT))?;

    let reservation_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO reservations (id, vehicle_id, shipment_id, idempotency_key) VALUES (?, ?, ?, ?)",
    )
    .bind(reservation_id)
    .bind(vehicle_id)
    .bind(body.shipment_id)
    .bind(&key)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    sqlx::query("UPDATE vehicles SET status = 'reserved' WHERE id = ?")
        .bind(vehicle_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;

    let event = Envelope::v1(VehicleEvent::Reserved { vehicle_id, shipment_id: body.shipment_id });
    if let Err(e) = ctx
        .nats
        .publish(VEHICLE_EVENTS_SUBJECT, serde_json::to_vec(&event).unwrap().into())
        .await
    {
        tracing::warn!(error = %e, %vehicle_id, "failed to publish vehicle.reserved");
    }

    Ok(Json(ReserveResponse { reservation_id, vehicle_id }))
}

#[handler]
pub async fn release(Data(ctx): Data<&Ctx>, Path(id): Path<Uuid>) -> Result<StatusCode> {
    let mut tx = ctx.db.begin().await.map_err(db_err)?;
    let vehicle: Option<Uuid> = sqlx::query_scalar(
        "SELECT vehicle_id FROM reservations WHERE id = ? AND released_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err)?;
    let Some(vehicle_id) = vehicle else {
        return Ok(StatusCode::NOT_FOUND);
    };
    sqlx::query("UPDATE reservations SET released_at = NOW() WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    sqlx::query("UPDATE vehicles SET status = 'available' WHERE id = ?")
        .bind(vehicle_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct OdometerReading {
    reading_id: Uuid,
    delta_km: i32,
}

/// Telematics units post deltas and retry on timeout; the reading id makes
/// the retry harmless.
#[handler]
pub async fn record_odometer(
    Data(ctx): Data<&Ctx>,
    Path(vehicle_id): Path<Uuid>,
    Json(r): Json<OdometerReading>,
) -> Result<StatusCode> {
    let mut tx = ctx.db.begin().await.map_err(db_err)?;
    let inserted = sqlx::query(
        "INSERT IGNORE INTO odometer_readings (vehicle_id, reading_id, delta_km, recorded_at) \
         VALUES (?, ?, ?, NOW())",
    )
    .bind(vehicle_id)
    .bind(r.reading_id)
    .bind(r.delta_km)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    if inserted == 1 {
        sqlx::query("UPDATE vehicles SET odometer_km = odometer_km + ? WHERE id = ?")
            .bind(r.delta_km)
            .bind(vehicle_id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Deserialize)]
pub struct TripDistance {
    km: i64,
}

/// Called by drivers' app at the end of a trip.
#[handler]
pub async fn add_trip_distance(
    Data(ctx): Data<&Ctx>,
    Path(vehicle_id): Path<Uuid>,
    Json(t): Json<TripDistance>,
) -> Result<StatusCode> {
    sqlx::query("UPDATE vehicles SET odometer_km = odometer_km + ?, next_service_km = next_service_km WHERE id = ?")
        .bind(t.km)
        .bind(vehicle_id)
        .execute(&ctx.db)
        .await
        .map_err(db_err)?;
    Ok(StatusCode::NO_CONTENT)
}
