//! Order status follows the choreography: stock and payment outcomes move the order along.

use contracts::{topics, PaymentEvent, StockEvent};
use deadpool_postgres::Pool;
use futures::StreamExt;
use rdkafka::{
    consumer::{CommitMode, Consumer, StreamConsumer},
    Message,
};

pub async fn run(consumer: StreamConsumer, pool: Pool) {
    consumer
        .subscribe(&[topics::STOCK_EVENTS, topics::PAYMENT_EVENTS])
        .expect("subscribe");
    let mut stream = consumer.stream();
    while let Some(next) = stream.next().await {
        let msg = match next {
            Ok(m) => m,
            Err(e) => {
                log::warn!("kafka: {e}");
                continue;
            }
        };
        let Some(payload) = msg.payload() else { continue };
        let new_status = match msg.topic() {
            t if t == topics::STOCK_EVENTS => match serde_json::from_slice::<StockEvent>(payload) {
                Ok(StockEvent::Reserved { order_id, .. }) => Some((order_id, "awaiting_payment")),
                Ok(StockEvent::Rejected { order_id, .. }) => Some((order_id, "rejected")),
                Err(_) => None,
            },
            _ => match serde_json::from_slice::<PaymentEvent>(payload) {
                Ok(PaymentEvent::Succeeded { order_id, .. }) => Some((order_id, "paid")),
                Ok(PaymentEvent::Failed { order_id, .. }) => Some((order_id, "payment_failed")),
                Err(_) => None,
            },
        };
        if let Some((order_id, status)) = new_status {
            let result = async {
                let client = pool.get().await?;
                client
                    .execute(
                        "UPDATE orders SET status = $2 WHERE id = $1 AND status NOT IN ('cancelled', 'shipped')",
                        &[&order_id, &status],
                    )
                    .await?;
                anyhow::Ok(())
            }
            .await;
            if let Err(e) = result {
                log::error!("order {order_id}: {e:#}; will be redelivered");
                continue;
            }
        }
        consumer.commit_message(&msg, CommitMode::Async).ok();
    }
}
