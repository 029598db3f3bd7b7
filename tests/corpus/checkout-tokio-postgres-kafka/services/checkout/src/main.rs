mod clients;
mod error;
mod invoice;
mod outbox_relay;
mod repo;
mod routes;
mod saga;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tracing_subscriber::EnvFilter;

use crate::clients::InventoryClient;
use crate::settings::Settings;

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Clone)]
pub struct AppState {
    pub cfg: Arc<Settings>,
    pub pool: Pool,
    pub http: reqwest::Client,
    pub inventory: InventoryClient,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .json()
        .init();

    let cfg = Arc::new(Settings::load().context("loading settings")?);

    let pg_config: tokio_postgres::Config = cfg.database.url.parse()?;
    let mgr = Manager::from_config(
        pg_config,
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let pool = Pool::builder(mgr).max_size(cfg.database.max_connections).build()?;

    {
        let mut conn = pool.get().await?;
        let client = conn.as_mut();
        embedded::migrations::runner().run_async(client).await?;
    }

    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(cfg.services.request_timeout_ms))
        .build()?;
    let inventory = InventoryClient::new(http.clone(), &cfg.services.inventory_url)?;

    let state = AppState { cfg: cfg.clone(), pool: pool.clone(), http, inventory };

    let producer = common::kafka::producer()?;
    tokio::spawn(outbox_relay::run(pool.clone(), producer, cfg.outbox.clone()));

    let app = routes::router(state);
    let listener = tokio::net::TcpListener::bind(&cfg.http.bind).await?;
    tracing::info!(addr = %cfg.http.bind, "checkout listening");
    axum::serve(listener, app).await?;
    Ok(())
}
