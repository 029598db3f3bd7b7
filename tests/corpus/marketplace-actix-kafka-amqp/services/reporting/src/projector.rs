//! Maintains `daily_sales` from order events.

use contracts::{topics, OrderEvent};
use diesel::{prelude::*, upsert::excluded};
use rdkafka::{
    consumer::{CommitMode, Consumer, StreamConsumer},
    Message,
};

use crate::db::{schema::daily_sales, PgPool};

fn add_sale(conn: &mut PgConnection, day: chrono::NaiveDate, currency: &str, total_minor: i64) -> QueryResult<usize> {
    diesel::insert_into(daily_sales::table)
        .values((
            daily_sales::day.eq(day),
            daily_sales::currency.eq(currency),
            daily_sales::orders.eq(1),
            daily_sales::total_minor.eq(total_minor),
        ))
        .on_conflict((daily_sales::day, daily_sales::currency))
        .do_update()
        .set((
            daily_sales::orders.eq(daily_sales::orders + 1),
            daily_sales::total_minor.eq(daily_sales::total_minor + excluded(daily_sales::total_minor)),
        ))
        .execute(conn)
}

pub async fn run(consumer: StreamConsumer, pool: PgPool) -> anyhow::Result<()> {
    consumer.subscribe(&[topics::ORDER_EVENTS])?;
    loop {
        let msg = consumer.recv().await?;
        if let Some(Ok(OrderEvent::Placed { lines, currency, placed_at, .. })) =
            msg.payload().map(serde_json::from_slice::<OrderEvent>)
        {
            let total: i64 = lines.iter().map(|l| l.unit_price_minor * i64::from(l.qty)).sum();
            let pool = pool.clone();
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let mut conn = pool.get()?;
                add_sale(&mut conn, placed_at.date_naive(), &currency, total)?;
                Ok(())
            })
            .await??;
        }
        consumer.commit_message(&msg, CommitMode::Async)?;
    }
}
