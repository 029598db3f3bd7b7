//! Bootstrapping shared by the services: tracing, database, NATS.

use std::time::Duration;

use async_nats::jetstream::{self, Context};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use serde::Serialize;

pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
}

pub async fn connect_db(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(20)
        .connect_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    Ok(Database::connect(opts).await?)
}

pub async fn connect_jetstream() -> anyhow::Result<(async_nats::Client, Context)> {
    let url = std::env::var("NATS_URL").unwrap_or_else(|_| "nats://localhost:4222".into());
    let client = async_nats::connect(url).await?;
    let js = jetstream::new(client.clone());
    Ok((client, js))
}

/// Publishes `payload` as JSON and waits for the JetStream ack.
pub async fn publish_json<T: Serialize>(js: &Context, subject: &str, payload: &T) -> anyhow::Result<()> {
    let body = serde_json::to_vec(payload)?;
    js.publish(subject.to_owned(), bytes::Bytes::from(body)).await?.await?;
    Ok(())
}
