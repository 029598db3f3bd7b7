//! Thin helpers over lapin so every service declares exchanges and publishes the same way.

use lapin::options::{BasicPublishOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("amqp: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("broker nacked message on {0}")]
    Nacked(String),
}

pub async fn connect(url: &str, name: &str) -> Result<Connection, lapin::Error> {
    let props = ConnectionProperties::default()
        .with_connection_name(name.into())
        .with_executor(tokio_executor_trait::Tokio::current())
        .with_reactor(tokio_reactor_trait::Tokio);
    Connection::connect(url, props).await
}

pub async fn declare_topic(channel: &Channel, exchange: &str) -> Result<(), lapin::Error> {
    channel
        .exchange_declare(
            exchange,
            ExchangeKind::Topic,
            ExchangeDeclareOptions { durable: true, ..Default::default() },
            FieldTable::default(),
        )
        .await
}

/// Serialize `payload` as JSON and publish it persistently, waiting for the publisher confirm.
pub async fn publish_json<T: Serialize>(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    payload: &T,
) -> Result<(), PublishError> {
    let body = serde_json::to_vec(payload)?;
    let confirm = channel
        .basic_publish(
            exchange,
            routing_key,
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default()
                .with_content_type("application/json".into())
                .with_delivery_mode(2),
        )
        .await?
        .await?;
    if confirm.is_nack() {
        return Err(PublishError::Nacked(routing_key.to_owned()));
    }
    tracing::debug!(exchange, routing_key, "published");
    Ok(())
}
