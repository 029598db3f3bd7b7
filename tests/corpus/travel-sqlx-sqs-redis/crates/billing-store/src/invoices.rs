use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};
use uuid::Uuid;

use crate::StoreError;

#[derive(Debug, Clone)]
pub struct NewInvoice {
    pub booking_id: Uuid,
    pub customer_ref: String,
    pub route: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
}

#[derive(Debug, Clone)]
pub struct InvoiceLine {
    pub description: String,
    pub amount: Decimal,
}

#[derive(Debug, sqlx::FromRow)]
pub struct RouteRevenue {
    pub route: String,
    pub currency: String,
    pub revenue: Decimal,
    pub invoices: i64,
}

#[derive(Clone)]
pub struct InvoiceRepo {
    pool: PgPool,
}

impl InvoiceRepo {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Inserts the invoice and its lines in the caller's transaction.
    pub async fn insert(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        inv: &NewInvoice,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let total: Decimal = inv.lines.iter().map(|l| l.amount).sum();
        sqlx::query!(
            r#"INSERT INTO invoices (id, booking_id, customer_ref, route, currency, total)
               VALUES ($1, $2, $3, $4, $5, $6)"#,
            id,
            inv.booking_id,
            inv.customer_ref,
            inv.route,
            inv.currency,
            total,
        )
        .execute(&mut **tx)
        .await?;

        let mut qb: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO invoice_lines (invoice_id, line_no, description, amount) ");
        qb.push_values(inv.lines.iter().enumerate(), |mut b, (i, line)| {
            b.push_bind(id)
                .push_bind(i as i32 + 1)
                .push_bind(&line.description)
                .push_bind(line.amount);
        });
        qb.build().execute(&mut **tx).await?;
        Ok(id)
    }

    pub async fn revenue_by_route(&self, since: DateTime<Utc>) -> Result<Vec<RouteRevenue>, StoreError> {
        Ok(sqlx::query_as!(
            RouteRevenue,
            r#"SELECT route, currency, SUM(total) AS "revenue!", COUNT(*) AS "invoices!"
               FROM invoices
               WHERE issued_at >= $1 AND status <> 'void'
               GROUP BY route, currency"#,
            since
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
