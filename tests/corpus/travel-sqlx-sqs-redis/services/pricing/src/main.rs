mod currencies;
mod quotes;
mod rates;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use billing_store::InvoiceRepo;
use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[derive(Debug, Deserialize)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub billing_replica_url: String,
    pub ecb_url: String,
}

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub billing: InvoiceRepo,
    pub settings: Arc<Settings>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let settings: Settings = config::Config::builder()
        .add_source(config::File::with_name("config/default"))
        .add_source(config::Environment::with_prefix("PRICING"))
        .build()?
        .try_deserialize()?;

    let db = PgPoolOptions::new().max_connections(8).connect(&settings.database_url).await?;
    sqlx::migrate!().run(&db).await?;
    let billing_replica = PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy(&settings.billing_replica_url)?;

    let state = AppState { db, billing: InvoiceRepo::new(billing_replica), settings: Arc::new(settings) };
    let app = Router::new()
        .route("/v1/quotes", post(quotes::quote))
        .route("/v1/rates/refresh", post(rates::refresh))
        .route("/v1/rates/:currency", get(rates::latest))
        .with_state(state.clone());

    let listener = tokio::net::TcpListener::bind(&state.settings.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
