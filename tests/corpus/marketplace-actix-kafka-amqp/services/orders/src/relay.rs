use std::time::Duration;

use deadpool_postgres::Pool;
use rdkafka::producer::{FutureProducer, FutureRecord};

pub struct OutboxRelay {
    pool: Pool,
    producer: FutureProducer,
}

impl OutboxRelay {
    pub fn new(pool: Pool, producer: FutureProducer) -> Self {
        Self { pool, producer }
    }

    pub async fn run(self) {
        loop {
            match self.pump().await {
                Ok(0) => tokio::time::sleep(Duration::from_millis(250)).await,
                Ok(n) => log::debug!("relayed {n} outbox rows"),
                Err(e) => {
                    log::error!("outbox relay: {e:#}");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    async fn pump(&self) -> anyhow::Result<usize> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "SELECT id, topic, key, payload::text FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED",
                &[],
            )
            .await?;
        for row in &rows {
            let id: i64 = row.get(0);
            let topic: &str = row.get(1);
            let key: &str = row.get(2);
            let payload: &str = row.get(3);
            self.producer
                .send(FutureRecord::to(topic).key(key).payload(payload), Duration::from_secs(5))
                .await
                .map_err(|(e, _)| e)?;
            tx.execute("UPDATE outbox SET sent_at = now() WHERE id = $1", &[&id]).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}
