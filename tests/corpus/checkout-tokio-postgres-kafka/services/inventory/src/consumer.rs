//! Marketplace orders arrive as events; we hold stock for them and give it back
//! when the marketplace cancels.

use std::time::Duration;

use common::envelope::EnvelopeHeader;
use common::events::{MarketplaceOrderCancelled, MarketplaceOrderPlaced, MARKETPLACE_ORDERS_TOPIC};
use common::Envelope;
use deadpool_postgres::Pool;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Message};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::repo;

const CONSUMER_NAME: &str = "inventory.marketplace-orders";

pub async fn run(pool: Pool, group_id: String, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    let consumer: StreamConsumer = common::kafka::consumer(&group_id, &[MARKETPLACE_ORDERS_TOPIC])?;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                info!("marketplace consumer stopping");
                return Ok(());
            }
            msg = consumer.recv() => {
                let msg = match msg {
                    Ok(m) => m,
                    Err(e) => {
                        warn!(error = %e, "kafka receive error");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                match handle(&pool, &msg).await {
                    Ok(()) => consumer.commit_message(&msg, CommitMode::Async)?,
                    Err(e) => {
                        error!(error = %e, offset = msg.offset(), "handling failed; will be redelivered");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                }
            }
        }
    }
}

async fn handle(pool: &Pool, msg: &BorrowedMessage<'_>) -> anyhow::Result<()> {
    let Some(bytes) = msg.payload() else { return Ok(()) };
    let header: EnvelopeHeader = serde_json::from_slice(bytes)?;

    let mut conn = pool.get().await?;
    let tx = conn.transaction().await?;

    let fresh = tx
        .execute(
            "INSERT INTO processed_messages (message_id, consumer) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&header.event_id, &CONSUMER_NAME],
        )
        .await?;
    if fresh == 0 {
        info!(event_id = %header.event_id, "duplicate delivery, skipping");
        return Ok(());
    }

    match header.event_type.as_str() {
        "MarketplaceOrderPlaced" => {
            let env: Envelope<MarketplaceOrderPlaced> = serde_json::from_slice(bytes)?;
            let reservation_id = uuid::Uuid::new_v4();
            tx.execute(
                "INSERT INTO reservations (id, order_id) VALUES ($1, $2)",
                &[&reservation_id, &env.payload.order_id],
            )
            .await?;
            for line in &env.payload.lines {
                repo::reserve_line(&tx, reservation_id, &line.sku, line.quantity).await?;
            }
        }
        "MarketplaceOrderCancelled" => {
            let env: Envelope<MarketplaceOrderCancelled> = serde_json::from_slice(bytes)?;
            let row = tx
                .query_opt(
                    "SELECT id FROM reservations WHERE order_id = $1",
                    &[&env.payload.order_id],
                )
                .await?;
            if let Some(row) = row {
                repo::release_in_tx(&tx, row.get(0)).await?;
            }
        }
        other => {
            info!(event_type = other, "ignoring event");
        }
    }
    tx.commit().await?;
    Ok(())
}
