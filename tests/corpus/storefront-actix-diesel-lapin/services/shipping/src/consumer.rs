//! Express orders have no shipment yet when the payment is captured; create or promote it here.

use common::events::PaymentCaptured;
use common::Envelope;
use diesel::sql_types::Uuid as SqlUuid;
use diesel::RunQueryDsl;
use futures_lite::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::Channel;
use uuid::Uuid;

use crate::PgPool;

const UPSERT_READY: &str = "INSERT INTO shipments (id, order_id, status) VALUES ($1, $2, 'ready_to_pick') \
     ON CONFLICT (order_id) DO UPDATE SET status = 'ready_to_pick'";

pub async fn run(pool: PgPool, channel: Channel) -> anyhow::Result<()> {
    channel
        .queue_declare("shipping.payment-captured", QueueDeclareOptions { durable: true, ..Default::default() }, FieldTable::default())
        .await?;
    channel
        .queue_bind("shipping.payment-captured", "payments", "payment.captured", QueueBindOptions::default(), FieldTable::default())
        .await?;
    let mut deliveries = channel
        .basic_consume("shipping.payment-captured", "shipping", BasicConsumeOptions::default(), FieldTable::default())
        .await?;

    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let event: Envelope<PaymentCaptured> = match serde_json::from_slice(&delivery.data) {
            Ok(e) => e,
            Err(err) => {
                tracing::error!(error = %err, "bad payment.captured payload");
                delivery.nack(BasicNackOptions { requeue: false, ..Default::default() }).await?;
                continue;
            }
        };
        let pool = pool.clone();
        let order_id = event.payload.order_id;
        let result = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(diesel::sql_query(UPSERT_READY)
                .bind::<SqlUuid, _>(Uuid::new_v4())
                .bind::<SqlUuid, _>(order_id)
                .execute(&mut conn)?)
        })
        .await?;
        match result {
            Ok(_) => delivery.ack(BasicAckOptions::default()).await?,
            Err(err) => {
                tracing::error!(error = %err, %order_id, "could not mark shipment ready");
                delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await?;
            }
        }
    }
    Ok(())
}
