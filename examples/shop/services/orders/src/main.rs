use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use sqlx::postgres::PgPoolOptions;
use tracing_subscriber::EnvFilter;

mod cancel;
mod checkout;
mod clients;
mod routes;
mod shipment_events;
mod stock;

use clients::{InventoryClient, PaymentsClient};

#[derive(Clone)]
pub struct AppState {
    pub pool: sqlx::PgPool,
    pub inventory_pool: sqlx::PgPool,
    pub inventory: InventoryClient,
    pub payments: PaymentsClient,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .init();

    let database_url = std::env::var("DATABASE_URL")?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&database_url)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    let inventory_pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&std::env::var("INVENTORY_DATABASE_URL")?)
        .await?;

    let http = reqwest::Client::new();
    let inventory = InventoryClient::new(http.clone(), std::env::var("INVENTORY_URL")?);
    let payments = PaymentsClient::new(http, std::env::var("PAYMENTS_URL")?);
    let listener_pool = pool.clone();
    tokio::spawn(async move {
        if let Err(error) = shipment_events::run(listener_pool).await {
            tracing::error!(%error, "shipment event consumer stopped");
        }
    });

    let app = Router::new()
        .route("/orders", post(routes::place_order))
        .route("/orders/{id}/checkout", post(checkout::checkout))
        .route(
            "/orders/{id}",
            get(routes::get_order).delete(cancel::cancel_order),
        )
        .with_state(AppState {
            pool,
            inventory_pool,
            inventory,
            payments,
        });

    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "orders listening");
    axum::serve(listener, app).await?;
    Ok(())
}
