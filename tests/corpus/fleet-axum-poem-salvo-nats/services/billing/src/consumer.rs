//! Kafka intake. rdkafka's BaseConsumer is synchronous, so it lives on its own
//! OS thread and hops onto the runtime only for database work.

use std::thread;
use std::time::Duration;

use fleet_events::{TripCompleted, BILLING_TOPIC};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::Message;
use rust_decimal::Decimal;

use crate::BillingConfig;

const RATE_PER_KM: Decimal = Decimal::from_parts(185, 0, 0, false, 2);

pub fn spawn(cfg: BillingConfig, db: deadpool_postgres::Pool, rt: tokio::runtime::Handle) {
    thread::Builder::new()
        .name("kafka-intake".into())
        .spawn(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &cfg.kafka_brokers)
                .set("group.id", "billing")
                .set("enable.auto.commit", "false")
                .create()
                .expect("kafka consumer");
            consumer.subscribe(&[BILLING_TOPIC]).expect("subscribe");

            loop {
                let Some(result) = consumer.poll(Duration::from_millis(500)) else { continue };
                let msg = match result {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "kafka poll error");
                        thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                };
                let Some(Ok(payload)) = msg.payload_view::<str>() else { continue };
                let trip: TripCompleted = match serde_json::from_str(payload) {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::error!(error = %e, "undecodable trip event, skipping");
                        let _ = consumer.commit_message(&msg, CommitMode::Async);
                        continue;
                    }
                };
                if let Err(e) = rt.block_on(invoice_trip(&db, &trip)) {
                    tracing::error!(error = %e, trip_id = %trip.trip_id, "invoicing failed");
                    thread::sleep(Duration::from_secs(5));
                    continue;
                }
                let _ = consumer.commit_message(&msg, CommitMode::Async);
            }
        })
        .expect("spawn kafka thread");
}

async fn invoice_trip(db: &deadpool_postgres::Pool, trip: &TripCompleted) -> anyhow::Result<()> {
    let client = db.get().await?;
    let amount = trip.distance_km * RATE_PER_KM;
    client
        .execute(
            "INSERT INTO invoices (trip_id, customer_id, amount, currency) VALUES ($1, $2, $3, $4)",
            &[&trip.trip_id, &trip.customer_id, &amount, &trip.currency],
        )
        .await?;
    Ok(())
}
