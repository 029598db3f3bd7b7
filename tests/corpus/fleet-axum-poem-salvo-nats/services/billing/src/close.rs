//! Month-end close: freeze the month's invoices and push the totals to the
//! finance reporting database in the same run.

use std::time::Duration;

pub async fn monthly(db: deadpool_postgres::Pool, reporting: deadpool_postgres::Pool) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        if let Err(e) = close_previous_month(&db, &reporting).await {
            tracing::error!(error = %e, "month-end close failed");
        }
    }
}

async fn close_previous_month(
    db: &deadpool_postgres::Pool,
    reporting: &deadpool_postgres::Pool,
) -> anyhow::Result<()> {
    let mut billing = db.get().await?;
    let mut rep = reporting.get().await?;

    let btx = billing.transaction().await?;
    let rows = btx
        .query(
            "UPDATE invoices SET closed = true \
             WHERE NOT closed AND period < date_trunc('month', now()) \
             RETURNING customer_id, currency, amount",
            &[],
        )
        .await?;
    if rows.is_empty() {
        return Ok(());
    }

    let rtx = rep.transaction().await?;
    for row in &rows {
        let customer: uuid::Uuid = row.get(0);
        let currency: String = row.get(1);
        let amount: rust_decimal::Decimal = row.get(2);
        rtx.execute(
            "INSERT INTO revenue_by_customer (customer_id, currency, amount) VALUES ($1, $2, $3) \
             ON CONFLICT (customer_id, currency) DO UPDATE SET amount = revenue_by_customer.amount + EXCLUDED.amount",
            &[&customer, &currency, &amount],
        )
        .await?;
    }
    rtx.commit().await?;
    btx.commit().await?;
    Ok(())
}
