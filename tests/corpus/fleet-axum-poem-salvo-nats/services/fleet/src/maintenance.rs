use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use crate::Ctx;

#[derive(Debug, Serialize)]
struct MaintenanceDue {
    vehicle_id: Uuid,
    odometer_km: i64,
    next_service_km: i64,
}

/// Every 10 minutes, announce vehicles that are past their service interval so
/// the workshop planner can book them in.
pub async fn run(ctx: Ctx) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let due: Vec<(Uuid, i64, i64)> = match sqlx::query_as(
            "SELECT id, odometer_km, next_service_km FROM vehicles WHERE odometer_km >= next_service_km",
        )
        .fetch_all(&ctx.db)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "maintenance scan failed");
                continue;
            }
        };
        for (vehicle_id, odometer_km, next_service_km) in due {
            let msg = MaintenanceDue { vehicle_id, odometer_km, next_service_km };
            let body = serde_json::to_vec(&msg).expect("serializable");
            if let Err(e) = ctx.nats.publish("fleetops.maintenance.due", body.into()).await {
                tracing::warn!(error = %e, "publish failed");
            }
        }
    }
}
