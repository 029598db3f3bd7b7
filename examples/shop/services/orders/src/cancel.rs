//! Cancelling an order gives its reserved stock back. Both changes are committed with a
//! two-phase commit across the orders and inventory databases, which holds locks in both until
//! the coordinator (this handler) comes back, and needs `max_prepared_transactions` on both.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::AppState;

pub async fn cancel_order(State(state): State<AppState>, Path(order_id): Path<Uuid>) -> StatusCode {
    match cancel_with_2pc(&state.pool, &state.inventory_pool, order_id).await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(error) => {
            tracing::error!(%error, %order_id, "cancellation failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

async fn cancel_with_2pc(
    orders: &PgPool,
    inventory: &PgPool,
    order_id: Uuid,
) -> Result<(), sqlx::Error> {
    let gid = format!("cancel-{order_id}");
    let mut orders_conn = orders.acquire().await?;
    let mut inventory_conn = inventory.acquire().await?;

    sqlx::query("BEGIN").execute(&mut *orders_conn).await?;
    let lines: Vec<(String, i32)> = sqlx::query_as(
        "UPDATE orders SET status = 'cancelled' FROM order_lines l \
         WHERE orders.id = $1 AND l.order_id = orders.id RETURNING l.sku, l.quantity",
    )
    .bind(order_id)
    .fetch_all(&mut *orders_conn)
    .await?;
    sqlx::query(&format!("PREPARE TRANSACTION '{gid}-orders'"))
        .execute(&mut *orders_conn)
        .await?;

    sqlx::query("BEGIN").execute(&mut *inventory_conn).await?;
    for (sku, quantity) in &lines {
        sqlx::query("UPDATE inventory SET reserved = reserved - $1 WHERE sku = $2")
            .bind(quantity)
            .bind(sku)
            .execute(&mut *inventory_conn)
            .await?;
    }
    sqlx::query(&format!("PREPARE TRANSACTION '{gid}-inventory'"))
        .execute(&mut *inventory_conn)
        .await?;

    sqlx::query(&format!("COMMIT PREPARED '{gid}-orders'"))
        .execute(&mut *orders_conn)
        .await?;
    sqlx::query(&format!("COMMIT PREPARED '{gid}-inventory'"))
        .execute(&mut *inventory_conn)
        .await?;
    Ok(())
}
