mod clients;
mod countries;
mod routes;
mod saga;

use std::sync::Arc;

use axum::{routing::post, Router};
use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Deserialize)]
pub struct DispatchConfig {
    pub database_url: String,
    pub fleet_base_url: String,
    pub billing_base_url: String,
    pub tracking_base_url: String,
    #[serde(default = "default_port")]
    pub port: u16,
}

fn default_port() -> u16 {
    8080
}

pub struct AppState {
    pub db: sqlx::PgPool,
    pub fleet: clients::FleetClient,
    pub billing: clients::BillingClient,
    pub tracking: clients::TrackingClient,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let cfg: DispatchConfig = platform::config::load("DISPATCH_")?;

    let db = PgPoolOptions::new()
        .max_connections(16)
        .connect(&cfg.database_url)
        .await?;
    sqlx::migrate!("./migrations").run(&db).await?;

    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?;

    let state = Arc::new(AppState {
        db,
        fleet: clients::FleetClient::new(http.clone(), cfg.fleet_base_url),
        billing: clients::BillingClient::new(http.clone(), cfg.billing_base_url),
        tracking: clients::TrackingClient::new(http, cfg.tracking_base_url),
    });

    let app = Router::new()
        .route("/shipments", post(routes::create_shipment))
        .route("/shipments/:id/reassign", post(routes::reassign_vehicle))
        .with_state(state.clone());

    tokio::spawn(routes::relay_outbox(state.clone()));

    let listener = tokio::net::TcpListener::bind(("0.0.0.0", cfg.port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
