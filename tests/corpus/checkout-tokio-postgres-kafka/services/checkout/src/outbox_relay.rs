use std::time::Duration;

use deadpool_postgres::Pool;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tracing::{error, warn};

use crate::settings::OutboxSettings;

const CLAIM_BATCH: &str = "SELECT id, topic, key, payload::text FROM outbox \
    WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED";
const MARK_PUBLISHED: &str = "UPDATE outbox SET published_at = now() WHERE id = $1";

pub async fn run(pool: Pool, producer: FutureProducer, cfg: OutboxSettings) {
    let interval = Duration::from_millis(cfg.poll_interval_ms);
    loop {
        match relay_batch(&pool, &producer, cfg.batch_size).await {
            Ok(0) => tokio::time::sleep(interval).await,
            Ok(_) => {}
            Err(e) => {
                error!(error = %e, "outbox relay failed");
                tokio::time::sleep(interval * 4).await;
            }
        }
    }
}

async fn relay_batch(pool: &Pool, producer: &FutureProducer, batch: i64) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let rows = tx.query(CLAIM_BATCH, &[&batch]).await?;
    let n = rows.len();
    for row in rows {
        let id: i64 = row.get(0);
        let topic: String = row.get(1);
        let key: String = row.get(2);
        let payload: String = row.get(3);
        if let Err((e, _)) = producer
            .send(FutureRecord::to(&topic).key(&key).payload(&payload), Duration::from_secs(5))
            .await
        {
            warn!(outbox_id = id, error = %e, "publish failed, will retry");
            break;
        }
        tx.execute(MARK_PUBLISHED, &[&id]).await?;
    }
    tx.commit().await?;
    Ok(n)
}
