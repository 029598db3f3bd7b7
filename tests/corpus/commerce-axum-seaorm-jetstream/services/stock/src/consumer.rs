//! Reserves stock for placed orders.

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::{self, Context};
use chrono::Utc;
use events::{subjects, LineItem, OrderEvent, StockReservationFailed, StockReserved};
use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use crate::entity::{reservations, stock_levels};

pub async fn run(db: DatabaseConnection, js: Context) -> anyhow::Result<()> {
    let consumer: pull::Consumer = js
        .get_stream("FLOW")
        .await?
        .get_or_create_consumer(
            "stock",
            pull::Config {
                durable_name: Some("stock".into()),
                filter_subject: subjects::ORDER_EVENTS.into(),
                ack_policy: AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    let shutdown = tokio::signal::ctrl_c();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            _ = &mut shutdown => {
                tracing::info!("stock consumer stopping");
                return Ok(());
            }
            next = messages.next() => {
                let Some(Ok(msg)) = next else { continue };
                let event: OrderEvent = match serde_json::from_slice(&msg.payload) {
                    Ok(ev) => ev,
                    Err(err) => {
                        tracing::error!(error = %err, "undecodable order event");
                        msg.ack_with(jetstream::AckKind::Term).await.ok();
                        continue;
                    }
                };
                let handled = match event {
                    OrderEvent::OrderPlaced { order_id, items, total_minor, currency, .. } => {
                        reserve_items(&db, &js, order_id, &items, total_minor, &currency).await
                    }
                    _ => Ok(()),
                };
                if let Err(err) = handled {
                    tracing::error!(error = %err, "reservation failed");
                    msg.ack_with(jetstream::AckKind::Nak(None)).await.ok();
                } else {
                    msg.ack().await.ok();
                }
            }
        }
    }
}

async fn reserve_items(
    db: &DatabaseConnection,
    js: &Context,
    order_id: Uuid,
    items: &[LineItem],
    total_minor: i64,
    currency: &str,
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let reservation_id = Uuid::new_v4();
    for item in items {
        let res = stock_levels::Entity::update_many()
            .col_expr(
                stock_levels::Column::Available,
                Expr::col(stock_levels::Column::Available).sub(item.quantity),
            )
            .filter(stock_levels::Column::Sku.eq(item.sku.as_str()))
            .filter(stock_levels::Column::Available.gte(item.quantity))
            .exec(&txn)
            .await?;
        if res.rows_affected == 0 {
            txn.rollback().await?;
            let failed = StockReservationFailed {
                schema_version: 1,
                order_id,
                sku: item.sku.clone(),
                reason: "insufficient stock".into(),
            };
            js.publish(subjects::STOCK_RESERVATION_FAILED, serde_json::to_vec(&failed)?.into())
                .await?
                .await?;
            return Ok(());
        }
        reservations::ActiveModel {
            id: Set(Uuid::new_v4()),
            order_id: Set(order_id),
            sku: Set(item.sku.clone()),
            quantity: Set(item.quantity),
            status: Set("held".into()),
            created_at: Set(Utc::now().into()),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;

    let reserved = StockReserved {
        schema_version: 1,
        order_id,
        reservation_id,
        total_minor,
        currency: currency.to_owned(),
    };
    js.publish(subjects::STOCK_RESERVED, serde_json::to_vec(&reserved)?.into())
        .await?
        .await?;
    Ok(())
}
