mod charges;
mod invoices;
mod settings;
mod settlement;
mod workers;

use std::sync::Arc;

use axum::routing::post;
use axum::Router;
use billing_store::InvoiceRepo;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[derive(Clone)]
pub struct Ctx {
    pub db: PgPool,
    pub invoices: InvoiceRepo,
    pub http: reqwest::Client,
    pub cfg: Arc<settings::Settings>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let cfg = Arc::new(settings::Settings::load()?);

    let db = PgPoolOptions::new().max_connections(16).connect(&cfg.db.url).await?;
    let ledger = PgPoolOptions::new().max_connections(4).connect(&cfg.db.ledger_url).await?;
    billing_store::MIGRATOR.run(&db).await?;

    let sqs = aws_sdk_sqs::Client::new(&aws_config::load_from_env().await);
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(cfg.redis.url.as_str())?).await?;

    let ctx = Ctx { db: db.clone(), invoices: InvoiceRepo::new(db.clone()), http: reqwest::Client::new(), cfg: cfg.clone() };

    tokio::spawn(workers::invoice_requests(ctx.clone(), sqs.clone()));
    tokio::spawn(workers::refund_requests(ctx.clone(), sqs.clone(), redis));
    tokio::spawn(settlement::nightly(db.clone(), ledger));

    let app = Router::new()
        .route("/v1/charges", post(charges::create_charge))
        .route("/v1/invoices", post(invoices::create_invoice))
        .with_state(ctx);
    let listener = tokio::net::TcpListener::bind(&cfg.listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
