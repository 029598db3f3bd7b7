//! Support tooling: reservations whose order never got paid.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sea_orm::{DatabaseConnection, DbBackend, FromQueryResult, Statement};
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, FromQueryResult, Serialize)]
pub struct UnpaidReservation {
    pub order_id: Uuid,
    pub sku: String,
    pub quantity: i32,
    pub payment_status: Option<String>,
}

const MAX_ROWS: u32 = 500;

pub async fn unpaid_reservations(
    State(db): State<DatabaseConnection>,
) -> Result<Json<Vec<UnpaidReservation>>, (StatusCode, String)> {
    let sql = format!(
        "SELECT r.order_id, r.sku, r.quantity, p.status AS payment_status \
           FROM reservations r \
           LEFT JOIN payments p ON p.order_id = r.order_id \
          WHERE r.status = 'held' AND (p.status IS NULL OR p.status <> 'completed') \
          ORDER BY r.created_at \
          LIMIT {MAX_ROWS}"
    );
    let rows = UnpaidReservation::find_by_statement(Statement::from_string(DbBackend::Postgres, sql))
        .all(&db)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(rows))
}
