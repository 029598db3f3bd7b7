//! Consumes order and warehouse events from RabbitMQ.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use futures_lite::StreamExt;
use inventory_store::schema::{reservations, stock_items};
use inventory_store::PgPool;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::Channel;
use tokio::sync::watch;

use common::events::{OrderCancelled, StockAdjusted};
use common::Envelope;

const QUEUE: &str = "inventory.events";

const RESTOCK_SQL: &str = "UPDATE stock_items SET available = available + $1 WHERE sku = $2";

pub async fn run(pool: PgPool, channel: Channel, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<()> {
    channel.basic_qos(32, BasicQosOptions::default()).await?;
    channel
        .queue_declare(QUEUE, QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await?;
    for (exchange, key) in [("orders", "order.cancelled"), ("warehouse", "stock.adjusted")] {
        channel
            .queue_bind(QUEUE, exchange, key, QueueBindOptions::default(), FieldTable::default())
            .await?;
    }
    let mut consumer = channel
        .basic_consume(QUEUE, "inventory", BasicConsumeOptions::default(), FieldTable::default())
        .await?;

    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                tracing::info!("consumer shutting down");
                break;
            }
            next = consumer.next() => {
                let Some(delivery) = next else { break };
                let delivery = delivery?;
                let outcome = match delivery.routing_key.as_str() {
                    "order.cancelled" => handle_order_cancelled(&pool, &delivery).await,
                    "stock.adjusted" => handle_stock_adjusted(&pool, &delivery).await,
                    other => {
                        tracing::warn!(routing_key = other, "unexpected message");
                        Ok(())
                    }
                };
                match outcome {
                    Ok(()) => delivery.ack(BasicAckOptions::default()).await?,
                    Err(err) => {
                        tracing::error!(error = %err, "handler failed");
                        delivery
                            .nack(BasicNackOptions { requeue: true, ..Default::default() })
                            .await?
                    }
                }
            }
        }
    }
    Ok(())
}

/// Puts the quantities of a cancelled order back on the shelf.
async fn handle_order_cancelled(pool: &PgPool, delivery: &Delivery) -> anyhow::Result<()> {
    let event: Envelope<OrderCancelled> = serde_json::from_slice(&delivery.data)?;
    let mut conn = pool.get()?;
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for line in &event.payload.lines {
            diesel::sql_query(RESTOCK_SQL)
                .bind::<Integer, _>(line.quantity)
                .bind::<Text, _>(&line.sku)
                .execute(conn)?;
        }
        diesel::update(reservations::table.filter(reservations::order_id.eq(event.payload.order_id)))
            .set(reservations::status.eq("released"))
            .execute(conn)?;
        Ok(())
    })?;
    tracing::info!(order_id = %event.payload.order_id, "restocked cancelled order");
    Ok(())
}

/// Warehouse cycle counts: the warehouse system is the source of truth for on-hand quantity.
async fn handle_stock_adjusted(pool: &PgPool, delivery: &Delivery) -> anyhow::Result<()> {
    let event: StockAdjusted = serde_json::from_slice(&delivery.data)?;
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        diesel::update(stock_items::table.find(&event.sku))
            .set((stock_items::on_hand.eq(event.on_hand), stock_items::warehouse.eq(&event.warehouse)))
            .execute(&mut conn)?;
        Ok(())
    })
    .await??;
    Ok(())
}
