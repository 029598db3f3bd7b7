use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::EnvFilter;

mod api;
mod events;
mod saga_listener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;

    let nats = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let jetstream = async_nats::jetstream::new(nats);
    tokio::spawn(messaging::relay_outbox(pool.clone(), jetstream.clone()));
    tokio::spawn(saga_listener::run(pool.clone(), jetstream));

    let app = Router::new()
        .route("/orders", post(api::place_order))
        .route("/orders/{id}", get(api::get_order))
        .with_state(pool);
    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
