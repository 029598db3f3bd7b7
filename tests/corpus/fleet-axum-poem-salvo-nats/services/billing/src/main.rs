mod api;
mod close;
mod consumer;

use serde::Deserialize;

#[derive(Debug, Deserialize, Clone)]
pub struct BillingConfig {
    pub database_url: String,
    pub reporting_url: String,
    pub kafka_brokers: String,
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    8080
}

fn pool(url: &str) -> anyhow::Result<deadpool_postgres::Pool> {
    let pg: tokio_postgres::Config = url.parse()?;
    let mgr = deadpool_postgres::Manager::new(pg, tokio_postgres::NoTls);
    Ok(deadpool_postgres::Pool::builder(mgr).max_size(8).build()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let cfg: BillingConfig = platform::config::load("BILLING_")?;
    let db = pool(&cfg.database_url)?;
    let reporting = pool(&cfg.reporting_url)?;

    consumer::spawn(cfg.clone(), db.clone(), tokio::runtime::Handle::current());
    tokio::spawn(close::monthly(db.clone(), reporting));

    api::serve(db, cfg.port).await
}
