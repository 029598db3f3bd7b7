//! Nightly push of settled invoices into the ERP general ledger. Both sides must agree, so
//! the two databases are committed with PostgreSQL two-phase commit.

use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::NoTls;

pub async fn nightly(pool: Pool, erp_url: String) {
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
    loop {
        tick.tick().await;
        if let Err(e) = sync_once(&pool, &erp_url).await {
            log::error!("ledger sync failed: {e:#}");
        }
    }
}

async fn sync_once(pool: &Pool, erp_url: &str) -> anyhow::Result<()> {
    let (erp, conn) = tokio_postgres::connect(erp_url, NoTls).await?;
    tokio::spawn(conn);
    let billing = pool.get().await?;
    let gid = format!("ledger-sync-{}", chrono::Utc::now().format("%Y%m%d"));

    billing.batch_execute("BEGIN").await?;
    erp.batch_execute("BEGIN").await?;
    let rows = billing
        .query("UPDATE invoices SET status = 'exported' WHERE status = 'succeeded' RETURNING id, amount_minor, currency", &[])
        .await?;
    for row in &rows {
        let (id, amount, currency): (uuid::Uuid, i64, String) = (row.get(0), row.get(1), row.get(2));
        erp.execute(
            "INSERT INTO gl_entries (source_id, account, amount_minor, currency) VALUES ($1, '4000-sales', $2, $3)",
            &[&id, &amount, &currency],
        )
        .await?;
    }
    billing.batch_execute(&format!("PREPARE TRANSACTION '{gid}-billing'")).await?;
    erp.batch_execute(&format!("PREPARE TRANSACTION '{gid}-erp'")).await?;
    billing.batch_execute(&format!("COMMIT PREPARED '{gid}-billing'")).await?;
    erp.batch_execute(&format!("COMMIT PREPARED '{gid}-erp'")).await?;
    Ok(())
}
