use std::time::Duration;

use deadpool_postgres::Pool;
use rdkafka::producer::{FutureProducer, FutureRecord};

pub async fn run(pool: Pool, producer: FutureProducer) {
    let mut tick = tokio::time::interval(Duration::from_millis(300));
    loop {
        tick.tick().await;
        let result: anyhow::Result<()> = async {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            for row in tx
                .query("SELECT id, topic, key, payload::text FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED", &[])
                .await?
            {
                let (id, topic, key, payload): (i64, String, String, String) = (row.get(0), row.get(1), row.get(2), row.get(3));
                producer
                    .send(FutureRecord::to(&topic).key(&key).payload(&payload), Duration::from_secs(5))
                    .await
                    .map_err(|(e, _)| e)?;
                tx.execute("UPDATE outbox SET sent_at = now() WHERE id = $1", &[&id]).await?;
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            log::error!("billing relay: {e:#}");
        }
    }
}
