use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client as SqsClient;
use serde::Deserialize;
use travel_core::commands::{CommandEnvelope, FlightCommand};
use tracing::{info, warn};
use uuid::Uuid;

use super::{BookingContext, SagaStep};

/// Holds seats by sending a command to the flights service's queue.
pub struct HoldSeatsStep {
    pub sqs: SqsClient,
    pub queue_url: String,
}

#[async_trait]
impl SagaStep for HoldSeatsStep {
    fn name(&self) -> &'static str {
        "hold-seats"
    }

    async fn execute(&self, ctx: &mut BookingContext) -> anyhow::Result<()> {
        let hold_id = Uuid::new_v4();
        let cmd = CommandEnvelope::new(FlightCommand::HoldSeats {
            hold_id,
            booking_id: ctx.booking_id,
            flight_id: ctx.flight_id,
            fare_class: ctx.fare_class.clone(),
            seats: ctx.seats,
            travel_date: ctx.check_in,
        });
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(ctx.booking_id.to_string())
            .message_deduplication_id(hold_id.to_string())
            .message_body(serde_json::to_string(&cmd)?)
            .send()
            .await?;
        ctx.flight_hold_id = Some(hold_id);
        Ok(())
    }

    async fn compensate(&self, ctx: &BookingContext) -> anyhow::Result<()> {
        let Some(hold_id) = ctx.flight_hold_id else { return Ok(()) };
        let cmd = CommandEnvelope::new(FlightCommand::ReleaseSeats { hold_id });
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(ctx.booking_id.to_string())
            .message_deduplication_id(format!("release-{hold_id}"))
            .message_body(serde_json::to_string(&cmd)?)
            .send()
            .await?;
        Ok(())
    }
}

#[derive(Deserialize)]
struct ChargeCreated {
    charge_id: Uuid,
}

/// Charges the customer's card through billing.
pub struct ChargeCardStep {
    pub http: reqwest::Client,
    pub billing_url: String,
}

#[async_trait]
impl SagaStep for ChargeCardStep {
    fn name(&self) -> &'static str {
        "charge-card"
    }

    async fn execute(&self, ctx: &mut BookingContext) -> anyhow::Result<()> {
        let created: ChargeCreated = self
            .http
            .post(format!("{}/v1/charges", self.billing_url))
            .header("Idempotency-Key", format!("booking-{}", ctx.booking_id))
            .json(&serde_json::json!({
                "booking_id": ctx.booking_id,
                "amount_minor": ctx.amount_minor,
                "currency": ctx.currency,
                "card_token": ctx.card_token,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ctx.charge_id = Some(created.charge_id);
        Ok(())
    }

    async fn compensate(&self, ctx: &BookingContext) -> anyhow::Result<()> {
        // Refunds go through finance's manual review queue for now (FIN-212).
        info!(booking_id = %ctx.booking_id, charge_id = ?ctx.charge_id, "charge left for manual refund");
        Ok(())
    }
}

#[derive(Deserialize)]
struct RoomHold {
    hold_id: Uuid,
}

/// Holds the hotel room. Hotels answers 409 while its channel manager syncs,
/// so retry a few times.
pub struct HoldRoomStep {
    pub http: reqwest::Client,
    pub hotels_url: String,
}

#[async_trait]
impl SagaStep for HoldRoomStep {
    fn name(&self) -> &'static str {
        "hold-room"
    }

    async fn execute(&self, ctx: &mut BookingContext) -> anyhow::Result<()> {
        let mut attempt = 0u32;
        loop {
            let resp = self
                .http
                .post(format!("{}/v1/holds", self.hotels_url))
                .header("Idempotency-Key", format!("room-{}", ctx.booking_id))
                .json(&serde_json::json!({
                    "booking_id": ctx.booking_id,
                    "hotel_id": ctx.hotel_id,
                    "check_in": ctx.check_in,
                    "check_out": ctx.check_out,
                }))
                .send()
                .await?;
            if resp.status() == reqwest::StatusCode::CONFLICT && attempt < 3 {
                attempt += 1;
                warn!(booking_id = %ctx.booking_id, attempt, "hotel busy, retrying");
                std::thread::sleep(Duration::from_millis(300 * u64::from(attempt)));
                continue;
            }
            let hold: RoomHold = resp.error_for_status()?.json().await?;
            ctx.room_hold_id = Some(hold.hold_id);
            return Ok(());
        }
    }

    async fn compensate(&self, ctx: &BookingContext) -> anyhow::Result<()> {
        if let Some(hold_id) = ctx.room_hold_id {
            self.http
                .delete(format!("{}/v1/holds/{hold_id}", self.hotels_url))
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }
}
