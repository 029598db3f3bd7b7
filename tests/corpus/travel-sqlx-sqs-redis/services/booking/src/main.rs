mod api;
mod change;
mod events;
mod expire;
mod relay;
mod saga;
mod settings;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[derive(Clone)]
pub struct App {
    pub db: PgPool,
    pub http: reqwest::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub cfg: Arc<settings::Settings>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let cfg = Arc::new(settings::Settings::load()?);
    let database_url = std::env::var("DATABASE_URL").context("DATABASE_URL must be set")?;
    let db = PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&database_url)
        .await?;
    sqlx::migrate!().run(&db).await?;

    let aws = aws_config::load_from_env().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let redis = redis::Client::open(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1/".into()))?;
    let redis = redis::aio::ConnectionManager::new(redis).await?;

    tokio::spawn(relay::run(db.clone(), redis, cfg.relay.clone()));
    tokio::spawn(expire::run(db.clone()));

    let app = App {
        db,
        http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?,
        sqs,
        cfg: cfg.clone(),
    };
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
    axum::serve(listener, api::routes(app)).await?;
    Ok(())
}
