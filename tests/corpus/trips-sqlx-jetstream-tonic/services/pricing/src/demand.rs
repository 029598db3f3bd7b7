//! Keeps a demand snapshot per trip from booking confirmations (last write wins).

use async_nats::jetstream::{self, consumer::pull};
use common::{events::BookingConfirmed, subjects, Envelope};
use futures::StreamExt;
use sqlx::PgPool;

pub async fn consume(js: jetstream::Context, db: PgPool) -> anyhow::Result<()> {
    let consumer = js
        .create_consumer_on_stream(
            pull::Config { durable_name: Some("pricing-demand".into()), filter_subject: subjects::BOOKING_CONFIRMED.into(), ..Default::default() },
            subjects::STREAM_BOOKING,
        )
        .await?;
    let mut msgs = consumer.messages().await?;
    while let Some(Ok(msg)) = msgs.next().await {
        let evt: Envelope<BookingConfirmed> = serde_json::from_slice(&msg.payload)?;
        sqlx::query(
            "INSERT INTO demand_snapshots (trip_id, last_seats, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (trip_id) DO UPDATE SET last_seats = EXCLUDED.last_seats, updated_at = EXCLUDED.updated_at
             WHERE demand_snapshots.updated_at < EXCLUDED.updated_at",
        )
        .bind(evt.payload.trip_id)
        .bind(evt.payload.seats as i32)
        .bind(evt.meta.occurred_at)
        .execute(&db)
        .await?;
        msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}
