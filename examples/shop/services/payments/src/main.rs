use std::net::SocketAddr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use uuid::Uuid;

mod currency;
mod relay;

#[derive(Debug, Deserialize)]
struct Charge {
    order_id: Uuid,
    amount_cents: i64,
    #[serde(default = "default_currency")]
    currency: String,
}

fn default_currency() -> String {
    "EUR".to_string()
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct Payment {
    id: Uuid,
    order_id: Uuid,
    amount_cents: i64,
    status: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt::init();
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    let relay_pool = pool.clone();
    tokio::spawn(async move {
        if let Err(error) = relay::run(relay_pool).await {
            tracing::error!(%error, "outbox relay stopped");
        }
    });

    let app = Router::new()
        .route("/payments", post(charge))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], 8080))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn charge(
    State(pool): State<PgPool>,
    Json(charge): Json<Charge>,
) -> Result<(StatusCode, Json<Payment>), StatusCode> {
    if !currency::is_supported(&charge.currency) {
        return Err(StatusCode::UNPROCESSABLE_ENTITY);
    }
    tracing::debug!(
        currency = %charge.currency,
        decimals = currency::minor_units(&charge.currency),
        "charging"
    );
    let mut tx = pool.begin().await.map_err(internal)?;
    let payment = sqlx::query_as::<_, Payment>(
        r#"INSERT INTO payments (id, order_id, amount_cents)
           VALUES ($1, $2, $3)
           ON CONFLICT (order_id) DO UPDATE SET amount_cents = EXCLUDED.amount_cents
           RETURNING id, order_id, amount_cents, status"#,
    )
    .bind(Uuid::new_v4())
    .bind(charge.order_id)
    .bind(charge.amount_cents)
    .fetch_one(&mut *tx)
    .await
    .map_err(internal)?;
    sqlx::query("INSERT INTO outbox (topic, payload) VALUES ('payments.authorized', $1)")
        .bind(serde_json::json!({ "payment_id": payment.id, "order_id": payment.order_id }))
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(payment)))
}

fn internal(error: sqlx::Error) -> StatusCode {
    tracing::error!(%error, "database error");
    StatusCode::INTERNAL_SERVER_ERROR
}
