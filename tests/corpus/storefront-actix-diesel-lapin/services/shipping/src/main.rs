mod consumer;
mod countries;
mod http;
mod schema;

use actix_web::{web, App, HttpServer};
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub type PgPool = Pool<ConnectionManager<PgConnection>>;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    tracing_subscriber::fmt::init();

    let pool: PgPool = Pool::builder()
        .max_size(8)
        .build(ConnectionManager::new(std::env::var("DATABASE_URL")?))?;
    pool.get()?
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations: {e}"))?;

    let amqp = common::amqp::connect(&std::env::var("AMQP_URL")?, "shipping").await?;
    let channel = amqp.create_channel().await?;
    tokio::spawn(consumer::run(pool.clone(), channel));

    let data = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(http::create_shipment)
            .service(http::cancel_shipment)
    })
    .bind(("0.0.0.0", 8083))?
    .run()
    .await?;
    Ok(())
}
