use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use inventory_store::{StockLevel, StockRepository};
use serde::Deserialize;
use sqlx::postgres::PgPoolOptions;

#[derive(Debug, Deserialize)]
struct Restock {
    quantity: i32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!("../../crates/inventory-store/migrations")
        .run(&pool)
        .await?;

    let app = Router::new()
        .route("/stock/{sku}", get(stock_level))
        .route("/stock/{sku}/restock", post(restock))
        .with_state(StockRepository::new(pool));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], 8080))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn stock_level(
    State(stock): State<StockRepository>,
    Path(sku): Path<String>,
) -> Result<Json<StockLevel>, StatusCode> {
    match stock.level(&sku).await {
        Ok(Some(level)) => Ok(Json(level)),
        Ok(None) => Err(StatusCode::NOT_FOUND),
        Err(error) => {
            tracing::error!(%error, "stock lookup failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

async fn restock(
    State(stock): State<StockRepository>,
    Path(sku): Path<String>,
    Json(body): Json<Restock>,
) -> StatusCode {
    match stock.restock(&sku, body.quantity).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, "restock failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
