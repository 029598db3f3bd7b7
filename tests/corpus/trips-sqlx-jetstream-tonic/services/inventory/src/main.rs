use anyhow::Context;
use proto::inventory::inventory_server::InventoryServer;
use sqlx::postgres::PgPoolOptions;

mod cancellations;
mod events;
mod grpc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();

    let url = std::env::var("DATABASE_URL")
        .or_else(|_| std::env::var("INVENTORY_DATABASE_URL"))
        .context("DATABASE_URL not set")?;
    let pool = PgPoolOptions::new().max_connections(10).connect(&url).await?;
    sqlx::migrate!().run(&pool).await?;

    let client = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let js = async_nats::jetstream::new(client);

    tokio::spawn(cancellations::run(pool.clone(), js.clone()));

    let svc = grpc::InventoryService { pool, js };
    tonic::transport::Server::builder()
        .add_service(InventoryServer::new(svc))
        .serve("0.0.0.0:50051".parse()?)
        .await?;
    Ok(())
}
