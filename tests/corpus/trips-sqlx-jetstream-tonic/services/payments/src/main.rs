use std::sync::Arc;

use axum::{routing::post, Router};
use sqlx::postgres::PgPoolOptions;

mod http;
mod ledger;
mod psp;

pub struct Payments {
    pub db: sqlx::PgPool,
    pub psp: psp::PspClient,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().init();
    let db = PgPoolOptions::new()
        .max_connections(8)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!().run(&db).await?;

    let nats = async_nats::ConnectOptions::new()
        .name("payments")
        .connect(std::env::var("NATS_URL")?)
        .await?;
    let js = async_nats::jetstream::new(nats);
    tokio::spawn(ledger::LedgerProjector::new(db.clone()).run(js));

    let state = Arc::new(Payments { db, psp: psp::PspClient::from_env()? });
    let app = Router::new()
        .route("/charges", post(http::create_charge))
        .route("/charges/:id/refund", post(http::refund_charge))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
