use chrono::NaiveDate;
use serde::Deserialize;

use crate::CourierCfg;

pub struct CourierApi {
    http: reqwest::Client,
    base_url: String,
    account: String,
}

#[derive(Debug, Deserialize)]
pub struct Booking {
    pub reference: String,
    pub pickup_date: NaiveDate,
}

impl CourierApi {
    pub fn new(cfg: &CourierCfg) -> Self {
        Self { http: reqwest::Client::new(), base_url: cfg.base_url.clone(), account: cfg.account.clone() }
    }

    /// Books a pickup with the courier. Costs money once booked.
    pub async fn book_pickup(&self, shipment_ref: &str, country: &str, parcels: usize) -> anyhow::Result<Booking> {
        Ok(self
            .http
            .post(format!("{}/pickups", self.base_url))
            .json(&serde_json::json!({
                "account": self.account,
                "reference": shipment_ref,
                "destination_country": country,
                "parcels": parcels,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    pub async fn cancel_pickup(&self, reference: &str) -> anyhow::Result<()> {
        self.http
            .delete(format!("{}/pickups/{}", self.base_url, reference))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}
