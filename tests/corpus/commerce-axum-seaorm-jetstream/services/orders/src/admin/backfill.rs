//! One-off backfill of historical orders from the legacy shop database. Each customer's orders
//! are copied and then flagged as migrated in the legacy DB; both commits must happen together.

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, DbBackend, Set, Statement, TransactionTrait};
use uuid::Uuid;

use crate::entity::orders;
use crate::error::AppError;
use crate::AppState;

const LEGACY_ORDERS: &str = "SELECT id, email, total_cents, currency, status FROM legacy_orders \
     WHERE customer_uuid = $1 AND migrated_at IS NULL FOR UPDATE";
const MARK_MIGRATED: &str = "UPDATE legacy_orders SET migrated_at = now() WHERE customer_uuid = $1";

pub async fn backfill_customer(
    State(state): State<AppState>,
    Path(customer_id): Path<Uuid>,
) -> Result<Json<serde_json::Value>, AppError> {
    let legacy = Database::connect(std::env::var("LEGACY_DATABASE_URL").map_err(anyhow::Error::from)?).await?;

    let legacy_txn = legacy.begin().await?;
    let txn = state.db.begin().await?;

    let rows = legacy_txn
        .query_all(Statement::from_sql_and_values(DbBackend::Postgres, LEGACY_ORDERS, [customer_id.into()]))
        .await?;
    for row in &rows {
        let total: i64 = row.try_get("", "total_cents")?;
        let email: String = row.try_get("", "email")?;
        let currency: String = row.try_get("", "currency")?;
        let status: String = row.try_get("", "status")?;
        orders::ActiveModel {
            id: Set(Uuid::new_v4()),
            customer_id: Set(customer_id),
            customer_email: Set(email),
            status: Set(status),
            total_minor: Set(total),
            currency: Set(currency),
            created_at: Set(Utc::now().into()),
        }
        .insert(&txn)
        .await?;
    }
    legacy_txn
        .execute(Statement::from_sql_and_values(DbBackend::Postgres, MARK_MIGRATED, [customer_id.into()]))
        .await?;

    txn.commit().await?;
    legacy_txn.commit().await?;
    Ok(Json(serde_json::json!({ "migrated": rows.len() })))
}
