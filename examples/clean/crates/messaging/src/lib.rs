//! Event envelope, subject names and the outbox relay. Every service writes its events into
//! its own `outbox` table in the transaction that changes its data; [`relay_outbox`] publishes
//! the committed rows to JetStream afterwards.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// Subjects carry the major schema version; a breaking change gets a new subject.
pub mod subjects {
    pub const ORDER_PLACED: &str = "orders.v1.placed";
    pub const ORDER_CANCELLED: &str = "orders.v1.cancelled";
    pub const STOCK_RESERVED: &str = "inventory.v1.stock_reserved";
    pub const RESERVATION_REJECTED: &str = "inventory.v1.reservation_rejected";
    pub const PAYMENT_CAPTURED: &str = "payments.v1.payment_captured";
    pub const PAYMENT_FAILED: &str = "payments.v1.payment_failed";
    pub const PAYMENT_REFUNDED: &str = "payments.v1.payment_refunded";
}

/// What goes on the wire: the payload plus the metadata consumers need to deduplicate and to
/// read older payloads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub occurred_at: DateTime<Utc>,
    pub data: T,
}

impl<T> Envelope<T> {
    pub fn new(event_type: &str, schema_version: u16, data: T) -> Self {
        Self {
            event_id: Uuid::new_v4(),
            event_type: event_type.to_owned(),
            schema_version,
            occurred_at: Utc::now(),
            data,
        }
    }
}

/// Publishes committed outbox rows in id order and marks them published. `SKIP LOCKED` lets
/// several replicas relay side by side; a crash between publish and mark re-publishes the row,
/// which consumers absorb through their inbox.
pub async fn relay_outbox(pool: PgPool, jetstream: async_nats::jetstream::Context) {
    loop {
        match relay_batch(&pool, &jetstream).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(published) => tracing::debug!(published, "outbox rows published"),
            Err(error) => {
                tracing::warn!(%error, "outbox relay failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn relay_batch(
    pool: &PgPool,
    jetstream: &async_nats::jetstream::Context,
) -> anyhow::Result<usize> {
    let mut tx = pool.begin().await?;
    let rows: Vec<(i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT id, subject, payload FROM outbox WHERE published_at IS NULL \
         ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    let published = rows.len();
    for (id, subject, payload) in rows {
        jetstream
            .publish(subject, serde_json::to_vec(&payload)?.into())
            .await?
            .await?;
        sqlx::query("UPDATE outbox SET published_at = now() WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(published)
}
