use actix_web::{web, App, HttpServer};
use deadpool_postgres::{Config, Runtime};
use tokio_postgres::NoTls;

mod credit;
mod ledger_sync;
mod payments;
mod psp;
mod relay;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    env_logger::init();
    let mut cfg = Config::new();
    cfg.url = Some(std::env::var("DATABASE_URL")?);
    let pool = cfg.create_pool(Some(Runtime::Tokio1), NoTls)?;
    let brokers = std::env::var("KAFKA_BROKERS")?;

    let psp = psp::Psp::new(std::env::var("PSP_URL")?);
    tokio::spawn(payments::consume(kafka_util::consumer(&brokers, "billing"), pool.clone(), psp));
    tokio::spawn(relay::run(pool.clone(), kafka_util::producer(&brokers)));
    tokio::spawn(ledger_sync::nightly(pool.clone(), std::env::var("ERP_DATABASE_URL")?));

    let data = web::Data::new(pool);
    HttpServer::new(move || App::new().app_data(data.clone()).service(credit::create))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await?;
    Ok(())
}
