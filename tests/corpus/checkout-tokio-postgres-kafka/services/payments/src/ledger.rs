//! Nightly settlement: copy captured payments into the general ledger.

use std::time::Duration;

use deadpool_postgres::Pool;
use tracing::{error, info};
use uuid::Uuid;

pub async fn settlement_loop(payments: Pool, ledger: Pool) {
    let mut tick = tokio::time::interval(Duration::from_secs(15 * 60));
    loop {
        tick.tick().await;
        match post_settlement(&payments, &ledger).await {
            Ok(n) => info!(settled = n, "settlement run finished"),
            Err(e) => error!(error = %e, "settlement run failed"),
        }
    }
}

/// Books every unsettled payment in the ledger and flags it settled.
pub async fn post_settlement(payments: &Pool, ledger: &Pool) -> anyhow::Result<usize> {
    let mut pay_conn = payments.get().await?;
    let mut ledger_conn = ledger.get().await?;

    let pay_tx = pay_conn.transaction().await?;
    let ledger_tx = ledger_conn.transaction().await?;

    let rows = pay_tx
        .query(
            "SELECT id, amount_cents FROM payments WHERE status = 'captured' AND NOT settled FOR UPDATE",
            &[],
        )
        .await?;

    for row in &rows {
        let id: Uuid = row.get(0);
        let amount: i64 = row.get(1);
        ledger_tx
            .execute(
                "INSERT INTO journal_entries (payment_id, account, debit_cents) VALUES ($1, 'psp_receivable', $2)",
                &[&id, &amount],
            )
            .await?;
        ledger_tx
            .execute(
                "INSERT INTO journal_entries (payment_id, account, credit_cents) VALUES ($1, 'revenue', $2)",
                &[&id, &amount],
            )
            .await?;
        pay_tx
            .execute("UPDATE payments SET settled = true WHERE id = $1", &[&id])
            .await?;
    }

    ledger_tx.commit().await?;
    pay_tx.commit().await?;
    Ok(rows.len())
}
