use deadpool_postgres::Transaction;
use uuid::Uuid;

pub const CONSUMER: &str = "stock";

/// Records the event as processed; returns false when it was seen before.
pub async fn claim(tx: &Transaction<'_>, event_key: &str) -> Result<bool, tokio_postgres::Error> {
    let n = tx
        .execute(
            "INSERT INTO processed_events (consumer, event_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&CONSUMER, &event_key],
        )
        .await?;
    Ok(n == 1)
}

pub async fn reserve_line(tx: &Transaction<'_>, order_id: Uuid, sku: &str, qty: i32) -> Result<bool, tokio_postgres::Error> {
    let updated = tx
        .execute(
            "UPDATE stock_levels SET available = available - $2, updated_at = now() WHERE sku = $1 AND available >= $2",
            &[&sku, &qty],
        )
        .await?;
    if updated == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO reservations (order_id, sku, qty) VALUES ($1, $2, $3)",
        &[&order_id, &sku, &qty],
    )
    .await?;
    Ok(true)
}

pub async fn release_order(tx: &Transaction<'_>, order_id: Uuid) -> Result<u64, tokio_postgres::Error> {
    tx.execute(
        "WITH r AS (
             UPDATE reservations SET released = true
             WHERE order_id = $1 AND NOT released
             RETURNING sku, qty)
         UPDATE stock_levels s SET available = s.available + r.qty FROM r WHERE s.sku = r.sku",
        &[&order_id],
    )
    .await
}
