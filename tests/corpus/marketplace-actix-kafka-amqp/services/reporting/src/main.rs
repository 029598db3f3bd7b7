use actix_web::{get, web, App, HttpResponse, HttpServer};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

mod db;
mod projector;

use db::schema::{daily_sales, orders};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(serde::Serialize, Queryable)]
struct StatusCount {
    status: String,
    count: i64,
}

#[get("/reports/order-status")]
async fn order_status(pool: web::Data<db::PgPool>) -> actix_web::Result<HttpResponse> {
    let rows = web::block(move || {
        let mut conn = pool.get().map_err(|e| anyhow::anyhow!(e))?;
        orders::table
            .group_by(orders::status)
            .select((orders::status, diesel::dsl::count_star()))
            .load::<StatusCount>(&mut conn)
            .map_err(anyhow::Error::from)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(rows))
}

#[get("/reports/daily-sales")]
async fn sales(pool: web::Data<db::PgPool>) -> actix_web::Result<HttpResponse> {
    let rows = web::block(move || {
        let mut conn = pool.get().map_err(|e| anyhow::anyhow!(e))?;
        daily_sales::table
            .select((daily_sales::day, daily_sales::currency, daily_sales::total_minor))
            .order(daily_sales::day.desc())
            .limit(90)
            .load::<(chrono::NaiveDate, String, i64)>(&mut conn)
            .map_err(anyhow::Error::from)
    })
    .await?
    .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Ok().json(rows))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    env_logger::init();
    let pool = db::pool(&std::env::var("DATABASE_URL")?);
    pool.get()?.run_pending_migrations(MIGRATIONS).map_err(|e| anyhow::anyhow!(e))?;

    let consumer = kafka_util::consumer(&std::env::var("KAFKA_BROKERS")?, "reporting");
    tokio::spawn(projector::run(consumer, pool.clone()));

    let data = web::Data::new(pool);
    HttpServer::new(move || App::new().app_data(data.clone()).service(order_status).service(sales))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await?;
    Ok(())
}
