use deadpool_postgres::{Pool, PoolError};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error(transparent)]
    Db(#[from] tokio_postgres::Error),
    #[error("insufficient stock for {0}")]
    Insufficient(String),
}

/// Stock operations. Everything that touches `stock_items` goes through here.
#[derive(Clone)]
pub struct StockRepo {
    pool: Pool,
}

const ADJUST_ON_HAND: &str =
    "UPDATE stock_items SET on_hand = on_hand + $3 WHERE sku = $1 AND warehouse_id = $2";
const RECORD_MOVEMENT: &str = "INSERT INTO stock_movements (sku, warehouse_id, delta, reason, created_by) \
     VALUES ($1, $2, $3, $4, $5)";

impl StockRepo {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    pub async fn available(&self, sku: &str) -> Result<i64, RepoError> {
        let conn = self.pool.get().await?;
        let row = conn
            .query_one(
                "SELECT COALESCE(SUM(on_hand - reserved), 0)::bigint FROM stock_items WHERE sku = $1",
                &[&sku],
            )
            .await?;
        Ok(row.get(0))
    }

    /// Manual correction from the warehouse UI (cycle counts, damaged goods).
    pub async fn adjust(
        &self,
        sku: &str,
        warehouse_id: &str,
        delta: i32,
        reason: &str,
        user: &str,
    ) -> Result<(), RepoError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        tx.execute(ADJUST_ON_HAND, &[&sku, &warehouse_id, &delta]).await?;
        tx.execute(RECORD_MOVEMENT, &[&sku, &warehouse_id, &delta, &reason, &user])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Idempotent on `order_id`: a retried reserve returns the existing reservation.
    pub async fn reserve(
        &self,
        order_id: Uuid,
        lines: &[(String, i32)],
    ) -> Result<Uuid, RepoError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        let inserted = tx
            .query_opt(
                "INSERT INTO reservations (id, order_id) VALUES ($1, $2) \
                 ON CONFLICT (order_id) DO NOTHING RETURNING id",
                &[&Uuid::new_v4(), &order_id],
            )
            .await?;
        let reservation_id: Uuid = match inserted {
            Some(row) => row.get(0),
            None => {
                let existing = tx
                    .query_one("SELECT id FROM reservations WHERE order_id = $1", &[&order_id])
                    .await?;
                return Ok(existing.get(0));
            }
        };
        for (sku, qty) in lines {
            reserve_line(&tx, reservation_id, sku, *qty).await?;
        }
        tx.commit().await?;
        Ok(reservation_id)
    }

    pub async fn release(&self, reservation_id: Uuid) -> Result<(), RepoError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        release_in_tx(&tx, reservation_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

pub async fn reserve_line(
    tx: &deadpool_postgres::Transaction<'_>,
    reservation_id: Uuid,
    sku: &str,
    qty: i32,
) -> Result<(), RepoError> {
    let row = tx
        .query_opt(
            "UPDATE stock_items SET reserved = reserved + $2 \
             WHERE sku = $1 AND on_hand - reserved >= $2 \
             AND warehouse_id = (SELECT warehouse_id FROM stock_items WHERE sku = $1 \
                                 AND on_hand - reserved >= $2 ORDER BY on_hand DESC LIMIT 1) \
             RETURNING warehouse_id",
            &[&sku, &qty],
        )
        .await?
        .ok_or_else(|| RepoError::Insufficient(sku.to_owned()))?;
    let warehouse_id: String = row.get(0);
    tx.execute(
        "INSERT INTO reservation_lines (reservation_id, sku, warehouse_id, quantity) VALUES ($1, $2, $3, $4)",
        &[&reservation_id, &sku, &warehouse_id, &qty],
    )
    .await?;
    Ok(())
}

pub async fn release_in_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    reservation_id: Uuid,
) -> Result<(), RepoError> {
    // Only a held reservation gives its stock back; releasing twice is a no-op.
    let released = tx
        .execute(
            "UPDATE reservations SET status = 'released' WHERE id = $1 AND status = 'held'",
            &[&reservation_id],
        )
        .await?;
    if released == 1 {
        tx.execute(
            "UPDATE stock_items s SET reserved = s.reserved - rl.quantity \
             FROM reservation_lines rl \
             WHERE rl.reservation_id = $1 AND rl.sku = s.sku AND rl.warehouse_id = s.warehouse_id",
            &[&reservation_id],
        )
        .await?;
    }
    Ok(())
}
