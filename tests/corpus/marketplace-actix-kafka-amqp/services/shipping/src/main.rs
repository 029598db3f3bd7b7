use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use deadpool_postgres::{Config, Pool, Runtime};
use lapin::{Connection, ConnectionProperties};
use tokio_postgres::NoTls;
use uuid::Uuid;

mod courier;
mod events;
mod worker;
mod zones;

#[derive(serde::Deserialize)]
struct NewShipment {
    order_id: Uuid,
    address: String,
}

/// POST /shipments (express checkout). The pickup is booked later by an operator; repeats are no-ops.
async fn create_shipment(pool: web::Data<Pool>, body: web::Json<NewShipment>) -> actix_web::Result<HttpResponse> {
    let client = pool.get().await.map_err(actix_web::error::ErrorServiceUnavailable)?;
    client
        .execute(
            "INSERT INTO shipments (order_id, address) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING",
            &[&body.order_id, &body.address],
        )
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Accepted().finish())
}

async fn cancel_shipment(pool: web::Data<Pool>, id: web::Path<Uuid>) -> actix_web::Result<HttpResponse> {
    let client = pool.get().await.map_err(actix_web::error::ErrorServiceUnavailable)?;
    client
        .execute("UPDATE shipments SET status = 'cancelled' WHERE order_id = $1 AND status <> 'booked'", &[&*id])
        .await
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::NoContent().finish())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    env_logger::init();
    let mut cfg = Config::new();
    cfg.url = Some(std::env::var("DATABASE_URL")?);
    let pool = cfg.create_pool(Some(Runtime::Tokio1), NoTls)?;

    let amqp = Connection::connect(&std::env::var("AMQP_ADDR")?, ConnectionProperties::default()).await?;
    let channel = amqp.create_channel().await?;
    let courier = Arc::new(courier::Courier::from_env()?);
    tokio::spawn(worker::Worker { pool: pool.clone(), channel, courier }.run());

    let data = web::Data::new(pool);
    HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/shipments", web::post().to(create_shipment))
            .route("/shipments/{order_id}", web::delete().to(cancel_shipment))
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await?;
    Ok(())
}
