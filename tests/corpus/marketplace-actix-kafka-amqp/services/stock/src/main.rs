use std::str::FromStr;

use actix_web::{web, App, HttpServer};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

mod api;
mod handler;
mod store;

fn pool_from_env() -> anyhow::Result<Pool> {
    let url = std::env::var("DATABASE_URL")?;
    let pg = tokio_postgres::Config::from_str(&url)?;
    let mgr = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Ok(Pool::builder(mgr).max_size(16).build()?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    env_logger::init();
    let pool = pool_from_env()?;
    let brokers = std::env::var("KAFKA_BROKERS")?;

    let worker = handler::StockWorker::new(pool.clone(), kafka_util::producer(&brokers));
    tokio::spawn(worker.run(kafka_util::consumer(&brokers, "stock")));

    let data = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/reservations", web::post().to(api::reserve))
            .route("/reservations/{order_id}", web::delete().to(api::release))
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await?;
    Ok(())
}
