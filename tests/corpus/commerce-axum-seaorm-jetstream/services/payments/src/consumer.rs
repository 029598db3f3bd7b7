//! Payment step of the order flow.
//!
//! stock.reserved      -> charge the card, record payment + outcome event (outbox)
//! orders.events       -> OrderCancelled: refund a completed payment

use async_nats::jetstream::consumer::{pull, AckPolicy};
use async_nats::jetstream::{self, Context};
use chrono::Utc;
use events::{subjects, OrderEvent, PaymentCompleted, PaymentFailed, PaymentRefunded, StockReserved};
use futures::StreamExt;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use uuid::Uuid;

use crate::entity::{payments, payments_outbox, processed_events, refunds};
use crate::psp::Psp;

fn event_id(msg: &jetstream::Message) -> String {
    msg.headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Id"))
        .map(|v| v.to_string())
        .unwrap_or_else(|| format!("{}:{}", msg.subject, msg.info().map(|i| i.stream_sequence).unwrap_or(0)))
}

pub async fn run(db: DatabaseConnection, js: Context, psp: Psp) -> anyhow::Result<()> {
    let consumer = js
        .get_stream("FLOW")
        .await?
        .get_or_create_consumer(
            "payments",
            pull::Config {
                durable_name: Some("payments".into()),
                filter_subjects: vec![subjects::STOCK_RESERVED.into(), subjects::ORDER_EVENTS.into()],
                ack_policy: AckPolicy::Explicit,
                max_deliver: 10,
                ..Default::default()
            },
        )
        .await?;
    let mut messages = consumer.messages().await?;

    while let Some(next) = messages.next().await {
        let msg = match next {
            Ok(m) => m,
            Err(err) => {
                tracing::warn!(error = %err, "pull failed");
                continue;
            }
        };
        let outcome = match msg.subject.as_str() {
            subjects::STOCK_RESERVED => on_stock_reserved(&db, &psp, &msg).await,
            subjects::ORDER_EVENTS => match serde_json::from_slice::<OrderEvent>(&msg.payload) {
                Ok(OrderEvent::OrderCancelled { order_id, reason }) => {
                    on_order_cancelled(&db, &js, &psp, &msg, order_id, &reason).await
                }
                Ok(_) => Ok(()),
                Err(err) => Err(err.into()),
            },
            _ => Ok(()),
        };
        match outcome {
            Ok(()) => msg.ack().await.map_err(|e| anyhow::anyhow!(e))?,
            Err(err) => {
                tracing::error!(subject = %msg.subject, error = %err, "payment handler failed");
                msg.ack_with(jetstream::AckKind::Nak(None)).await.map_err(|e| anyhow::anyhow!(e))?;
            }
        }
    }
    Ok(())
}

async fn on_stock_reserved(db: &DatabaseConnection, psp: &Psp, msg: &jetstream::Message) -> anyhow::Result<()> {
    let id = event_id(msg);
    if processed_events::Entity::find_by_id(id.clone()).one(db).await?.is_some() {
        tracing::debug!(event_id = %id, "already processed");
        return Ok(());
    }
    let ev: StockReserved = serde_json::from_slice(&msg.payload)?;
    let result = psp
        .charge(format!("order-{}", ev.order_id), ev.total_minor, ev.currency.clone())
        .await?;

    let payment_id = Uuid::new_v4();
    let (subject, payload) = if result.approved {
        (
            subjects::PAYMENT_COMPLETED,
            serde_json::to_value(PaymentCompleted {
                order_id: ev.order_id,
                payment_id,
                amount_minor: ev.total_minor,
                currency: ev.currency.clone(),
            })?,
        )
    } else {
        (
            subjects::PAYMENT_FAILED,
            serde_json::to_value(PaymentFailed {
                order_id: ev.order_id,
                reason: result.decline_reason.clone().unwrap_or_else(|| "declined".into()),
            })?,
        )
    };

    let txn = db.begin().await?;
    payments::ActiveModel {
        id: Set(payment_id),
        order_id: Set(ev.order_id),
        amount_minor: Set(ev.total_minor),
        currency: Set(ev.currency),
        status: Set(if result.approved { "completed" } else { "failed" }.into()),
        psp_reference: Set(Some(result.reference)),
        created_at: Set(Utc::now().into()),
    }
    .insert(&txn)
    .await?;
    processed_events::ActiveModel {
        event_id: Set(id),
        handler: Set("on_stock_reserved".into()),
        processed_at: Set(Utc::now().into()),
    }
    .insert(&txn)
    .await?;
    payments_outbox::ActiveModel {
        subject: Set(subject.to_owned()),
        msg_id: Set(format!("payment-{payment_id}")),
        payload: Set(payload),
        created_at: Set(Utc::now().into()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn on_order_cancelled(
    db: &DatabaseConnection,
    js: &Context,
    psp: &Psp,
    msg: &jetstream::Message,
    order_id: Uuid,
    reason: &str,
) -> anyhow::Result<()> {
    let claimed = processed_events::Entity::insert(processed_events::ActiveModel {
        event_id: Set(event_id(msg)),
        handler: Set("on_order_cancelled".into()),
        processed_at: Set(Utc::now().into()),
    })
    .on_conflict(OnConflict::column(processed_events::Column::EventId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if claimed == 0 {
        return Ok(());
    }

    let Some(payment) = payments::Entity::find()
        .filter(payments::Column::OrderId.eq(order_id))
        .filter(payments::Column::Status.eq("completed"))
        .one(db)
        .await?
    else {
        return Ok(());
    };

    if let Some(reference) = payment.psp_reference.clone() {
        psp.refund(format!("refund-{order_id}"), reference, payment.amount_minor).await?;
    }

    let txn = db.begin().await?;
    let refund_id = Uuid::new_v4();
    refunds::ActiveModel {
        id: Set(refund_id),
        payment_id: Set(payment.id),
        amount_minor: Set(payment.amount_minor),
        reason: Set(format!("order cancelled: {reason}")),
        created_at: Set(Utc::now().into()),
    }
    .insert(&txn)
    .await?;
    let mut active: payments::ActiveModel = payment.clone().into();
    active.status = Set("refunded".into());
    active.update(&txn).await?;
    txn.commit().await?;

    platform::publish_json(
        js,
        subjects::PAYMENT_REFUNDED,
        &PaymentRefunded { order_id, payment_id: payment.id, amount_minor: payment.amount_minor },
    )
    .await?;
    Ok(())
}
