//! Orchestrated checkout saga.
//!
//! Every forward step that succeeds registers its compensation; when a later step fails the
//! registered compensations run in reverse order.

pub mod express;
pub mod replacement;
pub mod steps;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::Serialize;
use uuid::Uuid;

use crate::clients::Clients;
use crate::models::{Order, OrderLineRow, ShippingAddress};

#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("step `{0}` failed: {1}")]
    Step(&'static str, anyhow::Error),
}

type Compensation = Box<dyn FnOnce() -> BoxFuture<'static, anyhow::Result<()>> + Send>;

#[derive(Default)]
pub struct Saga {
    compensations: Vec<(&'static str, Compensation)>,
}

impl Saga {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on_failure(&mut self, name: &'static str, compensation: Compensation) {
        self.compensations.push((name, compensation));
    }

    /// Runs the registered compensations last-in first-out. A failing compensation is logged and
    /// the rest still run; the dead-letter job picks up whatever is left inconsistent.
    pub async fn unwind(self) {
        for (name, compensate) in self.compensations.into_iter().rev() {
            if let Err(err) = compensate().await {
                tracing::error!(step = name, error = %err, "compensation failed");
            }
        }
    }
}

#[derive(Debug, Serialize)]
pub struct SagaOutcome {
    pub reservation_id: Uuid,
    pub charge_id: Uuid,
    pub shipment_id: Uuid,
}

pub async fn place_order_saga(
    clients: &Clients,
    order: &Order,
    lines: &[OrderLineRow],
    address: &ShippingAddress,
) -> Result<SagaOutcome, SagaError> {
    let mut saga = Saga::new();

    let reservation = clients
        .inventory
        .reserve(order.id, lines)
        .await
        .map_err(|e| SagaError::Step("reserve_stock", e))?;
    {
        let inventory = clients.inventory.clone();
        let reservation_id = reservation.id;
        saga.on_failure(
            "release_stock",
            Box::new(move || async move { inventory.release(reservation_id).await }.boxed()),
        );
    }

    let charge = match clients
        .payments
        .charge(order.id, order.total_cents, &order.currency)
        .await
    {
        Ok(charge) => charge,
        Err(err) => {
            saga.unwind().await;
            return Err(SagaError::Step("charge_payment", err));
        }
    };
    {
        let payments = clients.payments.clone();
        let charge_id = charge.id;
        saga.on_failure(
            "refund_payment",
            Box::new(move || async move { payments.refund(charge_id).await }.boxed()),
        );
    }

    let shipment = match clients.shipping.create_shipment(order.id, address).await {
        Ok(shipment) => shipment,
        Err(err) => {
            saga.unwind().await;
            return Err(SagaError::Step("create_shipment", err));
        }
    };

    tracing::info!(order_id = %order.id, "checkout saga completed");
    Ok(SagaOutcome {
        reservation_id: reservation.id,
        charge_id: charge.id,
        shipment_id: shipment.id,
    })
}
