//! Goodwill refunds requested by customer care are credited to the customer's wallet.

use common::envelope::EnvelopeHeader;
use common::events::{RefundRequested, REFUND_REQUESTS_TOPIC};
use common::Envelope;
use deadpool_postgres::Pool;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::Message;
use tracing::{error, info};

pub async fn run(pool: Pool, group_id: String) {
    let consumer: StreamConsumer = match common::kafka::consumer(&group_id, &[REFUND_REQUESTS_TOPIC]) {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "cannot start refund consumer");
            return;
        }
    };

    loop {
        let msg = match consumer.recv().await {
            Ok(m) => m,
            Err(e) => {
                error!(error = %e, "kafka error");
                continue;
            }
        };
        let payload = msg.payload().unwrap_or_default().to_vec();
        if let Err(e) = dispatch(&pool, &payload).await {
            error!(error = %e, "refund request failed");
            continue;
        }
        if let Err(e) = consumer.commit_message(&msg, CommitMode::Async) {
            error!(error = %e, "commit failed");
        }
    }
}

async fn dispatch(pool: &Pool, payload: &[u8]) -> anyhow::Result<()> {
    let header: EnvelopeHeader = serde_json::from_slice(payload)?;
    match header.event_type.as_str() {
        "RefundRequested" => {
            let env: Envelope<RefundRequested> = serde_json::from_slice(payload)?;
            credit_wallet(pool, &env.payload).await
        }
        other => {
            info!(event_type = other, "skipping");
            Ok(())
        }
    }
}

async fn credit_wallet(pool: &Pool, req: &RefundRequested) -> anyhow::Result<()> {
    let client = pool.get().await?;
    let updated = client
        .execute(
            "UPDATE wallets SET balance_cents = balance_cents + $2 WHERE customer_id = $1 AND currency = $3",
            &[&req.customer_id, &req.amount_cents, &req.currency],
        )
        .await?;
    if updated == 0 {
        client
            .execute(
                "INSERT INTO wallets (customer_id, balance_cents, currency) VALUES ($1, $2, $3)",
                &[&req.customer_id, &req.amount_cents, &req.currency],
            )
            .await?;
    }
    info!(request_id = %req.request_id, customer_id = %req.customer_id, "wallet credited");
    Ok(())
}
