//! Outbox relay: publishes committed outbox rows, oldest first, and marks them published.

use std::time::Duration;

use diesel::sql_types::{BigInt, Jsonb, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel};

use crate::db::DbPool;

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    exchange: String,
    #[diesel(sql_type = Text)]
    routing_key: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
}

const CLAIM_BATCH: &str = "SELECT id, exchange, routing_key, payload FROM outbox \
     WHERE published_at IS NULL ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED";
const MARK_PUBLISHED: &str = "UPDATE outbox SET published_at = now() WHERE id = $1";

pub async fn run(pool: DbPool, channel: Channel) {
    loop {
        match publish_pending(&pool, &channel).await {
            Ok(0) => tokio::time::sleep(Duration::from_secs(1)).await,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "outbox relay failed");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

async fn publish_pending(pool: &DbPool, channel: &Channel) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let batch: Vec<Pending> = diesel::sql_query(CLAIM_BATCH).load(&mut conn).await?;
    let n = batch.len();
    for row in batch {
        channel
            .basic_publish(
                &row.exchange,
                &row.routing_key,
                BasicPublishOptions::default(),
                &serde_json::to_vec(&row.payload)?,
                BasicProperties::default().with_delivery_mode(2),
            )
            .await?
            .await?;
        diesel::sql_query(MARK_PUBLISHED)
            .bind::<BigInt, _>(row.id)
            .execute(&mut conn)
            .await?;
    }
    Ok(n)
}
