//! Refunds captured payments when the order is cancelled after checkout.

use common::events::{OrderCancelled, PaymentRefunded};
use common::Envelope;
use diesel::prelude::*;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicRejectOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use uuid::Uuid;

use crate::db::DbPool;
use crate::psp::PspClient;
use crate::schema::{payments, processed_messages, refunds};

const CONSUMER: &str = "payments.order-cancelled";

pub async fn run(pool: DbPool, psp: PspClient, channel: Channel) -> anyhow::Result<()> {
    channel
        .queue_declare("payments.order-cancelled", QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await?;
    channel
        .queue_bind("payments.order-cancelled", "orders", "order.cancelled", QueueBindOptions::default(), FieldTable::default())
        .await?;
    let mut consumer = channel
        .basic_consume("payments.order-cancelled", "payments", BasicConsumeOptions::default(), FieldTable::default())
        .await?;

    while let Some(delivery) = consumer.next().await {
        let delivery = delivery?;
        match serde_json::from_slice::<Envelope<OrderCancelled>>(&delivery.data) {
            Ok(event) => {
                if let Err(err) = on_order_cancelled(&pool, &psp, &channel, event).await {
                    tracing::error!(error = %err, "refund on cancellation failed");
                    delivery.reject(BasicRejectOptions { requeue: true }).await?;
                    continue;
                }
                delivery.ack(BasicAckOptions::default()).await?;
            }
            Err(err) => {
                tracing::error!(error = %err, "malformed order.cancelled");
                delivery.reject(BasicRejectOptions { requeue: false }).await?;
            }
        }
    }
    Ok(())
}

async fn on_order_cancelled(
    pool: &DbPool,
    psp: &PspClient,
    channel: &Channel,
    event: Envelope<OrderCancelled>,
) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;

    let first_time = diesel::insert_into(processed_messages::table)
        .values((
            processed_messages::message_id.eq(event.message_id),
            processed_messages::consumer.eq(CONSUMER),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await?;
    if first_time == 0 {
        tracing::debug!(message_id = %event.message_id, "duplicate delivery");
        return Ok(());
    }

    let Some((payment_id, amount_cents, reference)) = payments::table
        .filter(payments::order_id.eq(event.payload.order_id))
        .filter(payments::status.eq("captured"))
        .select((payments::id, payments::amount_cents, payments::psp_reference))
        .first::<(Uuid, i64, Option<String>)>(&mut conn)
        .await
        .optional()?
    else {
        return Ok(());
    };

    let psp_refund = match reference {
        Some(r) => Some(psp.refund(&format!("cancel-{}", event.message_id), &r).await?),
        None => None,
    };

    let refund_id = Uuid::new_v4();
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        async move {
            diesel::insert_into(refunds::table)
                .values((
                    refunds::id.eq(refund_id),
                    refunds::payment_id.eq(payment_id),
                    refunds::amount_cents.eq(amount_cents),
                    refunds::reason.eq("order_cancelled"),
                    refunds::psp_reference.eq(psp_refund.map(|r| r.reference)),
                ))
                .execute(conn)
                .await?;
            diesel::update(payments::table.find(payment_id))
                .set(payments::status.eq("refunded"))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;

    let refunded = Envelope::new(
        "payment.refunded",
        1,
        PaymentRefunded { refund_id, payment_id, order_id: event.payload.order_id, amount_cents },
    );
    channel
        .basic_publish(
            "payments",
            "payment.refunded",
            BasicPublishOptions::default(),
            &serde_json::to_vec(&refunded)?,
            BasicProperties::default().with_delivery_mode(2),
        )
        .await?;
    Ok(())
}
