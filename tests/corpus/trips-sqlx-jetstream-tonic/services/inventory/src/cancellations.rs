//! Pull consumer on booking cancellations: drop the hold on the booking's seats.

use async_nats::jetstream::{self, consumer::pull, AckKind};
use common::{events::BookingCancelled, subjects, Envelope};
use futures::StreamExt;
use sqlx::PgPool;

const DURABLE: &str = "inventory-booking-cancelled";

pub async fn run(pool: PgPool, js: jetstream::Context) -> anyhow::Result<()> {
    let stream = js.get_stream(subjects::STREAM_BOOKING).await?;
    let consumer = stream
        .get_or_create_consumer(
            DURABLE,
            pull::Config {
                durable_name: Some(DURABLE.into()),
                filter_subject: subjects::BOOKING_CANCELLED.into(),
                max_deliver: 10,
                ..Default::default()
            },
        )
        .await?;

    let mut messages = consumer.messages().await?;
    while let Some(msg) = messages.next().await {
        let msg = msg?;
        match serde_json::from_slice::<Envelope<BookingCancelled>>(&msg.payload) {
            Ok(evt) => {
                sqlx::query("UPDATE reservations SET status = 'cancelled' WHERE booking_id = $1 AND status = 'held'")
                    .bind(evt.payload.booking_id)
                    .execute(&pool)
                    .await?;
                msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
            }
            Err(e) => {
                tracing::warn!(error = %e, "poison message");
                msg.ack_with(AckKind::Term).await.map_err(|e| anyhow::anyhow!(e))?;
            }
        }
    }
    Ok(())
}
