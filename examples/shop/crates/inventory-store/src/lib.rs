//! Stock levels and movements of the inventory service.

use serde::Serialize;
use sqlx::PgPool;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StockLevel {
    pub sku: String,
    pub name: String,
    pub on_hand: i32,
    pub reserved: i32,
}

impl StockLevel {
    pub fn available(&self) -> i32 {
        self.on_hand - self.reserved
    }
}

/// Reads and changes stock levels; every change is recorded as a movement.
#[derive(Clone)]
pub struct StockRepository {
    pool: PgPool,
}

impl StockRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub async fn level(&self, sku: &str) -> Result<Option<StockLevel>, sqlx::Error> {
        sqlx::query_as::<_, StockLevel>(
            "SELECT sku, name, on_hand, reserved FROM inventory WHERE sku = $1",
        )
        .bind(sku)
        .fetch_optional(&self.pool)
        .await
    }

    /// Takes `quantity` units off the shelf (and off the reservation) when goods leave.
    pub async fn ship(&self, sku: &str, quantity: i32) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE inventory SET on_hand = on_hand - $1, reserved = reserved - $1, updated_at = now() \
             WHERE sku = $2",
        )
        .bind(quantity)
        .bind(sku)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO stock_movements (sku, delta, reason) VALUES ($1, $2, 'shipped')")
            .bind(sku)
            .bind(-quantity)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    pub async fn restock(&self, sku: &str, quantity: i32) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE inventory SET on_hand = on_hand + $1, updated_at = now() WHERE sku = $2")
            .bind(quantity)
            .bind(sku)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO stock_movements (sku, delta, reason) VALUES ($1, $2, 'restock')")
            .bind(sku)
            .bind(quantity)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}
