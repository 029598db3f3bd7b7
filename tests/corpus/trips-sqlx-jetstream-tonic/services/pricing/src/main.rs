use axum::{extract::State, routing::get, Json, Router};
use sqlx::postgres::PgPoolOptions;

mod currency;
mod demand;
mod rebalance;
mod settings;

#[derive(Clone)]
struct AppState {
    read: sqlx::PgPool,
}

async fn quote(State(s): State<AppState>, axum::extract::Path((route, class)): axum::extract::Path<(String, String)>) -> Json<Option<i64>> {
    let fare: Option<i64> = sqlx::query_scalar(
        "SELECT base_minor FROM fares WHERE route_code = $1 AND fare_class = $2 ORDER BY valid_from DESC LIMIT 1",
    )
    .bind(route)
    .bind(class)
    .fetch_optional(&s.read)
    .await
    .ok()
    .flatten();
    Json(fare)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().init();
    let cfg = settings::Settings::load()?;

    let primary = PgPoolOptions::new()
        .max_connections(cfg.database.max_connections)
        .connect(&cfg.database.url)
        .await?;
    sqlx::migrate!().run(&primary).await?;
    // Reads go to the streaming replica of our own database when one is configured.
    let read = match &cfg.database.replica_url {
        Some(url) => PgPoolOptions::new().max_connections(cfg.database.max_connections).connect(url).await?,
        None => primary.clone(),
    };
    let archive = PgPoolOptions::new().max_connections(2).connect(&cfg.archive.url).await?;

    let js = async_nats::jetstream::new(async_nats::connect(&cfg.nats.url).await?);
    tokio::spawn(demand::consume(js, primary.clone()));

    let rebalancer = rebalance::Rebalancer { primary: primary.clone(), archive };
    tokio::spawn(async move {
        let mut every_night = tokio::time::interval(std::time::Duration::from_secs(86_400));
        loop {
            every_night.tick().await;
            match rebalancer.archive_expired().await {
                Ok(n) => tracing::info!(archived = n, "fares archived"),
                Err(e) => tracing::error!(error = %e, "fare archive failed"),
            }
        }
    });

    let app = Router::new()
        .route("/quotes/:route/:class", get(quote))
        .with_state(AppState { read });
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", cfg.server.port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
