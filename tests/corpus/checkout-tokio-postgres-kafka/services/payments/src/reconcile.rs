//! Hourly check that every confirmed order has exactly one captured payment.

use std::collections::HashSet;
use std::time::Duration;

use deadpool_postgres::Pool;
use tracing::{info, warn};
use uuid::Uuid;

const CONFIRMED_ORDERS_SQL: &str = "SELECT id, total_cents FROM orders \
    WHERE status = 'confirmed' AND updated_at > now() - interval '2 hours'";

pub async fn run(payments: Pool, checkout_replica: Pool, every_secs: u64) {
    let mut tick = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        tick.tick().await;
        if let Err(e) = reconcile_once(&payments, &checkout_replica).await {
            warn!(error = %e, "reconciliation failed");
        }
    }
}

async fn reconcile_once(payments: &Pool, checkout_replica: &Pool) -> anyhow::Result<()> {
    let orders = checkout_replica.get().await?;
    let confirmed = orders.query(CONFIRMED_ORDERS_SQL, &[]).await?;

    let pay = payments.get().await?;
    let captured: HashSet<Uuid> = pay
        .query(
            "SELECT order_id FROM payments WHERE status IN ('captured', 'succeeded') \
             AND created_at > now() - interval '3 hours'",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();

    let mut missing = 0;
    for row in confirmed {
        let order_id: Uuid = row.get(0);
        if !captured.contains(&order_id) {
            missing += 1;
            warn!(%order_id, "confirmed order without captured payment");
        }
    }
    info!(missing, "reconciliation done");
    Ok(())
}
