mod handlers;
mod maintenance;

use poem::{listener::TcpListener, middleware::Tracing, post, delete, EndpointExt, Route, Server};
use serde::Deserialize;
use sqlx::mysql::MySqlPoolOptions;

#[derive(Debug, Deserialize)]
struct FleetConfig {
    database_url: String,
    nats_url: String,
    #[serde(default = "default_port")]
    port: u16,
}

fn default_port() -> u16 {
    8080
}

#[derive(Clone)]
pub struct Ctx {
    pub db: sqlx::MySqlPool,
    pub nats: async_nats::Client,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let cfg: FleetConfig = platform::config::load("FLEET_")?;

    let db = MySqlPoolOptions::new()
        .max_connections(10)
        .connect(&cfg.database_url)
        .await?;
    sqlx::migrate!("./migrations").run(&db).await?;
    let nats = async_nats::connect(&cfg.nats_url).await?;

    let ctx = Ctx { db, nats };
    tokio::spawn(maintenance::run(ctx.clone()));

    let app = Route::new()
        .at("/reservations", post(handlers::reserve))
        .at("/reservations/:id", delete(handlers::release))
        .at("/vehicles/:id/odometer", post(handlers::record_odometer))
        .at("/vehicles/:id/trip-distance", post(handlers::add_trip_distance))
        .data(ctx)
        .with(Tracing);

    Server::new(TcpListener::bind(("0.0.0.0", cfg.port))).run(app).await?;
    Ok(())
}
