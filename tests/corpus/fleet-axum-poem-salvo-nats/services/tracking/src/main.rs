mod http;
mod subscribers;

use std::sync::Arc;

use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Deserialize)]
struct TrackingConfig {
    database_url: String,
    nats_url: String,
    #[serde(default = "default_port")]
    port: u16,
}

fn default_port() -> u16 {
    8080
}

pub struct Shared {
    pub db: sqlx::PgPool,
    pub nats: async_nats::Client,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let cfg: TrackingConfig = platform::config::load("TRACKING_")?;
    let db = PgPoolOptions::new().max_connections(20).connect(&cfg.database_url).await?;
    sqlx::migrate!("./migrations").run(&db).await?;
    let nats = async_nats::ConnectOptions::new()
        .name("tracking")
        .connect(&cfg.nats_url)
        .await?;

    let shared = Arc::new(Shared { db, nats });
    tokio::spawn(subscribers::positions(shared.clone()));
    tokio::spawn(subscribers::shipment_events(shared.clone()));

    http::serve(shared, cfg.port).await
}
