//! Changing the flight of an existing booking: hold the new seats, take the
//! change fee, then let go of the old seats.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use travel_core::commands::{CommandEnvelope, FlightCommand};
use uuid::Uuid;

use crate::api::ApiError;
use crate::App;

#[derive(Debug, Deserialize)]
pub struct ChangeFlight {
    flight_id: i64,
    fare_class: String,
    seats: i32,
    travel_date: chrono::NaiveDate,
    fee_minor: i64,
    currency: String,
    card_token: String,
}

async fn send_command(app: &App, group: Uuid, cmd: FlightCommand) -> anyhow::Result<()> {
    let body = serde_json::to_string(&CommandEnvelope::new(cmd))?;
    app.sqs
        .send_message()
        .queue_url(&app.cfg.queues.flight_commands_url)
        .message_group_id(group.to_string())
        .message_body(body)
        .send()
        .await?;
    Ok(())
}

pub async fn change_flight(
    State(app): State<App>,
    Path(booking_id): Path<Uuid>,
    Json(req): Json<ChangeFlight>,
) -> Result<StatusCode, ApiError> {
    let old_hold = sqlx::query_scalar!(
        "SELECT flight_hold_id FROM bookings WHERE id = $1 AND status = 'confirmed'",
        booking_id
    )
    .fetch_optional(&app.db)
    .await?
    .ok_or(ApiError(StatusCode::NOT_FOUND, "no confirmed booking".into()))?;

    let new_hold = Uuid::new_v4();
    send_command(
        &app,
        booking_id,
        FlightCommand::HoldSeats {
            hold_id: new_hold,
            booking_id,
            flight_id: req.flight_id,
            fare_class: req.fare_class.clone(),
            seats: req.seats,
            travel_date: req.travel_date,
        },
    )
    .await?;

    app.http
        .post(format!("{}/v1/charges", app.cfg.upstreams.billing))
        .header("Idempotency-Key", format!("change-{booking_id}-{new_hold}"))
        .json(&serde_json::json!({
            "booking_id": booking_id,
            "amount_minor": req.fee_minor,
            "currency": req.currency,
            "card_token": req.card_token,
        }))
        .send()
        .await?
        .error_for_status()?;

    if let Some(old) = old_hold {
        send_command(&app, booking_id, FlightCommand::ReleaseSeats { hold_id: old }).await?;
    }

    sqlx::query!(
        "UPDATE bookings SET flight_hold_id = $2, updated_at = now() WHERE id = $1",
        booking_id,
        new_hold
    )
    .execute(&app.db)
    .await?;
    Ok(StatusCode::ACCEPTED)
}
