//! Step objects for sagas that are assembled at runtime (replacements, re-shipments).

use async_trait::async_trait;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::clients::Clients;
use crate::models::{OrderLineRow, ShippingAddress};

#[async_trait]
pub trait SagaStep: Send + Sync {
    fn name(&self) -> &'static str;
    async fn execute(&self, clients: &Clients) -> anyhow::Result<()>;
    async fn compensate(&self, clients: &Clients) -> anyhow::Result<()>;
}

/// Executes the steps in order; on failure compensates the completed ones in reverse.
pub async fn run_steps(clients: &Clients, steps: Vec<Box<dyn SagaStep>>) -> anyhow::Result<()> {
    let mut done: Vec<&Box<dyn SagaStep>> = Vec::with_capacity(steps.len());
    for step in &steps {
        if let Err(err) = step.execute(clients).await {
            tracing::warn!(step = step.name(), error = %err, "step failed, compensating");
            for completed in done.iter().rev() {
                if let Err(cerr) = completed.compensate(clients).await {
                    tracing::error!(step = completed.name(), error = %cerr, "compensation failed");
                }
            }
            return Err(err);
        }
        done.push(step);
    }
    Ok(())
}

pub struct ReserveStockStep {
    pub order_id: Uuid,
    pub lines: Vec<OrderLineRow>,
    pub reservation: Mutex<Option<Uuid>>,
}

#[async_trait]
impl SagaStep for ReserveStockStep {
    fn name(&self) -> &'static str {
        "reserve_stock"
    }

    async fn execute(&self, clients: &Clients) -> anyhow::Result<()> {
        let res = clients.inventory.reserve(self.order_id, &self.lines).await?;
        *self.reservation.lock().await = Some(res.id);
        Ok(())
    }

    async fn compensate(&self, clients: &Clients) -> anyhow::Result<()> {
        if let Some(id) = self.reservation.lock().await.take() {
            clients.inventory.release(id).await?;
        }
        Ok(())
    }
}

pub struct ScheduleShipmentStep {
    pub order_id: Uuid,
    pub address: ShippingAddress,
    pub shipment: Mutex<Option<Uuid>>,
}

#[async_trait]
impl SagaStep for ScheduleShipmentStep {
    fn name(&self) -> &'static str {
        "schedule_shipment"
    }

    async fn execute(&self, clients: &Clients) -> anyhow::Result<()> {
        let res = clients.shipping.create_shipment(self.order_id, &self.address).await?;
        *self.shipment.lock().await = Some(res.id);
        Ok(())
    }

    async fn compensate(&self, _clients: &Clients) -> anyhow::Result<()> {
        // Shipments that never get a label are purged by the warehouse nightly job.
        tracing::debug!(order_id = %self.order_id, "nothing to undo for shipment");
        Ok(())
    }
}

pub struct ChargeReplacementFeeStep {
    pub order_id: Uuid,
    pub fee_cents: i64,
    pub currency: String,
    pub charge: Mutex<Option<Uuid>>,
}

#[async_trait]
impl SagaStep for ChargeReplacementFeeStep {
    fn name(&self) -> &'static str {
        "charge_replacement_fee"
    }

    async fn execute(&self, clients: &Clients) -> anyhow::Result<()> {
        let res = clients.payments.charge(self.order_id, self.fee_cents, &self.currency).await?;
        *self.charge.lock().await = Some(res.id);
        Ok(())
    }

    async fn compensate(&self, clients: &Clients) -> anyhow::Result<()> {
        if let Some(id) = self.charge.lock().await.take() {
            clients.payments.refund(id).await?;
        }
        Ok(())
    }
}
