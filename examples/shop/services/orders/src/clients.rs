//! HTTP clients of the inventory and payments services.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize)]
pub struct ReservationLine {
    pub sku: String,
    pub quantity: i32,
}

#[derive(Debug, Deserialize)]
pub struct Reservation {
    pub id: Uuid,
}

#[derive(Debug, Deserialize)]
pub struct Payment {
    pub id: Uuid,
    pub status: String,
}

#[derive(Clone)]
pub struct InventoryClient {
    http: reqwest::Client,
    base_url: String,
}

impl InventoryClient {
    pub fn new(http: reqwest::Client, base_url: String) -> Self {
        Self { http, base_url }
    }

    pub async fn reserve_stock(
        &self,
        order_id: Uuid,
        lines: &[ReservationLine],
    ) -> reqwest::Result<Reservation> {
        self.http
            .post(format!("{}/reservations", self.base_url))
            .json(&serde_json::json!({ "order_id": order_id, "lines": lines }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }

    pub async fn release_stock(&self, reservation_id: Uuid) -> reqwest::Result<()> {
        self.http
            .delete(format!("{}/reservations/{reservation_id}", self.base_url))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct PaymentsClient {
    http: reqwest::Client,
    base_url: String,
}

impl PaymentsClient {
    pub fn new(http: reqwest::Client, base_url: String) -> Self {
        Self { http, base_url }
    }

    pub async fn charge(
        &self,
        order_id: Uuid,
        amount_cents: i64,
        currency: &str,
    ) -> reqwest::Result<Payment> {
        self.http
            .post(format!("{}/payments", self.base_url))
            .json(&serde_json::json!({
                "order_id": order_id,
                "amount_cents": amount_cents,
                "currency": currency,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}
