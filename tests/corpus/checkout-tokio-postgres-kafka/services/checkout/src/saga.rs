//! Orchestration of the checkout flow: stock, payment, shipment.

use common::events::OrderLine;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use uuid::Uuid;

use crate::clients::ReservationId;
use crate::error::CheckoutError;
use crate::invoice;
use crate::AppState;

#[derive(Debug, Clone)]
pub struct PendingOrder {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub customer_email: String,
    pub shipping_country: String,
    pub shipping_address: String,
    pub payment_method_token: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: i64,
    pub currency: String,
}

#[derive(Serialize)]
struct ChargeRequest<'a> {
    order_id: Uuid,
    customer_id: Uuid,
    amount_cents: i64,
    currency: &'a str,
    payment_method_token: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct ChargeResponse {
    pub payment_id: Uuid,
    pub status: String,
}

#[derive(Serialize)]
struct CreateShipmentRequest<'a> {
    order_id: Uuid,
    address: &'a str,
    country: &'a str,
    items: usize,
}

#[derive(Debug, Deserialize)]
pub struct ShipmentResponse {
    pub shipment_id: Uuid,
    pub tracking_number: Option<String>,
}

#[derive(Debug)]
pub struct Placed {
    pub reservation: ReservationId,
    pub payment_id: Uuid,
    pub shipment_id: Uuid,
    pub invoice_pdf: Vec<u8>,
}

/// Reserve stock, take the money, book the shipment.
pub async fn place_order(state: &AppState, order: &PendingOrder) -> Result<Placed, CheckoutError> {
    let payments_url = &state.cfg.services.payments_url;
    let shipping_url = &state.cfg.services.shipping_url;

    let reservation = state
        .inventory
        .reserve(order.id, &order.lines)
        .await
        .map_err(|e| CheckoutError::OutOfStock(e.to_string()))?;
    info!(order_id = %order.id, ?reservation, "stock reserved");

    let charge_result = state
        .http
        .post(format!("{payments_url}/v1/charges"))
        .header("Idempotency-Key", order.id.to_string())
        .json(&ChargeRequest {
            order_id: order.id,
            customer_id: order.customer_id,
            amount_cents: order.total_cents,
            currency: &order.currency,
            payment_method_token: &order.payment_method_token,
        })
        .send()
        .await
        .and_then(|r| r.error_for_status());

    let charge: ChargeResponse = match charge_result {
        Ok(resp) => resp.json().await?,
        Err(err) => {
            warn!(order_id = %order.id, error = %err, "charge failed, releasing stock");
            if let Err(e) = state.inventory.release(reservation).await {
                warn!(order_id = %order.id, error = %e, "release failed; reaper will pick it up");
            }
            return Err(CheckoutError::PaymentDeclined(err.to_string()));
        }
    };

    let shipment = state
        .http
        .post(format!("{shipping_url}/v1/shipments"))
        .header("Idempotency-Key", order.id.to_string())
        .json(&CreateShipmentRequest {
            order_id: order.id,
            address: &order.shipping_address,
            country: &order.shipping_country,
            items: order.lines.len(),
        })
        .send()
        .await;

    let shipment: ShipmentResponse = match shipment {
        Ok(resp) if resp.status().is_success() => resp.json().await?,
        Ok(resp) => {
            let status = resp.status();
            warn!(order_id = %order.id, %status, "shipping rejected the order");
            state.inventory.release(reservation).await.ok();
            return Err(CheckoutError::ShippingUnavailable(status.to_string()));
        }
        Err(err) => {
            state.inventory.release(reservation).await.ok();
            return Err(err.into());
        }
    };

    let template_url = state.cfg.invoices.template_url.clone();
    let order_for_invoice = order.clone();
    let payment_id = charge.payment_id;
    let invoice_pdf = tokio::task::spawn_blocking(move || {
        invoice::render(&template_url, &order_for_invoice, payment_id)
    })
    .await
    .map_err(anyhow::Error::from)??;

    Ok(Placed {
        reservation,
        payment_id: charge.payment_id,
        shipment_id: shipment.shipment_id,
        invoice_pdf,
    })
}

/// Subscription boxes: same three steps, but every failure unwinds what was done.
pub async fn start_subscription(
    state: &AppState,
    order: &PendingOrder,
) -> Result<Placed, CheckoutError> {
    let payments_url = &state.cfg.services.payments_url;
    let shipping_url = &state.cfg.services.shipping_url;

    let reservation = state
        .inventory
        .reserve(order.id, &order.lines)
        .await
        .map_err(|e| CheckoutError::OutOfStock(e.to_string()))?;

    let charge: ChargeResponse = match charge(state, payments_url, order).await {
        Ok(c) => c,
        Err(e) => {
            state.inventory.release(reservation).await?;
            return Err(e);
        }
    };

    let shipment = match state
        .http
        .post(format!("{shipping_url}/v1/shipments"))
        .header("Idempotency-Key", format!("sub-{}", order.id))
        .json(&CreateShipmentRequest {
            order_id: order.id,
            address: &order.shipping_address,
            country: &order.shipping_country,
            items: order.lines.len(),
        })
        .send()
        .await
        .and_then(|r| r.error_for_status())
    {
        Ok(resp) => resp.json::<ShipmentResponse>().await?,
        Err(err) => {
            warn!(order_id = %order.id, error = %err, "shipment failed; refunding and releasing");
            refund(state, payments_url, charge.payment_id).await?;
            state.inventory.release(reservation).await?;
            return Err(CheckoutError::ShippingUnavailable(err.to_string()));
        }
    };

    Ok(Placed {
        reservation,
        payment_id: charge.payment_id,
        shipment_id: shipment.shipment_id,
        invoice_pdf: Vec::new(),
    })
}

async fn charge(
    state: &AppState,
    payments_url: &str,
    order: &PendingOrder,
) -> Result<ChargeResponse, CheckoutError> {
    let resp = state
        .http
        .post(format!("{payments_url}/v1/charges"))
        .header("Idempotency-Key", format!("sub-{}", order.id))
        .json(&ChargeRequest {
            order_id: order.id,
            customer_id: order.customer_id,
            amount_cents: order.total_cents,
            currency: &order.currency,
            payment_method_token: &order.payment_method_token,
        })
        .send()
        .await?
        .error_for_status()
        .map_err(|e| CheckoutError::PaymentDeclined(e.to_string()))?;
    Ok(resp.json().await?)
}

async fn refund(state: &AppState, payments_url: &str, payment_id: Uuid) -> Result<(), CheckoutError> {
    state
        .http
        .post(format!("{payments_url}/v1/charges/{payment_id}/refund"))
        .json(&serde_json::json!({ "reason": "subscription_setup_failed" }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}
