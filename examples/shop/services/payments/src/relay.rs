//! Publishes committed outbox rows to Kafka and marks them published. Rows are claimed with
//! `FOR UPDATE SKIP LOCKED` so replicas do not publish the same row at the same time.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::PgPool;

pub async fn run(pool: PgPool) -> anyhow::Result<()> {
    let brokers = std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "kafka:9092".to_string());
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .create()?;
    loop {
        match publish_batch(&pool, &producer).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(250)).await,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "outbox relay failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn publish_batch(pool: &PgPool, producer: &FutureProducer) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT id, topic, payload FROM outbox WHERE published_at IS NULL \
         ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    let count = rows.len();
    for (id, topic, payload) in rows {
        let body = serde_json::to_vec(&payload)?;
        let key = id.to_string();
        producer
            .send(
                FutureRecord::to(&topic).key(&key).payload(&body),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(error, _)| error)?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(count)
}
