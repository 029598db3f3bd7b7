//! Follows the shipping service's `shipments.scheduled` events to show the order as shipping.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::Message;
use serde::Deserialize;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct ShipmentScheduled {
    event_id: Uuid,
    order_id: Uuid,
}

pub async fn run(pool: PgPool) -> anyhow::Result<()> {
    let brokers = std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "kafka:9092".to_string());
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "orders")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&["shipments.scheduled"])?;
    loop {
        let message = consumer.recv().await?;
        if let Some(payload) = message.payload() {
            if let Err(error) = on_shipment_scheduled(&pool, payload).await {
                tracing::error!(%error, "shipment event not applied");
                continue;
            }
        }
        consumer.commit_message(&message, CommitMode::Async)?;
    }
}

async fn on_shipment_scheduled(pool: &PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: ShipmentScheduled = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let first = sqlx::query(
        "INSERT INTO processed_messages (message_id) VALUES ($1) ON CONFLICT DO NOTHING",
    )
    .bind(event.event_id)
    .execute(&mut *tx)
    .await?;
    if first.rows_affected() == 1 {
        sqlx::query("UPDATE orders SET status = 'shipping' WHERE id = $1")
            .bind(event.order_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
