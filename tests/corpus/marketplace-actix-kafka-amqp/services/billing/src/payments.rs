//! Choreography participant: charge when stock is reserved, refund when the order is cancelled.

use contracts::{topics, OrderEvent, PaymentEvent, StockEvent};
use deadpool_postgres::Pool;
use futures::TryStreamExt;
use rdkafka::{
    consumer::{CommitMode, Consumer, StreamConsumer},
    Message,
};
use uuid::Uuid;

use crate::psp::Psp;

pub async fn consume(consumer: StreamConsumer, pool: Pool, psp: Psp) -> anyhow::Result<()> {
    consumer.subscribe(&[topics::STOCK_EVENTS, topics::ORDER_EVENTS])?;
    consumer
        .stream()
        .map_err(anyhow::Error::from)
        .try_for_each(|msg| {
            let pool = pool.clone();
            let psp = psp.clone();
            let consumer = &consumer;
            async move {
                let payload = msg.payload().unwrap_or_default();
                if msg.topic() == topics::STOCK_EVENTS {
                    if let StockEvent::Reserved { order_id, total_minor, currency, customer_id } = serde_json::from_slice(payload)? {
                        on_stock_reserved(&pool, &psp, order_id, customer_id, total_minor, &currency).await?;
                    }
                } else if let OrderEvent::Cancelled { order_id, .. } = serde_json::from_slice(payload)? {
                    on_order_cancelled(&pool, &psp, order_id).await?;
                }
                consumer.commit_message(&msg, CommitMode::Async)?;
                Ok(())
            }
        })
        .await
}

async fn vat_for(pool: &Pool, amount_minor: i64) -> anyhow::Result<i64> {
    let client = pool.get().await?;
    let stmt = client
        .prepare_cached("SELECT rate_bp FROM vat_rates WHERE country_code = 'DE' AND valid_from <= now() ORDER BY valid_from DESC LIMIT 1")
        .await?;
    let rate: i32 = client.query_one(&stmt, &[]).await?.get(0);
    Ok(amount_minor * i64::from(rate) / 10_000)
}

async fn on_stock_reserved(
    pool: &Pool,
    psp: &Psp,
    order_id: Uuid,
    customer_id: Uuid,
    total_minor: i64,
    currency: &str,
) -> anyhow::Result<()> {
    let vat = vat_for(pool, total_minor).await?;
    let charge = psp.charge(customer_id, total_minor + vat, currency).await?;
    let succeeded = charge.status == "succeeded";

    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO invoices (id, order_id, customer_id, amount_minor, vat_minor, currency, psp_charge, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[&Uuid::new_v4(), &order_id, &customer_id, &total_minor, &vat, &currency, &charge.id, &charge.status],
    )
    .await?;
    let event = if succeeded {
        PaymentEvent::Succeeded { order_id, payment_id: Uuid::new_v4(), ship_to_country: None }
    } else {
        PaymentEvent::Failed { order_id, reason: charge.status.clone() }
    };
    tx.execute(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        &[&topics::PAYMENT_EVENTS, &order_id.to_string(), &serde_json::to_value(&event)?],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn on_order_cancelled(pool: &Pool, psp: &Psp, order_id: Uuid) -> anyhow::Result<()> {
    let client = pool.get().await?;
    // Flip the status first so a redelivery finds nothing left to refund.
    let row = client
        .query_opt(
            "UPDATE invoices SET status = 'refunded' WHERE order_id = $1 AND status = 'succeeded' RETURNING psp_charge",
            &[&order_id],
        )
        .await?;
    if let Some(row) = row {
        let charge_id: String = row.get(0);
        psp.refund(&charge_id).await?;
    }
    Ok(())
}
