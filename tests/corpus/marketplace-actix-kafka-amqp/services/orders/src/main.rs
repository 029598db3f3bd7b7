use actix_web::{middleware::{from_fn, Logger}, web, App, HttpServer};
use deadpool_postgres::{Pool, Runtime};
use tokio_postgres::NoTls;

mod consumer;
mod error;
mod express;
mod handlers;
mod idempotency;
mod relay;

#[derive(Debug, serde::Deserialize)]
struct Settings {
    pg: deadpool_postgres::Config,
    kafka_brokers: String,
    redis_url: String,
}

impl Settings {
    fn from_env() -> Result<Self, config::ConfigError> {
        config::Config::builder()
            .add_source(config::Environment::default().separator("__"))
            .build()?
            .try_deserialize()
    }
}

pub struct AppState {
    pub pool: Pool,
    pub http: reqwest::Client,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    env_logger::init();
    let settings = Settings::from_env()?;
    let pool = settings.pg.create_pool(Some(Runtime::Tokio1), NoTls)?;
    let redis = redis::Client::open(settings.redis_url.as_str())?
        .get_connection_manager()
        .await?;

    let producer = kafka_util::producer(&settings.kafka_brokers);
    tokio::spawn(relay::OutboxRelay::new(pool.clone(), producer).run());
    tokio::spawn(consumer::run(
        kafka_util::consumer(&settings.kafka_brokers, "orders"),
        pool.clone(),
    ));

    let state = web::Data::new(AppState { pool, http: reqwest::Client::new() });
    let redis = web::Data::new(redis);
    HttpServer::new(move || {
        App::new()
            .wrap(Logger::default())
            .app_data(state.clone())
            .app_data(redis.clone())
            .service(
                web::scope("/orders")
                    .wrap(from_fn(idempotency::require_idempotency_key))
                    .route("", web::post().to(handlers::place_order))
                    .route("/{id}/cancel", web::post().to(handlers::cancel_order))
                    .route("/express", web::post().to(express::express_checkout)),
            )
            .route("/orders/{id}", web::get().to(handlers::get_order))
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await?;
    Ok(())
}
