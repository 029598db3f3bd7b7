use std::net::SocketAddr;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

mod reservations;

#[derive(serde::Serialize, sqlx::FromRow)]
struct StockLevel {
    sku: String,
    on_hand: i32,
    reserved: i32,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;

    let nats = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let jetstream = async_nats::jetstream::new(nats);
    tokio::spawn(messaging::relay_outbox(pool.clone(), jetstream.clone()));
    tokio::spawn(reservations::run(pool.clone(), jetstream));

    let app = Router::new()
        .route("/stock/{sku}", get(stock_level))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], 8080))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn stock_level(
    State(pool): State<PgPool>,
    Path(sku): Path<String>,
) -> Result<Json<StockLevel>, StatusCode> {
    sqlx::query_as::<_, StockLevel>("SELECT sku, on_hand, reserved FROM stock WHERE sku = $1")
        .bind(sku)
        .fetch_optional(&pool)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .map(Json)
        .ok_or(StatusCode::NOT_FOUND)
}
