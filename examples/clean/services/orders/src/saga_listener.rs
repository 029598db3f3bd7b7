//! Follows the checkout saga: confirms the order when the payment is captured, cancels it
//! when stock or payment fails, and announces the cancellation so the other services undo
//! their part (inventory releases the stock, payments refunds).

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use messaging::{subjects, Envelope};
use sqlx::PgPool;

use crate::events::{OrderCancelled, OrderOutcome};

pub async fn run(pool: PgPool, jetstream: jetstream::Context) {
    if let Err(error) = consume(&pool, &jetstream).await {
        tracing::error!(%error, "saga listener stopped");
    }
}

async fn consume(pool: &PgPool, jetstream: &jetstream::Context) -> anyhow::Result<()> {
    let consumer = jetstream
        .get_stream("CHECKOUT")
        .await?
        .get_or_create_consumer(
            "orders",
            pull::Config {
                durable_name: Some("orders".into()),
                filter_subjects: vec![
                    subjects::RESERVATION_REJECTED.into(),
                    subjects::PAYMENT_CAPTURED.into(),
                    subjects::PAYMENT_FAILED.into(),
                ],
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        match handle(pool, &message.subject, &message.payload).await {
            Ok(()) => message.ack().await.map_err(|e| anyhow::anyhow!(e))?,
            Err(error) => tracing::error!(%error, subject = %message.subject, "event not applied"),
        }
    }
    Ok(())
}

async fn handle(pool: &PgPool, subject: &str, payload: &[u8]) -> anyhow::Result<()> {
    let event: Envelope<OrderOutcome> = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let first_delivery = sqlx::query(
        "INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(subject)
    .execute(&mut *tx)
    .await?;
    if first_delivery.rows_affected() == 0 {
        return Ok(());
    }

    let order_id = event.data.order_id;
    if subject == subjects::PAYMENT_CAPTURED {
        sqlx::query("UPDATE orders SET status = 'confirmed' WHERE id = $1 AND status = 'pending'")
            .bind(order_id)
            .execute(&mut *tx)
            .await?;
    } else {
        let cancelled = sqlx::query(
            "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'pending'",
        )
        .bind(order_id)
        .execute(&mut *tx)
        .await?;
        if cancelled.rows_affected() == 1 {
            let reason = event.data.reason.unwrap_or_else(|| subject.to_owned());
            let cancellation =
                Envelope::new("OrderCancelled", 1, OrderCancelled { order_id, reason });
            sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
                .bind(subjects::ORDER_CANCELLED)
                .bind(sqlx::types::Json(&cancellation))
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
