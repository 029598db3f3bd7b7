mod consumer;
mod db;
mod http;
mod ledger;
mod psp;
mod relay;
mod schema;

use actix_web::{web, App, HttpServer};
use lapin::options::ConfirmSelectOptions;

pub struct AppState {
    pub pool: db::DbPool,
    pub psp: psp::PspClient,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    tracing_subscriber::fmt::init();

    let database_url = std::env::var("DATABASE_URL")?;
    db::run_migrations(&database_url)?;
    let pool = db::build_pool(&database_url)?;
    let psp = psp::PspClient::from_env()?;

    let amqp = common::amqp::connect(&std::env::var("AMQP_URL")?, "payments").await?;
    let relay_channel = amqp.create_channel().await?;
    relay_channel.confirm_select(ConfirmSelectOptions::default()).await?;
    common::amqp::declare_topic(&relay_channel, "payments").await?;
    tokio::spawn(relay::run(pool.clone(), relay_channel));

    let consumer_channel = amqp.create_channel().await?;
    tokio::spawn(consumer::run(pool.clone(), psp.clone(), consumer_channel));

    let ledger_url = std::env::var("LEDGER_DATABASE_URL")?;
    tokio::spawn(ledger::nightly_settlement(pool.clone(), ledger_url));

    let state = web::Data::new(AppState { pool, psp });
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .service(http::create_charge)
            .service(http::refund_charge)
    })
    .bind(("0.0.0.0", 8082))?
    .run()
    .await?;
    Ok(())
}
