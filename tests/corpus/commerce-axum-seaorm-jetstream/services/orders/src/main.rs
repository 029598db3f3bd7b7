mod admin;
mod consumer;
mod entity;
mod error;
mod relay;
mod routes;

use std::net::SocketAddr;

use axum::routing::{get, post};
use axum::Router;
use migration::{Migrator, MigratorTrait};
use pricing_proto::PricingClient;
use sea_orm::DatabaseConnection;
use tonic::transport::Channel;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub js: async_nats::jetstream::Context,
    pub pricing: PricingClient<Channel>,
    pub http: reqwest::Client,
    pub payments_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();

    let db = platform::connect_db(&std::env::var("DATABASE_URL")?).await?;
    Migrator::up(&db, None).await?;

    let (_nats, js) = platform::connect_jetstream().await?;
    let pricing = PricingClient::connect(std::env::var("PRICING_GRPC_URL")?).await?;

    let state = AppState {
        db: db.clone(),
        js: js.clone(),
        pricing,
        http: reqwest::Client::new(),
        payments_url: std::env::var("PAYMENTS_URL")?,
    };

    tokio::spawn(relay::run(db.clone(), js.clone()));
    tokio::spawn(consumer::run(db.clone(), js.clone()));

    let app = Router::new()
        .route("/orders", post(routes::create_order))
        .route("/orders/:id", get(routes::get_order))
        .route("/orders/:id/instant-buy", post(routes::instant_buy))
        .route("/orders/:id/reprice", post(routes::reprice))
        .route("/admin/backfill/:customer_id", post(admin::backfill::backfill_customer))
        .layer(TraceLayer::new_for_http())
        .with_state(state);

    let addr = SocketAddr::from(([0, 0, 0, 0], 8080));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
