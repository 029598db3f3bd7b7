//! Settles yesterday's captured payments into the ledger. Both databases must agree, so the
//! batch is closed with a two-phase commit across them.

use chrono::{Duration, Utc};
use diesel::sql_types::{BigInt, Date, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use uuid::Uuid;

use crate::db::DbPool;

#[derive(diesel::QueryableByName)]
struct Total {
    #[diesel(sql_type = BigInt)]
    total: i64,
}

pub async fn settle_yesterday(pool: &DbPool, ledger_url: &str) -> anyhow::Result<()> {
    let day = (Utc::now() - Duration::days(1)).date_naive();
    let batch_id = Uuid::new_v4();
    let gid = format!("settle-{batch_id}");

    let mut payments_db = pool.get().await?;
    let mut ledger_db = AsyncPgConnection::establish(ledger_url).await?;

    payments_db.batch_execute("BEGIN").await?;
    ledger_db.batch_execute("BEGIN").await?;

    let total: Total = diesel::sql_query(
        "SELECT COALESCE(SUM(amount_cents), 0)::bigint AS total FROM payments \
         WHERE status = 'captured' AND created_at::date = $1",
    )
    .bind::<Date, _>(day)
    .get_result(&mut payments_db)
    .await?;

    diesel::sql_query("INSERT INTO settlement_batches (id, settled_on, total_cents, status) VALUES ($1, $2, $3, 'settled')")
        .bind::<SqlUuid, _>(batch_id)
        .bind::<Date, _>(day)
        .bind::<BigInt, _>(total.total)
        .execute(&mut payments_db)
        .await?;
    diesel::sql_query("INSERT INTO journal_entries (batch_id, account, amount_cents, booked_on) VALUES ($1, 'card_clearing', $2, $3)")
        .bind::<SqlUuid, _>(batch_id)
        .bind::<BigInt, _>(total.total)
        .bind::<Date, _>(day)
        .execute(&mut ledger_db)
        .await?;

    payments_db.batch_execute(&format!("PREPARE TRANSACTION '{gid}'")).await?;
    if let Err(err) = ledger_db.batch_execute(&format!("PREPARE TRANSACTION '{gid}'")).await {
        payments_db.batch_execute(&format!("ROLLBACK PREPARED '{gid}'")).await?;
        return Err(err.into());
    }
    payments_db.batch_execute(&format!("COMMIT PREPARED '{gid}'")).await?;
    ledger_db.batch_execute(&format!("COMMIT PREPARED '{gid}'")).await?;

    tracing::info!(%day, total = total.total, "settlement committed");
    Ok(())
}
