//! Outbox relay: moves committed events from `outbox` to the Redis stream.

use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use sqlx::PgPool;
use travel_core::BOOKING_EVENTS_STREAM;

use crate::settings::RelaySettings;

#[derive(sqlx::FromRow)]
struct Pending {
    id: i64,
    event_type: String,
    payload: serde_json::Value,
}

pub async fn run(db: PgPool, mut redis: ConnectionManager, cfg: RelaySettings) {
    loop {
        match dispatch_batch(&db, &mut redis, cfg.batch).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(cfg.idle_ms)).await,
            Ok(n) => tracing::debug!(n, "relayed"),
            Err(e) => {
                tracing::error!(error = %e, "outbox relay error");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn dispatch_batch(db: &PgPool, redis: &mut ConnectionManager, batch: i64) -> anyhow::Result<usize> {
    let mut tx = db.begin().await?;
    let rows: Vec<Pending> = sqlx::query_as(
        "SELECT id, event_type, payload FROM outbox WHERE dispatched_at IS NULL \
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;

    for row in &rows {
        let _: String = redis
            .xadd(
                BOOKING_EVENTS_STREAM,
                "*",
                &[("type", row.event_type.as_str()), ("payload", &row.payload.to_string())],
            )
            .await?;
        sqlx::query("UPDATE outbox SET dispatched_at = now() WHERE id = $1")
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}
