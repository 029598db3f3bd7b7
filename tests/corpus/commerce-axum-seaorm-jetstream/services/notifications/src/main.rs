mod carriers;
mod consumer;
mod entity;
mod mailer;

use axum::routing::get;
use axum::Router;
use migration::{Migrator, MigratorTrait};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let db = platform::connect_db(&std::env::var("DATABASE_URL")?).await?;
    Migrator::up(&db, None).await?;
    let orders_db = platform::connect_db(&std::env::var("ORDERS_DATABASE_URL")?).await?;
    let (_client, js) = platform::connect_jetstream().await?;

    let ctx = consumer::Ctx {
        db,
        orders_db,
        mail: ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(10)).build(),
        mailer_url: std::env::var("MAILER_URL")?,
    };
    tokio::spawn(consumer::run(ctx, js));

    let app = Router::new().route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
