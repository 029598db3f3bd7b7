use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{routing::post, Router};
use sqlx::postgres::PgPoolOptions;
use tower_http::trace::TraceLayer;

mod clients;
mod error;
mod outbox;
mod receipt;
mod repo;
mod routes;
mod saga;

#[derive(Clone)]
pub struct AppState {
    pub db: sqlx::PgPool,
    pub inventory: clients::InventoryClient,
    pub payments: clients::PaymentsClient,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();

    let database_url = std::env::var("DATABASE_URL")
        .or_else(|_| std::env::var("BOOKING_DATABASE_URL"))
        .context("DATABASE_URL")?;
    let db = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(3))
        .connect(&database_url)
        .await?;
    sqlx::migrate!("./migrations").run(&db).await?;

    let nats = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let js = async_nats::jetstream::new(nats);

    let state = AppState {
        db: db.clone(),
        inventory: clients::InventoryClient::connect(std::env::var("INVENTORY_GRPC")?).await?,
        payments: clients::PaymentsClient::new(std::env::var("PAYMENTS_URL")?),
    };

    tokio::spawn(outbox::Relay::new(db.clone(), js).run());

    let app = Router::new()
        .route("/bookings", post(routes::create_booking))
        .route("/bookings/:id/rebook", post(routes::rebook))
        .layer(TraceLayer::new_for_http())
        .with_state(Arc::new(state));

    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
