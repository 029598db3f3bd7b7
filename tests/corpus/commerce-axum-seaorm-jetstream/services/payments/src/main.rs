mod consumer;
mod entity;
mod psp;
mod relay;
mod routes;

use axum::routing::{post, put};
use axum::Router;
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub psp: psp::Psp,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let db = platform::connect_db(&std::env::var("DATABASE_URL")?).await?;
    Migrator::up(&db, None).await?;

    let (_client, js) = platform::connect_jetstream().await?;
    let psp = psp::Psp::from_env()?;

    tokio::spawn(relay::run(db.clone(), js.clone()));
    tokio::spawn(consumer::run(db.clone(), js.clone(), psp.clone()));

    let app = Router::new()
        .route("/payments", post(routes::create_payment))
        .route("/payments/:order_id/authorization", put(routes::adjust_authorization))
        .route("/refunds", post(routes::create_refund))
        .with_state(AppState { db, psp });
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
