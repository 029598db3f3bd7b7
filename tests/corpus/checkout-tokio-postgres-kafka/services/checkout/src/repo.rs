use common::events::{OrderCancelled, OrderConfirmed, ORDERS_TOPIC};
use common::Envelope;
use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::saga::PendingOrder;

const INSERT_ORDER: &str = "INSERT INTO orders \
    (id, customer_id, customer_email, shipping_country, status, total_cents, currency) \
    VALUES ($1, $2, $3, $4, 'pending', $5, $6)";

const INSERT_LINE: &str =
    "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents) VALUES ($1, $2, $3, $4)";

const INSERT_OUTBOX: &str =
    "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)";

pub async fn country_supported(
    tx: &Transaction<'_>,
    iso2: &str,
) -> Result<bool, tokio_postgres::Error> {
    let row = tx
        .query_opt("SELECT 1 FROM supported_countries WHERE iso2 = $1", &[&iso2])
        .await?;
    Ok(row.is_some())
}

pub async fn find_idempotent(
    tx: &Transaction<'_>,
    key: &str,
) -> Result<Option<(String, Uuid)>, tokio_postgres::Error> {
    let row = tx
        .query_opt(
            "SELECT request_hash, order_id FROM idempotency_keys WHERE key = $1 FOR UPDATE",
            &[&key],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

pub async fn insert_pending(
    tx: &Transaction<'_>,
    key: &str,
    request_hash: &str,
    order: &PendingOrder,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO idempotency_keys (key, request_hash, order_id) VALUES ($1, $2, $3)",
        &[&key, &request_hash, &order.id],
    )
    .await?;
    tx.execute(
        INSERT_ORDER,
        &[
            &order.id,
            &order.customer_id,
            &order.customer_email,
            &order.shipping_country,
            &order.total_cents,
            &order.currency,
        ],
    )
    .await?;
    for line in &order.lines {
        tx.execute(INSERT_LINE, &[&order.id, &line.sku, &line.quantity, &line.unit_price_cents])
            .await?;
    }
    Ok(())
}

/// Marks the order confirmed and records the event in the outbox, in the
/// caller's transaction. The relay publishes it.
pub async fn confirm_with_event(
    tx: &Transaction<'_>,
    order: &PendingOrder,
    payment_id: Uuid,
    shipment_id: Uuid,
) -> anyhow::Result<()> {
    tx.execute(
        "UPDATE orders SET status = 'confirmed', payment_id = $2, shipment_id = $3, updated_at = now() WHERE id = $1",
        &[&order.id, &payment_id, &shipment_id],
    )
    .await?;

    let event = Envelope::new(
        "OrderConfirmed",
        1,
        OrderConfirmed {
            order_id: order.id,
            customer_id: order.customer_id,
            customer_email: order.customer_email.clone(),
            shipping_country: order.shipping_country.clone(),
            lines: order.lines.clone(),
            total_cents: order.total_cents,
            currency: order.currency.clone(),
        },
    );
    let payload = serde_json::to_value(&event)?;
    tx.execute(INSERT_OUTBOX, &[&ORDERS_TOPIC, &order.id.to_string(), &payload])
        .await?;
    Ok(())
}

pub async fn mark_failed(tx: &Transaction<'_>, order_id: Uuid, reason: &str) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "UPDATE orders SET status = 'failed', updated_at = now() WHERE id = $1",
        &[&order_id],
    )
    .await?;
    tracing::info!(%order_id, reason, "order marked failed");
    Ok(())
}

pub async fn cancel_with_event(
    tx: &Transaction<'_>,
    order_id: Uuid,
    reason: &str,
) -> anyhow::Result<bool> {
    let changed = tx
        .execute(
            "UPDATE orders SET status = 'cancelled', updated_at = now() \
             WHERE id = $1 AND status IN ('pending', 'confirmed')",
            &[&order_id],
        )
        .await?;
    if changed == 0 {
        return Ok(false);
    }
    let event = Envelope::new(
        "OrderCancelled",
        1,
        OrderCancelled { order_id, reason: reason.to_owned() },
    );
    tx.execute(
        INSERT_OUTBOX,
        &[&ORDERS_TOPIC, &order_id.to_string(), &serde_json::to_value(&event)?],
    )
    .await?;
    Ok(true)
}
