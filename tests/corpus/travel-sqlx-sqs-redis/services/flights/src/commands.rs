//! Worker for the `flights-commands` FIFO queue.

use aws_sdk_sqs::types::Message;
use aws_sdk_sqs::Client;
use sqlx::MySqlPool;
use tokio::sync::watch;
use tracing::{error, info, warn};
use travel_core::commands::{CommandEnvelope, FlightCommand};
use uuid::Uuid;

use crate::Settings;

const HOLD_SEATS_SQL: &str = "UPDATE flight_inventory SET seats_held = seats_held + ? \
     WHERE flight_id = ? AND fare_class = ? AND seats_total - seats_held >= ?";

pub async fn poll(sqs: Client, pool: MySqlPool, settings: Settings, mut stop: watch::Receiver<bool>) {
    loop {
        let received = tokio::select! {
            _ = stop.changed() => break,
            r = sqs
                .receive_message()
                .queue_url(&settings.commands_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(20)
                .send() => r,
        };
        let output = match received {
            Ok(o) => o,
            Err(e) => {
                error!(error = %e, "receive_message failed");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        for msg in output.messages.unwrap_or_default() {
            match handle(&pool, &settings, &msg).await {
                Ok(()) => {
                    if let Some(receipt) = msg.receipt_handle() {
                        if let Err(e) = sqs
                            .delete_message()
                            .queue_url(&settings.commands_queue_url)
                            .receipt_handle(receipt)
                            .send()
                            .await
                        {
                            warn!(error = %e, "delete_message failed; message will be redelivered");
                        }
                    }
                }
                Err(e) => error!(error = %e, message_id = ?msg.message_id(), "command failed"),
            }
        }
    }
    info!("command worker stopped");
}

async fn handle(pool: &MySqlPool, settings: &Settings, msg: &Message) -> anyhow::Result<()> {
    let body = msg.body().unwrap_or_default();
    let envelope: CommandEnvelope<FlightCommand> = serde_json::from_str(body)?;
    match envelope.command {
        FlightCommand::HoldSeats { hold_id, booking_id, flight_id, fare_class, seats, .. } => {
            check_gds(settings, flight_id)?;
            hold_seats(pool, hold_id, booking_id, flight_id, &fare_class, seats).await
        }
        FlightCommand::ReleaseSeats { hold_id } => release_seats(pool, hold_id).await,
    }
}

/// The GDS availability check is a synchronous SDK call; keep it off the reactor.
fn check_gds(settings: &Settings, flight_id: i64) -> anyhow::Result<()> {
    let url = format!("{}/{}", settings.gds_url, flight_id);
    let status = tokio::task::block_in_place(|| ureq::get(&url).call().map(|r| r.status()))?;
    anyhow::ensure!(status == 200, "GDS says flight {flight_id} is not sellable");
    Ok(())
}

async fn hold_seats(
    pool: &MySqlPool,
    hold_id: Uuid,
    booking_id: Uuid,
    flight_id: i64,
    fare_class: &str,
    seats: i32,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let res = sqlx::query(HOLD_SEATS_SQL)
        .bind(seats)
        .bind(flight_id)
        .bind(fare_class)
        .bind(seats)
        .execute(&mut *tx)
        .await?;
    anyhow::ensure!(res.rows_affected() == 1, "not enough seats on {flight_id}/{fare_class}");
    sqlx::query!(
        "INSERT INTO seat_holds (hold_id, booking_id, flight_id, fare_class, seats) VALUES (?, ?, ?, ?, ?)",
        hold_id.to_string(),
        booking_id.to_string(),
        flight_id,
        fare_class,
        seats
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    info!(%hold_id, flight_id, seats, "seats held");
    Ok(())
}

/// Idempotent: the state transition `held -> released` happens once; a
/// redelivered release finds nothing to change and returns.
async fn release_seats(pool: &MySqlPool, hold_id: Uuid) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let hold = sqlx::query!(
        "SELECT flight_id, fare_class, seats FROM seat_holds WHERE hold_id = ? AND status = 'held' FOR UPDATE",
        hold_id.to_string()
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(hold) = hold else {
        return Ok(());
    };
    sqlx::query!("UPDATE seat_holds SET status = 'released' WHERE hold_id = ?", hold_id.to_string())
        .execute(&mut *tx)
        .await?;
    sqlx::query!(
        "UPDATE flight_inventory SET seats_held = seats_held - ? WHERE flight_id = ? AND fare_class = ?",
        hold.seats,
        hold.flight_id,
        hold.fare_class
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
