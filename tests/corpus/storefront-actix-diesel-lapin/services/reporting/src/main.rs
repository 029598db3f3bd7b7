mod queries;
mod settings;

use actix_web::{get, web, App, HttpResponse, HttpServer};
use chrono::{Duration, Utc};
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;

type PgPool = Pool<ConnectionManager<PgConnection>>;

struct Pools {
    orders: PgPool,
    inventory: PgPool,
}

#[get("/reports/revenue")]
async fn revenue(pools: web::Data<Pools>) -> actix_web::Result<HttpResponse> {
    let since = Utc::now() - Duration::days(30);
    let pool = pools.orders.clone();
    let rows = web::block(move || {
        let mut conn = pool.get().map_err(anyhow::Error::from)?;
        queries::daily_revenue(&mut conn, since)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(rows))
}

#[get("/reports/low-stock")]
async fn low_stock(pools: web::Data<Pools>) -> actix_web::Result<HttpResponse> {
    let pool = pools.inventory.clone();
    let rows = web::block(move || {
        let mut conn = pool.get().map_err(anyhow::Error::from)?;
        queries::low_stock(&mut conn, 10)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(rows))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let settings = settings::Settings::load()?;
    let pools = web::Data::new(Pools {
        orders: Pool::builder().max_size(4).build(ConnectionManager::new(&settings.databases.orders))?,
        inventory: Pool::builder().max_size(4).build(ConnectionManager::new(&settings.databases.inventory))?,
    });
    HttpServer::new(move || App::new().app_data(pools.clone()).service(revenue).service(low_stock))
        .bind(("0.0.0.0", settings.server.port))?
        .run()
        .await?;
    Ok(())
}
