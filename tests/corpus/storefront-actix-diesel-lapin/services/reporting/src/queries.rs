use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamptz};
use inventory_store::models::StockItem;
use inventory_store::schema::stock_items;
use serde::Serialize;

const DAILY_REVENUE_SQL: &str = r#"
    SELECT date_trunc('day', o.created_at)::date AS day,
           o.currency                           AS currency,
           SUM(o.total_cents)::bigint            AS revenue_cents,
           COUNT(*)                              AS order_count
      FROM orders o
     WHERE o.status <> 'cancelled'
       AND o.created_at >= $1
  GROUP BY 1, 2
  ORDER BY 1, 2
"#;

#[derive(Debug, QueryableByName, Serialize)]
pub struct RevenueRow {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = BigInt)]
    pub revenue_cents: i64,
    #[diesel(sql_type = BigInt)]
    pub order_count: i64,
}

pub fn daily_revenue(conn: &mut PgConnection, since: DateTime<Utc>) -> anyhow::Result<Vec<RevenueRow>> {
    Ok(diesel::sql_query(DAILY_REVENUE_SQL)
        .bind::<Timestamptz, _>(since)
        .load(conn)?)
}

pub fn low_stock(conn: &mut PgConnection, threshold: i32) -> anyhow::Result<Vec<StockItem>> {
    Ok(stock_items::table
        .filter(stock_items::available.lt(threshold))
        .order(stock_items::available.asc())
        .select(StockItem::as_select())
        .load(conn)?)
}
