//! Debits the customer's wallet once the stock is reserved, and credits it back when the order
//! is cancelled afterwards. Currencies are validated against the refdata service rather than a
//! local list.

use async_nats::jetstream::{self, consumer::pull};
use futures::StreamExt;
use messaging::{subjects, Envelope};
use refdata_client::RefdataClient;
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct StockReserved {
    order_id: Uuid,
    customer_id: Uuid,
    currency: String,
    total_minor: i64,
}

#[derive(Debug, Deserialize)]
struct OrderCancelled {
    order_id: Uuid,
}

#[derive(Debug, Serialize)]
struct PaymentOutcome {
    order_id: Uuid,
    amount_minor: i64,
    reason: Option<String>,
}

#[derive(Debug, thiserror::Error)]
enum PaymentError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("malformed event: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("refdata: {0}")]
    Refdata(#[from] refdata_client::Error),
}

pub async fn run(pool: PgPool, refdata: RefdataClient, jetstream: jetstream::Context) {
    if let Err(error) = consume(&pool, &refdata, &jetstream).await {
        tracing::error!(%error, "payments consumer stopped");
    }
}

async fn consume(
    pool: &PgPool,
    refdata: &RefdataClient,
    jetstream: &jetstream::Context,
) -> anyhow::Result<()> {
    let consumer = jetstream
        .get_stream("CHECKOUT")
        .await?
        .get_or_create_consumer(
            "payments",
            pull::Config {
                durable_name: Some("payments".into()),
                filter_subjects: vec![
                    subjects::STOCK_RESERVED.into(),
                    subjects::ORDER_CANCELLED.into(),
                ],
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;
    while let Some(message) = messages.next().await {
        let message = message?;
        let applied = match message.subject.as_str() {
            subjects::STOCK_RESERVED => debit_wallet(pool, refdata, &message.payload).await,
            subjects::ORDER_CANCELLED => credit_wallet(pool, &message.payload).await,
            _ => Ok(()),
        };
        match applied {
            Ok(()) => message.ack().await.map_err(|e| anyhow::anyhow!(e))?,
            Err(error) => tracing::error!(%error, subject = %message.subject, "event not applied"),
        }
    }
    Ok(())
}

async fn debit_wallet(
    pool: &PgPool,
    refdata: &RefdataClient,
    payload: &[u8],
) -> Result<(), PaymentError> {
    let event: Envelope<StockReserved> = serde_json::from_slice(payload)?;
    let order = event.data;
    let currency = refdata.currency(&order.currency).await?;

    let mut tx = pool.begin().await?;
    let first_delivery = sqlx::query(
        "INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(subjects::STOCK_RESERVED)
    .execute(&mut *tx)
    .await?;
    if first_delivery.rows_affected() == 0 {
        return Ok(());
    }

    let refusal = if currency.historic {
        Some(format!("{} is no longer in circulation", currency.code))
    } else {
        let debited = sqlx::query(
            "UPDATE wallets SET balance_minor = balance_minor - $1 \
             WHERE customer_id = $2 AND currency = $3 AND balance_minor >= $1",
        )
        .bind(order.total_minor)
        .bind(order.customer_id)
        .bind(&currency.code)
        .execute(&mut *tx)
        .await?;
        (debited.rows_affected() == 0).then(|| "insufficient funds".to_owned())
    };

    let status = if refusal.is_none() {
        "captured"
    } else {
        "failed"
    };
    sqlx::query(
        "INSERT INTO payments (order_id, customer_id, amount_minor, status) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order.order_id)
    .bind(order.customer_id)
    .bind(order.total_minor)
    .bind(status)
    .execute(&mut *tx)
    .await?;

    let (subject, event_type) = match refusal {
        None => (subjects::PAYMENT_CAPTURED, "PaymentCaptured"),
        Some(_) => (subjects::PAYMENT_FAILED, "PaymentFailed"),
    };
    let outcome = PaymentOutcome {
        order_id: order.order_id,
        amount_minor: order.total_minor,
        reason: refusal,
    };
    enqueue(&mut tx, subject, &Envelope::new(event_type, 1, outcome)).await?;
    tx.commit().await?;
    Ok(())
}

async fn credit_wallet(pool: &PgPool, payload: &[u8]) -> Result<(), PaymentError> {
    let event: Envelope<OrderCancelled> = serde_json::from_slice(payload)?;
    let mut tx = pool.begin().await?;
    let first_delivery = sqlx::query(
        "INSERT INTO inbox (event_id, subject) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event.event_id)
    .bind(subjects::ORDER_CANCELLED)
    .execute(&mut *tx)
    .await?;
    if first_delivery.rows_affected() == 0 {
        return Ok(());
    }

    let refunded: Option<(Uuid, i64)> = sqlx::query_as(
        "UPDATE payments SET status = 'refunded' WHERE order_id = $1 AND status = 'captured' \
         RETURNING customer_id, amount_minor",
    )
    .bind(event.data.order_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((customer_id, amount_minor)) = refunded {
        sqlx::query("UPDATE wallets SET balance_minor = balance_minor + $1 WHERE customer_id = $2")
            .bind(amount_minor)
            .bind(customer_id)
            .execute(&mut *tx)
            .await?;
        let outcome = PaymentOutcome {
            order_id: event.data.order_id,
            amount_minor,
            reason: Some("order cancelled".to_owned()),
        };
        let envelope = Envelope::new("PaymentRefunded", 1, outcome);
        enqueue(&mut tx, subjects::PAYMENT_REFUNDED, &envelope).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn enqueue<T: Serialize>(
    tx: &mut Transaction<'_, Postgres>,
    subject: &str,
    envelope: &Envelope<T>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)")
        .bind(subject)
        .bind(sqlx::types::Json(envelope))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
