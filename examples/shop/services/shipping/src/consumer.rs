//! Creates a shipment for every authorized payment and announces it on `shipments.scheduled`.

use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::fulfilment::{self, BookCarrierPickup, Fulfilment, FulfilmentStep, PrintLabel};

const CARRIER: &str = "dhl";

#[derive(Debug, Deserialize)]
struct PaymentAuthorized {
    payment_id: Uuid,
    order_id: Uuid,
}

/// Published once the shipment exists; orders shows the order as shipping.
#[derive(Debug, Serialize)]
pub struct ShipmentScheduled {
    pub event_id: Uuid,
    pub shipment_id: Uuid,
    pub order_id: Uuid,
    pub carrier: String,
    pub label_url: Option<String>,
}

pub struct Handler {
    pub pool: PgPool,
    pub producer: FutureProducer,
    pub steps: Vec<Box<dyn FulfilmentStep>>,
}

pub async fn run(pool: PgPool) -> anyhow::Result<()> {
    let brokers = std::env::var("KAFKA_BROKERS").unwrap_or_else(|_| "kafka:9092".to_string());
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "shipping")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&["payments.authorized"])?;
    let handler = Handler {
        pool,
        producer: ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .create()?,
        steps: vec![
            Box::new(BookCarrierPickup {
                http: reqwest::Client::new(),
                carrier_url: std::env::var("CARRIER_API_URL")?,
            }),
            Box::new(PrintLabel {
                http: reqwest::Client::new(),
                label_url: std::env::var("LABEL_SERVICE_URL")?,
            }),
        ],
    };

    loop {
        let message = consumer.recv().await?;
        let Some(payload) = message.payload() else {
            continue;
        };
        match handler.on_payment_authorized(payload).await {
            Ok(()) => consumer.commit_message(&message, CommitMode::Async)?,
            Err(error) => tracing::error!(%error, "payment event not handled"),
        }
    }
}

impl Handler {
    async fn on_payment_authorized(&self, payload: &[u8]) -> anyhow::Result<()> {
        let event: PaymentAuthorized = serde_json::from_slice(payload)?;
        let shipment_id = Uuid::new_v4();
        sqlx::query("INSERT INTO shipments (id, order_id, carrier) VALUES ($1, $2, $3)")
            .bind(shipment_id)
            .bind(event.order_id)
            .bind(CARRIER)
            .execute(&self.pool)
            .await?;
        tracing::info!(%shipment_id, payment_id = %event.payment_id, "shipment created");

        let mut fulfilment = Fulfilment {
            shipment_id,
            ..Fulfilment::default()
        };
        fulfilment::run(&self.steps, &mut fulfilment).await?;

        let scheduled = ShipmentScheduled {
            event_id: Uuid::new_v4(),
            shipment_id,
            order_id: event.order_id,
            carrier: CARRIER.to_string(),
            label_url: fulfilment.label_url,
        };
        let body = serde_json::to_vec(&scheduled)?;
        let key = event.order_id.to_string();
        self.producer
            .send(
                FutureRecord::to("shipments.scheduled")
                    .key(&key)
                    .payload(&body),
                Duration::from_secs(5),
            )
            .await
            .map_err(|(error, _)| error)?;
        Ok(())
    }
}
