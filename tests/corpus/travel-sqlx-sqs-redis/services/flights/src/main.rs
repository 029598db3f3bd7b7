mod admin;
mod commands;

use anyhow::Context;
use serde::Deserialize;
use sqlx::mysql::MySqlPoolOptions;
use tokio::sync::watch;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub commands_queue_url: String,
    pub gds_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let settings: Settings = config::Config::builder()
        .add_source(config::File::with_name("config/default"))
        .add_source(config::Environment::with_prefix("FLIGHTS"))
        .build()?
        .try_deserialize()
        .context("flights settings")?;

    let pool = MySqlPoolOptions::new()
        .max_connections(10)
        .connect(&settings.database_url)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;

    let sqs = aws_sdk_sqs::Client::new(&aws_config::load_from_env().await);
    let (stop_tx, stop_rx) = watch::channel(false);
    let worker = tokio::spawn(commands::poll(sqs, pool.clone(), settings.clone(), stop_rx));

    let listener = tokio::net::TcpListener::bind(&settings.listen).await?;
    axum::serve(listener, admin::router(pool))
        .with_graceful_shutdown(async move {
            tokio::signal::ctrl_c().await.ok();
            stop_tx.send(true).ok();
        })
        .await?;
    worker.await?;
    Ok(())
}
