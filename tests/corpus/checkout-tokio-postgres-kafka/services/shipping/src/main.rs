mod api;
mod courier;
mod events;
mod order_events;

use std::sync::Arc;

use config::{Config, Environment, File};
use deadpool_postgres::{Manager, Pool};
use rdkafka::producer::FutureProducer;
use serde::Deserialize;
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpCfg,
    pub database: DbCfg,
    pub courier: CourierCfg,
    pub kafka: KafkaCfg,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpCfg {
    pub bind: String,
}
#[derive(Debug, Clone, Deserialize)]
pub struct DbCfg {
    pub url: String,
}
#[derive(Debug, Clone, Deserialize)]
pub struct CourierCfg {
    pub base_url: String,
    pub account: String,
}
#[derive(Debug, Clone, Deserialize)]
pub struct KafkaCfg {
    pub group_id: String,
    pub status_topic: String,
}

#[derive(Clone)]
pub struct Ctx {
    pub pool: Pool,
    pub producer: FutureProducer,
    pub courier: Arc<courier::CourierApi>,
    pub settings: Arc<Settings>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();
    let settings: Settings = Config::builder()
        .add_source(File::with_name("config/default"))
        .add_source(Environment::with_prefix("SHIPPING").separator("__"))
        .build()?
        .try_deserialize()?;
    let settings = Arc::new(settings);

    let pool = Pool::builder(Manager::new(settings.database.url.parse()?, NoTls))
        .max_size(10)
        .build()?;
    embedded::migrations::runner()
        .run_async(pool.get().await?.as_mut())
        .await?;

    let ctx = Ctx {
        pool,
        producer: common::kafka::producer()?,
        courier: Arc::new(courier::CourierApi::new(&settings.courier)),
        settings: settings.clone(),
    };

    tokio::spawn(order_events::consume(ctx.clone()));

    let listener = tokio::net::TcpListener::bind(&settings.http.bind).await?;
    axum::serve(listener, api::router(ctx)).await?;
    Ok(())
}
