use std::net::SocketAddr;

use axum::routing::post;
use axum::Router;
use inventory_store::StockRepository;
use sqlx::postgres::PgPoolOptions;

mod consumer;
mod dispatch;
mod fulfilment;

#[derive(Clone)]
pub struct AppState {
    pub pool: sqlx::PgPool,
    pub stock: StockRepository,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    let consumer_pool = pool.clone();
    tokio::spawn(async move {
        if let Err(error) = consumer::run(consumer_pool).await {
            tracing::error!(%error, "payment event consumer stopped");
        }
    });

    let state = AppState {
        stock: StockRepository::new(pool.clone()),
        pool,
    };
    let app = Router::new()
        .route("/shipments/{order_id}/dispatch", post(dispatch::dispatch))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], 8080))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
