mod consumer;
mod http;
mod repo;

use anyhow::Context;
use config::{Config, Environment, File};
use deadpool_postgres::{Manager, Pool};
use serde::Deserialize;
use tokio::sync::watch;
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("migrations");
}

#[derive(Debug, Deserialize)]
struct Settings {
    http: HttpSettings,
    database: DbSettings,
    kafka: KafkaSettings,
}

#[derive(Debug, Deserialize)]
struct HttpSettings {
    bind: String,
}

#[derive(Debug, Deserialize)]
struct DbSettings {
    url: String,
}

#[derive(Debug, Deserialize)]
struct KafkaSettings {
    group_id: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();
    let settings: Settings = Config::builder()
        .add_source(File::with_name("config/default"))
        .add_source(Environment::with_prefix("INVENTORY").separator("__"))
        .build()?
        .try_deserialize()
        .context("inventory settings")?;

    let pg: tokio_postgres::Config = settings.database.url.parse()?;
    let pool = Pool::builder(Manager::new(pg, NoTls)).max_size(12).build()?;
    {
        let mut conn = pool.get().await?;
        embedded::migrations::runner().run_async(conn.as_mut()).await?;
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let consumer_task = tokio::spawn(consumer::run(
        pool.clone(),
        settings.kafka.group_id.clone(),
        shutdown_rx,
    ));

    let listener = tokio::net::TcpListener::bind(&settings.http.bind).await?;
    axum::serve(listener, http::router(pool))
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            let _ = shutdown_tx.send(true);
        })
        .await?;
    consumer_task.await??;
    Ok(())
}
