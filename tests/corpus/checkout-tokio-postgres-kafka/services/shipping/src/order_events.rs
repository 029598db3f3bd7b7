//! Reacts to order events from checkout: once an order is confirmed we book
//! the courier pickup.

use common::envelope::EnvelopeHeader;
use common::events::{OrderConfirmed, ORDERS_TOPIC};
use common::Envelope;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::Message;
use tracing::{debug, error, info};
use uuid::Uuid;

use crate::Ctx;

pub async fn consume(ctx: Ctx) {
    let consumer = common::kafka::consumer(&ctx.settings.kafka.group_id, &[ORDERS_TOPIC])
        .expect("orders consumer");
    loop {
        match consumer.recv().await {
            Err(e) => error!(error = %e, "kafka"),
            Ok(msg) => {
                let Some(payload) = msg.payload() else { continue };
                let header: EnvelopeHeader = match serde_json::from_slice(payload) {
                    Ok(h) => h,
                    Err(e) => {
                        error!(error = %e, "undecodable message, skipping");
                        consumer.commit_message(&msg, CommitMode::Async).ok();
                        continue;
                    }
                };
                let res = match header.event_type.as_str() {
                    "OrderConfirmed" => match serde_json::from_slice::<Envelope<OrderConfirmed>>(payload) {
                        Ok(env) => on_order_confirmed(&ctx, header.event_id, env.payload).await,
                        Err(e) => Err(e.into()),
                    },
                    other => {
                        debug!(event_type = other, "not interesting");
                        Ok(())
                    }
                };
                match res {
                    Ok(()) => {
                        consumer.commit_message(&msg, CommitMode::Async).ok();
                    }
                    Err(e) => error!(error = %e, "order event failed"),
                }
            }
        }
    }
}

async fn on_order_confirmed(ctx: &Ctx, event_id: Uuid, evt: OrderConfirmed) -> anyhow::Result<()> {
    let mut conn = ctx.pool.get().await?;
    let tx = conn.transaction().await?;

    let already = tx
        .query_opt("SELECT 1 FROM processed_messages WHERE message_id = $1", &[&event_id])
        .await?;
    if already.is_some() {
        return Ok(());
    }

    let shipment = tx
        .query_one("SELECT id, country FROM shipments WHERE order_id = $1", &[&evt.order_id])
        .await?;
    let shipment_id: Uuid = shipment.get(0);
    let country: String = shipment.get(1);

    let booking = ctx
        .courier
        .book_pickup(&shipment_id.to_string(), &country, evt.lines.len())
        .await?;

    tx.execute(
        "INSERT INTO courier_bookings (id, shipment_id, courier_ref, pickup_date) VALUES ($1, $2, $3, $4)",
        &[&Uuid::new_v4(), &shipment_id, &booking.reference, &booking.pickup_date],
    )
    .await?;
    tx.execute(
        "UPDATE shipments SET status = 'pickup_booked' WHERE id = $1",
        &[&shipment_id],
    )
    .await?;
    tx.execute("INSERT INTO processed_messages (message_id) VALUES ($1)", &[&event_id])
        .await?;
    tx.commit().await?;
    info!(order_id = %evt.order_id, courier_ref = %booking.reference, "pickup booked");
    Ok(())
}
