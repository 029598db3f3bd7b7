mod consumer;
mod http;

use actix_web::{web, App, HttpServer};
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use diesel_migrations::MigrationHarness;
use inventory_store::{PgPool, MIGRATIONS};
use tokio::sync::watch;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    dotenvy::dotenv().ok();
    tracing_subscriber::fmt::init();

    let manager = ConnectionManager::<PgConnection>::new(std::env::var("DATABASE_URL")?);
    let pool: PgPool = Pool::builder().max_size(10).build(manager)?;
    {
        let mut conn = pool.get()?;
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("migrations: {e}"))?;
    }

    let amqp = common::amqp::connect(&std::env::var("AMQP_URL")?, "inventory").await?;
    let channel = amqp.create_channel().await?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let consumer = tokio::spawn(consumer::run(pool.clone(), channel, shutdown_rx));

    let data = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(http::create_reservation)
            .service(http::release_reservation)
            .service(http::get_stock)
    })
    .bind(("0.0.0.0", 8081))?
    .run()
    .await?;

    let _ = shutdown_tx.send(true);
    consumer.await??;
    Ok(())
}
