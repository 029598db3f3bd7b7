//! Books a courier pickup when an order has been paid. Payment events reach RabbitMQ through
//! the kafka->amqp bridge (queue `shipping.payments`).

use std::sync::Arc;

use contracts::PaymentEvent;
use deadpool_postgres::Pool;
use futures::StreamExt;
use lapin::{
    options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions},
    types::FieldTable,
    BasicProperties, Channel,
};

use crate::{courier::Courier, events::{ShipmentBooked, EXCHANGE, ROUTING_KEY_BOOKED}, zones::Zone};

pub struct Worker {
    pub pool: Pool,
    pub channel: Channel,
    pub courier: Arc<Courier>,
}

impl Worker {
    pub async fn run(self) -> anyhow::Result<()> {
        let mut consumer = self
            .channel
            .basic_consume("shipping.payments", "shipping-worker", BasicConsumeOptions::default(), FieldTable::default())
            .await?;
        while let Some(delivery) = consumer.next().await {
            let delivery = delivery?;
            match self.on_payment(&delivery.data).await {
                Ok(()) => delivery.ack(BasicAckOptions::default()).await?,
                Err(e) => {
                    log::error!("shipping: {e:#}");
                    delivery.nack(BasicNackOptions { requeue: true, ..Default::default() }).await?;
                }
            }
        }
        Ok(())
    }

    async fn on_payment(&self, body: &[u8]) -> anyhow::Result<()> {
        let PaymentEvent::Succeeded { order_id, ship_to_country, .. } = serde_json::from_slice(body)? else {
            return Ok(());
        };
        let country = ship_to_country.unwrap_or_else(|| "DE".to_owned());
        let zone = Zone::for_country(&country);

        let client = self.pool.get().await?;
        let claimed = client
            .execute(
                "INSERT INTO shipments (order_id, country, zone) VALUES ($1, $2, $3) ON CONFLICT (order_id) DO NOTHING",
                &[&order_id, &country, &zone.as_str()],
            )
            .await?;
        if claimed == 0 {
            return Ok(());
        }

        let booked = self.courier.book(order_id, zone.as_str())?;
        client
            .execute(
                "UPDATE shipments SET courier_ref = $2, status = 'booked' WHERE order_id = $1",
                &[&order_id, &booked.tracking],
            )
            .await?;

        let event = ShipmentBooked { order_id, tracking: booked.tracking, zone: zone.as_str().into() };
        self.channel
            .basic_publish(
                EXCHANGE,
                ROUTING_KEY_BOOKED,
                BasicPublishOptions::default(),
                &serde_json::to_vec(&event)?,
                BasicProperties::default().with_content_type("application/json".into()),
            )
            .await?
            .await?;
        Ok(())
    }
}
