//! Typed HTTP clients for the services the checkout saga talks to.

use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::models::{OrderLineRow, ShippingAddress};

#[derive(Clone)]
pub struct Clients {
    pub inventory: InventoryClient,
    pub payments: PaymentsClient,
    pub shipping: ShippingClient,
}

impl Clients {
    pub fn from_env() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            inventory: InventoryClient { http: http.clone(), base: Url::parse(&std::env::var("INVENTORY_URL")?)? },
            payments: PaymentsClient { http: http.clone(), base: Url::parse(&std::env::var("PAYMENTS_URL")?)? },
            shipping: ShippingClient { http, base: Url::parse(&std::env::var("SHIPPING_URL")?)? },
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReservationResponse {
    pub id: Uuid,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChargeResponse {
    pub id: Uuid,
    pub status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShipmentResponse {
    pub id: Uuid,
}

#[derive(Clone)]
pub struct InventoryClient {
    http: reqwest::Client,
    base: Url,
}

impl InventoryClient {
    pub async fn reserve(&self, order_id: Uuid, lines: &[OrderLineRow]) -> anyhow::Result<ReservationResponse> {
        #[derive(Serialize)]
        struct Item<'a> {
            sku: &'a str,
            quantity: i32,
        }
        let items: Vec<Item> = lines.iter().map(|l| Item { sku: &l.sku, quantity: l.quantity }).collect();
        let res = self
            .http
            .post(format!("{}/reservations", self.base))
            .header("Idempotency-Key", format!("reserve-{order_id}"))
            .json(&serde_json::json!({ "order_id": order_id, "items": items }))
            .send()
            .await?
            .error_for_status()
            .context("inventory rejected reservation")?;
        Ok(res.json().await?)
    }

    pub async fn release(&self, reservation_id: Uuid) -> anyhow::Result<()> {
        self.http
            .delete(self.base.join(&format!("/reservations/{reservation_id}"))?)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct PaymentsClient {
    http: reqwest::Client,
    base: Url,
}

impl PaymentsClient {
    pub async fn charge(&self, order_id: Uuid, amount_cents: i64, currency: &str) -> anyhow::Result<ChargeResponse> {
        let res = self
            .http
            .post(format!("{}/charges", self.base))
            .header("Idempotency-Key", format!("charge-{order_id}"))
            .json(&serde_json::json!({
                "order_id": order_id,
                "amount_cents": amount_cents,
                "currency": currency,
            }))
            .send()
            .await?
            .error_for_status()
            .context("payment declined")?;
        Ok(res.json().await?)
    }

    pub async fn refund(&self, charge_id: Uuid) -> anyhow::Result<()> {
        self.http
            .post(self.base.join(&format!("/charges/{charge_id}/refunds"))?)
            .json(&serde_json::json!({ "reason": "saga_compensation" }))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct ShippingClient {
    http: reqwest::Client,
    base: Url,
}

impl ShippingClient {
    pub async fn create_shipment(&self, order_id: Uuid, address: &ShippingAddress) -> anyhow::Result<ShipmentResponse> {
        let res = self
            .http
            .post(self.base.join("/shipments")?)
            .json(&serde_json::json!({
                "order_id": order_id,
                "name": address.name,
                "line1": address.line1,
                "city": address.city,
                "postal_code": address.postal_code,
                "country": address.country,
            }))
            .send()
            .await?
            .error_for_status()?;
        Ok(res.json().await?)
    }

    pub async fn cancel_shipment(&self, shipment_id: Uuid) -> anyhow::Result<()> {
        self.http
            .delete(self.base.join(&format!("/shipments/{shipment_id}"))?)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
