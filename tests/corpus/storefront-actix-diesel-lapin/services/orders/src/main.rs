mod clients;
mod db;
mod error;
mod handlers;
mod models;
mod outbox;
mod saga;
mod schema;

use std::sync::Arc;

use actix_web::{middleware, web, App, HttpServer};
use tracing_subscriber::EnvFilter;

use crate::clients::Clients;

pub struct AppState {
    pub pool: db::DbPool,
    pub channel: lapin::Channel,
    pub clients: Arc<Clients>,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .json()
        .init();

    let database_url = std::env::var("DATABASE_URL")?;
    db::run_migrations(&database_url)?;
    let pool = db::build_pool(&database_url)?;

    let amqp = common::amqp::connect(&std::env::var("AMQP_URL")?, "orders").await?;
    let channel = amqp.create_channel().await?;
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await?;
    common::amqp::declare_topic(&channel, "orders").await?;

    let clients = Arc::new(Clients::from_env()?);

    let relay_channel = amqp.create_channel().await?;
    relay_channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await?;
    tokio::spawn(outbox::relay(pool.clone(), relay_channel));

    let state = web::Data::new(AppState { pool, channel, clients });
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::Logger::default())
            .service(handlers::create_order)
            .service(handlers::cancel_order)
            .service(handlers::checkout)
            .service(handlers::express_checkout)
            .service(handlers::get_order)
            .route(
                "/admin/orders/{id}/replacement",
                web::post().to(saga::replacement::create_replacement),
            )
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await?;
    Ok(())
}
