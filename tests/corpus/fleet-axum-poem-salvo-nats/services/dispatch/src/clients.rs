//! Typed HTTP clients for the services dispatch orchestrates.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    #[error("{service} rejected request: {status}")]
    Rejected { service: &'static str, status: u16 },
}

#[derive(Debug, Deserialize)]
pub struct Reservation {
    pub reservation_id: Uuid,
    pub vehicle_id: Uuid,
}

#[derive(Debug, Deserialize)]
pub struct Authorization {
    pub authorization_id: Uuid,
}

#[derive(Serialize)]
struct ReserveRequest<'a> {
    shipment_id: Uuid,
    vehicle_class: &'a str,
}

#[derive(Clone)]
pub struct FleetClient {
    http: reqwest::Client,
    base: String,
}

impl FleetClient {
    pub fn new(http: reqwest::Client, base: String) -> Self {
        Self { http, base }
    }

    pub async fn reserve_vehicle(
        &self,
        shipment_id: Uuid,
        vehicle_class: &str,
    ) -> Result<Reservation, ClientError> {
        let resp = self
            .http
            .post(format!("{}/reservations", self.base))
            .header("Idempotency-Key", shipment_id.to_string())
            .json(&ReserveRequest { shipment_id, vehicle_class })
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(ClientError::Rejected { service: "fleet", status: resp.status().as_u16() });
        }
        Ok(resp.json().await?)
    }

    pub async fn release_vehicle(&self, reservation_id: Uuid) -> Result<(), ClientError> {
        let resp = self
            .http
            .delete(format!("{}/reservations/{}", self.base, reservation_id))
            .send()
            .await?;
        if !resp.status().is_success() && resp.status().as_u16() != 404 {
            return Err(ClientError::Rejected { service: "fleet", status: resp.status().as_u16() });
        }
        Ok(())
    }
}

#[derive(Clone)]
pub struct BillingClient {
    http: reqwest::Client,
    base: String,
}

impl BillingClient {
    pub fn new(http: reqwest::Client, base: String) -> Self {
        Self { http, base }
    }

    pub async fn authorize(
        &self,
        customer_id: Uuid,
        amount: Decimal,
        currency: &str,
    ) -> Result<Authorization, ClientError> {
        let resp = self
            .http
            .post(format!("{}/authorizations", self.base))
            .json(&serde_json::json!({
                "customer_id": customer_id,
                "amount": amount,
                "currency": currency,
            }))
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(ClientError::Rejected { service: "billing", status: resp.status().as_u16() });
        }
        Ok(resp.json().await?)
    }

    pub async fn void(&self, authorization_id: Uuid) -> Result<(), ClientError> {
        self.http
            .post(format!("{}/authorizations/{}/void", self.base, authorization_id))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct TrackingClient {
    http: reqwest::Client,
    base: String,
}

impl TrackingClient {
    pub fn new(http: reqwest::Client, base: String) -> Self {
        Self { http, base }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn assign_vehicle(&self, shipment_id: Uuid, vehicle_id: Uuid) -> Result<(), ClientError> {
        self.http
            .put(format!("{}/shipments/{}/vehicle", self.base, shipment_id))
            .json(&serde_json::json!({ "vehicle_id": vehicle_id }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
