//! Reserves stock for placed orders and releases it when an order is cancelled. Each event is
//! applied at most once: its id goes into the inbox in the transaction that changes the stock.

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use messaging::{subjects, Envelope};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct Line {
    sku: String,
    quantity: i32,
}

#[derive(Debug, Deserialize)]
struct OrderPlaced {
    order_id: Uuid,
    customer_id: Uuid,
    currency: String,
    total_minor: i64,
    lines: Vec<Line>,
}

#[derive(Debug, Deserialize)]
struct OrderCancelled {
    order_id: Uuid,
}

#[derive(Debug, Serialize)]
struct StockReserved {
    order_id: Uuid,
    customer_id: Uuid,
    currency: String,
    total_minor: i64,
}

#[derive(Debug, Serialize)]
struct ReservationRejected {
    order_id: Uuid,
    reason: String,
}

pub async fn run(pool: PgPool, jetstream: jetstream::Context) {
    if let Err(error) = consume(&pool, &jetstream).await {
        tracing::error!(%error, "reservation consumer stopped");
    }
}

async fn consume(pool: &PgPool, jetstream: &jetstream::Context) -> anyhow::Result<()> {
    let consumer = jetstream
        .get_stream("CHECKOUT")
        .await?
        .get_or_create_consumer(
            "inventory",
            pull::Config {
                durable_name: Some("inventory".into()),
                filter_subjects: vec![
                    subjects::ORDER_PLACED.into(),
                    subjects::ORDER_CANCELLED.into(),
                ],
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let applied = match message.subject.as_str() {
            subjects::ORDER_PLACED => reserve_stock(pool, &message.payload).await,
            subjects::ORDER_CANCELLED => release_stock(pool, &message.payload).await,
            _ => Ok(()),
        };
        match applied {
            Ok(()) => message.ack().await.map_err(|e| anyhow::anyhow!(e))?,
            Err(error) => tracing::error!(%error, subject = %message.subject, "event not applied"),
        }
    }
    Ok(())
}

async fn reserve_stock(pool: &PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: Envelope<OrderPlaced> = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let first_delivery = sqlx::query(
        "INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(subjects::ORDER_PLACED)
    .execute(&mut *tx)
    .await?;
    if first_delivery.rows_affected() == 0 {
        return Ok(());
    }

    let order = event.data;
    let mut shortage = None;
    for line in &order.lines {
        let reserved = sqlx::query(
            "UPDATE stock SET reserved = reserved + $1 WHERE sku = $2 AND on_hand - reserved >= $1",
        )
        .bind(line.quantity)
        .bind(&line.sku)
        .execute(&mut *tx)
        .await?;
        if reserved.rows_affected() == 0 {
            shortage = Some(line.sku.clone());
            break;
        }
        sqlx::query("INSERT INTO reservations (order_id, sku, quantity) VALUES ($1, $2, $3)")
            .bind(order.order_id)
            .bind(&line.sku)
            .bind(line.quantity)
            .execute(&mut *tx)
            .await?;
    }

    match shortage {
        None => {
            let reserved = StockReserved {
                order_id: order.order_id,
                customer_id: order.customer_id,
                currency: order.currency,
                total_minor: order.total_minor,
            };
            let envelope = Envelope::new("StockReserved", 1, reserved);
            enqueue(&mut tx, subjects::STOCK_RESERVED, &envelope).await?;
            tx.commit().await?;
        }
        Some(sku) => {
            // Undo the lines reserved so far, keep the inbox row, announce the rejection.
            tx.rollback().await?;
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING")
                .bind(event.event_id)
                .bind(subjects::ORDER_PLACED)
                .execute(&mut *tx)
                .await?;
            let rejected = ReservationRejected {
                order_id: order.order_id,
                reason: format!("{sku} is out of stock"),
            };
            let envelope = Envelope::new("ReservationRejected", 1, rejected);
            enqueue(&mut tx, subjects::RESERVATION_REJECTED, &envelope).await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

async fn release_stock(pool: &PgPool, payload: &[u8]) -> anyhow::Result<()> {
    let event: Envelope<OrderCancelled> = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let first_delivery = sqlx::query(
        "INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(subjects::ORDER_CANCELLED)
    .execute(&mut *tx)
    .await?;
    if first_delivery.rows_affected() == 0 {
        return Ok(());
    }
    let released: Vec<(String, i32)> =
        sqlx::query_as("DELETE FROM reservations WHERE order_id = $1 RETURNING sku, quantity")
            .bind(event.data.order_id)
            .fetch_all(&mut *tx)
            .await?;
    for (sku, quantity) in released {
        sqlx::query("UPDATE stock SET reserved = reserved - $1 WHERE sku = $2")
            .bind(quantity)
            .bind(sku)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn enqueue<T: Serialize>(
    tx: &mut Transaction<'_, Postgres>,
    subject: &str,
    envelope: &Envelope<T>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
        .bind(subject)
        .bind(sqlx::types::Json(envelope))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
