//! Pending bookings that never finished their saga are failed after 30 minutes.

use std::time::Duration;

use sqlx::PgPool;

pub async fn run(db: PgPool) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        if let Err(e) = expire_stale(&db).await {
            tracing::warn!(error = %e, "expiry sweep failed");
        }
    }
}

async fn expire_stale(db: &PgPool) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let expired = sqlx::query_scalar!(
        r#"UPDATE bookings SET status = 'expired', updated_at = now()
           WHERE status = 'pending' AND created_at < now() - interval '30 minutes'
           RETURNING id"#
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    if expired.is_empty() {
        return Ok(());
    }

    let mut tx = db.begin().await?;
    for id in &expired {
        sqlx::query!(
            r#"INSERT INTO outbox (aggregate_id, event_type, payload)
               VALUES ($1, 'booking.cancelled.v1', jsonb_build_object('type', 'booking.cancelled.v1', 'booking_id', $1::uuid, 'reason', 'expired'))"#,
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
