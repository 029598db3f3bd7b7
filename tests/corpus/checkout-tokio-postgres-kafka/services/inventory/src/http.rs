use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use common::events::OrderLine;
use deadpool_postgres::Pool;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::repo::{RepoError, StockRepo};

pub fn router(pool: Pool) -> Router {
    Router::new()
        .route("/v1/reservations", post(reserve))
        .route("/v1/reservations/:id", delete(release))
        .route("/v1/stock/:sku", get(available))
        .route("/v1/stock/adjustments", post(adjust_stock))
        .with_state(StockRepo::new(pool))
}

impl IntoResponse for RepoError {
    fn into_response(self) -> axum::response::Response {
        let status = match self {
            RepoError::Insufficient(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (status, self.to_string()).into_response()
    }
}

#[derive(Deserialize)]
struct ReserveRequest {
    order_id: Uuid,
    lines: Vec<OrderLine>,
}

#[derive(Serialize)]
struct ReserveResponse {
    reservation_id: Uuid,
}

async fn reserve(
    State(repo): State<StockRepo>,
    Json(req): Json<ReserveRequest>,
) -> Result<(StatusCode, Json<ReserveResponse>), RepoError> {
    let lines: Vec<(String, i32)> = req.lines.into_iter().map(|l| (l.sku, l.quantity)).collect();
    let reservation_id = repo.reserve(req.order_id, &lines).await?;
    Ok((StatusCode::CREATED, Json(ReserveResponse { reservation_id })))
}

async fn release(
    State(repo): State<StockRepo>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, RepoError> {
    repo.release(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn available(
    State(repo): State<StockRepo>,
    Path(sku): Path<String>,
) -> Result<Json<serde_json::Value>, RepoError> {
    let n = repo.available(&sku).await?;
    Ok(Json(serde_json::json!({ "sku": sku, "available": n })))
}

#[derive(Deserialize)]
struct Adjustment {
    sku: String,
    warehouse_id: String,
    delta: i32,
    reason: String,
    user: String,
}

async fn adjust_stock(
    State(repo): State<StockRepo>,
    Json(adj): Json<Adjustment>,
) -> Result<StatusCode, RepoError> {
    repo.adjust(&adj.sku, &adj.warehouse_id, adj.delta, &adj.reason, &adj.user)
        .await?;
    Ok(StatusCode::ACCEPTED)
}
