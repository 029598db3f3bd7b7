//! Nightly settlement into the finance ledger database.

mod settlement;

use std::time::Duration;

use crate::db::DbPool;

pub async fn nightly_settlement(pool: DbPool, ledger_url: String) {
    let mut every = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        every.tick().await;
        if let Err(err) = settlement::settle_yesterday(&pool, &ledger_url).await {
            tracing::error!(error = %err, "settlement failed");
        }
    }
}
