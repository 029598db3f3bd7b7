//! Fulfilment of a new shipment as a sequence of steps: book the carrier pickup, then print the
//! label. When a step fails, the completed ones are compensated in reverse order.

use async_trait::async_trait;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct Fulfilment {
    pub shipment_id: Uuid,
    pub address: String,
    pub pickup_id: Option<String>,
    pub label_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("carrier API: {0}")]
    Carrier(#[from] reqwest::Error),
    #[error("label service: {0}")]
    Label(#[from] Box<ureq::Error>),
    #[error("label service sent an unreadable answer: {0}")]
    LabelBody(#[from] std::io::Error),
}

#[async_trait]
pub trait FulfilmentStep: Send + Sync {
    fn name(&self) -> &'static str;
    async fn execute(&self, fulfilment: &mut Fulfilment) -> Result<(), StepError>;
    async fn compensate(&self, fulfilment: &Fulfilment) -> Result<(), StepError>;
}

#[derive(Deserialize)]
struct Pickup {
    id: String,
}

#[derive(Deserialize)]
struct Label {
    url: String,
}

pub struct BookCarrierPickup {
    pub http: reqwest::Client,
    pub carrier_url: String,
}

#[async_trait]
impl FulfilmentStep for BookCarrierPickup {
    fn name(&self) -> &'static str {
        "book-carrier-pickup"
    }

    async fn execute(&self, fulfilment: &mut Fulfilment) -> Result<(), StepError> {
        let pickup: Pickup = self
            .http
            .post(format!("{}/pickups", self.carrier_url))
            .json(&serde_json::json!({
                "reference": fulfilment.shipment_id,
                "address": fulfilment.address,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        fulfilment.pickup_id = Some(pickup.id);
        Ok(())
    }

    async fn compensate(&self, _fulfilment: &Fulfilment) -> Result<(), StepError> {
        Ok(())
    }
}

pub struct PrintLabel {
    pub http: reqwest::Client,
    pub label_url: String,
}

#[async_trait]
impl FulfilmentStep for PrintLabel {
    fn name(&self) -> &'static str {
        "print-label"
    }

    async fn execute(&self, fulfilment: &mut Fulfilment) -> Result<(), StepError> {
        let label: Label = ureq::post(&format!("{}/labels", self.label_url))
            .send_json(serde_json::json!({
                "shipment_id": fulfilment.shipment_id,
                "pickup_id": fulfilment.pickup_id,
            }))
            .map_err(Box::new)?
            .into_json()?;
        fulfilment.label_url = Some(label.url);
        Ok(())
    }

    async fn compensate(&self, fulfilment: &Fulfilment) -> Result<(), StepError> {
        self.http
            .delete(format!(
                "{}/labels/{}",
                self.label_url, fulfilment.shipment_id
            ))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

pub async fn run(
    steps: &[Box<dyn FulfilmentStep>],
    fulfilment: &mut Fulfilment,
) -> Result<(), StepError> {
    let mut completed: Vec<&dyn FulfilmentStep> = Vec::new();
    for step in steps {
        if let Err(error) = step.execute(fulfilment).await {
            for done in completed.iter().rev() {
                if let Err(undo) = done.compensate(fulfilment).await {
                    tracing::error!(step = done.name(), error = %undo, "compensation failed");
                }
            }
            return Err(error);
        }
        completed.push(step.as_ref());
    }
    Ok(())
}
