//! Nightly settlement into the general ledger. The ledger lives in its own
//! database; both sides are committed with two-phase commit so a settlement
//! run is never half-applied.

use std::time::Duration;

use sqlx::{Executor, PgPool};
use tracing::{error, info};
use uuid::Uuid;

pub async fn nightly(billing: PgPool, ledger: PgPool) {
    let mut interval = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        interval.tick().await;
        if let Err(e) = settle(&billing, &ledger).await {
            error!(error = %e, "settlement failed");
        }
    }
}

async fn settle(billing: &PgPool, ledger: &PgPool) -> anyhow::Result<()> {
    let gid = format!("settle-{}", Uuid::new_v4());
    let mut b = billing.acquire().await?;
    let mut l = ledger.acquire().await?;

    b.execute("BEGIN").await?;
    l.execute("BEGIN").await?;

    let settled = sqlx::query_scalar!(
        r#"UPDATE invoices SET status = 'settled' WHERE status = 'issued' RETURNING total"#
    )
    .fetch_all(&mut *b)
    .await?;
    let total: rust_decimal::Decimal = settled.iter().copied().sum();
    sqlx::query("INSERT INTO ledger_entries (account, amount, memo) VALUES ('receivables', $1, $2)")
        .bind(total)
        .bind(&gid)
        .execute(&mut *l)
        .await?;

    b.execute(format!("PREPARE TRANSACTION '{gid}-b'").as_str()).await?;
    l.execute(format!("PREPARE TRANSACTION '{gid}-l'").as_str()).await?;
    b.execute(format!("COMMIT PREPARED '{gid}-b'").as_str()).await?;
    l.execute(format!("COMMIT PREPARED '{gid}-l'").as_str()).await?;
    info!(invoices = settled.len(), %total, "settled");
    Ok(())
}
