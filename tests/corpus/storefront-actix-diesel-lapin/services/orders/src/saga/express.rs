//! Express checkout for returning customers with a saved card.
//!
//! There is no shipment step: the warehouse creates the shipment itself when it sees the
//! `payment.captured` event.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::SagaError;
use crate::clients::Clients;
use crate::models::{Order, OrderLineRow};

#[derive(Debug, Serialize)]
pub struct ExpressReceipt {
    pub reservation_id: Uuid,
    pub charge_id: Uuid,
}

pub async fn express_checkout(
    clients: &Clients,
    order: &Order,
    lines: &[OrderLineRow],
) -> Result<ExpressReceipt, SagaError> {
    let reservation = with_retry(3, || clients.inventory.reserve(order.id, lines))
        .await
        .map_err(|e| SagaError::Step("reserve_stock", e))?;

    let charge = clients
        .payments
        .charge(order.id, order.total_cents, &order.currency)
        .await
        .map_err(|e| SagaError::Step("charge_payment", e))?;

    tracing::info!(order_id = %order.id, charge_id = %charge.id, "express checkout done");
    Ok(ExpressReceipt { reservation_id: reservation.id, charge_id: charge.id })
}

/// Retries transient failures with exponential backoff.
async fn with_retry<T, F, Fut>(attempts: u32, mut op: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) if attempt < attempts => {
                tracing::warn!(attempt, error = %err, "retrying");
                std::thread::sleep(delay);
                delay *= 2;
                attempt += 1;
            }
            Err(err) => return Err(err),
        }
    }
}
