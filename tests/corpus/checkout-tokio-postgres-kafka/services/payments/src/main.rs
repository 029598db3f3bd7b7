mod consumer;
mod handlers;
mod ledger;
mod psp;
mod reconcile;
mod settings;

use std::sync::Arc;

use anyhow::Context;
use axum::routing::{get, post};
use axum::Router;
use deadpool_postgres::{Manager, Pool};
use rdkafka::producer::FutureProducer;
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("migrations");
}
mod ledger_embedded {
    refinery::embed_migrations!("ledger_migrations");
}

#[derive(Clone)]
pub struct AppState {
    pub db: Pool,
    pub replica: Pool,
    pub producer: FutureProducer,
    pub psp: Arc<psp::PspClient>,
}

pub fn pool(url: &str, size: usize) -> anyhow::Result<Pool> {
    let cfg: tokio_postgres::Config = url.parse().context("database url")?;
    Ok(Pool::builder(Manager::new(cfg, NoTls)).max_size(size).build()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().json().init();
    let s = settings::Settings::load()?;

    let db = pool(&s.database.url, 16)?;
    let replica = pool(&s.database.replica_url, 8)?;
    let ledger = pool(&s.ledger.url, 4)?;
    let checkout_replica = pool(&s.reconciliation.checkout_replica_url, 2)?;

    embedded::migrations::runner()
        .run_async(db.get().await?.as_mut())
        .await?;
    ledger_embedded::migrations::runner()
        .run_async(ledger.get().await?.as_mut())
        .await?;

    let producer = common::kafka::producer()?;
    let psp = Arc::new(psp::PspClient::new(&s.psp.base_url, &s.psp.api_key));

    tokio::spawn(consumer::run(db.clone(), s.kafka.group_id.clone()));
    tokio::spawn(ledger::settlement_loop(db.clone(), ledger.clone()));
    tokio::spawn(reconcile::run(
        db.clone(),
        checkout_replica,
        s.reconciliation.schedule_secs,
    ));

    let state = AppState { db, replica, producer, psp };
    let app = Router::new()
        .route("/v1/charges", post(handlers::create_charge))
        .route("/v1/charges/:id/refund", post(handlers::refund_charge))
        .route("/v1/reports/daily", get(handlers::daily_report))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(&s.http.bind).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
