//! Projects confirmed bookings into the ledger. Uses an explicit `fetch()` batch loop so the
//! projector can commit a batch at a time.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use common::{events::BookingConfirmed, subjects, Envelope};
use futures::TryStreamExt;
use sqlx::PgPool;

pub struct LedgerProjector {
    db: PgPool,
}

impl LedgerProjector {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }

    pub async fn run(self, js: jetstream::Context) -> anyhow::Result<()> {
        let consumer: PullConsumer = js
            .get_stream(subjects::STREAM_BOOKING)
            .await?
            .get_consumer("payments-ledger")
            .await?;
        loop {
            let mut batch = consumer
                .fetch()
                .max_messages(50)
                .expires(Duration::from_secs(5))
                .messages()
                .await?;
            while let Some(msg) = batch.try_next().await.map_err(|e| anyhow::anyhow!(e))? {
                let evt: Envelope<BookingConfirmed> = serde_json::from_slice(&msg.payload)?;
                self.record(&evt.payload).await?;
                msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
            }
        }
    }

    async fn record(&self, evt: &BookingConfirmed) -> sqlx::Result<()> {
        sqlx::query!(
            "INSERT INTO ledger_entries (booking_id, kind, amount_minor) VALUES ($1, 'sale', $2)",
            evt.booking_id,
            evt.total.minor_units()
        )
        .execute(&self.db)
        .await?;
        Ok(())
    }
}
