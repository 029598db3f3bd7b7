mod events;
mod routes;
mod stream;

use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub port: u16,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: String,
    pub consumer_group: String,
    pub consumer_name: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let settings: Settings = config::Config::builder()
        .add_source(config::File::with_name("config/default"))
        .add_source(config::Environment::with_prefix("HOTELS").separator("__"))
        .build()?
        .try_deserialize()?;

    let db = PgPoolOptions::new()
        .max_connections(settings.database.max_connections)
        .connect(&settings.database.url)
        .await?;
    sqlx::migrate!().run(&db).await?;

    let redis = redis::Client::open(settings.redis.url.as_str())?;
    let publisher = redis::aio::ConnectionManager::new(redis.clone()).await?;

    tokio::spawn(stream::consume(db.clone(), redis, settings.redis.clone()));

    warp::serve(routes::routes(db, publisher))
        .run(([0, 0, 0, 0], settings.port))
        .await;
    Ok(())
}
