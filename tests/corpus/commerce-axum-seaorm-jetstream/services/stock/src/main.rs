mod admin;
mod consumer;
mod entity;

use axum::routing::get;
use axum::Router;
use migration::{Migrator, MigratorTrait};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let db = platform::connect_db(&std::env::var("DATABASE_URL")?).await?;
    Migrator::up(&db, None).await?;
    let (_client, js) = platform::connect_jetstream().await?;

    let consumer = tokio::spawn(consumer::run(db.clone(), js));

    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/admin/reservations/unpaid", get(admin::unpaid_reservations))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    consumer.abort();
    Ok(())
}
