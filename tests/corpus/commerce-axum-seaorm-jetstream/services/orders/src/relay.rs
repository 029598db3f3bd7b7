//! Publishes committed outbox rows to JetStream.

use std::time::Duration;

use async_nats::jetstream::Context;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::entity::outbox;

pub async fn run(db: DatabaseConnection, js: Context) {
    loop {
        match relay_once(&db, &js).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(500)).await,
            Ok(n) => tracing::debug!(n, "relayed outbox rows"),
            Err(err) => {
                tracing::warn!(error = %err, "outbox relay failed");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn relay_once(db: &DatabaseConnection, js: &Context) -> anyhow::Result<usize> {
    let rows = outbox::Entity::find()
        .filter(outbox::Column::PublishedAt.is_null())
        .order_by_asc(outbox::Column::Id)
        .limit(100)
        .all(db)
        .await?;
    let n = rows.len();
    for row in rows {
        let body = serde_json::to_vec(&row.payload)?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", format!("orders-outbox-{}", row.id).as_str());
        js.publish_with_headers(row.subject.clone(), headers, body.into()).await?.await?;

        let mut active: outbox::ActiveModel = row.into();
        active.published_at = Set(Some(Utc::now().into()));
        active.update(db).await?;
    }
    Ok(n)
}
