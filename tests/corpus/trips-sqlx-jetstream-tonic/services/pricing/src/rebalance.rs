//! Nightly job: move expired fares to the archive database.

use sqlx::{types::chrono::NaiveDate, PgPool};

pub struct Rebalancer {
    pub primary: PgPool,
    pub archive: PgPool,
}

impl Rebalancer {
    pub async fn archive_expired(&self) -> anyhow::Result<u64> {
        let mut live = self.primary.begin().await?;
        let mut arch = self.archive.begin().await?;

        let expired: Vec<(String, String, i64, String, NaiveDate)> = sqlx::query_as(
            "DELETE FROM fares WHERE valid_from < now() - interval '400 days'
             RETURNING route_code, fare_class, base_minor, currency, valid_from",
        )
        .fetch_all(&mut *live)
        .await?;

        for (route, class, base, currency, from) in &expired {
            sqlx::query("INSERT INTO archived_fares (route_code, fare_class, base_minor, currency, valid_from) VALUES ($1, $2, $3, $4, $5)")
                .bind(route)
                .bind(class)
                .bind(base)
                .bind(currency)
                .bind(from)
                .execute(&mut *arch)
                .await?;
        }

        arch.commit().await?;
        live.commit().await?;
        Ok(expired.len() as u64)
    }
}
