use common::envelope::EnvelopeHeader;
use common::events::{OrderConfirmed, PaymentCaptured};
use common::Envelope;
use deadpool_postgres::Pool;
use serde::Deserialize;
use uuid::Uuid;

use crate::mailer::Mailer;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentStatus {
    shipment_id: Uuid,
    order_id: Uuid,
    status: String,
    tracking_number: Option<String>,
}

pub async fn route(pool: &Pool, mailer: &Mailer, topic: &str, payload: &[u8]) -> anyhow::Result<()> {
    match topic {
        "shipping.events" => {
            let evt: ShipmentStatus = serde_json::from_slice(payload)?;
            on_shipment_status(pool, mailer, evt).await
        }
        _ => {
            let header: EnvelopeHeader = serde_json::from_slice(payload)?;
            match header.event_type.as_str() {
                "OrderConfirmed" => {
                    let env: Envelope<OrderConfirmed> = serde_json::from_slice(payload)?;
                    let p = env.payload;
                    send_and_log(
                        pool,
                        mailer,
                        &p.customer_email,
                        "order_confirmed",
                        &p.order_id.to_string(),
                        &format!("Thanks! Your order {} is confirmed.", p.order_id),
                    )
                    .await
                }
                "PaymentCaptured" => {
                    let env: Envelope<PaymentCaptured> = serde_json::from_slice(payload)?;
                    tracing::debug!(payment_id = %env.payload.payment_id, "receipt handled by PSP");
                    Ok(())
                }
                _ => Ok(()),
            }
        }
    }
}

async fn on_shipment_status(pool: &Pool, mailer: &Mailer, evt: ShipmentStatus) -> anyhow::Result<()> {
    if evt.status != "shipped" && evt.status != "delivered" {
        return Ok(());
    }
    let conn = pool.get().await?;
    let row = conn
        .query_opt(
            "SELECT customer_email FROM shipments WHERE id = $1 AND customer_email IS NOT NULL",
            &[&evt.shipment_id],
        )
        .await?;
    let Some(row) = row else { return Ok(()) };
    let email: String = row.get(0);
    let body = match (&evt.status[..], &evt.tracking_number) {
        ("shipped", Some(t)) => format!("Your order {} is on its way. Tracking: {t}", evt.order_id),
        ("shipped", None) => format!("Your order {} is on its way.", evt.order_id),
        _ => format!("Your order {} has been delivered.", evt.order_id),
    };
    send_and_log(pool, mailer, &email, &format!("shipment_{}", evt.status), &evt.shipment_id.to_string(), &body).await
}

async fn send_and_log(
    pool: &Pool,
    mailer: &Mailer,
    to: &str,
    template: &str,
    reference: &str,
    body: &str,
) -> anyhow::Result<()> {
    mailer.send(to, "Your order", body).await?;
    let conn = pool.get().await?;
    conn.execute(
        "INSERT INTO notification_log (recipient, template, reference) VALUES ($1, $2, $3)",
        &[&to, &template, &reference],
    )
    .await?;
    Ok(())
}
