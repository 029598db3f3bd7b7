use std::time::Duration;

use async_nats::jetstream;
use sqlx::PgPool;

pub struct Relay {
    db: PgPool,
    js: jetstream::Context,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    subject: String,
    payload: serde_json::Value,
}

impl Relay {
    pub fn new(db: PgPool, js: jetstream::Context) -> Self {
        Self { db, js }
    }

    pub async fn run(self) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Err(e) = self.drain().await {
                tracing::error!(error = %e, "outbox relay");
            }
        }
    }

    async fn drain(&self) -> anyhow::Result<()> {
        let mut tx = self.db.begin().await?;
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in rows {
            let ack = self
                .js
                .publish(row.subject.clone(), serde_json::to_vec(&row.payload)?.into())
                .await?;
            ack.await?;
            sqlx::query("UPDATE outbox SET published_at = now() WHERE id = $1")
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
