use std::time::Duration;

use contracts::{topics, OrderEvent, PaymentEvent, StockEvent};
use deadpool_postgres::Pool;
use rdkafka::{
    consumer::{CommitMode, Consumer, StreamConsumer},
    message::BorrowedMessage,
    producer::{FutureProducer, FutureRecord},
    Message,
};

use crate::store;

#[derive(Debug, thiserror::Error)]
enum HandleError {
    #[error(transparent)]
    Pool(#[from] deadpool_postgres::PoolError),
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

pub struct StockWorker {
    pool: Pool,
    producer: FutureProducer,
}

impl StockWorker {
    pub fn new(pool: Pool, producer: FutureProducer) -> Self {
        Self { pool, producer }
    }

    pub async fn run(self, consumer: StreamConsumer) {
        consumer.subscribe(&[topics::ORDER_EVENTS, topics::PAYMENT_EVENTS]).expect("subscribe");
        loop {
            let msg = match consumer.recv().await {
                Ok(m) => m,
                Err(e) => {
                    log::error!("recv: {e}");
                    continue;
                }
            };
            match self.handle(&msg).await {
                Ok(()) => {
                    if let Err(e) = consumer.commit_message(&msg, CommitMode::Sync) {
                        log::warn!("commit failed: {e}");
                    }
                }
                Err(e) => log::error!("offset {} not committed: {e}", msg.offset()),
            }
        }
    }

    async fn handle(&self, msg: &BorrowedMessage<'_>) -> Result<(), HandleError> {
        let payload = msg.payload().unwrap_or_default();
        let key = format!("{}:{}:{}", msg.topic(), msg.partition(), msg.offset());
        if msg.topic() == topics::ORDER_EVENTS {
            match serde_json::from_slice(payload)? {
                OrderEvent::Placed { order_id, customer_id, lines, currency, .. } => {
                    let mut client = self.pool.get().await?;
                    let tx = client.transaction().await?;
                    if !store::claim(&tx, &key).await? {
                        return Ok(());
                    }
                    let mut missing = Vec::new();
                    for line in &lines {
                        if !store::reserve_line(&tx, order_id, &line.sku, line.qty).await? {
                            missing.push(line.sku.clone());
                        }
                    }
                    let outcome = if missing.is_empty() {
                        tx.commit().await?;
                        StockEvent::Reserved {
                            order_id,
                            total_minor: lines.iter().map(|l| l.unit_price_minor * i64::from(l.qty)).sum(),
                            currency,
                            customer_id,
                        }
                    } else {
                        tx.rollback().await?;
                        StockEvent::Rejected { order_id, missing_skus: missing }
                    };
                    self.emit(&outcome).await?;
                }
                OrderEvent::Cancelled { order_id, .. } => self.release(order_id, &key).await?,
            }
        } else if let PaymentEvent::Failed { order_id, .. } = serde_json::from_slice(payload)? {
            self.release(order_id, &key).await?;
        }
        Ok(())
    }

    async fn release(&self, order_id: uuid::Uuid, key: &str) -> Result<(), HandleError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        if store::claim(&tx, key).await? {
            store::release_order(&tx, order_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn emit(&self, event: &StockEvent) -> Result<(), HandleError> {
        let order_id = match event {
            StockEvent::Reserved { order_id, .. } | StockEvent::Rejected { order_id, .. } => order_id.to_string(),
        };
        let body = serde_json::to_string(event)?;
        self.producer
            .send(FutureRecord::to(topics::STOCK_EVENTS).key(&order_id).payload(&body), Duration::from_secs(5))
            .await
            .map_err(|(e, _)| e)?;
        Ok(())
    }
}
