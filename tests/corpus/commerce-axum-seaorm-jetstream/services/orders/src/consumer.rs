//! Moves orders through their lifecycle from stock and payment outcomes.

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::{self, Context};
use chrono::Utc;
use events::{subjects, OrderEvent, PaymentCompleted, PaymentFailed, StockReservationFailed};
use futures::StreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use crate::entity::{inbox, orders, outbox};

pub async fn run(db: DatabaseConnection, js: Context) -> anyhow::Result<()> {
    let stream = js.get_stream("FLOW").await?;
    let consumer = stream
        .get_or_create_consumer(
            "orders-lifecycle",
            pull::Config {
                durable_name: Some("orders-lifecycle".into()),
                filter_subjects: vec![
                    subjects::PAYMENT_COMPLETED.into(),
                    subjects::PAYMENT_FAILED.into(),
                    subjects::STOCK_RESERVATION_FAILED.into(),
                ],
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;

    while let Some(msg) = messages.next().await {
        let msg = msg?;
        let msg_id = msg
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_else(|| format!("{}:{}", msg.subject, msg.info().map(|i| i.stream_sequence).unwrap_or(0)));

        let txn = db.begin().await?;
        if !first_delivery(&txn, &msg_id, &msg.subject).await? {
            txn.rollback().await?;
            msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
            continue;
        }
        let result = match msg.subject.as_str() {
            s if s == subjects::PAYMENT_COMPLETED => {
                let ev: PaymentCompleted = serde_json::from_slice(&msg.payload)?;
                set_status(&txn, ev.order_id, "paid").await
            }
            s if s == subjects::PAYMENT_FAILED => {
                let ev: PaymentFailed = serde_json::from_slice(&msg.payload)?;
                cancel(&txn, ev.order_id, &ev.reason).await
            }
            s if s == subjects::STOCK_RESERVATION_FAILED => {
                let ev: StockReservationFailed = serde_json::from_slice(&msg.payload)?;
                cancel(&txn, ev.order_id, &format!("out of stock: {}", ev.sku)).await
            }
            other => {
                tracing::warn!(subject = other, "unexpected subject");
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                txn.commit().await?;
                msg.ack().await.map_err(|e| anyhow::anyhow!(e))?;
            }
            Err(err) => {
                tracing::error!(error = %err, "lifecycle handler failed");
                txn.rollback().await?;
            }
        }
    }
    Ok(())
}

async fn first_delivery(txn: &DatabaseTransaction, msg_id: &str, subject: &str) -> anyhow::Result<bool> {
    let inserted = inbox::Entity::insert(inbox::ActiveModel {
        message_id: Set(msg_id.to_owned()),
        subject: Set(subject.to_owned()),
        received_at: Set(Utc::now().into()),
    })
    .on_conflict(OnConflict::column(inbox::Column::MessageId).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    Ok(inserted == 1)
}

async fn set_status(txn: &DatabaseTransaction, order_id: Uuid, status: &str) -> anyhow::Result<()> {
    orders::ActiveModel { id: Set(order_id), status: Set(status.to_owned()), ..Default::default() }
        .update(txn)
        .await?;
    Ok(())
}

async fn cancel(txn: &DatabaseTransaction, order_id: Uuid, reason: &str) -> anyhow::Result<()> {
    set_status(txn, order_id, "cancelled").await?;
    let event = OrderEvent::OrderCancelled { order_id, reason: reason.to_owned() };
    outbox::ActiveModel {
        subject: Set(subjects::ORDER_EVENTS.to_owned()),
        payload: Set(serde_json::to_value(&event)?),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}
