use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use refdata_client::RefdataClient;
use sqlx::postgres::PgPoolOptions;

mod wallet;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    let refdata = RefdataClient::builder(std::env::var("REFDATA_URL")?).build()?;

    let nats = async_nats::connect(std::env::var("NATS_URL")?).await?;
    let jetstream = async_nats::jetstream::new(nats);
    tokio::spawn(messaging::relay_outbox(pool.clone(), jetstream.clone()));
    tokio::spawn(wallet::run(pool, refdata, jetstream));

    let app = Router::new().route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], 8080))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
