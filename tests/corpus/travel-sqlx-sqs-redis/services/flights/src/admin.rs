use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;

pub fn router(pool: MySqlPool) -> Router {
    Router::new()
        .route("/v1/flights/:id/inventory", post(set_inventory))
        .route("/v1/flights/:id/availability", get(availability))
        .with_state(pool)
}

#[derive(Deserialize)]
struct InventoryRow {
    fare_class: String,
    seats_total: i32,
}

/// Revenue management pushes the full seat map; replaying it is harmless.
async fn set_inventory(
    State(pool): State<MySqlPool>,
    Path(flight_id): Path<i64>,
    Json(rows): Json<Vec<InventoryRow>>,
) -> Result<StatusCode, (StatusCode, String)> {
    let mut tx = pool.begin().await.map_err(internal)?;
    for row in rows {
        sqlx::query(
            "INSERT INTO flight_inventory (flight_id, fare_class, seats_total) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE seats_total = VALUES(seats_total)",
        )
        .bind(flight_id)
        .bind(&row.fare_class)
        .bind(row.seats_total)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, sqlx::FromRow)]
struct Availability {
    fare_class: String,
    available: i64,
}

async fn availability(
    State(pool): State<MySqlPool>,
    Path(flight_id): Path<i64>,
) -> Result<Json<Vec<Availability>>, (StatusCode, String)> {
    let rows = sqlx::query_as::<_, Availability>(
        "SELECT fare_class, CAST(seats_total - seats_held AS SIGNED) AS available \
         FROM flight_inventory WHERE flight_id = ?",
    )
    .bind(flight_id)
    .fetch_all(&pool)
    .await
    .map_err(internal)?;
    Ok(Json(rows))
}

fn internal(e: sqlx::Error) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}
