//! Consumes booking events from the `booking-events` Redis stream.

use std::time::Duration;

use chrono::NaiveDate;
use redis::streams::{StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use serde::Deserialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use tracing::{error, info, warn};
use travel_core::BOOKING_EVENTS_STREAM;
use uuid::Uuid;

use crate::RedisSettings;

#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Incoming {
    #[serde(rename = "booking.confirmed.v1")]
    Confirmed {
        booking_id: Uuid,
        hotel_id: i64,
        room_hold_id: Uuid,
        check_in: NaiveDate,
        check_out: NaiveDate,
    },
    #[serde(rename = "booking.cancelled.v1")]
    Cancelled { booking_id: Uuid },
}

pub async fn consume(db: PgPool, client: redis::Client, cfg: RedisSettings) {
    let mut conn = match client.get_multiplexed_async_connection().await {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "redis connect failed");
            return;
        }
    };
    let created: redis::RedisResult<()> = conn
        .xgroup_create_mkstream(BOOKING_EVENTS_STREAM, &cfg.consumer_group, "$")
        .await;
    if let Err(e) = created {
        info!(error = %e, "consumer group already exists");
    }

    let opts = StreamReadOptions::default()
        .group(&cfg.consumer_group, &cfg.consumer_name)
        .count(20)
        .block(5_000);

    loop {
        let reply: StreamReadReply = match conn.xread_options(&[BOOKING_EVENTS_STREAM], &[">"], &opts).await {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "XREADGROUP failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        for key in reply.keys {
            for entry in key.ids {
                let payload: Option<String> = entry.get("payload");
                let Some(payload) = payload else { continue };
                match serde_json::from_str::<Incoming>(&payload) {
                    Ok(evt) => {
                        if let Err(e) = apply(&db, evt).await {
                            error!(error = %e, id = %entry.id, "failed to apply booking event");
                            continue;
                        }
                    }
                    Err(e) => warn!(error = %e, id = %entry.id, "unknown booking event"),
                }
                let _: redis::RedisResult<i64> =
                    conn.xack(BOOKING_EVENTS_STREAM, &cfg.consumer_group, &[&entry.id]).await;
            }
        }
    }
}

async fn apply(db: &PgPool, evt: Incoming) -> anyhow::Result<()> {
    match evt {
        Incoming::Confirmed { booking_id, hotel_id, room_hold_id, check_in, check_out } => {
            let guest = sqlx::query!(
                r#"SELECT customer_name, customer_ref FROM bookings WHERE id = $1"#,
                booking_id
            )
            .fetch_one(db)
            .await?;

            let nights: Vec<NaiveDate> = check_in.iter_days().take_while(|d| *d < check_out).collect();
            let mut tx = db.begin().await?;
            sqlx::query!("UPDATE room_holds SET status = 'confirmed' WHERE id = $1", room_hold_id)
                .execute(&mut *tx)
                .await?;
            let mut qb: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO guest_stays (booking_id, hotel_id, guest_name, night) ");
            qb.push_values(nights, |mut b, night| {
                b.push_bind(booking_id)
                    .push_bind(hotel_id)
                    .push_bind(&guest.customer_name)
                    .push_bind(night);
            });
            qb.build().execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Incoming::Cancelled { booking_id } => {
            let mut tx = db.begin().await?;
            sqlx::query!(
                "UPDATE room_holds SET status = 'released' WHERE booking_id = $1 AND status <> 'released'",
                booking_id
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!("DELETE FROM guest_stays WHERE booking_id = $1", booking_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}
