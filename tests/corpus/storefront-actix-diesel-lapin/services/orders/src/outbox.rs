//! Relays rows of the `outbox` table to RabbitMQ. Rows are written in the same transaction as
//! the state change they describe; this loop publishes them and stamps `published_at`.

use std::time::Duration;

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lapin::options::BasicPublishOptions;
use lapin::BasicProperties;

use crate::db::DbPool;
use crate::models::OutboxMessage;
use crate::schema::outbox;

const BATCH: i64 = 100;

pub async fn relay(pool: DbPool, channel: lapin::Channel) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        if let Err(err) = relay_batch(&pool, &channel).await {
            tracing::warn!(error = %err, "outbox relay batch failed");
        }
    }
}

async fn relay_batch(pool: &DbPool, channel: &lapin::Channel) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    let pending: Vec<OutboxMessage> = outbox::table
        .filter(outbox::published_at.is_null())
        .order(outbox::id)
        .limit(BATCH)
        .select(OutboxMessage::as_select())
        .load(&mut conn)
        .await?;

    for msg in pending {
        let body = serde_json::to_vec(&msg.payload)?;
        let confirm = channel
            .basic_publish(
                &msg.exchange,
                &msg.routing_key,
                BasicPublishOptions::default(),
                &body,
                BasicProperties::default()
                    .with_content_type("application/json".into())
                    .with_delivery_mode(2),
            )
            .await?
            .await?;
        if confirm.is_nack() {
            anyhow::bail!("broker nacked outbox message {}", msg.id);
        }
        diesel::update(outbox::table.find(msg.id))
            .set(outbox::published_at.eq(Utc::now()))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}
