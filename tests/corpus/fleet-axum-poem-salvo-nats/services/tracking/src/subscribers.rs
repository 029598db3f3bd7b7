use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use fleet_events::{Envelope, PositionReported, ShipmentEvent, POSITION_SUBJECT, SHIPMENT_EVENTS_SUBJECT};

use crate::Shared;

/// Raw pings from the telematics gateway. Every tracking replica joins the
/// `tracking-positions` queue group so each ping is handled once.
pub async fn positions(shared: Arc<Shared>) -> anyhow::Result<()> {
    let mut sub = shared
        .nats
        .queue_subscribe("telematics.pings", "tracking-positions".into())
        .await?;

    while let Some(msg) = sub.next().await {
        let ping: PositionReported = match serde_json::from_slice(&msg.payload) {
            Ok(p) => p,
            Err(e) => {
                tracing::debug!(error = %e, "bad ping");
                continue;
            }
        };

        let mut attempt = 0;
        loop {
            let res = sqlx::query(
                "INSERT INTO vehicle_positions (vehicle_id, recorded_at, lat, lon, speed_kmh) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (vehicle_id, recorded_at) DO NOTHING",
            )
            .bind(ping.vehicle_id)
            .bind(ping.recorded_at)
            .bind(ping.lat)
            .bind(ping.lon)
            .bind(ping.speed_kmh)
            .execute(&shared.db)
            .await;
            match res {
                Ok(_) => break,
                Err(e) if attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "position insert failed, retrying");
                    std::thread::sleep(Duration::from_millis(200 * attempt));
                }
                Err(e) => {
                    tracing::error!(error = %e, "dropping position");
                    break;
                }
            }
        }

        sqlx::query("UPDATE shipment_tracking SET last_seen_at = $2 WHERE vehicle_id = $1 AND delivered_at IS NULL")
            .bind(ping.vehicle_id)
            .bind(ping.recorded_at)
            .execute(&shared.db)
            .await
            .ok();

        // fan out to the live map
        let body = serde_json::to_vec(&ping)?;
        shared.nats.publish(POSITION_SUBJECT, body.into()).await?;
    }
    Ok(())
}

/// Dispatch's shipment lifecycle, used to maintain our tracking rows.
pub async fn shipment_events(shared: Arc<Shared>) -> anyhow::Result<()> {
    let mut sub = shared
        .nats
        .queue_subscribe(SHIPMENT_EVENTS_SUBJECT, "tracking-shipments".into())
        .await?;

    while let Some(msg) = sub.next().await {
        let env: Envelope<ShipmentEvent> = match serde_json::from_slice(&msg.payload) {
            Ok(e) => e,
            Err(_) => continue,
        };
        if env.schema_version != 1 {
            tracing::warn!(v = env.schema_version, "unknown shipment event version");
            continue;
        }
        let res = match env.payload {
            ShipmentEvent::Created { shipment_id, .. } => {
                sqlx::query("INSERT INTO shipment_tracking (shipment_id) VALUES ($1) ON CONFLICT DO NOTHING")
                    .bind(shipment_id)
                    .execute(&shared.db)
                    .await
            }
            ShipmentEvent::Delivered { shipment_id, delivered_at } => {
                sqlx::query("UPDATE shipment_tracking SET delivered_at = $2 WHERE shipment_id = $1")
                    .bind(shipment_id)
                    .bind(delivered_at)
                    .execute(&shared.db)
                    .await
            }
            ShipmentEvent::Cancelled { shipment_id, .. } => {
                sqlx::query("DELETE FROM shipment_tracking WHERE shipment_id = $1")
                    .bind(shipment_id)
                    .execute(&shared.db)
                    .await
            }
        };
        if let Err(e) = res {
            tracing::error!(error = %e, "shipment event not applied");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    Ok(())
}
