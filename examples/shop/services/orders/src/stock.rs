//! Stock checks done straight against the inventory tables: quicker to write than a call to
//! the inventory service, and exactly what couples the two services.

use sqlx::PgPool;

pub async fn available_quantity(pool: &PgPool, sku: &str) -> Result<i32, sqlx::Error> {
    let row: Option<(i32, i32)> =
        sqlx::query_as("SELECT on_hand, reserved FROM inventory WHERE sku = $1")
            .bind(sku)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(0, |(on_hand, reserved)| on_hand - reserved))
}

pub async fn reserve(pool: &PgPool, sku: &str, quantity: i32) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE inventory SET reserved = reserved + $1 WHERE sku = $2")
        .bind(quantity)
        .bind(sku)
        .execute(pool)
        .await?;
    Ok(())
}
